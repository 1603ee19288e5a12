"""What earlier releases published and what became of it: published IRIs are forever.

When a release stops describing an IRI that an earlier one published, the dataset folder says
what became of it, and the server answers for it instead of 404:

    <root>/releases/retired.toml      [moved] "old" = "successor"   → 301 Moved Permanently
                                      [gone]  "old" = "why"         → 410 Gone
    <root>/releases/ontology/*.ttl    earlier versions of the ontology, each answered at its own
                                      owl:versionIRI (``/def/<version>``)

IRIs in ``retired.toml`` are written relative to the base IRI (``"id/instant/2019"``) or
absolute. Everything read here is part of the dataset version (its bytes go into the identity's
digest), since it changes what is served.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from .errors import LoadError
from .folder import read as read_file
from .folder import shown as shown_path

#: Where a dataset folder keeps what its earlier releases published.
RELEASES_FOLDER = "releases"
RETIRED_FILE = "retired.toml"
ONTOLOGY_FOLDER = "ontology"

_VERSION_IRI = "http://www.w3.org/2002/07/owl#versionIRI"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Retired:
    """An IRI an earlier release published: its successor (301) or, with none, why it is gone
    (410)."""

    iri: str
    successor: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class EarlierOntology:
    """An earlier version of the ontology, as it was published."""

    version_iri: str
    path: str
    triples: tuple[pyoxigraph.Triple, ...]


@dataclass(frozen=True)
class Releases:
    """The retired IRIs and earlier ontology versions of a dataset (empty when it has none)."""

    retired: Mapping[str, Retired] = field(default_factory=dict, hash=False)
    ontologies: tuple[EarlierOntology, ...] = ()

    def fate(self, iri: str) -> Retired | None:
        """What became of ``iri``, if an earlier release published it and this one retired it.

        >>> Releases({"x:a": Retired("x:a", "x:b")}).fate("x:a").successor
        'x:b'
        """
        return self.retired.get(iri)

    def ontology(self, version_iri: str) -> EarlierOntology | None:
        """The earlier ontology whose ``owl:versionIRI`` is ``version_iri``, if there is one."""
        return next((o for o in self.ontologies if o.version_iri == version_iri), None)


def read_releases(root: Path, base_iri: str, digest: hashlib._Hash) -> Releases:
    """Read ``<root>/releases``: what became of retired IRIs, and earlier ontology versions.

    Raises:
        LoadError: a file is malformed or says something unusable (file and line named): an
            IRI that is not one, an IRI both moved and gone, an ontology without exactly one
            owl:versionIRI, or two files for one version.
    """
    folder = root / RELEASES_FOLDER
    retired: dict[str, Retired] = {}
    path = folder / RETIRED_FILE
    if path.is_file():
        data = read_file(path, root)
        digest.update(b"retired\0" + data + b"\0")
        retired = _parse_retired(data, shown_path(path, root), base_iri)
    ontologies: list[EarlierOntology] = []
    for file in sorted((folder / ONTOLOGY_FOLDER).glob("*.ttl")):
        data = read_file(file, root)
        digest.update(b"ontology\0" + file.name.encode() + b"\0" + data + b"\0")
        earlier = _parse_ontology(data, shown_path(file, root), base_iri)
        twin = next((o for o in ontologies if o.version_iri == earlier.version_iri), None)
        if twin is not None:
            raise LoadError(
                f"version {earlier.version_iri} is also in {twin.path}: keep one file a version",
                path=earlier.path,
            )
        ontologies.append(earlier)
    return Releases(retired, tuple(ontologies))


def _parse_retired(data: bytes, shown: str, base_iri: str) -> dict[str, Retired]:
    text = data.decode("utf-8", errors="replace")
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        line, column = (int(at.group(1)), int(at.group(2))) if at else (None, None)
        message = _TOML_AT.sub("", str(exc)).strip()
        raise LoadError(message, path=shown, line=line, column=column) from None
    lines = text.splitlines()

    def fail(message: str, key: str | None = None) -> LoadError:
        line = None
        if key is not None:
            line = next((n for n, row in enumerate(lines, 1) if f'"{key}"' in row), None)
        return LoadError(message, path=shown, line=line)

    unknown = sorted(set(parsed) - {"moved", "gone"})
    if unknown:
        raise fail(f"unknown table [{unknown[0]}]: use [moved] (301) and [gone] (410)")
    retired: dict[str, Retired] = {}
    for table in ("moved", "gone"):
        entries = parsed.get(table, {})
        if not isinstance(entries, dict):
            raise fail(f'{table} must be a table of "old IRI" = "…" lines')
        for key, value in entries.items():
            if not isinstance(value, str):
                raise fail(f"[{table}] {key!r}: the value must be a string", key)
            iri = _resolve(key, base_iri, fail)
            if iri in retired:
                raise fail(f"{iri} is both moved and gone: say one", key)
            if table == "moved":
                successor = _resolve(value, base_iri, fail, key)
                if successor == iri:
                    raise fail(f"{iri} moved to itself", key)
                retired[iri] = Retired(iri, successor)
            else:
                retired[iri] = Retired(iri, None, value)
    return retired


def _resolve(
    text: str, base_iri: str, fail: Callable[[str, str | None], LoadError], key: str | None = None
) -> str:
    iri = text if _SCHEME.match(text) else base_iri + text.lstrip("/")
    try:
        pyoxigraph.NamedNode(iri)
    except ValueError:
        raise fail(f"{text!r} is not an IRI", key or text) from None
    return iri


def _parse_ontology(data: bytes, shown: str, base_iri: str) -> EarlierOntology:
    try:
        triples = tuple(
            q.triple
            for q in pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.TURTLE, base_iri=base_iri)
        )
    except SyntaxError as exc:
        message = re.sub(r"^Parser error [^:]*: ", "", exc.msg or str(exc))
        raise LoadError(message, path=shown, line=exc.lineno, column=exc.offset) from None
    versions = {
        t.object.value
        for t in triples
        if t.predicate.value == _VERSION_IRI and isinstance(t.object, pyoxigraph.NamedNode)
    }
    if len(versions) != 1:
        raise LoadError(
            f"an earlier ontology states one owl:versionIRI, which it is answered at; this one "
            f"states {len(versions)}",
            path=shown,
        )
    return EarlierOntology(versions.pop(), shown, triples)
