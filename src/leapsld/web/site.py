"""The state one application serves: a built dataset and what is derived from it.

Everything derived (documents, statistics, dumps) depends only on the dataset version and the
origin it is served at, so it is computed once and cached under that key: the ETag is the
version, and a reload builds a new ``Site`` rather than mutating this one.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from typing import cast

import pyoxigraph
from flask import current_app

from ..cache import BoundedCache
from ..dataset import Dataset
from ..derived import Derived, Dump, Statistics, graph_dump_name, unique_triples
from ..describe import Description, describe
from ..formats import FORMATS, Format
from ..namespaces import jsonld_context
from ..pictures import Drawing
from ..publish import graph_description, service_description, void_description
from ..query import QueryRunner
from ..reference import term_labels
from ..search import LabelIndex
from ..serialization import OutcomeWriter, jsonld_profile, serialize_graph
from ..settings import Settings
from ..store import Store

GZIP_MIN_BYTES = 512


@dataclass
class Body:
    """A rendered document and its gzip form (made on first demand, then kept).

    Its validator is a hash of its bytes (and of its Content-Type), so it changes exactly when
    the representation does: a one-line data fix makes a harvester refetch the documents it
    changed, not every document of the dataset (RFC 9110 §8.8.3: a strong ETag names bytes).
    """

    data: bytes
    etag: str = ""
    content_type: str | None = None
    _gzipped: bytes | None = None

    def __post_init__(self) -> None:
        if not self.etag:
            digest = hashlib.blake2b(self.data, digest_size=12)
            digest.update((self.content_type or "").encode())
            self.etag = digest.hexdigest()

    def __len__(self) -> int:
        """The bytes it holds, its gzip form included (counted at its usual size for RDF
        before it is made, so that the cache's bound holds once it is)."""
        return len(self.data) + (len(self._gzipped) if self._gzipped else len(self.data) // 3)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gzipped


class Site:
    """A dataset being served: its caches, query runner and derived data, for the views."""

    def __init__(
        self,
        dataset: Dataset,
        settings: Settings | None = None,
        *,
        cache: BoundedCache[Sized] | None = None,
    ) -> None:
        self.dataset = dataset
        #: The serving settings (limits, proxy); the dataset keeps the ones it was built with.
        self.settings = settings or dataset.settings
        self.base = dataset.settings.base_iri
        self.identity = dataset.identity
        self.prefixes = dataset.prefixes
        self.context = jsonld_context(self.base, dataset.vocabularies)
        #: Rendered documents, under keys tagged ``"doc"``; shared with the response memo.
        self.cache = cache if cache is not None else BoundedCache[Sized](size=len)
        self.queries = QueryRunner(
            dataset.store,
            slots=self.settings.slots,
            timeout=self.settings.query_timeout,
            max_rows=self.settings.max_rows,
            memory=self.settings.query_memory << 20,
            per_client=self.settings.slots_per_client,
        )
        self.derived = Derived(dataset, jobs=self.queries.executor)
        prefixes = tuple(self.prefixes.items())
        #: Per format name, the writer a query process runs (``OutcomeWriter``): made once.
        self.writers = {
            f.name: OutcomeWriter(f.name, prefixes if f.prefixes else ())
            for f in FORMATS
            if f.kind in ("graph", "dataset", "results") and not f.context
        }

    def request_started(self) -> None:
        """Count a request in (and start the background work on the first one)."""
        self.derived.activity.enter()
        # the query processes fork before the first background thread of this process starts
        self.queries.start()
        self.derived.start()

    def request_ended(self, _exc: BaseException | None = None) -> None:
        self.derived.activity.leave()

    @property
    def version(self) -> str:
        return self.dataset.version

    @functools.cached_property
    def quads(self) -> int:
        """How many quads the store holds (counted once: on disk a count is a full scan)."""
        return len(self.dataset.store)

    @property
    def stats(self) -> Statistics:
        return self.derived.stats

    @property
    def dumps(self) -> list[Dump]:
        return self.derived.dumps

    @property
    def labels(self) -> LabelIndex:
        return self.derived.labels

    @property
    def drawings(self) -> list[Drawing]:
        return self.derived.drawings

    @functools.cached_property
    def terms(self) -> dict[str, str]:
        """The ontology's labels of properties and classes (read once per version)."""
        return term_labels(self.dataset.store, ontology_graphs=self.dataset.ontology_graphs)

    def etag(self, *parts: object) -> str:
        """A strong validator: the dataset version plus what else the body depends on."""
        extra = [str(p) for p in parts if p]
        if len(extra) > 1:
            extra = [extra[0], hashlib.sha1("\0".join(extra[1:]).encode()).hexdigest()[:10]]
        return "-".join([self.version, *extra])

    def rendered(self, key: tuple[object, ...], render: Callable[[], Body]) -> Body:
        """A document made once per version and ``key`` (which names all it depends on)."""
        body = self.cache.get_or_make(("doc", *key), render)
        assert isinstance(body, Body)
        return body

    def kept_answer(self, key: tuple[object, ...]) -> Body | None:
        """A query's answer kept under ``key`` (which names all it depends on), if any."""
        body = self.cache.get(("answer", *key))
        return body if isinstance(body, Body) else None

    def keep_answer(self, key: tuple[object, ...], body: Body) -> None:
        """Keep a complete answer (one over the cache's entry limit is not kept)."""
        self.cache.put(("answer", *key), body)

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
        depends_on_origin = origin_dependent or fmt.origin_dependent
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
            if fmt.context:
                content_type = f'{fmt.content_type}; profile="{jsonld_profile(profile)}"'
            return Body(data, content_type=content_type)

        return self.rendered(key, render)

    def suggestions(self, kind: str) -> tuple[str, ...]:
        """Some things of one kind (``org``; ``""`` for names of no kind), for a 404 that
        says where to look instead: a lookup in an index made once per version."""
        return self.derived.suggestions.get(kind, ())

    def description(self, iri: str, page: int = 1) -> Description:
        return describe(self.dataset.store, iri, page=page)

    def graph_document(self, graph: str, origin: str) -> list[pyoxigraph.Triple]:
        """A named graph's description (and triples, or its dump when it is large)."""
        name = graph_dump_name(self.dataset.identity.stem, graph, self.base)
        dump = next((d for d in self.dumps if d.name == name), None)
        triples = graph_description(self.dataset, graph, dump=dump, origin=origin)
        if next(self.dataset.store.quads(pyoxigraph.NamedNode(graph)), None) is not None:
            triples.extend(describe(self.dataset.store, graph).triples)  # it describes itself
        return triples

    def graph_triples(
        self, graphs: list[str], *, store: Store | None = None
    ) -> list[pyoxigraph.Triple]:
        """The triples of some graphs, each once (of the data store unless another is named)."""
        return list(unique_triples(store or self.dataset.store, graphs))

    def void(self, origin: str) -> list[pyoxigraph.Triple]:
        return void_description(self.dataset, self.stats, self.dumps, origin=origin)

    def service_description(
        self, origin: str, formats: Sequence[Format]
    ) -> list[pyoxigraph.Triple]:
        return service_description(self.dataset, origin=origin, formats=formats)


def current_site() -> Site:
    """The ``Site`` of the application handling the current request."""
    # Flask types its extensions as dict[str, Any]; create_app puts the Site there
    return cast(Site, current_app.extensions["leapsld"])
