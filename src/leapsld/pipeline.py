"""``build(settings)``: load → infer → validate → store, the one path for CLI, server and export.

A dataset is complete before anyone sees it: parsed, inferred, validated and loaded. On disk,
each version is built in its own folder and recorded in a manifest only once it is valid, so a
restart with unchanged files reuses the store and the recorded validation verdict, and a failed
build never replaces a good one.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph

from .atomic import locked
from .dataset import (
    DERIVED,
    MANIFEST,
    Dataset,
    Manifest,
    fingerprint,
    modified_date,
    version_folder,
)
from .derived import recorded_statistics, write_dumps
from .errors import LoadError, ShapesViolation
from .identity import DESCRIPTION_FILE, QUERIES_FOLDER, VIEWS_FILE, Identity, read_identity
from .inference import infer
from .loading import RawFile, find_files, load_raw, parse_as_written, read_files
from .memory import release_free_memory
from .namespaces import inferred_graph
from .settings import Settings
from .store import OxigraphStore
from .validation import MAX_RESULTS, ValidationReport, validate_in_store


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
    identity = read_identity(settings)
    data = read_files(find_files(settings.data_paths))
    check = check and load_shapes
    shapes = read_files(find_files(settings.shapes_paths)) if load_shapes else []
    if not data:
        raise LoadError("no RDF files found in " + ", ".join(map(str, settings.data_paths)))
    modified = modified_date(
        identity,
        [
            *settings.data_paths,
            *(settings.shapes_paths if load_shapes else ()),
            settings.root / DESCRIPTION_FILE,
            settings.root / VIEWS_FILE,
            settings.root / QUERIES_FOLDER,
        ],
    )
    version = fingerprint(settings, data, shapes, identity, modified)
    if settings.store != "memory":
        with locked(Path(settings.store)):
            remove_abandoned_staging(Path(settings.store))
            reused = _reuse(settings, identity, version, modified, check, shapes)
            if reused is not None:
                return reused
            return _build_on_disk(settings, identity, data, shapes, version, modified, check)
    dataset = _build_into(
        OxigraphStore(), settings, identity, data, shapes, version, modified, check
    )
    _raise_unless_conforms(dataset)
    return dataset


def _build_into(
    store: OxigraphStore,
    settings: Settings,
    identity: Identity,
    data: list[RawFile],
    shapes: list[RawFile],
    version: str,
    modified: datetime | None,
    check: bool,
) -> Dataset:
    reserved = [inferred_graph(settings.base_iri)]
    data_files = load_raw(
        data,
        store,
        base_iri=settings.base_iri,
        root=settings.root,
        reserved=reserved,
        relative_iris=settings.relative_iris,
    )
    shapes_store = OxigraphStore()
    shapes_files = load_raw(
        shapes,
        shapes_store,
        base_iri=settings.base_iri,
        root=settings.root,
        reserved=reserved,
        relative_iris=settings.relative_iris,
    )
    dataset = Dataset(
        settings,
        store,
        data_files,
        shapes_files,
        version,
        modified,
        shapes_store,
        identity,
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
    """Validate the dataset's ontology, data (and inferred triples) against its shapes; the
    engine is chosen, and results listed, as ``validation.validate_in_store`` says."""
    rewritten = any(f.rewritten for f in dataset.data_files)
    shapes_rewritten = any(f.rewritten for f in dataset.shapes_files)
    return validate_in_store(
        dataset.store,
        graphs=dataset.served_graphs,
        shapes=dataset.shapes_store,
        index=dataset.index,
        fail_on=fail_on,
        engine=engine,
        max_results=max_results,
        shapes_as_written=parse_as_written(dataset.shapes_files) if shapes_rewritten else None,
        data_as_written=(lambda: parse_as_written(dataset.data_files)) if rewritten else None,
    )


def _raise_unless_conforms(dataset: Dataset) -> None:
    if dataset.report is not None and not dataset.report.conforms:
        raise ShapesViolation(
            f"the data does not conform to the shapes ({dataset.report.summary()})",
            report=dataset.report,
        )


# On-disk stores -----------------------------------------------------------------------------


def remove_abandoned_staging(store: Path) -> list[Path]:
    """Remove the staging folders (``<version>.building``) that interrupted builds left behind;
    the removed folders.

    Only while holding the store's lock (``atomic.locked``): every builder stages under that
    lock, so a staging folder found then belongs to a builder that is gone (killed, or its
    machine stopped), never to one still at work.
    """
    removed = []
    for staging in sorted(store.glob("*.building")):
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


def _reuse(
    settings: Settings,
    identity: Identity,
    version: str,
    modified: datetime | None,
    check: bool,
    shapes: list[RawFile],
) -> Dataset | None:
    """The store built earlier for this very version, opened read-only, or None; the shapes
    (small, and part of the version) are parsed again into memory."""
    folder = version_folder(settings, version)
    manifest = Manifest.read(folder)
    if manifest is None or manifest.version != version or (check and not manifest.validated):
        return None
    shapes_store = OxigraphStore()
    load_raw(
        shapes,
        shapes_store,
        base_iri=settings.base_iri,
        root=settings.root,
        relative_iris=settings.relative_iris,
    )
    dataset = Dataset(
        settings,
        OxigraphStore(folder / "store", read_only=True),
        manifest.data,
        manifest.shapes,
        version,
        modified,
        shapes_store,
        identity,
        counts=manifest.counts,
        inferred=manifest.inferred,
        reused=True,
    )
    if check and not dataset.conforms:
        return None
    return dataset


def _build_on_disk(
    settings: Settings,
    identity: Identity,
    data: list[RawFile],
    shapes: list[RawFile],
    version: str,
    modified: datetime | None,
    check: bool,
) -> Dataset:
    """Build and validate in memory, write the statistics and dumps, then bulk-load a staging
    folder and rename it into place.

    Data that does not conform costs no disk work; RocksDB's bulk loader writes sorted tables
    directly, several times faster than inserting a million quads one transaction at a time.
    """
    folder = version_folder(settings, version)
    staging = folder.with_name(folder.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    built = datetime.now(UTC)
    try:
        memory = OxigraphStore()
        checked = _build_into(memory, settings, identity, data, shapes, version, modified, check)
        _raise_unless_conforms(checked)
        manifest = Manifest(
            version,
            check,
            checked.counts,
            checked.inferred,
            built,
            checked.data_files,
            checked.shapes_files,
        )
        # What is derived from the data (statistics, dumps) is written now, from memory: read
        # back from RocksDB, every term is a lookup, and a million triples take minutes.
        recorded_statistics(checked, staging / DERIVED)
        write_dumps(checked, staging / DERIVED)
        # The very quads that were validated, inferred ones included (whose blank nodes must be
        # the data's), go through one N-Quads file: the store in memory is let go first.
        quads = staging / "quads.nq"
        memory.dump(quads, format=pyoxigraph.RdfFormat.N_QUADS)
        del checked, memory
        release_free_memory()
        store = OxigraphStore(staging / "store")
        store.bulk_load(quads, format=pyoxigraph.RdfFormat.N_QUADS)
        quads.unlink()
        store.flush()
        (staging / MANIFEST).write_text(manifest.to_json())
        del store
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    reused = _reuse(settings, identity, version, modified, check, shapes)
    if reused is None:
        raise LoadError(f"the store just built in {folder} cannot be opened again")
    reused.reused = False
    return reused
