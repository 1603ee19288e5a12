"""What is derived from one dataset version: its statistics and its dumps, made once.

Both depend only on the version, so they are computed by one process, recorded beside an
on-disk store (or in a private folder of a memory-store server) and read back by the others and
by the next start. A serving process makes them in a background thread that yields to the
requests it answers: on two cores a million triples of Python work would otherwise slow every
query answered meanwhile.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

import pyoxigraph

from .atomic import locked, write_atomically
from .dataset import Dataset, derived_folder
from .describe import suggestion_index
from .errors import Busy, LeapsError
from .executor import Executor
from .formats import Format, by_name
from .identity import DEFAULT_STEM, Picture
from .memory import release_free_memory
from .namespaces import PREFIXES, RDF_TYPE
from .pictures import Drawing, draw_pictures, drawings_from_json, drawings_to_json
from .query import run_query
from .remote import is_remote
from .search import LabelIndex, build_index, entries_from_json, entries_to_json, index_entries
from .store import Store

T = TypeVar("T")

STATISTICS = "statistics.json"
PICTURES = "pictures.json"
LABELS = "labels.json"
SUGGESTIONS = "suggestions.json"
#: The niceness of the processes computing the statistics and the suggestion index: the
#: home page, VoID and 404s wait for them, so they run at the priority of queries (in a
#: process of their own all the same, never holding a worker's interpreter); the dumps,
#: which nothing waits for, at the lowest.
STATISTICS_NICENESS = 0
SUMS = "SHA256SUMS"
#: The dumps of a version: name suffix, format, gzipped.
DUMPS = (
    (".ttl", "turtle", False),
    (".nt.gz", "ntriples", True),
    (".jsonld", "jsonld", False),
    (".nq.gz", "nquads", True),
)


@dataclass(frozen=True)
class Dump:
    """One dump file: its name, format, size and SHA-256."""

    name: str
    format: Format
    path: Path
    size: int
    sha256: str
    compressed: bool = False

    @property
    def media_type(self) -> str:
        return "application/gzip" if self.compressed else self.format.media_type


# Yielding to requests --------------------------------------------------------------------

#: Asked now and then by a long stream: true while requests are being answered.
Pause = Callable[[], bool]
#: Items streamed between two questions (about a tenth of a millisecond of work).
_YIELD_EVERY = 256
#: The longest one pause lasts, so that a steady load slows the stream but never stops it.
_LONGEST_PAUSE = 0.05


def _politely(items: Iterable[T], yield_to: Pause | None) -> Iterator[T]:
    """``items``, pausing while ``yield_to()`` says requests are being answered."""
    if yield_to is None:
        yield from items
        return
    for n, item in enumerate(items):
        if n % _YIELD_EVERY == 0:
            waited = 0.0
            while waited < _LONGEST_PAUSE and yield_to():
                time.sleep(0.001)
                waited += 0.001
        yield item


def unique_triples(
    store: Store, graphs: Sequence[str], *, yield_to: Pause | None = None
) -> Iterator[pyoxigraph.Triple]:
    """The triples of ``graphs``, each once, streamed.

    The largest graph comes first and is taken whole; a triple of a smaller graph is skipped
    when an earlier graph has it, by asking the store. So a million triples in one file and a
    few thousand beside it cost a few thousand lookups, and nothing is remembered.
    """
    remote = getattr(store, "unique_triples", None)
    if remote is not None:  # an engine elsewhere makes the set in one query
        yield from _politely(remote(graphs), yield_to)
        return
    earlier: list[pyoxigraph.NamedNode] = []
    sizes = store.graph_sizes(graphs) if len(graphs) > 1 else {}
    for g in sorted(graphs, key=lambda g: (-sizes.get(g, 0), g)):
        for q in _politely(store.quads(graph=g), yield_to):
            if earlier and any(
                store.contains(pyoxigraph.Quad(q.subject, q.predicate, q.object, e))
                for e in earlier
            ):
                continue
            yield q.triple
        earlier.append(pyoxigraph.NamedNode(g))


# Dumps ------------------------------------------------------------------------------------


def existing_dumps(folder: Path, *, stem: str = DEFAULT_STEM) -> list[Dump] | None:
    """The dumps already written in ``folder`` (for this version: the folder is the version's),
    or None when any is missing. A restart then serves them without writing them again.
    ``stem`` starts every dump's name (the dataset identity's)."""
    try:
        pairs = (line.split("  ", 1) for line in (folder / SUMS).read_text().splitlines() if line)
        sums = {name: digest for digest, name in pairs}
    except (OSError, ValueError):
        return None
    dumps = []
    for suffix, fmt_name, compress in DUMPS:
        name = stem + suffix
        path = folder / name
        if name not in sums or not path.is_file():
            return None
        dumps.append(Dump(name, by_name(fmt_name), path, path.stat().st_size, sums[name], compress))
    for name in sorted(n for n in sums if n.startswith(stem + GRAPH_DUMP)):
        path = folder / name
        if not path.is_file():
            return None
        dumps.append(Dump(name, by_name("ntriples"), path, path.stat().st_size, sums[name], True))
    return dumps


#: A named graph with more triples than this gets a dump of its own, and its document links to
#: that dump instead of holding its triples.
GRAPH_INLINE = 5_000
#: What the name of a graph's own dump starts with, after the stem.
GRAPH_DUMP = "-graph-"


def graph_dump_name(stem: str, graph: str, base_iri: str) -> str:
    """The file name of a graph's own dump: readable, and unique (``data/a-b`` and ``data/a/b``
    read alike, so a short hash of the graph's IRI follows).

    >>> graph_dump_name("leaps", "https://w3id.org/leaps/graph/data/memberships", "https://w3id.org/leaps/")
    'leaps-graph-data-memberships-0dc2b8b8.nt.gz'
    """
    key = graph.removeprefix(base_iri + "graph/")
    slug = "".join(c if c.isalnum() or c in "._" else "-" for c in key)
    digest = hashlib.sha256(graph.encode()).hexdigest()[:8]
    return f"{stem}{GRAPH_DUMP}{slug}-{digest}.nt.gz"


def write_dumps(dataset: Dataset, folder: Path, *, yield_to: Pause | None = None) -> list[Dump]:
    """Write the asserted ontology and data as Turtle, gzipped N-Triples and JSON-LD, and as
    gzipped N-Quads, which keeps each triple's graph and so the source a graph carries. Their
    names start with the stem the dataset's identity gives (``<stem>.ttl``, …).

    Each triple once, however many files state it. The triples stream from the store to the
    files, so writing a million of them needs no more memory than writing ten. One writer per
    folder: the others wait, then read what it wrote. The JSON-LD dump is expanded
    (pyoxigraph's writer): it scales to millions of triples, which a compaction does not.
    """
    return _dumps(_Source.of(dataset), folder, yield_to, dataset.store)


@dataclass(frozen=True)
class _Source:
    """What the derived data is made from, in plain values (a background job is sent them)."""

    graphs: list[str]
    base_iri: str
    stem: str
    vocabularies: dict[str, str]

    @classmethod
    def of(cls, dataset: Dataset) -> _Source:
        return cls(
            list(dataset.data_graphs),
            dataset.settings.base_iri,
            dataset.identity.stem,
            dict(dataset.vocabularies),
        )


def _dumps(source: _Source, folder: Path, yield_to: Pause | None, store: Store) -> list[Dump]:
    done = existing_dumps(folder, stem=source.stem)
    if done is not None:  # written already: read without the lock (a read-only folder works)
        return done
    with locked(folder):
        done = existing_dumps(folder, stem=source.stem)
        if done is not None:
            return done
        return _write_dumps(store, source, folder, yield_to)


def _write_dumps(store: Store, source: _Source, folder: Path, yield_to: Pause | None) -> list[Dump]:
    prefixes = {**PREFIXES, **source.vocabularies}
    graphs, stem = source.graphs, source.stem
    dumps = []
    for suffix, fmt_name, compress in DUMPS:
        fmt = by_name(fmt_name)
        items: Iterator[pyoxigraph.Quad] | Iterator[pyoxigraph.Triple]
        if fmt.kind == "dataset":
            items = _politely((q for g in graphs for q in store.quads(graph=g)), yield_to)
        else:
            items = unique_triples(store, graphs, yield_to=yield_to)

        target = folder / (stem + suffix)
        write_atomically(
            target,
            functools.partial(
                _serialize, items=items, fmt=fmt, gzipped=compress, prefixes=prefixes
            ),
        )
        dumps.append(
            Dump(target.name, fmt, target, target.stat().st_size, _sha256(target), compress)
        )
    ntriples = by_name("ntriples")
    for graph, size in sorted(store.graph_sizes(graphs).items()):
        if size <= GRAPH_INLINE:
            continue
        target = folder / graph_dump_name(stem, graph, source.base_iri)
        triples = _politely((q.triple for q in store.quads(graph=graph)), yield_to)
        write_atomically(
            target,
            functools.partial(
                _serialize, items=triples, fmt=ntriples, gzipped=True, prefixes=prefixes
            ),
        )
        dumps.append(
            Dump(target.name, ntriples, target, target.stat().st_size, _sha256(target), True)
        )
    write_atomically(folder / SUMS, "".join(f"{d.sha256}  {d.name}\n" for d in dumps).encode())
    return dumps


def _serialize(
    out: BinaryIO,
    *,
    items: Iterator[pyoxigraph.Quad] | Iterator[pyoxigraph.Triple],
    fmt: Format,
    gzipped: bool,
    prefixes: dict[str, str],
) -> None:
    if gzipped:
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as packed:
            # GzipFile is a BufferedIOBase, not typing.IO; pyoxigraph only calls write()
            pyoxigraph.serialize(items, cast(BinaryIO, packed), format=fmt.rdf_format)
    else:
        use = prefixes if fmt.prefixes else None
        pyoxigraph.serialize(items, out, format=fmt.rdf_format, prefixes=use)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistics:
    """What VoID says about the data, computed once per version."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[str, int]
    properties: dict[str, int]
    vocabularies: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Statistics:
        data = json.loads(text)
        data["vocabularies"] = tuple(data["vocabularies"])
        return cls(**data)


def statistics(
    store: Store,
    graphs: Sequence[str],
    *,
    base_iri: str,
    yield_to: Pause | None = None,
) -> Statistics:
    """Count distinct triples, entities (IRIs in the URI space), classes and properties over
    the asserted graphs; a triple stated in two files counts once.

    Triples, properties and classes are counted in one pass over the distinct triples as they
    stream from the store; the distinct subjects, objects and entities are left to the engine.
    Neither keeps a million triples in memory.
    """
    rdf_type = pyoxigraph.NamedNode(RDF_TYPE)
    triples = 0
    properties: dict[str, int] = {}
    classes: dict[str, int] = {}
    for t in unique_triples(store, graphs, yield_to=yield_to):
        triples += 1
        p = t.predicate.value
        properties[p] = properties.get(p, 0) + 1
        if t.predicate == rdf_type and isinstance(t.object, pyoxigraph.NamedNode):
            classes[t.object.value] = classes.get(t.object.value, 0) + 1

    def one(text: str) -> int:
        outcome = run_query(store, text, default_graphs=list(graphs), max_rows=1)
        value = outcome.rows[0][0]
        assert isinstance(value, pyoxigraph.Literal)
        return int(value.value)

    vocabularies = sorted({_namespace(iri) for iri in (*classes, *properties)})
    return Statistics(
        triples=triples,
        entities=one(
            "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o "
            # the base IRI is a setting, written as an escaped literal term
            f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), {pyoxigraph.Literal(base_iri + 'id/')})) }}"
        ),
        distinct_subjects=one("SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"),
        distinct_objects=one("SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }"),
        classes=dict(sorted(classes.items())),
        properties=dict(sorted(properties.items())),
        vocabularies=tuple(vocabularies),
    )


