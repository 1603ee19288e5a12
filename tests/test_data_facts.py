"""DATA-FACTS.md says where each fact of the source text lives: every file, resource, term and
property it names must exist, so that the table cannot drift from the data."""

from __future__ import annotations

import re
from itertools import product

import pyoxigraph
import pytest

from leapsld.namespaces import PREFIXES

from .conftest import ROOT

ID = "https://w3id.org/leaps/id/"
#: The kinds of resource a relative subject (``org/leaps``) can name: the folders under ``id/``.
KINDS = {
    "activity", "beamline", "concept", "event", "figure", "grant", "interval", "membership",
    "org", "programme", "project", "series", "source", "statement", "year",
}  # fmt: skip
TEXT = (ROOT / "DATA-FACTS.md").read_text()


def _prefixes() -> dict[str, str]:
    """Every prefix the ontology and data files declare, over the library's own."""
    found = dict(PREFIXES)
    for path in [*(ROOT / "data").glob("*.ttl"), *(ROOT / "ontology").glob("*.ttl")]:
        for prefix, iri in re.findall(r"@prefix\s+([\w-]*):\s*<([^>]*)>", path.read_text()):
            found[prefix] = iri
    return found


def _expand(span: str) -> list[str]:
    """``membership/{a,b}-x`` → ``membership/a-x membership/b-x`` (one level, several groups)."""
    words = []
    for word in re.split(r"\s+", span):
        parts = re.split(r"\{([^}]*)\}", word)
        choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
        words.extend("".join(c) for c in product(*choices))
    return words


def _tokens() -> list[str]:
    tokens = []
    for span in re.findall(r"`([^`]+)`", TEXT):
        for word in _expand(span):
            tokens.extend(t for t in re.split(r"[\s,\[\]();]+", word) if t)
    return tokens


def _terms(dataset) -> set[str]:  # type: ignore[no-untyped-def]
    seen: set[str] = set()
    for quad in dataset.store.quads():
        for term in (quad.subject, quad.predicate, quad.object):
            if isinstance(term, pyoxigraph.NamedNode):
                seen.add(term.value)
    return seen


def test_every_file_iri_and_property_data_facts_names_exists(dataset) -> None:  # type: ignore[no-untyped-def]
    prefixes = _prefixes()
    terms = _terms(dataset)
    subjects = {q.subject.value for q in dataset.store.quads() if hasattr(q.subject, "value")}
    checked: dict[str, int] = {"file": 0, "term": 0, "subject": 0}
    missing = []
    for token in _tokens():
        if token.startswith('"') or token.endswith('"') or re.fullmatch(r"[\d.]+|true", token):
            continue  # a literal the fact quotes
        if token.startswith("<") and token.endswith(">"):
            checked["term"] += 1
            if token[1:-1] not in terms:
                missing.append(token)
        elif re.fullmatch(r"[\w./-]+\.(ttl|py|md|txt)", token):
            checked["file"] += 1
            if not any(p.is_file() for p in (ROOT / "data" / token, ROOT / token)) and not (
                token.startswith("../") and (ROOT / token).resolve().is_file()
            ):
                missing.append(token)
        elif re.fullmatch(r"[\w-]+:[\w.-]+", token):
            prefix, local = token.split(":", 1)
            checked["term"] += 1
            if prefix not in prefixes or prefixes[prefix] + local not in terms:
                missing.append(token)
        elif token.split("/", 1)[0] in KINDS:
            checked["subject"] += 1
            if ID + token not in subjects:
                missing.append(token)
        elif token.endswith("/") and (ROOT / token).is_dir():
            checked["file"] += 1
        elif token.startswith("https://") and token.endswith("/"):
            continue  # the base the subjects are relative to
        else:
            pytest.fail(f"DATA-FACTS.md names {token!r}, which this test cannot check")
    assert missing == []
    assert checked["file"] >= 10 and checked["term"] >= 120 and checked["subject"] >= 200, checked


def test_the_check_catches_a_name_that_does_not_exist(dataset) -> None:  # type: ignore[no-untyped-def]
    terms = _terms(dataset)
    assert "https://w3id.org/leaps/def#ownedBy" in terms
    assert "https://w3id.org/leaps/def#owner" not in terms
    assert _expand("membership/{a,b}-x-{c,d}") == [
        "membership/a-x-c",
        "membership/a-x-d",
        "membership/b-x-c",
        "membership/b-x-d",
    ]
