"""A remote SPARQL engine as the dataset's home: load a validated dataset into it, safely, and
open what it serves.

A load never touches what is served. Each load has its own graph names under the dataset's
*record graph* (default ``{base}.well-known/leapsld/record``): ``…/leapsld/<version>-<load>/g<n>``
for each served graph and ``…/default`` for the default graph, materialised as a set. The
triples go in batches (Graph Store Protocol ``POST`` when a GSP URL is set, else SPARQL Update
``INSERT DATA``), the engine's counts are checked against what was sent, and only then is the
*version record* replaced, in one small update (atomic on any engine): one literal in the record
graph holding the version, the graph names and the build's manifest. A server reads that record
(``open_dataset``; ``read_version`` every few seconds). Graphs of loads older than the previous
one are dropped afterwards (a server still on the previous version keeps answering until it has
moved), and so are the leftovers of loads that never finished. A load killed at any point leaves
the record, and so the served version, as it was; loading the same version again finds it in
place and sends nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph

from .dataset import Dataset, Manifest
from .derived import unique_triples
from .errors import LoadError, StorageError
from .identity import read_identity
from .loading import find_files, load_raw, read_files
from .remote import GENID, Endpoint, Http, Layout, RemoteStore, skolem
from .settings import Settings
from .store import OxigraphStore

#: The predicate of the one triple the record graph holds: the record, as JSON.
RECORD = "urn:leapsld:record"
RECORD_FORMAT = 1
#: Triples per request: small enough for any engine's request limits, large enough that a
#: million triples take a few hundred requests.
BATCH = 10_000
#: Seconds one request of a load may take (a batch, a count of every graph on a large store).
LOAD_TIMEOUT = 600.0


def record_graph(base_iri: str, graph: str | None = None) -> str:
    """The graph holding a dataset's version record on the engine (``--graph`` to choose it,
    e.g. for two datasets of one base IRI on one engine)."""
    return graph or f"{base_iri}.well-known/leapsld/record"


def _load_prefix(record: str) -> str:
    return record.rsplit("/", 1)[0] + "/" if record.endswith("/record") else record + "/"


@dataclass(frozen=True)
class Record:
    """What the version record says: the served load."""

    version: str
    load: str
    base_iri: str
    layout: Layout
    sizes: Mapping[str, int]
    default_size: int
    manifest: str
    modified: str | None
    previous: tuple[str, ...]
    #: When the load was made (UTC, ISO 8601 to the microsecond): of several records, the
    #: latest is the served one.
    loaded: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": RECORD_FORMAT,
                "version": self.version,
                "load": self.load,
                "base_iri": self.base_iri,
                "default": self.layout.default,
                "graphs": dict(self.layout.graphs),
                "genid": self.layout.genid,
                "sizes": dict(self.sizes),
                "default_size": self.default_size,
                "manifest": self.manifest,
                "modified": self.modified,
                "previous": list(self.previous),
                "loaded": self.loaded,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Record:
        raw = json.loads(text)
        if raw.get("format") != RECORD_FORMAT:
            raise ValueError(f"record format {raw.get('format')!r}")
        return cls(
            str(raw["version"]),
            str(raw["load"]),
            str(raw["base_iri"]),
            Layout(str(raw["default"]), dict(raw["graphs"]), str(raw["genid"])),
            {str(k): int(v) for k, v in raw["sizes"].items()},
            int(raw["default_size"]),
            str(raw["manifest"]),
            raw.get("modified"),
            tuple(str(g) for g in raw.get("previous", ())),
            str(raw.get("loaded", "")),
        )

    @property
    def physical(self) -> list[str]:
        """Every graph this load wrote."""
        return [self.layout.default, *self.layout.graphs.values()]


def read_record(http: Http, record: str) -> Record | None:
    """The version record in ``record`` (None when the engine holds none).

    Raises:
        EngineUnavailable, EngineTimeout: the engine failed or did not answer.
        StorageError: the record is there but unreadable.
    """
    text = f"SELECT ?r WHERE {{ GRAPH <{record}> {{ <{record}> <{RECORD}> ?r }} }}"
    with http.post_form(
        http.endpoint.query_url, [("query", text)], accept="application/sparql-results+json"
    ) as answer:
        body = answer.read()
    try:
        rows = list(
            pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)  # type: ignore[arg-type]
        )
    except SyntaxError as exc:
        raise StorageError(
            f"the engine's answer for the version record is unreadable: {exc}"
        ) from None
    if not rows:
        return None
    try:
        found = [Record.from_json(str(row["r"].value)) for row in rows]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StorageError(f"the version record in <{record}> is unreadable: {exc}") from None
    return max(found, key=lambda r: (r.loaded, r.load))


def read_version(settings: Settings, graph: str | None = None) -> str | None:
    """The version the engine serves now (one small query; for a server's periodic look)."""
    endpoint = Endpoint.from_store(settings.store, timeout=settings.query_timeout)
    found = read_record(Http(endpoint), record_graph(settings.base_iri, graph))
    return None if found is None else found.version


def open_dataset(settings: Settings, graph: str | None = None) -> Dataset:
    """The dataset the engine serves now, as its version record says: the store reads that
    load; the data files and verdict are the load's; the identity (title, examples, views) and
    shapes are read from this machine's project folder, as for any served dataset.

    Raises:
        LoadError: the engine holds no dataset (nothing was loaded) or another base IRI's.
        EngineUnavailable, EngineTimeout: the engine failed or did not answer.
    """
    endpoint = Endpoint.from_store(settings.store, timeout=settings.query_timeout)
    where = record_graph(settings.base_iri, graph)
    found = read_record(Http(endpoint), where)
    if found is None:
        raise LoadError(
            f"the SPARQL engine holds no leapsld dataset in <{where}>: "
            "load one first with `leapsld load --to …`"
        )
    if found.base_iri != settings.base_iri:
        raise LoadError(
            f"the dataset on the engine has the base IRI {found.base_iri}, not {settings.base_iri}"
        )
    manifest = Manifest.from_json(found.manifest)
    if manifest is None:
        raise StorageError(f"the manifest in the version record <{where}> is unreadable")
    shapes_store = OxigraphStore()
    try:
        shapes = read_files(find_files(settings.shapes_paths))
    except LoadError:
        shapes = []
    load_raw(
        shapes,
        shapes_store,
        base_iri=settings.base_iri,
        root=settings.root,
        relative_iris=settings.relative_iris,
    )
    modified = None if found.modified is None else datetime.fromisoformat(found.modified)
    return Dataset(
        settings,
        RemoteStore(endpoint, found.layout),
        manifest.data,
        manifest.shapes,
        found.version,
        modified,
        shapes_store,
        read_identity(settings),
        counts=manifest.counts,
        inferred=manifest.inferred,
        reused=True,
    )


# Loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """What ``push`` did."""

    version: str
    triples: int
    graphs: int
    sent: bool
    dropped: int


def push(
    dataset: Dataset,
    endpoint: Endpoint,
    *,
    graph: str | None = None,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> Loaded:
    """Load a built (and validated) dataset into the engine as a new version, then make it the
    served one.

    Args:
        graph: the record graph (default ``record_graph(base)``).
        replace: load again even when the engine already serves this very version.
        progress: told how many more triples were sent, after each batch.

    Raises:
        EngineUnavailable, EngineTimeout: the engine failed (the served version is untouched).
        StorageError: the engine holds other counts than were sent (nothing flipped).
    """
    http = Http(endpoint)
    base = dataset.settings.base_iri
    where = record_graph(base, graph)
    current = read_record(http, where)
    if (
        current is not None
        and not replace
        and current.version == dataset.version
        and current.base_iri == base
        and _counts_hold(http, current)
    ):
        dropped = _drop_stale(http, where, current)
        return Loaded(current.version, current.default_size, len(current.sizes), False, dropped)
    return write(
        http,
        where,
        version=dataset.version,
        base_iri=base,
        graphs={g: _graph_triples(dataset, g) for g in dataset.served_graphs},
        default=lambda: unique_triples(dataset.store, dataset.served_graphs),
        manifest=_manifest(dataset).to_json(),
        modified=dataset.modified.isoformat() if dataset.modified else None,
        current=current,
        progress=progress,
        batch=batch,
    )


def _graph_triples(dataset: Dataset, graph: str) -> Callable[[], Iterable[pyoxigraph.Triple]]:
    return lambda: (q.triple for q in dataset.store.quads(graph=graph))


def write(
    http: Http,
    where: str,
    *,
    version: str,
    base_iri: str,
    graphs: Mapping[str, Callable[[], Iterable[pyoxigraph.Triple]]],
    default: Callable[[], Iterable[pyoxigraph.Triple]],
    manifest: str,
    modified: str | None = None,
    current: Record | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> Loaded:
    """Send one load (each logical graph's triples, and the default graph's, each a set) under
    graph names of its own, check the engine's counts, flip the record, drop stale graphs.

    Raises:
        EngineUnavailable, EngineTimeout: the engine failed (the served version is untouched).
        StorageError: the engine holds other counts than were sent (nothing flipped).
    """
    started = datetime.now(UTC)
    load = f"{version}-{started:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    prefix = f"{_load_prefix(where)}{load}/"
    genid = f"{base_iri}{GENID}"
    # each physical name ends with its logical one, so that both sort alike (ORDER BY ?g)
    physical = {g: f"{prefix}g/{g}" for g in graphs}
    send = _sender(http, batch)
    sizes = {g: send(physical[g], triples(), genid, progress) for g, triples in graphs.items()}
    default_size = send(prefix + "default", default(), genid, progress)
    record = Record(
        version,
        load,
        base_iri,
        Layout(prefix + "default", {g: p for g, p in physical.items() if sizes[g]}, genid),
        {g: n for g, n in sizes.items() if n},
        default_size,
        manifest,
        modified,
        tuple(current.physical) if current is not None else (),
        datetime.now(UTC).isoformat(timespec="microseconds"),
    )
    if not _counts_hold(http, record):
        raise StorageError(
            "the engine does not hold what was sent (its counts differ); the served version "
            "is unchanged"
        )
    _flip(http, where, record)
    dropped = _drop_stale(http, where, record)
    return Loaded(record.version, default_size, len(record.sizes), True, dropped)


def _manifest(dataset: Dataset) -> Manifest:
    return Manifest(
        dataset.version,
        dataset.report is not None,
        dataset.counts,
        dataset.inferred,
        datetime.now(UTC),
        dataset.data_files,
        dataset.shapes_files,
    )


def _ntriples(triples: Iterable[pyoxigraph.Triple], genid: str) -> Iterator[str]:
    for t in triples:
        yield f"{skolem(t.subject, genid)} {t.predicate} {skolem(t.object, genid)} .\n"  # type: ignore[arg-type]


def _batches(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sender(
    http: Http, batch: int
) -> Callable[[str, Iterable[pyoxigraph.Triple], str, Callable[[int], None] | None], int]:
    """How triples go to a graph: GSP ``POST`` when there is a GSP URL, else ``INSERT DATA``."""
    gsp = http.endpoint.gsp_url
    timeout = max(60.0, http.endpoint.timeout)

    def send(
        graph: str,
        triples: Iterable[pyoxigraph.Triple],
        genid: str,
        progress: Callable[[int], None] | None,
    ) -> int:
        sent = 0
        for chunk in _batches(_ntriples(triples, genid), batch):
            body = "".join(chunk)
            if gsp is not None:
                # N-Triples is Turtle: every engine's GSP takes text/turtle
                url = f"{gsp}{'&' if '?' in gsp else '?'}graph={_quote(graph)}"
                if "graph-crud" in gsp:  # Virtuoso names the parameter graph-uri
                    url = f"{gsp}{'&' if '?' in gsp else '?'}graph-uri={_quote(graph)}"
                with http.open(
                    url,
                    data=body.encode(),
                    headers={"Content-Type": "text/turtle; charset=utf-8"},
                    method="POST",
                    timeout=timeout,
                ) as answer:
                    answer.read()
            else:
                http.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}", timeout=timeout)
            sent += len(chunk)
            if progress is not None:
                progress(len(chunk))
        return sent

    return send


def _quote(iri: str) -> str:
    from urllib.parse import quote

    return quote(iri, safe="")


def _counts_hold(http: Http, record: Record) -> bool:
    """Whether the engine holds as many triples in each graph of a load as the record says."""
    expected = {record.layout.graphs[g]: n for g, n in record.sizes.items()}
    if record.default_size:
        expected[record.layout.default] = record.default_size
    text = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    fields = [("query", text), *(("named-graph-uri", g) for g in record.physical)]
    with http.post_form(
        http.endpoint.query_url, fields, accept="application/sparql-results+json"
    ) as answer:
        body = answer.read()
    found: dict[str, int] = {}
    for row in pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON):  # type: ignore[union-attr]
        found[row["g"].value] = int(row["n"].value)
    return found == expected


def _flip(http: Http, where: str, record: Record) -> None:
    """Add the new version record, in one ``INSERT DATA`` of one triple (atomic on any
    engine): the one moment the served version changes (the latest record is the served one).
    The older records are removed after it: interrupted in between, the latest still wins."""
    value = pyoxigraph.Literal(record.to_json())
    http.update(f"INSERT DATA {{ GRAPH <{where}> {{ <{where}> <{RECORD}> {value} }} }}")
    http.update(
        f"WITH <{where}> DELETE {{ <{where}> <{RECORD}> ?old }} WHERE {{ <{where}> <{RECORD}> "
        f"?old FILTER(!CONTAINS(STR(?old), {pyoxigraph.Literal(record.load)})) }}"
    )


def _drop_stale(http: Http, where: str, record: Record) -> int:
    """Drop the graphs of loads other than the served one and the one before it; how many."""
    prefix = _load_prefix(where)
    keep = {*record.physical, *record.previous, where}
    text = (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(STRSTARTS(STR(?g), {pyoxigraph.Literal(prefix)})) }}"
    )
    with http.post_form(
        http.endpoint.query_url, [("query", text)], accept="application/sparql-results+json"
    ) as answer:
        body = answer.read()
    stale = sorted(
        row["g"].value
        for row in pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)  # type: ignore[union-attr]
        if row["g"].value not in keep
    )
    for g in stale:
        http.update(f"DROP SILENT GRAPH <{g}>", timeout=max(60.0, http.endpoint.timeout))
    return len(stale)
