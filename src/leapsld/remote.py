"""A SPARQL engine elsewhere (Oxigraph server, Virtuoso, QLever, GraphDB, Fuseki) behind the
``Store`` door, over the SPARQL 1.1 Protocol.

What leapsld loads there (``target.py``) is versioned: each served graph lives under a
*physical* name of its load, the default graph is materialised as one more physical graph (a
set: a triple stated in two files is there once), and blank nodes are skolemised to IRIs under
``{base}.well-known/genid/`` (their labels are leapsld's canonical ones, so stable). A
``RemoteStore`` is opened on one such load (its ``Layout``) and speaks the dataset's own
*logical* names to everyone upstream: it names the physical graphs in ``default-graph-uri`` and
``named-graph-uri``, rewrites logical graph IRIs in a query text to physical ones, maps
physical names in answers back, and turns skolem IRIs back into blank nodes in quad patterns.
The engine never sees a query leapsld's own parser refused: each text is parsed here first
(so errors carry line and column as on the embedded store, and no engine dialect leaks in).

Every request has a deadline (the query timeout); an engine that refuses the connection or
answers 5xx is ``EngineUnavailable`` (502), one that does not answer in time
``EngineTimeout`` (504). Credentials come from the environment only and never reach a message.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.client import HTTPResponse
from typing import IO

import pyoxigraph

from .errors import EngineTimeout, EngineUnavailable, QueryError
from .guard import iri_tokens
from .store import OxigraphStore, QueryResult, Subject, Term

#: ``--store`` values that name a remote engine: ``sparql+`` and its query URL.
SCHEME = "sparql+"
#: Environment variables the remote engine is configured with (never flags: a credential on a
#: command line is in every process listing).
UPDATE_URL_ENV = "LEAPSLD_UPDATE_URL"
GSP_URL_ENV = "LEAPSLD_GSP_URL"
USER_ENV = "LEAPSLD_REMOTE_USER"
PASSWORD_ENV = "LEAPSLD_REMOTE_PASSWORD"
#: Where a skolemised blank node's IRI starts, under the dataset's base IRI (RDF 1.1 §3.5).
GENID = ".well-known/genid/"
#: Nothing leapsld asks for: the graph a dataset of no graphs is narrowed to.
NO_GRAPH = "urn:leapsld:no-graph"
#: Seconds the engine may take to start streaming a whole graph (leapsld's own background work:
#: statistics and dumps, once per version), whatever the query timeout of requests.
STREAM_TIMEOUT = 300.0
#: Kept-alive connections to the engine kept idle, at most (per process).
MAX_IDLE = 32
#: The largest answer read from the engine for a query from a request (its rows are capped
#: anyway; this bounds the bytes before they are counted).
ANSWER_BYTES = 256 << 20

_RESULTS = "application/sparql-results+json"
_GRAPH_TYPES = "application/n-triples, text/turtle;q=0.9"
_FORM = "application/x-www-form-urlencoded"


def is_remote(store: str) -> bool:
    """Whether a ``--store`` value names a remote engine.

    >>> is_remote("sparql+http://localhost:7878/query"), is_remote("memory")
    (True, False)
    """
    return store.startswith(SCHEME + "http://") or store.startswith(SCHEME + "https://")


@dataclass(frozen=True)
class Endpoint:
    """Where the engine answers: its query URL, and the update and Graph Store Protocol URLs
    ``load`` writes through (None: not configured). The credentials are kept out of ``repr``."""

    query_url: str
    update_url: str | None = None
    gsp_url: str | None = None
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    @classmethod
    def from_store(
        cls, store: str, *, timeout: float = 10.0, environ: Mapping[str, str] | None = None
    ) -> Endpoint:
        """The endpoint a ``--store sparql+http…`` value names, completed from the environment
        (``LEAPSLD_UPDATE_URL``, ``LEAPSLD_GSP_URL``, ``LEAPSLD_REMOTE_USER``,
        ``LEAPSLD_REMOTE_PASSWORD``).

        >>> Endpoint.from_store("sparql+http://h:1/sparql", environ={}).query_url
        'http://h:1/sparql'
        """
        env = os.environ if environ is None else environ
        url = store[len(SCHEME) :] if store.startswith(SCHEME) else store
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EngineUnavailable(f"not an HTTP(S) SPARQL endpoint: {_safe(url)!r}")
        if parts.username or parts.password:
            raise EngineUnavailable(
                f"credentials go in {USER_ENV} and {PASSWORD_ENV}, not in the URL: {_safe(url)!r}"
            )
        return cls(
            url,
            env.get(UPDATE_URL_ENV) or None,
            env.get(GSP_URL_ENV) or None,
            env.get(USER_ENV) or None,
            env.get(PASSWORD_ENV) or None,
            timeout,
        )


def _safe(url: str) -> str:
    """A URL without any user information in it (for messages)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class Http:
    """Requests to one endpoint with its credentials (HTTP basic or digest, as the engine
    asks) and its deadline; every failure becomes a typed error naming the URL, never the
    credentials."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        handlers: list[urllib.request.BaseHandler] = []
        if endpoint.user is not None:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for url in (endpoint.query_url, endpoint.update_url, endpoint.gsp_url):
                if url:
                    passwords.add_password(None, url, endpoint.user, endpoint.password or "")
            handlers.append(urllib.request.HTTPDigestAuthHandler(passwords))
            self._basic = "Basic " + base64.b64encode(
                f"{endpoint.user}:{endpoint.password or ''}".encode()
            ).decode("ascii")
        else:
            self._basic = ""
        self._opener = urllib.request.build_opener(*handlers)
        self._pool_lock = threading.Lock()
        self._idle: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
        self._pool_pid = os.getpid()
        self._query_needs_auth = False
        weakref.finalize(self, _close_all, self._idle)

    def open(
        self,
        url: str,
        *,
        data: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        timeout: float | None = None,
    ) -> HTTPResponse:
        """Send one request; the open response (2xx).

        Raises:
            EngineUnavailable: refused, reset, unreachable, or an answer of 5xx.
            EngineTimeout: no answer within the timeout.
            QueryError: the engine refused the request as malformed (4xx).
        """
        request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
        try:
            answer = self._opener.open(request, timeout=timeout or self.endpoint.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and self._basic and not request.has_header("Authorization"):
                # an engine asking for basic authentication (digest is answered by the handler)
                retry = urllib.request.Request(
                    url, data=data, headers={**(headers or {}), "Authorization": self._basic}
                )
                retry.method = method
                return self._retry(retry, timeout)
            raise self._http_error(url, exc) from None
        except TimeoutError:
            raise self._timeout(url) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout(url) from None
            raise EngineUnavailable(
                f"the SPARQL engine at {_safe(url)} cannot be reached: {exc.reason}"
            ) from None
        except (OSError, ValueError) as exc:
            raise EngineUnavailable(
                f"the SPARQL engine at {_safe(url)} failed to answer: {exc}"
            ) from None
        assert isinstance(answer, HTTPResponse)
        return answer

    def _retry(self, request: urllib.request.Request, timeout: float | None) -> HTTPResponse:
        try:
            answer = self._opener.open(request, timeout=timeout or self.endpoint.timeout)
        except urllib.error.HTTPError as exc:
            raise self._http_error(request.full_url, exc) from None
        except TimeoutError:
            raise self._timeout(request.full_url) from None
        except (urllib.error.URLError, OSError) as exc:
            raise EngineUnavailable(
                f"the SPARQL engine at {_safe(request.full_url)} failed to answer: {exc}"
            ) from None
        assert isinstance(answer, HTTPResponse)
        return answer

    def _timeout(self, url: str) -> EngineTimeout:
        return EngineTimeout(
            f"the SPARQL engine at {_safe(url)} did not answer within {self.endpoint.timeout:g} s"
        )

    def _http_error(self, url: str, exc: urllib.error.HTTPError) -> Exception:
        try:
            detail = exc.read(2000).decode("utf-8", "replace")
        except (OSError, TimeoutError):
            detail = ""
        finally:
            exc.close()
        return self._status_error(url, exc.code, detail)

    def _status_error(self, url: str, code: int, detail: str) -> Exception:
        detail = " ".join(detail.split())[:400]
        if code in (401, 403):
            return EngineUnavailable(
                f"the SPARQL engine at {_safe(url)} refused leapsld's credentials "
                f"({code}); set {USER_ENV} and {PASSWORD_ENV}"
            )
        if 400 <= code < 500:
            return QueryError(
                f"the SPARQL engine at {_safe(url)} refused the request ({code}): {detail}"
            )
        return EngineUnavailable(f"the SPARQL engine at {_safe(url)} answered {code}: {detail}")

    # Kept-alive connections for queries ---------------------------------------------------

    def fetch(
        self,
        url: str,
        fields: Sequence[tuple[str, str]],
        *,
        accept: str,
        timeout: float | None = None,
        limit: int = ANSWER_BYTES,
    ) -> tuple[str, bytes]:
        """POST a form and read the whole answer (at most ``limit`` bytes): its media type and
        bytes. Queries go over kept-alive connections: a new connection per query costs more
        than a small query does (7 ms against 0.4 on Oxigraph server, measured).

        Raises:
            EngineUnavailable, EngineTimeout, QueryError: as ``open``.
        """
        if url != self.endpoint.query_url or self._query_needs_auth:
            with self.post_form(url, fields, accept=accept, timeout=timeout) as answer:
                return answer.headers.get("Content-Type") or "", _read(answer, limit, url)
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": _FORM, "Accept": accept}
        wait = timeout or self.endpoint.timeout
        for attempt in (1, 2, 3):
            connection, _reused = self._take(parts, wait)
            try:
                connection.request("POST", target, body, headers)
                answer = connection.getresponse()
                data = _read(answer, limit, url)
            except TimeoutError:
                connection.close()
                raise self._timeout(url) from None
            except (http.client.HTTPException, OSError) as exc:
                connection.close()
                if attempt < 3:
                    # the engine closed a kept connection, or dropped a new one (Virtuoso does
                    # when its threads are all busy): again, on a fresh connection
                    continue
                raise EngineUnavailable(
                    f"the SPARQL engine at {_safe(url)} cannot be reached: {exc}"
                ) from None
            except EngineUnavailable:
                connection.close()
                raise
            if answer.will_close:
                connection.close()
            else:
                self._give(parts, connection)
            if answer.status == 401 and self.endpoint.user is not None:
                # the engine wants credentials for queries too: through the authenticating
                # opener from now on (most engines read anonymously, Virtuoso's /sparql too)
                self._query_needs_auth = True
                return self.fetch(url, fields, accept=accept, timeout=timeout, limit=limit)
            if answer.status >= 400:
                raise self._status_error(url, answer.status, data[:2000].decode("utf-8", "replace"))
            return answer.headers.get("Content-Type") or "", data
        raise AssertionError("unreachable")

    def _take(
        self, parts: urllib.parse.SplitResult, timeout: float
    ) -> tuple[http.client.HTTPConnection, bool]:
        with self._pool_lock:
            if self._pool_pid != os.getpid():  # inherited through a fork: the parent's sockets
                _close_all(self._idle)
                self._pool_pid = os.getpid()
            idle = self._idle.get((parts.scheme, parts.netloc))
            connection = idle.pop() if idle else None
        if connection is not None:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        return kind(parts.hostname or "", parts.port, timeout=timeout), False

    def _give(
        self, parts: urllib.parse.SplitResult, connection: http.client.HTTPConnection
    ) -> None:
        with self._pool_lock:
            idle = self._idle.setdefault((parts.scheme, parts.netloc), [])
            if len(idle) < MAX_IDLE and self._pool_pid == os.getpid():
                idle.append(connection)
                return
        connection.close()

    def post_form(
        self,
        url: str,
        fields: Sequence[tuple[str, str]],
        *,
        accept: str,
        timeout: float | None = None,
    ) -> HTTPResponse:
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": _FORM, "Accept": accept}
        return self.open(url, data=body, headers=headers, timeout=timeout)

    def update(self, text: str, *, timeout: float | None = None) -> None:
        """Run a SPARQL Update at the update URL."""
        url = self.endpoint.update_url
        if url is None:
            raise EngineUnavailable(
                f"no update URL for {_safe(self.endpoint.query_url)}: set {UPDATE_URL_ENV}"
            )
        with self.post_form(url, [("update", text)], accept="*/*", timeout=timeout) as answer:
            answer.read()


@dataclass(frozen=True)
class Layout:
    """One load on the engine: the physical graph of each logical one, the materialised default
    graph, and the IRI prefix skolemised blank nodes have."""

    default: str
    graphs: Mapping[str, str]
    genid: str
    #: Physical name → logical name.
    back: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "back", {v: k for k, v in self.graphs.items()})


def skolem(term: Term, genid: str) -> Term:
    """A blank node as its skolem IRI (other terms as they are)."""
    if isinstance(term, pyoxigraph.BlankNode):
        return pyoxigraph.NamedNode(genid + term.value)
    return term


class RemoteStore:
    """A ``Store`` over a SPARQL endpoint, reading one load (``layout``) of a dataset."""

    #: Queries need no killable process here: the engine evaluates them, and leapsld only
    #: waits (``query.QueryRunner`` then runs them in threads, with the same slots and limits).
    evaluates_elsewhere = True

    def __init__(self, endpoint: Endpoint, layout: Layout) -> None:
        self.endpoint, self.layout = endpoint, layout
        self.http = Http(endpoint)
        self._parser = OxigraphStore()  # empty: parses (and plans) a query, never evaluates it
        self._physical = list(layout.graphs.values())
        self._back = {f'"{p}"'.encode(): f'"{lg}"'.encode() for p, lg in layout.back.items()}
        self._back.update(
            {
                f'"{p}"'.replace("/", "\\/").encode(): f'"{lg}"'.encode()
                for p, lg in layout.back.items()
            }
        )

    def __repr__(self) -> str:
        return f"RemoteStore({_safe(self.endpoint.query_url)})"

    # The wire ------------------------------------------------------------------------------

    def _ask(
        self,
        text: str,
        dataset: Sequence[tuple[str, str]],
        *,
        accept: str = _RESULTS,
        timeout: float | None = None,
    ) -> HTTPResponse:
        return self.http.post_form(
            self.endpoint.query_url, [("query", text), *dataset], accept=accept, timeout=timeout
        )

    def _everything(self) -> list[tuple[str, str]]:
        return [
            ("default-graph-uri", self.layout.default),
            *(("named-graph-uri", g) for g in self._physical or [NO_GRAPH]),
        ]

    def _physical_of(self, graphs: Sequence[str]) -> list[str]:
        return [self.layout.graphs.get(g, NO_GRAPH) for g in graphs]

    def _solutions(
        self, text: str, dataset: Sequence[tuple[str, str]], *, stream: bool = False
    ) -> pyoxigraph.QuerySolutions:
        """A SELECT of leapsld's own: read whole over a kept-alive connection, or (``stream``,
        for whole graphs) parsed as it arrives over a connection of its own."""
        if stream:  # whole graphs: statistics and dumps, once per version, in the background
            answer = self._ask(text, dataset, timeout=max(STREAM_TIMEOUT, self.endpoint.timeout))
            result = _parse_results(answer, self.endpoint.query_url)
        else:
            _, body = self.http.fetch(
                self.endpoint.query_url, [("query", text), *dataset], accept=_RESULTS
            )
            result = _parse_results(body, self.endpoint.query_url)
        assert isinstance(result, pyoxigraph.QuerySolutions)
        return result

    # Reading -------------------------------------------------------------------------------

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        """Evaluate a query on the engine, on this load's graphs, as ``Store.query`` says.

        Raises:
            SyntaxError: the query is malformed (parsed here, never sent).
            ValueError: a graph name is not an IRI.
            EngineUnavailable, EngineTimeout: the engine failed or did not answer in time.
        """
        for g in [*(default_graphs or ()), *(named_graphs or ())]:
            pyoxigraph.NamedNode(g)  # a ValueError for a name that is not an IRI
        # parsed here: a SyntaxError with line and column, as on the embedded store; on an
        # empty store the form is known at no cost (some engines answer an ASK as a SELECT
        # when offered both kinds of answer)
        form = self._parser.query(text)
        ask = isinstance(form, pyoxigraph.QueryBoolean)
        accept = _GRAPH_TYPES if isinstance(form, pyoxigraph.QueryTriples) else _RESULTS
        del form  # pyoxigraph's results are dropped in the thread that made them
        if substitutions:
            text = bind(text, {k: skolem(v, self.layout.genid) for k, v in substitutions.items()})
        text = rewrite_iris(text, self.layout.graphs)
        if default_graphs is not None or named_graphs is not None:
            dataset = [
                *(
                    ("default-graph-uri", g)
                    for g in self._physical_of(default_graphs or []) or [NO_GRAPH]
                ),
                *(
                    ("named-graph-uri", g)
                    for g in self._physical_of(named_graphs or []) or [NO_GRAPH]
                ),
            ]
        elif union:
            dataset = self._everything()
        else:  # the query's own FROM decides (rewritten to the physical graphs)
            dataset = []
        kind, body = self.http.fetch(
            self.endpoint.query_url, [("query", text), *dataset], accept=accept
        )
        kind = kind.split(";")[0].strip().lower()
        rdf = pyoxigraph.RdfFormat.from_media_type(kind) if kind else None
        if rdf is not None:
            try:
                triples = [q.triple for q in pyoxigraph.parse(body, format=rdf)]
            except SyntaxError as exc:
                raise _unreadable(self.endpoint.query_url, exc) from None
            return iter(triples)
        if self._back and b'"' in body:
            for physical, logical in self._back.items():
                if physical in body:
                    body = body.replace(physical, logical)
        result = _parse_results(body, self.endpoint.query_url)
        return _as_boolean(result) if ask else result

    def quads(
        self,
        subject: Subject | None = None,
        predicate: pyoxigraph.NamedNode | None = None,
        obj: Term | None = None,
        graph: str | None = None,
    ) -> Iterator[pyoxigraph.Quad]:
        """Quads matching a pattern, in one named graph, or else in the (materialised) default
        graph, each triple once, as the embedded store answers; streamed from the engine, with
        logical graph names and blank nodes."""
        if graph is not None and graph not in self.layout.graphs:
            return iter(())
        genid = self.layout.genid
        bound = {
            "s": subject and skolem(subject, genid),
            "p": predicate,
            "o": obj if obj is None else skolem(obj, genid),
        }
        pattern = " ".join(str(bound[v]) if bound[v] is not None else f"?{v}" for v in "spo")
        whole = all(v is None for v in bound.values())  # a whole graph: streamed
        if graph is None:
            text = f"SELECT ?s ?p ?o WHERE {{ {pattern} }}"
            solutions = self._solutions(
                text, [("default-graph-uri", self.layout.default)], stream=whole
            )
            return self._as_quads(solutions, bound)
        text = f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ {pattern} }} }}"
        solutions = self._solutions(
            text, [("named-graph-uri", self.layout.graphs[graph])], stream=whole
        )
        return self._as_quads(solutions, bound)

    def _as_quads(
        self, solutions: pyoxigraph.QuerySolutions, bound: Mapping[str, Term | None]
    ) -> Iterator[pyoxigraph.Quad]:
        back, genid = self.layout.back, self.layout.genid

        def term(value: object) -> object:
            return _unskolem(value, genid)

        s0, p0, o0 = (bound[v] for v in "spo")
        s0 = s0 if s0 is None else term(s0)  # type: ignore[assignment]
        o0 = o0 if o0 is None else term(o0)  # type: ignore[assignment]
        named = "g" in {v.value for v in solutions.variables}
        for row in solutions:
            name: pyoxigraph.NamedNode | pyoxigraph.DefaultGraph = pyoxigraph.DefaultGraph()
            if named:
                g = row["g"]
                assert isinstance(g, pyoxigraph.NamedNode)
                name = pyoxigraph.NamedNode(back.get(g.value, g.value))
            yield pyoxigraph.Quad(
                s0 if s0 is not None else term(row["s"]),  # type: ignore[arg-type]
                p0 if p0 is not None else row["p"],  # type: ignore[arg-type]
                o0 if o0 is not None else term(row["o"]),  # type: ignore[arg-type]
                name,
            )

    def contains(self, quad: pyoxigraph.Quad) -> bool:
        """Whether this load holds this very quad."""
        graph = quad.graph_name
        if not isinstance(graph, pyoxigraph.NamedNode) or graph.value not in self.layout.graphs:
            return False
        genid = self.layout.genid
        s, o = skolem(quad.subject, genid), skolem(quad.object, genid)  # type: ignore[arg-type]
        text = f"ASK {{ GRAPH <{self.layout.graphs[graph.value]}> {{ {s} {quad.predicate} {o} }} }}"
        _, body = self.http.fetch(self.endpoint.query_url, [("query", text)], accept=_RESULTS)
        return bool(_as_boolean(_parse_results(body, self.endpoint.query_url)))

    def graphs(self) -> list[str]:
        """The named graphs of this load that hold anything, sorted."""
        return sorted(self.graph_sizes(list(self.layout.graphs)))

    def graph_sizes(self, graphs: Sequence[str]) -> dict[str, int]:
        """How many quads each of ``graphs`` holds (graphs with none are left out)."""
        known = [g for g in graphs if g in self.layout.graphs]
        if not known:
            return {}
        text = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        rows = self._solutions(text, [("named-graph-uri", self.layout.graphs[g]) for g in known])
        sizes = {}
        for row in rows:
            g, n = row["g"], row["n"]
            assert isinstance(g, pyoxigraph.NamedNode) and isinstance(n, pyoxigraph.Literal)
            sizes[self.layout.back.get(g.value, g.value)] = int(n.value)
        return {g: n for g, n in sizes.items() if n}

    def unique_triples(self, graphs: Sequence[str]) -> Iterator[pyoxigraph.Triple]:
        """The triples of ``graphs``, each once, in one streamed query: the engine does the
        set (``derived.unique_triples`` asks this instead of one lookup per repeated quad)."""
        known = [self.layout.graphs[g] for g in graphs if g in self.layout.graphs]
        text = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
        rows = self._solutions(
            text, [("named-graph-uri", g) for g in known or [NO_GRAPH]], stream=True
        )
        genid = self.layout.genid
        for row in rows:
            s, o = _unskolem(row["s"], genid), _unskolem(row["o"], genid)
            yield pyoxigraph.Triple(s, row["p"], o)  # type: ignore[arg-type]

    def __len__(self) -> int:
        """Every quad of the dataset, as the embedded store counts them: the named graphs' and
        the (materialised) default graph's."""
        rows = self._solutions(
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
            [("default-graph-uri", self.layout.default)],
        )
        default = sum(int(row["n"].value) for row in rows)
        return sum(self.graph_sizes(list(self.layout.graphs)).values()) + default


