"""``build(settings)``: load → infer → validate → store, the one path for CLI, server and export.

A dataset is complete before anyone sees it: parsed, inferred, validated and loaded. On disk,
each version is built in its own folder and recorded in a manifest only once it is valid, so a
restart with unchanged files reuses the store and the recorded validation verdict, and a failed
build never replaces a good one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
import rdflib

from . import __version__
from .bridge import from_rdflib, graph_from_quads, to_rdflib
from .errors import LoadError, ShapesViolation
from .inference import infer
from .loading import RawFile, SourceFile, SourceIndex, find_files, graph_key, load_raw, read_files
from .memory import release_free_memory
from .namespaces import inferred_graph
from .settings import Settings
from .shacl import Unsupported
from .store import OxigraphStore
from .validation import MAX_RESULTS, ValidationReport, validate, validate_store

MANIFEST = "manifest.json"


@dataclass
class Dataset:
    """A built dataset: its store, where it came from, its version and validation verdict."""

    settings: Settings
    store: OxigraphStore
    data_files: list[SourceFile]
    shapes_files: list[SourceFile]
    version: str
    modified: datetime
    report: ValidationReport | None = None
    counts: dict[str, int] | None = None
    inferred: int = 0
    reused: bool = False
    #: The shapes live apart from the data: they are not part of the published dataset, so
    #: SPARQL's default graph, VoID and the dumps are the data alone.
    shapes_store: OxigraphStore = field(default_factory=OxigraphStore)
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
    def conforms(self) -> bool | None:
        if self.report is not None:
            return self.report.conforms
        return None if self.counts is None else self.counts.get("Violation", 0) == 0


def fingerprint(settings: Settings, data: list[RawFile], shapes: list[RawFile]) -> str:
    """The dataset version: a hash of the very bytes that are parsed, and of every setting that
    changes the output (so a file edited mid-build cannot pass under another file's verdict)."""
    digest = hashlib.sha256()
    digest.update(f"leapsld {__version__}\0{settings.base_iri}\0{settings.infer}\0".encode())
    for role, raws in (("data", data), ("shapes", shapes)):
        for raw in raws:
            digest.update(
                f"{role}\0{graph_key(raw.path, settings.root)}\0{len(raw.data)}\0".encode()
            )
            digest.update(raw.data)
    return digest.hexdigest()[:16]


def build(
    settings: Settings, *, validate_data: bool | None = None, load_shapes: bool = True
) -> Dataset:
    """Build the dataset that ``settings`` describes.

    Args:
        settings: paths, base IRI, inference mode and store location.
        validate_data: validate (default: ``settings.validate``); when False the report is None.
        load_shapes: also load the shapes (to validate or publish them); a plain query needs
            only the data.

    Raises:
        LoadError: a file is missing or malformed (file, line and column named).
        ShapesViolation: the data does not conform and validation was asked for.
    """
    check = settings.validate if validate_data is None else validate_data
    data = read_files(find_files(settings.data_paths))
    check = check and load_shapes
    shapes = read_files(find_files(settings.shapes_paths)) if load_shapes else []
    if not data:
        raise LoadError("no RDF files found in " + ", ".join(map(str, settings.data_paths)))
    version = fingerprint(settings, data, shapes)
    if settings.store != "memory":
        with _locked(Path(settings.store)):
            reused = _reuse(settings, version, check, shapes)
            if reused is not None:
                return reused
            return _build_on_disk(settings, data, shapes, version, check)
    dataset = _build_into(
        OxigraphStore(), settings, data, shapes, version, datetime.now(UTC), check
    )
    _raise_unless_conforms(dataset)
    return dataset


def _build_into(
    store: OxigraphStore,
    settings: Settings,
    data: list[RawFile],
    shapes: list[RawFile],
    version: str,
    modified: datetime,
    check: bool,
) -> Dataset:
    kw = {
        "base_iri": settings.base_iri,
        "root": settings.root,
        "reserved": [inferred_graph(settings.base_iri)],
    }
    data_files = load_raw(data, store.inner, **kw)
    shapes_store = OxigraphStore()
    shapes_files = load_raw(shapes, shapes_store.inner, **kw)
    dataset = Dataset(
        settings,
        store,
        data_files,
        shapes_files,
        version,
        modified.replace(microsecond=0),
        shapes_store=shapes_store,
    )
    dataset.inferred = infer(
        store, mode=settings.infer, graphs=dataset.data_graphs, base_iri=settings.base_iri
    )
    if check:
        dataset.report = validate_dataset(dataset)
        dataset.counts = dataset.report.counts
    return dataset


def validate_dataset(
    dataset: Dataset,
    *,
    fail_on: str = "Violation",
    engine: str = "auto",
    max_results: int | None = MAX_RESULTS,
) -> ValidationReport:
    """Validate the dataset's ontology, data (and inferred triples) against its shapes.

    Args:
        engine: ``sparql`` (the shapes compiled to queries on the store), ``pyshacl``, or
            ``auto``: sparql unless the shapes use what it does not compile.
        max_results: list at most this many results, count the rest (None: list all).
    """
    graphs = [*dataset.data_graphs]
    if dataset.inferred:
        graphs.append(dataset.inferred_graph)
    shapes: rdflib.Graph = graph_from_quads(dataset.shapes_store)
    if engine != "pyshacl":
        store = dataset.store
        # The union of all graphs is the same data when nothing else is in the store, and
        # Oxigraph reads it faster than a list of graphs.
        only = None if set(graphs) == set(store.graphs()) else graphs

        def query(text: str) -> pyoxigraph.QuerySolutions:
            return store.query(text, default_graphs=only)  # type: ignore[return-value]

        names = [pyoxigraph.NamedNode(g) for g in graphs]

        def holders(node: rdflib.term.Node) -> Iterator[rdflib.term.Node]:
            for g in names:
                for q in store.inner.quads_for_pattern(None, None, from_rdflib(node), g):
                    yield to_rdflib(q.subject)

        try:
            return validate_store(
                query,
                holders,
                shapes,
                index=dataset.index,
                fail_on=fail_on,
                max_results=max_results,
            )
        except Unsupported:
            if engine == "sparql":
                raise
    data = graph_from_quads(q for g in graphs for q in dataset.store.graph_quads(g))
    return validate(data, shapes, index=dataset.index, fail_on=fail_on, max_results=max_results)


def _raise_unless_conforms(dataset: Dataset) -> None:
    if dataset.report is not None and not dataset.report.conforms:
        raise ShapesViolation(
            f"the data does not conform to the shapes ({dataset.report.summary()})",
            report=dataset.report,
        )


# On-disk stores -----------------------------------------------------------------------------


def _store_dir(settings: Settings, version: str) -> Path:
    return Path(settings.store) / version


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One builder at a time per store folder (several workers may start together)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _reuse(settings: Settings, version: str, check: bool, shapes: list[RawFile]) -> Dataset | None:
    """The store built earlier for this very version, opened read-only, or None; the shapes
    (small, and part of the version) are parsed again into memory."""
    folder = _store_dir(settings, version)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("version") != version or (check and not manifest.get("validated")):
        return None

    def files(role: str) -> list[SourceFile]:
        return [
            SourceFile(
                Path(f["path"]),
                f["relpath"],
                f["graph"],
                pyoxigraph.RdfFormat.from_extension(f["format"]),
                tuple(f["graphs"]),
            )
            for f in manifest[role]
        ]

    shapes_store = OxigraphStore()
    load_raw(shapes, shapes_store.inner, base_iri=settings.base_iri, root=settings.root)
    dataset = Dataset(
        settings,
        OxigraphStore(folder / "store", read_only=True),
        files("data"),
        files("shapes"),
        version,
        datetime.fromisoformat(manifest["built"]).replace(microsecond=0),
        counts=manifest.get("counts"),
        inferred=manifest.get("inferred", 0),
        reused=True,
        shapes_store=shapes_store,
    )
    if check and not dataset.conforms:
        return None
    return dataset


def _build_on_disk(
    settings: Settings, data: list[RawFile], shapes: list[RawFile], version: str, check: bool
) -> Dataset:
    """Build and validate in memory, write the statistics and dumps, then bulk-load a staging
    folder and rename it into place.

    Data that does not conform costs no disk work; RocksDB's bulk loader writes sorted tables
    directly, several times faster than inserting a million quads one transaction at a time.
    """
    folder = _store_dir(settings, version)
    staging = folder.with_name(folder.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    built = datetime.now(UTC)
    try:
        checked = _build_into(OxigraphStore(), settings, data, shapes, version, built, check)
        _raise_unless_conforms(checked)
        manifest = {
            "version": version,
            "validated": check,
            "counts": checked.counts,
            "inferred": checked.inferred,
            "built": built.isoformat(),
            "data": [_describe_file(f) for f in checked.data_files],
            "shapes": [_describe_file(f) for f in checked.shapes_files],
        }
        # What is derived from the data (statistics, dumps) is written now, from memory: read
        # back from RocksDB, every term is a lookup, and a million triples take minutes.
        from .publish import DERIVED, recorded_statistics, write_dumps

        recorded_statistics(checked, staging / DERIVED)
        write_dumps(checked, staging / DERIVED)
        # The very quads that were validated, inferred ones included (whose blank nodes must be
        # the data's), go through one N-Quads file: the store in memory is let go first.
        quads = staging / "quads.nq"
        checked.store.inner.dump(str(quads), format=pyoxigraph.RdfFormat.N_QUADS)
        del checked
        release_free_memory()
        store = OxigraphStore(staging / "store")
        store.inner.bulk_load(path=str(quads), format=pyoxigraph.RdfFormat.N_QUADS)
        quads.unlink()
        store.flush()
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        del store
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    reused = _reuse(settings, version, check, shapes)
    if reused is None:
        raise LoadError(f"the store just built in {folder} cannot be opened again")
    reused.reused = False
    return reused


def _describe_file(f: SourceFile) -> dict[str, object]:
    return {
        "path": str(f.path),
        "relpath": f.relpath,
        "graph": f.graph,
        "graphs": list(f.all_graphs),
        "format": f.format.file_extension,
    }
