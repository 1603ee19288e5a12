"""Run a read-only SPARQL query with limits.

The endpoint never changes data and never makes an outbound request: updates, ``LOAD`` and
``SERVICE`` are refused before evaluation. A query runs in a worker thread (pyoxigraph releases
the GIL), so a slow one never blocks other requests; past the timeout the caller gets
``QueryTimeout`` and the worker stops at its next row. Results are capped at ``max_rows``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import pyoxigraph

from .errors import LeapsError, QueryError, QueryRefused, QueryTimeout
from .store import Store

_LEXICAL = re.compile(
    r"""
    (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
       |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    |(?P<iri><[^<>"{}|^`\\\s]*>)
    |(?P<comment>\#[^\n]*)
    |(?P<var>[?$]\w+)
    |(?P<pname>[A-Za-z_][\w.-]*:[\w.:%-]*|:[\w.:%-]*)
    |(?P<word>[A-Za-z]+)
    """,
    re.VERBOSE,
)
UPDATE_KEYWORDS = {
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "ADD",
    "MOVE",
    "COPY",
    "WITH",
}
_POSITION = re.compile(r"^error at (\d+):(\d+): ")


@dataclass
class QueryOutcome:
    """What a query returned: ``select`` rows, an ``ask`` boolean or ``graph`` triples."""

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[object, ...]] = field(default_factory=list)
    triples: list[pyoxigraph.Triple] = field(default_factory=list)
    boolean: bool | None = None
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "select" else len(self.triples)


def keywords(text: str) -> list[str]:
    """The bare keywords of a query, upper-cased, with strings, IRIs, comments and names removed.

    >>> keywords('PREFIX s: <http://x/service> SELECT ?service { ?s s:p "SERVICE" } # SERVICE')
    ['PREFIX', 'SELECT']
    """
    return [m.group("word").upper() for m in _LEXICAL.finditer(text) if m.group("word")]


def check_read_only(text: str) -> None:
    """Refuse updates and federated queries before they reach the engine.

    Raises:
        QueryRefused: the text is a SPARQL Update, or uses SERVICE.

    >>> check_read_only("SELECT * { ?s ?p ?o }")
    >>> check_read_only("DROP ALL")
    Traceback (most recent call last):
    ...
    leapsld.errors.QueryRefused: this endpoint is read-only: DROP (SPARQL Update) is not accepted
    """
    words = keywords(text)
    first = next((w for w in words if w not in ("PREFIX", "BASE")), None)
    if first in UPDATE_KEYWORDS:
        raise QueryRefused(f"this endpoint is read-only: {first} (SPARQL Update) is not accepted")
    if "SERVICE" in words:
        raise QueryRefused("SERVICE is not allowed: this endpoint makes no outbound requests")


_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="leapsld-query")
        return _EXECUTOR


def run_query(
    store: Store,
    text: str,
    *,
    default_graphs: Sequence[str] | None = None,
    named_graphs: Sequence[str] | None = None,
    max_rows: int = 10_000,
    timeout: float | None = None,
) -> QueryOutcome:
    """Evaluate a read-only query and collect at most ``max_rows`` results.

    Args:
        store: where to query.
        text: the SPARQL query.
        default_graphs / named_graphs: the RDF dataset (SPARQL Protocol ``default-graph-uri``
            and ``named-graph-uri``); both None means the union of all graphs as default graph.
        max_rows: results beyond this are dropped and ``truncated`` is set.
        timeout: seconds before ``QueryTimeout``; None evaluates in the calling thread.

    Raises:
        QueryError: malformed query, with line and column.
        QueryRefused: an update or SERVICE.
        QueryTimeout: the query ran past ``timeout``.
    """
    check_read_only(text)
    cancelled = threading.Event()
    if timeout is None:
        return _evaluate(store, text, default_graphs, named_graphs, max_rows, cancelled)
    future = _executor().submit(
        _evaluate, store, text, default_graphs, named_graphs, max_rows, cancelled
    )
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        cancelled.set()
        future.cancel()
        raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") from None


def _evaluate(
    store: Store,
    text: str,
    default_graphs: Sequence[str] | None,
    named_graphs: Sequence[str] | None,
    max_rows: int,
    cancelled: threading.Event,
) -> QueryOutcome:
    try:
        result = store.query(text, default_graphs=default_graphs, named_graphs=named_graphs)
        if isinstance(result, pyoxigraph.QueryBoolean):
            return QueryOutcome("ask", boolean=bool(result))
        if isinstance(result, pyoxigraph.QuerySolutions):
            outcome = QueryOutcome("select", variables=[v.value for v in result.variables])
            width = range(len(outcome.variables))
            for solution in result:
                if cancelled.is_set():
                    break
                if len(outcome.rows) >= max_rows:
                    outcome.truncated = True
                    break
                outcome.rows.append(tuple(solution[i] for i in width))
            return outcome
        outcome = QueryOutcome("graph")
        for triple in result:
            if cancelled.is_set():
                break
            if len(outcome.triples) >= max_rows:
                outcome.truncated = True
                break
            outcome.triples.append(triple)
        return outcome
    except SyntaxError as exc:
        raise _query_error(exc) from None
    except OSError as exc:
        raise LeapsError(f"the query could not be evaluated: {exc}") from None


def _query_error(exc: SyntaxError) -> QueryError:
    message = str(exc.msg if exc.msg else exc)
    match = _POSITION.match(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        return QueryError(
            f"line {line}, column {column}: {message[match.end() :]}", line=line, column=column
        )
    return QueryError(message)
