"""A built dataset, its version, and where an on-disk build lives.

The version is a hash of the very bytes that were parsed and of every setting that changes what
is served, so everything derived from a dataset (statistics, dumps, documents, ETags) can be
keyed by it. On disk each version has its own folder under the store folder:

    <store>/<version>/store/           the RocksDB store, opened read-only by every worker
    <store>/<version>/manifest.json    written last: the version is complete and (if asked) valid
    <store>/<version>/dumps/           statistics and dumps of that version (``derived``)
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NotRequired, TypedDict

import pyoxigraph

from . import __version__
from .identity import Identity, declared_prefixes
from .loading import RawFile, SourceFile, SourceIndex, graph_key
from .namespaces import inferred_graph, project_prefixes
from .settings import Settings
from .store import Store
from .validation import ValidationReport

MANIFEST = "manifest.json"
#: The folder, beside an on-disk store, of what is derived from its data.
DERIVED = "dumps"


@dataclass
class Dataset:
    """A built dataset: its store, where it came from, its version and validation verdict."""

    settings: Settings
    store: Store
    data_files: list[SourceFile]
    shapes_files: list[SourceFile]
    version: str
    #: When the sources last changed (``modified_date``); None when nothing says so.
    modified: datetime | None
    #: The shapes live apart from the data: they are not part of the published dataset, so
    #: SPARQL's default graph, VoID and the dumps are the data alone.
    shapes_store: Store
    #: What the dataset is called, its licence, examples, views (read from its folder).
    identity: Identity
    report: ValidationReport | None = None
    counts: dict[str, int] | None = None
    inferred: int = 0
    reused: bool = False
    index: SourceIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = SourceIndex(self.data_files)

    @property
    def data_graphs(self) -> list[str]:
        """Every graph of asserted ontology and data (not shapes, not inferred), including the
        named graphs TriG and N-Quads files declare."""
        return [g for f in self.data_files for g in f.all_graphs]

    @property
    def shapes_graphs(self) -> list[str]:
        return [g for f in self.shapes_files for g in f.all_graphs]

    @property
    def inferred_graph(self) -> str:
        return inferred_graph(self.settings.base_iri)

    @property
    def served_graphs(self) -> list[str]:
        """The named graphs a SPARQL client sees: the data's, and the inferred one if any."""
        return [*self.data_graphs, *([self.inferred_graph] if self.inferred else [])]

    @property
    def ontology_graphs(self) -> list[str]:
        """The graphs of the files under ``ontology/``."""
        return [f.graph for f in self.data_files if f.relpath.startswith("ontology/")]

    @functools.cached_property
    def vocabularies(self) -> dict[str, str]:
        """The prefixes of the dataset's own namespaces, as its ontology declares them."""
        return declared_prefixes(self.store, self.ontology_graphs, self.settings.base_iri)

    @property
    def prefixes(self) -> dict[str, str]:
        """Every prefix documents about this dataset are written with."""
        return project_prefixes(self.settings.base_iri, self.vocabularies)

    @property
    def conforms(self) -> bool | None:
        if self.report is not None:
            return self.report.conforms
        return None if self.counts is None else self.counts.get("Violation", 0) == 0


def modified_date(identity: Identity, paths: Sequence[Path]) -> datetime | None:
    """When the dataset last changed, as a pure function of its sources, never of the clock or
    of a file's mtime (two clones, two starts: the same answer, so the same bytes and ETags).

    The description's ``dcterms:modified`` when it says; else the date of the last git commit
    that touched ``paths``, when they are in git with no uncommitted change; else None.
    """
    if identity.modified is not None:
        try:
            stated = datetime.fromisoformat(identity.modified.value)
        except ValueError:
            stated = None
        if stated is not None:
            return (stated if stated.tzinfo else stated.replace(tzinfo=UTC)).astimezone(UTC)
    return _git_modified(paths)


