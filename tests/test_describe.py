"""One resource's description: CBD, labels of what it links to, inverse links."""

from __future__ import annotations

import pyoxigraph
import pytest

from leapsld.describe import describe, exists
from leapsld.errors import NotFound

EX = "https://example.org/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def spo(triples):  # type: ignore[no-untyped-def]
    return {(str(t.subject), t.predicate.value, str(t.object)) for t in triples}


def test_own_triples_blank_closure_labels_and_inverse(store) -> None:  # type: ignore[no-untyped-def]
    triples = describe(store, f"{EX}ada")
    subjects = {t.subject for t in triples}
    # own triples, including the blank node she knows, and that node's own label
    blank = next(t.object for t in triples if isinstance(t.object, pyoxigraph.BlankNode))
    assert blank in subjects
    # charles is linked: his label and type come along, not his birth year
    linked = {(p, o) for s, p, o in spo(triples) if s == f"<{EX}charles>"}
    assert (LABEL, '"Charles"') in linked
    assert all(p != f"{EX}born" for p, _ in linked)


def test_inverse_links_are_included(store) -> None:  # type: ignore[no-untyped-def]
    triples = spo(describe(store, f"{EX}charles"))
    assert (f"<{EX}ada>", f"{EX}knows", f"<{EX}charles>") in triples
    assert any(s == f"<{EX}ada>" and p == LABEL for s, p, _ in triples)


def test_inverse_links_are_capped(store) -> None:  # type: ignore[no-untyped-def]
    capped = describe(store, f"{EX}charles", max_inverse=0)
    assert all(t.subject == pyoxigraph.NamedNode(f"{EX}charles") for t in capped)


def test_unknown_resource(store) -> None:  # type: ignore[no-untyped-def]
    assert not exists(store, f"{EX}nobody")
    with pytest.raises(NotFound, match="nobody"):
        describe(store, f"{EX}nobody")