def _close_all(pool: dict[tuple[str, str], list[http.client.HTTPConnection]]) -> None:
    for connections in pool.values():
        for connection in connections:
            connection.close()
    pool.clear()


def _read(answer: HTTPResponse, limit: int, url: str) -> bytes:
    data = answer.read(limit + 1)
    if len(data) > limit:
        raise EngineUnavailable(
            f"the SPARQL engine at {_safe(url)} answered more than {limit >> 20} MiB"
        )
    return data


def _unskolem(value: object, genid: str) -> object:
    """A skolem IRI of this load as the blank node it stands for (other terms as they are)."""
    if isinstance(value, pyoxigraph.NamedNode) and value.value.startswith(genid):
        return pyoxigraph.BlankNode(value.value[len(genid) :])
    return value


def _parse_results(
    body: bytes | HTTPResponse, url: str
) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean:
    try:
        return pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)
    except SyntaxError as exc:
        raise _unreadable(url, exc) from None


def _as_boolean(
    result: pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean,
) -> pyoxigraph.QueryBoolean:
    """An ASK's answer, also when the engine wrote it as one row of one variable (Virtuoso 7
    does, as ``__ASK_RETVAL``, for a query with a protocol dataset)."""
    if isinstance(result, pyoxigraph.QueryBoolean):
        return result
    rows = list(result)
    value = rows[0][0] if rows and len(result.variables) == 1 else None
    truth = value is not None and value.value not in ("0", "false")
    parsed = pyoxigraph.parse_query_results(
        f'{{"head":{{}},"boolean":{"true" if truth else "false"}}}',
        format=pyoxigraph.QueryResultsFormat.JSON,
    )
    assert isinstance(parsed, pyoxigraph.QueryBoolean)
    return parsed