def _git_modified(paths: Sequence[Path]) -> datetime | None:
    existing = [p.resolve() for p in paths if p.exists()]
    if not existing:
        return None
    folder = existing[0] if existing[0].is_dir() else existing[0].parent
    names = [str(p) for p in existing]
    try:
        changed = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", *names],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if changed.returncode != 0 or changed.stdout.strip():
            return None
        last = subprocess.run(
            ["git", "-C", str(folder), "log", "-1", "--format=%cI", "--", *names],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        return datetime.fromisoformat(last.stdout.strip()).astimezone(UTC)
    except ValueError:
        return None


def fingerprint(
    settings: Settings,
    data: list[RawFile],
    shapes: list[RawFile],
    identity: Identity,
    modified: datetime | None = None,
) -> str:
    """The dataset version: a hash of the very bytes that are parsed, and of every setting that
    changes the output (so a file edited mid-build cannot pass under another file's verdict),
    and of the files that say what the dataset is (its identity: they change what is served)."""
    digest = hashlib.sha256()
    digest.update(f"leapsld {__version__}\0{settings.base_iri}\0{settings.infer}\0".encode())
    # the layout of the store: a real default graph (older builds held only named graphs)
    digest.update(f"default graph\0{'declared' if settings.declared else 'files'}\0".encode())
    digest.update(f"identity\0{identity.digest}\0".encode())
    digest.update(f"modified\0{modified.isoformat() if modified else ''}\0".encode())
    for role, raws in (("data", data), ("shapes", shapes)):
        for raw in raws:
            digest.update(
                f"{role}\0{graph_key(raw.path, settings.root)}\0{len(raw.data)}\0".encode()
            )
            if raw.named is not None:
                digest.update(f"named\0{raw.named}\0".encode())
            if settings.relative_iris == "file":  # the file's place is then part of its triples
                digest.update(f"at\0{raw.path.resolve().as_uri()}\0".encode())
            digest.update(raw.data)
    return digest.hexdigest()[:16]


# The on-disk layout ---------------------------------------------------------------------


def version_folder(settings: Settings, version: str) -> Path:
    """Where the on-disk build of ``version`` lives."""
    return Path(settings.store) / version


def derived_folder(settings: Settings, version: str) -> Path:
    """Where the statistics and dumps of an on-disk build of ``version`` live."""
    return version_folder(settings, version) / DERIVED


@dataclass(frozen=True)
class Manifest:
    """What an on-disk build records about itself, written once the build is complete."""

    version: str
    validated: bool
    counts: dict[str, int] | None
    inferred: int
    built: datetime
    data: list[SourceFile]
    shapes: list[SourceFile]
    #: How many quads the store holds, and each of its files' size and SHA-256 (None in
    #: manifests written before they were recorded): checked before a store is reused.
    quads: int | None = None
    files: dict[str, tuple[int, str]] | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "validated": self.validated,
                "counts": self.counts,
                "inferred": self.inferred,
                "built": self.built.isoformat(),
                "data": [_file_to_json(f) for f in self.data],
                "shapes": [_file_to_json(f) for f in self.shapes],
                "quads": self.quads,
                "files": self.files,
            },
            indent=2,
        )

    @classmethod
    def read(cls, folder: Path) -> Manifest | None:
        """The manifest in ``folder``, or None when there is none or it cannot be read."""
        try:
            return cls.from_json((folder / MANIFEST).read_text())
        except OSError:
            return None

    @classmethod
    def from_json(cls, text: str) -> Manifest | None:
        """The manifest ``to_json`` wrote (on disk, or in a remote engine's version record),
        or None when it cannot be read."""
        try:
            raw = json.loads(text)
            return cls(
                raw["version"],
                bool(raw.get("validated")),
                raw.get("counts"),
                int(raw.get("inferred", 0)),
                datetime.fromisoformat(raw["built"]),
                [_file_from_json(f) for f in raw["data"]],
                [_file_from_json(f) for f in raw["shapes"]],
                None if raw.get("quads") is None else int(raw["quads"]),
                None
                if raw.get("files") is None
                else {str(k): (int(v[0]), str(v[1])) for k, v in raw["files"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None


class _FileEntry(TypedDict):
    """One loaded file as the manifest records it."""

    path: str
    relpath: str
    graph: str
    graphs: list[str]
    format: str
    base: NotRequired[str | None]
    in_default: NotRequired[bool]


def _file_to_json(f: SourceFile) -> _FileEntry:
    return {
        "path": str(f.path),
        "relpath": f.relpath,
        "graph": f.graph,
        "graphs": list(f.all_graphs),
        "format": f.format.file_extension,
        "base": f.base,
        "in_default": f.in_default,
    }


def _file_from_json(f: _FileEntry) -> SourceFile:
    rdf_format = pyoxigraph.RdfFormat.from_extension(str(f["format"]))
    if rdf_format is None:  # Manifest.read takes a ValueError as "no manifest"
        raise ValueError(f"unknown format {f['format']!r}")
    return SourceFile(
        Path(str(f["path"])),
        str(f["relpath"]),
        str(f["graph"]),
        rdf_format,
        tuple(str(g) for g in f["graphs"]),
        base=f.get("base"),
        in_default=bool(f.get("in_default", False)),
    )


#: Files of a RocksDB folder that change without its data changing (its log, its lock).
_VOLATILE = ("LOG", "LOCK")


def store_files(folder: Path) -> dict[str, tuple[int, str]]:
    """Each file of an on-disk store with its size and SHA-256, for its manifest: a store
    opened read-only never changes them, so any difference later is damage."""
    found: dict[str, tuple[int, str]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(_VOLATILE) or not path.is_file():
            continue
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        found[path.name] = (path.stat().st_size, digest)
    return found
