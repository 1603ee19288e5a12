"""``build(settings)``: load → infer → validate → store, the one path for CLI, server and export.

A dataset is complete before anyone sees it: parsed, inferred, validated and loaded. On disk,
each version is built in its own folder and recorded in a manifest only once it is valid, so a
restart with unchanged files reuses the store and the recorded validation verdict, and a failed
build never replaces a good one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
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
    store_files,
    version_folder,
)
from .derived import recorded_statistics, write_dumps
from .errors import LoadError, ShapesViolation, StorageError
from .identity import DESCRIPTION_FILE, QUERIES_FOLDER, VIEWS_FILE, Identity, read_identity
from .inference import infer
from .loading import (
    RawFile,
    find_files,
    load_declared,
    load_raw,
    parse_as_written,
    read_files,
)
from .memory import release_free_memory
from .namespaces import inferred_graph
from .releases import RELEASES_FOLDER
from .remote import is_remote
from .settings import Settings
from .store import OxigraphStore, SplitStore
from .target import open_dataset
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
    if is_remote(settings.store):  # served from an engine elsewhere, as `load --to` left it
        return open_dataset(settings)
    check = settings.validate if validate_data is None else validate_data
    identity = read_identity(settings)
    data = (
        _read_declared(settings)
        if settings.declared
        else read_files(find_files(settings.data_paths))
    )
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
            settings.root / RELEASES_FOLDER,
        ],
    )
    version = fingerprint(settings, data, shapes, identity, modified)
    if settings.store != "memory":
        return _on_disk(settings, identity, data, shapes, version, modified, check)
    dataset = _build_into(
        OxigraphStore(), settings, identity, data, shapes, version, modified, check
    )
    _raise_unless_conforms(dataset)
    # The default graph is materialised in the one store (the least memory); "split" also
    # keeps it alone in a second store, for faster joins (docs/architecture.md).
    assert isinstance(dataset.store, OxigraphStore)
    if settings.memory_layout == "split":
        dataset.store = SplitStore.of(dataset.store)
    return dataset


def _read_declared(settings: Settings) -> list[RawFile]:
    """The files of a declared dataset: the default graph's, then each named graph's one.

    Raises:
        LoadError: a file is missing, or a named graph is given a folder.
    """
    raws = read_files(find_files(settings.default_graph))
    for iri, path in settings.named_graphs:
        found = find_files([path])
        if len(found) != 1 or not path.is_file():
            raise LoadError(f"the named graph {iri} takes one file", path=str(path))
        raws.extend(RawFile(raw.path, raw.data, named=iri) for raw in read_files(found))
    return raws


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
    if settings.declared:
        data_files = load_declared(
            data,
            store,
            base_iri=settings.base_iri,
            root=settings.root,
            relative_iris=settings.relative_iris,
        )
    else:
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
    # SPARQL's default graph is a set: a declared dataset's is as declared; a dataset of files'
    # holds each triple of its files (and of the inferred graph) once
    if settings.declared:
        store.real_default = True
    else:
        store.materialise_default_graph()
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

log = logging.getLogger("leapsld")


class Damaged(Exception):
    """A version's store does not match its manifest (or cannot be opened)."""


def _on_disk(
    settings: Settings,
    identity: Identity,
    data: list[RawFile],
    shapes: list[RawFile],
    version: str,
    modified: datetime | None,
    check: bool,
) -> Dataset:
    """The on-disk store of ``version``: reused when it is complete and intact, else built.

    A complete version is reused without taking the folder's lock: its folder appears whole
    (renamed into place, manifest written last), so a store on a read-only file system is
    served without writing anything. A damaged one is rebuilt from the files.

    Raises:
        StorageError: the folder cannot be written (a full disk, a read-only file system),
            or the store is damaged and cannot be rebuilt.
    """
    folder = version_folder(settings, version)
    damage: Damaged | None = None
    try:
        reused = _reuse(settings, identity, version, modified, check, shapes)
        if reused is not None:
            if any(Path(settings.store).glob("*.building")):
                # leftovers of interrupted builds: removed under the lock, when it can be had
                # (a read-only store keeps them, and is served all the same)
                # (never waiting: a builder at work holds the lock, and its folder is live)
                with contextlib.suppress(OSError), locked(Path(settings.store), wait=False):
                    remove_abandoned_staging(Path(settings.store))
            return reused
    except Damaged as exc:
        damage = exc
    try:
        with locked(Path(settings.store)):
            remove_abandoned_staging(Path(settings.store))
            try:  # another process may have built (or rebuilt) it meanwhile
                reused = _reuse(settings, identity, version, modified, check, shapes)
                if reused is not None:
                    return reused
            except Damaged as exc:
                damage = exc
            if damage is not None:
                log.warning("rebuilding the store of version %s: %s", version, damage)
            return _build_on_disk(settings, identity, data, shapes, version, modified, check)
    except OSError as exc:
        where = exc.filename or folder
        problem = exc.strerror or str(exc)
        if damage is not None:
            raise StorageError(
                f"the store in {folder} is damaged ({damage}) and cannot be rebuilt: "
                f"{where}: {problem}"
            ) from None
        raise StorageError(f"cannot write the store: {where}: {problem}") from None


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
    store = _open_intact(folder / "store", manifest)
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
        store,
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


def _open_intact(path: Path, manifest: Manifest) -> OxigraphStore:
    """Open a version's store read-only, once its files match what its manifest recorded
    (sizes and SHA-256, then the count of quads): half a store is never served.

    Raises:
        Damaged: a file is missing, changed or unreadable, the engine refuses to open the
            store, or it holds another number of quads.
    """
    if manifest.files is not None:
        try:
            found = store_files(path)
        except OSError as exc:
            raise Damaged(f"its files cannot be read: {exc.strerror or exc}") from None
        for name in sorted(set(manifest.files) | set(found)):
            if manifest.files.get(name) != found.get(name):
                what = (
                    "missing"
                    if name not in found
                    else "unexpected"
                    if name not in manifest.files
                    else "changed"
                )
                raise Damaged(f"its file {name} is {what}")
    try:
        store = OxigraphStore(path, read_only=True)
        count = len(store)
    except (OSError, ValueError, RuntimeError) as exc:
        raise Damaged(f"the engine cannot open it: {exc}") from None
    if manifest.quads is not None and count != manifest.quads:
        raise Damaged(f"it holds {count} quads, its manifest says {manifest.quads}")
    return store


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
        store.mark_real_default()
        store.flush()
        manifest = dataclasses.replace(manifest, quads=len(store))
        del store  # closed: its files are final
        manifest = dataclasses.replace(manifest, files=store_files(staging / "store"))
        (staging / MANIFEST).write_text(manifest.to_json())
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        reused = _reuse(settings, identity, version, modified, check, shapes)
    except Damaged as exc:
        raise StorageError(f"the store just built in {folder} cannot be read back: {exc}") from None
    if reused is None:
        raise LoadError(f"the store just built in {folder} cannot be opened again")
    reused.reused = False
    return reused