def _unreadable(url: str, exc: Exception) -> EngineUnavailable:
    return EngineUnavailable(f"the SPARQL engine at {_safe(url)} gave an unreadable answer: {exc}")


# Query text ------------------------------------------------------------------------------


_PREFIX_DECL = re.compile(r"(?i)prefix")


def rewrite_iris(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with each IRI that is a key of ``mapping`` (written in full or as a prefixed
    name the text declares) replaced by its value, strings and comments untouched.

    >>> rewrite_iris('PREFIX g: <http://x/> SELECT * FROM <http://x/a> { GRAPH g:a { ?s ?p "<http://x/a>" } }', {"http://x/a": "urn:b"})
    'PREFIX g: <http://x/> SELECT * FROM <urn:b> { GRAPH <urn:b> { ?s ?p "<http://x/a>" } }'
    """
    if not mapping:
        return text
    out: list[str] = []
    last = 0
    prefixes: dict[str, str] = {}
    pending: str | None = None
    after_prefix = False
    for kind, value, start in iri_tokens(text):
        if kind == "name" and _PREFIX_DECL.fullmatch(value):
            after_prefix = True
            continue
        if after_prefix and kind == "name" and value.endswith(":"):
            pending = value[:-1]
            after_prefix = False
            continue
        after_prefix = False
        if kind == "iri":
            iri = value[1:-1]
            if pending is not None:
                prefixes[pending] = iri
                pending = None
                continue
            if iri in mapping:
                out.append(text[last:start])
                out.append(f"<{mapping[iri]}>")
                last = start + len(value)
        elif kind == "name" and ":" in value:
            pending = None
            head, _, local = value.partition(":")
            if head in prefixes and "\\" not in local:
                iri = prefixes[head] + local
                if iri in mapping:
                    out.append(text[last:start])
                    out.append(f"<{mapping[iri]}>")
                    last = start + len(value)
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def bind(text: str, values: Mapping[str, Term]) -> str:
    """``text`` with ``values`` bound by a ``VALUES`` block at the start of its WHERE group:
    the remote form of pyoxigraph's substitutions (terms are written in N-Triples syntax, so a
    term from a request is data, never query text).

    >>> bind('SELECT ?s WHERE { ?s ?p ?o }', {"o": pyoxigraph.Literal('a" }')})
    'SELECT ?s WHERE { VALUES ?o { "a\\\\" }" } ?s ?p ?o }'
    """
    if not values:
        return text
    names = " ".join(f"?{k}" for k in values)
    row = " ".join(str(v) for v in values.values())
    block = (
        f" VALUES ({names}) {{ ({row}) }}" if len(values) > 1 else f" VALUES {names} {{ {row} }}"
    )
    seen_where, first_open = False, None
    for kind, value, start in iri_tokens(text):
        if kind == "name" and value.upper() == "WHERE":
            seen_where = True
        elif kind == "open" and value == "{":
            if seen_where:
                return text[: start + 1] + block + text[start + 1 :]
            if first_open is None:
                first_open = start
    if first_open is None:
        raise SyntaxError("no group pattern to bind values in")
    return text[: first_open + 1] + block + text[first_open + 1 :]