def recorded_statistics(
    dataset: Dataset, folder: Path, *, yield_to: Pause | None = None
) -> Statistics:
    """The statistics of this version, computed by one process and recorded in ``folder``
    (beside the dumps) for the others and for the next start."""
    return _statistics(dataset.store, _Source.of(dataset), folder, yield_to)


def _statistics(store: Store, source: _Source, folder: Path, yield_to: Pause | None) -> Statistics:
    path = folder / STATISTICS
    try:  # recorded already: read without the lock (a read-only folder works)
        return Statistics.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        pass
    with locked(folder):
        try:
            return Statistics.from_json(path.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            pass
        stats = statistics(store, source.graphs, base_iri=source.base_iri, yield_to=yield_to)
        write_atomically(path, stats.to_json().encode())
        return stats


def recorded_drawings(dataset: Dataset, folder: Path) -> list[Drawing]:
    """The pictures of this version, drawn by one process and recorded in ``folder`` (beside
    the statistics) for the others and for the next start: one layout per version."""
    path = folder / PICTURES
    try:
        return drawings_from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        pass
    with locked(folder):
        try:
            return drawings_from_json(path.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            pass
        views = dataset.identity.views
        drawings = draw_pictures(
            dataset.store,
            views.pictures if views else (),
            base=dataset.settings.base_iri,
            graphs=dataset.data_graphs,
        )
        write_atomically(path, drawings_to_json(drawings).encode())
        return drawings


def make_statistics(store: Store, source: _Source, folder: str) -> None:
    """Record the statistics in ``folder``: a background job a serving process sends to a
    process of its own (``Executor.run_job``), where nothing it does competes with requests
    for the serving process's interpreter or its cores."""
    _statistics(store, source, Path(folder), None)


def make_suggestions(store: Store, source: _Source, folder: str) -> None:
    """Write the suggestion index (``describe.suggestion_index``) in ``folder``: a background
    job too, because it reads every triple, and reading Oxigraph's memory store writes to the
    pages it reads (reference counts), so a serving process that made it would hold a private
    copy of most of the dataset instead of sharing it."""
    index = suggestion_index(store, f"{source.base_iri}id/")
    write_atomically(Path(folder) / SUGGESTIONS, json.dumps(index).encode())


def make_labels(store: Store, source: _Source, folder: str, kinds: list[str]) -> None:
    """Write the label index's entries in ``folder``: a background job, for the reason
    ``make_suggestions`` gives (it reads every label and type statement)."""
    entries = index_entries(store, source.graphs, prefix=f"{source.base_iri}id/", kinds=kinds)
    write_atomically(Path(folder) / LABELS, entries_to_json(entries).encode())


def make_drawings(store: Store, source: _Source, folder: str, pictures: list[Picture]) -> None:
    """Draw the pictures and record them in ``folder``: a background job too (their queries
    read much of the dataset, and Graphviz runs beside)."""
    drawings = draw_pictures(store, pictures, base=source.base_iri, graphs=source.graphs)
    write_atomically(Path(folder) / PICTURES, drawings_to_json(drawings).encode())


def make_dumps(store: Store, source: _Source, folder: str) -> None:
    """Write the dumps in ``folder``: the other background job (see ``make_statistics``)."""
    _dumps(source, Path(folder), None, store)


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


# Made once per serving process, in the background ----------------------------------------

#: How long a request for the dumps (or VoID, which lists them) waits for them to be written.
WAIT = 30.0
#: How long a 404 waits for the suggestion index (then it answers without suggestions).
SUGGESTIONS_WAIT = 1.0


class Activity:
    """How many requests a process is answering, and how many of them wait for derived data:
    background work yields while any other request is in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waiting = 0

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def busy(self) -> bool:
        """Whether requests are being answered (other than those waiting for derived data)."""
        return self._in_flight > self._waiting

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait for background work; a request waiting for it does not hold it back."""
        with self._lock:
            self._waiting += 1
        try:
            return event.wait(timeout)
        finally:
            with self._lock:
                self._waiting -= 1


class Derived:
    """The statistics and dumps of one dataset, made in the background of a serving process."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        activity: Activity | None = None,
        jobs: Executor | None = None,
    ) -> None:
        self.dataset = dataset
        #: Where the statistics and dumps are made, when given: a process of their own at the
        #: lowest priority (else a thread of this process that pauses while requests run).
        self.jobs = jobs
        self.activity = activity or Activity()
        self.folder = self._folder()
        self._dumps: list[Dump] | None = existing_dumps(self.folder, stem=dataset.identity.stem)
        self._stats: Statistics | None = None
        self._index: Mapping[str, tuple[str, ...]] = {}
        self._index_ready = threading.Event()
        self._labels: LabelIndex | None = None
        self._labels_ready = threading.Event()
        self._drawings: list[Drawing] = []
        self._drawings_ready = threading.Event()
        self._drawings_error: BaseException | None = None
        self._labels_error: BaseException | None = None
        self._dumps_ready = threading.Event()
        self._stats_ready = threading.Event()
        self._error: BaseException | None = None
        self._started_in: int | None = None
        self._lock = threading.Lock()
        #: The thread computing the statistics and writing the dumps, once started.
        self.background: threading.Thread | None = None

    def _folder(self) -> Path:
        """Beside an on-disk store; else (memory, a remote engine) a private folder of this
        server (its workers share it), removed when the process that made it exits."""
        settings = self.dataset.settings
        if settings.store != "memory" and not is_remote(settings.store):
            return derived_folder(settings, self.dataset.version)
        folder = Path(tempfile.mkdtemp(prefix=f"leapsld-dumps-{self.dataset.version}-"))
        atexit.register(shutil.rmtree, folder, True)
        return folder

    def start(self) -> None:
        """Start computing the statistics and writing the dumps, once per process.

        Not at construction: a server builds before forking its workers, and a thread running
        at a fork would leave the workers' copies of its locks held forever. Of several
        workers, one writes and the others wait for its files (the folder is locked).
        """
        if self._started_in == os.getpid():
            return
        with self._lock:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()
        self.background = threading.Thread(target=self._make, name="leapsld-dumps", daemon=True)
        self.background.start()

    def _make(self) -> None:
        try:
            base = self.dataset.settings.base_iri
            apart = self._suggestions_apart()
            # without a job process, or with a folder it cannot write: made here
            self._index = (
                apart if apart is not None else suggestion_index(self.dataset.store, f"{base}id/")
            )
        except Exception:  # noqa: BLE001 - a 404 without suggestions is still a 404
            self._index = {}
        finally:
            self._index_ready.set()
        try:
            views = self.dataset.identity.views
            kinds = list(views.kinds) if views else []
            entries = self._apart(LABELS, make_labels, kinds)
            self._labels = (
                LabelIndex(entries_from_json(entries))
                if entries is not None
                else build_index(
                    self.dataset.store, self.dataset.data_graphs, prefix=f"{base}id/", kinds=kinds
                )
            )
        except Exception as exc:  # noqa: BLE001 - reported to every request for a search
            self._labels_error = exc
        finally:
            self._labels_ready.set()
        try:
            busy = self.activity.busy
            source, folder = _Source.of(self.dataset), str(self.folder)
            if self.jobs is not None and not (self.folder / STATISTICS).exists():
                self.jobs.run_job(make_statistics, source, folder, niceness=STATISTICS_NICENESS)
            self._stats = recorded_statistics(self.dataset, self.folder, yield_to=busy)
            self._stats_ready.set()
            self._draw()
            if self._dumps is None:
                if self.jobs is not None:
                    self.jobs.run_job(make_dumps, source, folder)
                self._dumps = write_dumps(self.dataset, self.folder, yield_to=busy)
        except BaseException as exc:  # noqa: BLE001 - reported to every request for the dumps
            self._error = exc
        finally:
            self._stats_ready.set()
            self._drawings_ready.set()
            self._dumps_ready.set()
            release_free_memory()

    def _draw(self) -> None:
        """Draw the dataset's pictures (a failure leaves the home page without them, and says
        why on ``/ready``; it does not stop the dumps)."""
        views = self.dataset.identity.views
        try:
            if views and views.pictures:
                self._apart(PICTURES, make_drawings, list(views.pictures))
                self._drawings = recorded_drawings(self.dataset, self.folder)
        except LeapsError as exc:
            self._drawings_error = exc
        finally:
            self._drawings_ready.set()

    @property
    def labels(self) -> LabelIndex:
        """The label and class index of this version (``search.build_index``), made in the
        background first.

        Raises:
            Busy: it is still being made after ``WAIT`` seconds.
        """
        self.start()
        if not self.activity.wait(self._labels_ready, WAIT):
            raise Busy("the search index is still being made; try again shortly")
        if self._labels is None:
            raise LeapsError(f"the search index could not be made: {self._labels_error}")
        return self._labels

    @property
    def drawings(self) -> list[Drawing]:
        """The pictures of ``views.toml``, drawn once per version (empty when the dataset has
        none, or while they are drawn for longer than ``WAIT`` seconds, or when drawing
        failed: the home page still answers)."""
        self.start()
        self.activity.wait(self._drawings_ready, WAIT)
        return self._drawings if self._drawings_ready.is_set() else []

    def _apart(self, name: str, job: Callable[..., None], *args: object) -> str | None:
        """The text of ``name`` in this version's folder, made first by ``job`` in a process of
        its own when missing; None without job processes or when that failed (the caller then
        makes it here)."""
        if self.jobs is None:
            return None
        path = self.folder / name
        try:
            if not path.exists():
                source, folder = _Source.of(self.dataset), str(self.folder)
                self.jobs.run_job(job, source, folder, *args, niceness=STATISTICS_NICENESS)
            return path.read_text()
        except (LeapsError, OSError):
            return None

    def _suggestions_apart(self) -> dict[str, tuple[str, ...]] | None:
        """The suggestion index made by a job process (``make_suggestions``), or None."""
        if self.jobs is None:
            return None
        try:
            path = self.folder / SUGGESTIONS
            if not path.exists():
                source, folder = _Source.of(self.dataset), str(self.folder)
                self.jobs.run_job(make_suggestions, source, folder, niceness=STATISTICS_NICENESS)
            index = json.loads(path.read_text())
        except (LeapsError, OSError, ValueError):
            return None
        return {kind: tuple(iris) for kind, iris in index.items()}

    @property
    def suggestions(self) -> Mapping[str, tuple[str, ...]]:
        """Some resources of each kind (``describe.suggestion_index``), made once in the
        background; empty while it is made (a 404 waits for it ``SUGGESTIONS_WAIT`` at most)."""
        self.start()
        self.activity.wait(self._index_ready, SUGGESTIONS_WAIT)
        return self._index

    def readiness(self) -> dict[str, bool]:
        """What is made already, without waiting: each part and whether it is ready (a part
        that failed counts as not ready)."""
        failed = self._error is not None
        return {
            "suggestions": self._index_ready.is_set(),
            "labels": self._labels_ready.is_set() and self._labels is not None,
            "pictures": self._drawings_ready.is_set() and self._drawings_error is None,
            "statistics": self._stats_ready.is_set() and self._stats is not None,
            "dumps": self._dumps_ready.is_set() and not failed and self._dumps is not None,
        }

    @property
    def dumps(self) -> list[Dump]:
        """The dumps, once completely written.

        Raises:
            Busy: they are still being written after ``WAIT`` seconds.
            LeapsError: writing them failed.
        """
        self.start()
        if not self.activity.wait(self._dumps_ready, WAIT):
            raise Busy("the dumps are still being written; try again shortly")
        if self._error is not None or self._dumps is None:
            raise LeapsError(f"the dumps could not be written: {self._error}")
        return self._dumps

    @property
    def stats(self) -> Statistics:
        """The statistics (computed in the background first, before the dumps).

        Raises:
            Busy: they are still being computed after ``WAIT`` seconds.
        """
        self.start()
        if not self.activity.wait(self._stats_ready, WAIT):
            raise Busy("the statistics are still being computed; try again shortly")
        if self._stats is None:
            raise LeapsError(f"the statistics could not be computed: {self._error}")
        return self._stats
