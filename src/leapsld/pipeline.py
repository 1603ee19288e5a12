"""``build(settings)``: load → infer → validate → store, the one path for CLI, server and export.

A dataset is complete before anyone sees it: parsed, inferred, validated and loaded. On disk,
each version is built in its own folder and recorded in a manifest only once it is valid, so a
restart with unchanged files reuses the store and the recorded validation verdict, and a failed
build never replaces a good one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph
import rdflib

from . import __version__
from .bridge import graph_from_quads
from .errors import LoadError, ShapesViolation
from .inference import infer
from .loading import SourceFile, SourceIndex, find_files, graph_key, load_files
from .namespaces import inferred_graph
from .settings import Settings
from .store import OxigraphStore
from .validation import ValidationReport, validate

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
    index: SourceIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = SourceIndex(self.data_files)

    @property
    def data_graphs(self) -> list[str]:
        """Graphs of asserted ontology and data (not shapes, not inferred)."""
        return [f.graph for f in self.data_files]

    @property
    def shapes_graphs(self) -> list[str]:
        return [f.graph for f in self.shapes_files]

    @property
    def inferred_graph(self) -> str:
        return inferred_graph(self.settings.base_iri)

    @property
    def conforms(self) -> bool | None:
        if self.report is not None:
            return self.report.conforms
        return None if self.counts is None else self.counts.get("Violation", 0) == 0


def fingerprint(settings: Settings, data: list[Path], shapes: list[Path]) -> tuple[str, datetime]:
    """The dataset version (a hash of every input and setting that changes the output) and the
    newest input's modification time."""
    digest = hashlib.sha256()
    digest.update(f"leapsld {__version__}\0{settings.base_iri}\0{settings.infer}\0".encode())
    newest = 0.0
    for role, paths in (("data", data), ("shapes", shapes)):
        for path in paths:
            digest.update(f"{role}\0{graph_key(path, settings.root)}\0".encode())
            with path.open("rb") as handle:
                for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(chunk)
            newest = max(newest, path.stat().st_mtime)
    modified = datetime.fromtimestamp(int(newest), UTC) if newest else datetime.now(UTC)
    return digest.hexdigest()[:16], modified


def build(settings: Settings, *, validate_data: bool | None = None) -> Dataset:
    """Build the dataset that ``settings`` describes.

    Args:
        settings: paths, base IRI, inference mode and store location.
        validate_data: validate (default: ``settings.validate``); when False the report is None.

    Raises:
        LoadError: a file is missing or malformed (file, line and column named).
        ShapesViolation: the data does not conform and validation was asked for.
    """
    check = settings.validate if validate_data is None else validate_data
    data_paths = find_files(settings.data_paths)
    shapes_paths = find_files(settings.shapes_paths)
    if not data_paths:
        raise LoadError("no RDF files found in " + ", ".join(map(str, settings.data_paths)))
    version, modified = fingerprint(settings, data_paths, shapes_paths)
    if settings.store != "memory":
        reused = _reuse(settings, version, modified, check)
        if reused is not None:
            return reused
        return _build_on_disk(settings, data_paths, shapes_paths, version, modified, check)
    dataset = _build_into(
        OxigraphStore(), settings, data_paths, shapes_paths, version, modified, check
    )
    _raise_unless_conforms(dataset)
    return dataset


def _build_into(
    store: OxigraphStore,
    settings: Settings,
    data_paths: list[Path],
    shapes_paths: list[Path],
    version: str,
    modified: datetime,
    check: bool,
) -> Dataset:
    kw = {"base_iri": settings.base_iri, "root": settings.root}
    data_files = load_files(data_paths, store.inner, **kw)
    shapes_files = load_files(shapes_paths, store.inner, **kw)
    dataset = Dataset(settings, store, data_files, shapes_files, version, modified)
    dataset.inferred = infer(
        store, mode=settings.infer, graphs=dataset.data_graphs, base_iri=settings.base_iri
    )
    if check:
        dataset.report = validate_dataset(dataset)
        dataset.counts = dataset.report.counts
    return dataset


def validate_dataset(dataset: Dataset, *, fail_on: str = "Violation") -> ValidationReport:
    """Validate the dataset's ontology, data (and inferred triples) against its shapes."""
    graphs = [*dataset.data_graphs]
    if dataset.inferred:
        graphs.append(dataset.inferred_graph)
    store = dataset.store
    data = graph_from_quads(q for g in graphs for q in store.graph_quads(g))
    shapes: rdflib.Graph = graph_from_quads(
        q for g in dataset.shapes_graphs for q in store.graph_quads(g)
    )
    return validate(data, shapes, index=dataset.index, fail_on=fail_on)


def _raise_unless_conforms(dataset: Dataset) -> None:
    if dataset.report is not None and not dataset.report.conforms:
        raise ShapesViolation(
            f"the data does not conform to the shapes ({dataset.report.summary()})",
            report=dataset.report,
        )


# On-disk stores -----------------------------------------------------------------------------


def _store_dir(settings: Settings, version: str) -> Path:
    return Path(settings.store) / version


def _reuse(settings: Settings, version: str, modified: datetime, check: bool) -> Dataset | None:
    """The store built earlier for this very version, opened read-only, or None."""
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
            )
            for f in manifest[role]
        ]

    dataset = Dataset(
        settings,
        OxigraphStore(folder / "store", read_only=True),
        files("data"),
        files("shapes"),
        version,
        modified,
        counts=manifest.get("counts"),
        inferred=manifest.get("inferred", 0),
        reused=True,
    )
    if check and not dataset.conforms:
        return None
    return dataset


def _build_on_disk(
    settings: Settings,
    data_paths: list[Path],
    shapes_paths: list[Path],
    version: str,
    modified: datetime,
    check: bool,
) -> Dataset:
    folder = _store_dir(settings, version)
    staging = folder.with_name(folder.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        store = OxigraphStore(staging / "store")
        dataset = _build_into(store, settings, data_paths, shapes_paths, version, modified, check)
        _raise_unless_conforms(dataset)
        store.inner.optimize()
        store.flush()
        manifest = {
            "version": version,
            "validated": check,
            "counts": dataset.counts,
            "inferred": dataset.inferred,
            "built": datetime.now(UTC).isoformat(),
            "data": [_describe_file(f) for f in dataset.data_files],
            "shapes": [_describe_file(f) for f in dataset.shapes_files],
        }
        del store, dataset
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    reused = _reuse(settings, version, modified, check)
    assert reused is not None, "a store just built must be reusable"
    reused.reused = False
    return reused


def _describe_file(f: SourceFile) -> dict[str, str]:
    return {
        "path": str(f.path),
        "relpath": f.relpath,
        "graph": f.graph,
        "format": f.format.file_extension,
    }
