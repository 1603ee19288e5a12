"""The state one application serves: a built dataset and what is derived from it.

Everything derived (documents, statistics, dumps) depends only on the dataset version and the
origin it is served at, so it is computed once and cached under that key: the ETag is the
version, and a reload builds a new ``Site`` rather than mutating this one.
"""

from __future__ import annotations

import atexit
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from flask import current_app

from ..describe import describe, known_under
from ..errors import Busy, LeapsError
from ..formats import Format
from ..memory import release_free_memory
from ..namespaces import jsonld_context, project_prefixes
from ..pipeline import Dataset
from ..publish import (
    DERIVED,
    Dump,
    Statistics,
    existing_dumps,
    recorded_statistics,
    service_description,
    unique_triples,
    void_description,
    write_dumps,
)
from ..query import QueryRunner
from ..serialization import jsonld_profile, serialize_graph
from ..settings import Settings
from ..store import OxigraphStore

MAX_CACHED_BYTES = 256 * 1024 * 1024
#: How long a request for the dumps (or VoID, which lists them) waits for them to be written.
DUMPS_WAIT = 30.0
GZIP_MIN_BYTES = 512


@dataclass
class Body:
    """A rendered document and its gzip form (made on first demand, then kept)."""

    data: bytes
    etag: str
    content_type: str | None = None
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gzipped


class DocumentCache:
    """A byte-bounded LRU of rendered documents, safe across threads."""

    def __init__(self, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[object, ...], Body] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_or_render(self, key: tuple[object, ...], render: Callable[[], Body]) -> Body:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                return body
        body = render()
        with self._lock:
            if key not in self._items:
                self._items[key] = body
                self._size += len(body.data)
                while self._size > self.max_bytes and self._items:
                    _, old = self._items.popitem(last=False)
                    self._size -= len(old.data)
        return body


class Site:
    """A dataset being served, with its caches, statistics and dumps."""

    def __init__(self, dataset: Dataset, settings: Settings | None = None) -> None:
        self.dataset = dataset
        #: The serving settings (limits, proxy); the dataset keeps the ones it was built with.
        self.settings = settings or dataset.settings
        self.base = dataset.settings.base_iri
        self.prefixes = project_prefixes(self.base)
        self.context = jsonld_context(self.base)
        self.cache = DocumentCache()
        self._stats: Statistics | None = None
        self._suggestions: dict[str, list[str]] = {}
        self.queries = QueryRunner(
            dataset.store,
            slots=self.settings.threads,
            timeout=self.settings.query_timeout,
            max_rows=self.settings.max_rows,
        )
        self._lock = threading.Lock()
        self.dumps_dir = self._dumps_folder()
        self._dumps: list[Dump] | None = existing_dumps(self.dumps_dir)
        self._dumps_ready = threading.Event()
        self._stats_ready = threading.Event()
        self._dumps_error: BaseException | None = None
        self._started_in: int | None = None
        #: The thread computing the statistics and writing the dumps, once started.
        self.background: threading.Thread | None = None
        self._in_flight = 0
        self._waiting = 0

    def request_started(self) -> None:
        """Count a request in (and start the background work on the first one)."""
        with self._lock:
            self._in_flight += 1
        self.start()

    def request_ended(self, _exc: BaseException | None = None) -> None:
        with self._lock:
            self._in_flight -= 1

    def busy(self) -> bool:
        """Whether requests are being answered: the background work then waits its turn."""
        return self._in_flight > self._waiting

    def _wait(self, event: threading.Event) -> bool:
        """Wait for background work; a request waiting for it does not hold it back."""
        with self._lock:
            self._waiting += 1
        try:
            return event.wait(DUMPS_WAIT)
        finally:
            with self._lock:
                self._waiting -= 1

    def start(self) -> None:
        """Start computing the statistics and writing the dumps in the background, once per
        process.

        Not in ``__init__``: the server builds the site before forking its workers, and a
        thread running at a fork would leave the workers' copies of its locks held forever.
        Writing millions of triples takes a while: the rest of the site answers meanwhile, and
        whoever needs the dumps (their pages, VoID) waits for the complete files. Of several
        workers, one writes and the others wait for its files (``write_dumps`` locks the folder).
        """
        if self._started_in == os.getpid():
            return
        with self._lock:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()
        self.background = threading.Thread(
            target=self._write_dumps, name="leapsld-dumps", daemon=True
        )
        self.background.start()

    def _write_dumps(self) -> None:
        try:
            busy = self.busy
            self._stats = recorded_statistics(self.dataset, self.dumps_dir, yield_to=busy)
            self._stats_ready.set()
            if self._dumps is None:
                self._dumps = write_dumps(self.dataset, self.dumps_dir, yield_to=busy)
        except BaseException as exc:  # noqa: BLE001 - reported to every request for the dumps
            self._dumps_error = exc
        finally:
            self._stats_ready.set()
            self._dumps_ready.set()
            release_free_memory()

    @property
    def dumps(self) -> list[Dump]:
        """The dumps, once completely written.

        Raises:
            Busy: they are still being written after ``DUMPS_WAIT`` seconds.
            LeapsError: writing them failed.
        """
        self.start()
        if not self._wait(self._dumps_ready):
            raise Busy("the dumps are still being written; try again shortly")
        if self._dumps_error is not None or self._dumps is None:
            raise LeapsError(f"the dumps could not be written: {self._dumps_error}")
        return self._dumps

    @property
    def version(self) -> str:
        return self.dataset.version

    def _dumps_folder(self) -> Path:
        """Beside an on-disk store; else a private folder of this server (its workers share it),
        removed when the process that made it exits."""
        if self.settings.store != "memory":
            return Path(self.settings.store) / self.version / DERIVED
        folder = Path(tempfile.mkdtemp(prefix=f"leapsld-dumps-{self.version}-"))
        atexit.register(shutil.rmtree, folder, True)
        return folder

    @property
    def stats(self) -> Statistics:
        """The statistics (computed in the background first, before the dumps).

        Raises:
            Busy: they are still being computed after ``DUMPS_WAIT`` seconds.
        """
        self.start()
        if not self._wait(self._stats_ready):
            raise Busy("the statistics are still being computed; try again shortly")
        if self._stats is None:
            raise LeapsError(f"the statistics could not be computed: {self._dumps_error}")
        return self._stats

    def etag(self, *parts: object) -> str:
        """A strong validator: the dataset version plus what else the body depends on."""
        extra = [str(p) for p in parts if p]
        if len(extra) > 1:
            extra = [extra[0], hashlib.sha1("\0".join(extra[1:]).encode()).hexdigest()[:10]]
        return "-".join([self.version, *extra])

    # Graph documents -------------------------------------------------------------------

    def graph_body(
        self,
        name: str,
        triples: Callable[[], list[pyoxigraph.Triple]],
        fmt: Format,
        *,
        origin: str,
        profile: str | None = None,
        origin_dependent: bool = False,
    ) -> Body:
        """A graph document in an RDF format, rendered once per version (and origin)."""
        depends_on_origin = origin_dependent or fmt.name == "jsonld"
        key = (name, fmt.name, profile, origin if depends_on_origin else None)

        def render() -> Body:
            data = serialize_graph(
                triples(),
                fmt,
                prefixes=self.prefixes,
                context=self.context,
                context_url=f"{origin}/context.jsonld",
                profile=profile,
            )
            content_type = None
            if fmt.name == "jsonld":
                content_type = f'{fmt.content_type}; profile="{jsonld_profile(profile)}"'
            return Body(
                data,
                self.etag(fmt.name, profile, origin if depends_on_origin else None),
                content_type,
            )

        return self.cache.get_or_render(key, render)

    def suggestions(self, kind: str) -> list[str]:
        """Some things of one kind (``org``), for a 404 that says where to look instead."""
        with self._lock:
            if kind not in self._suggestions:
                self._suggestions[kind] = known_under(self.dataset.store, f"{self.base}id/{kind}/")
            return self._suggestions[kind]

    def description(self, iri: str) -> list[pyoxigraph.Triple]:
        return describe(self.dataset.store, iri)

    def graph_triples(
        self, graphs: list[str], *, store: OxigraphStore | None = None
    ) -> list[pyoxigraph.Triple]:
        """The triples of some graphs, each once (of the data store unless another is named)."""
        return list(unique_triples(store or self.dataset.store, graphs))

    def ontology_graphs(self) -> list[str]:
        return [f.graph for f in self.dataset.data_files if f.relpath.startswith("ontology/")]

    def void(self, origin: str) -> list[pyoxigraph.Triple]:
        return void_description(self.dataset, self.stats, self.dumps, origin=origin)

    def service_description(self, origin: str) -> list[pyoxigraph.Triple]:
        return service_description(self.dataset, origin=origin)


def current_site() -> Site:
    """The ``Site`` of the application handling the current request."""
    return current_app.extensions["leapsld"]  # type: ignore[no-any-return]
