"""Run a read-only SPARQL query with limits.

The endpoint never changes data and never makes an outbound request: updates, ``LOAD`` and
``SERVICE`` are refused before evaluation. A query runs in a worker thread (pyoxigraph releases
the GIL), so a slow one does not block other requests; past the timeout the caller gets
``QueryTimeout``. A query that streams rows stops at its next row; pyoxigraph cannot interrupt
one still computing its first row (an aggregate, a sort), which goes on in the background and
holds a slot until it ends. Results are capped at ``max_rows``.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import pyoxigraph

from .errors import BadRequest, Busy, LeapsError, QueryError, QueryTimeout
from .guard import check_read_only
from .store import Store, Term

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


#: The stack of every thread that parses and evaluates a query: pyoxigraph's parser recurses,
#: and a thread's default 8 MiB overflow (killing the process) near 1,000 nested function calls.
#: Only the pages a query really touches are ever committed.
QUERY_STACK = 256 << 20
_STACK_LOCK = threading.Lock()


def start_query_thread(target: Callable[[], None], *, name: str) -> threading.Thread:
    """Start a daemon thread with ``QUERY_STACK`` bytes of stack."""
    with _STACK_LOCK:
        previous = threading.stack_size(QUERY_STACK)
        try:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    return thread


def run_query(
    store: Store,
    text: str,
    *,
    default_graphs: Sequence[str] | None = None,
    named_graphs: Sequence[str] | None = None,
    max_rows: int = 10_000,
    substitutions: Mapping[str, Term] | None = None,
) -> QueryOutcome:
    """Evaluate a read-only query in this thread and collect at most ``max_rows`` results.

    Args:
        store: where to query.
        text: the SPARQL query.
        default_graphs / named_graphs: the RDF dataset (SPARQL Protocol ``default-graph-uri``
            and ``named-graph-uri``). Without them the query's own ``FROM`` decides, and a query
            with no ``FROM`` sees the union of all graphs as its default graph.
        max_rows: results beyond this are dropped and ``truncated`` is set.
        substitutions: variables bound to terms before evaluation: the way to put a term
            from a request into a query, never by splicing it into the text.

    Raises:
        QueryError: malformed query, with line and column.
        QueryRefused: an update or SERVICE.
    """
    words = check_read_only(text)
    future: Future[QueryOutcome] = Future()

    def job() -> None:
        try:
            future.set_result(
                _evaluate(
                    store,
                    text,
                    default_graphs,
                    named_graphs,
                    "FROM" not in words,
                    max_rows,
                    threading.Event(),
                    substitutions,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            future.set_exception(exc)

    start_query_thread(job, name="leapsld-query").join()
    return future.result()


class QueryRunner:
    """Runs queries in worker threads with a timeout, a row cap and a bounded number of slots.

    pyoxigraph releases the GIL while evaluating, so a slow query never blocks other requests.
    A query past its timeout is answered with ``QueryTimeout`` and told to stop; one that cannot
    stop (an aggregate still computing: pyoxigraph has no way to interrupt it) keeps its slot
    until it ends, and when every slot is taken new queries get ``Busy`` at once instead of
    queueing behind them.

    One thread per slot, started on the first query of each process (a server forks its
    workers after making the runner, and threads do not survive a fork) and kept: starting a
    thread per query cost about a millisecond, more than a small query itself. The threads are
    daemons, so shutting down never waits for a query that cannot be stopped.
    """

    def __init__(self, store: Store, *, slots: int, timeout: float, max_rows: int) -> None:
        self.store, self.timeout, self.max_rows = store, timeout, max_rows
        self._count = slots
        self._slots = threading.BoundedSemaphore(slots)
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._started_in: int | None = None
        self._lock = threading.Lock()

    def _submit(self, job: Callable[[], None]) -> None:
        if self._started_in != os.getpid():
            with self._lock:
                if self._started_in != os.getpid():
                    self._jobs = queue.SimpleQueue()
                    for n in range(self._count):
                        start_query_thread(self._serve, name=f"leapsld-query-{n}")
                    self._started_in = os.getpid()
        self._jobs.put(job)

    def _serve(self) -> None:
        jobs = self._jobs
        while True:
            jobs.get()()

    def run(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryOutcome:
        """Like ``run_query``, within this runner's limits.

        Raises:
            QueryError, QueryRefused: as ``run_query``.
            QueryTimeout: the query ran past the timeout.
            Busy: every slot is held by queries still running.
        """
        words = check_read_only(text)
        if not self._slots.acquire(timeout=min(0.5, self.timeout)):
            raise Busy("every query slot is busy with long-running queries; try again shortly")
        cancelled = threading.Event()
        future: Future[QueryOutcome] = Future()

        def job() -> None:
            try:
                future.set_result(
                    _evaluate(
                        self.store,
                        text,
                        default_graphs,
                        named_graphs,
                        "FROM" not in words,
                        self.max_rows,
                        cancelled,
                    )
                )
            except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting request
                future.set_exception(exc)
            finally:
                self._slots.release()

        self._submit(job)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            cancelled.set()
            raise QueryTimeout(
                f"the query ran longer than {self.timeout:g} s; its answer was abandoned"
            ) from None


def _evaluate(
    store: Store,
    text: str,
    default_graphs: Sequence[str] | None,
    named_graphs: Sequence[str] | None,
    union: bool,
    max_rows: int,
    cancelled: threading.Event,
    substitutions: Mapping[str, Term] | None = None,
) -> QueryOutcome:
    try:
        result = store.query(
            text,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            union=union,
            substitutions=substitutions,
        )
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
    except ValueError as exc:
        raise BadRequest(f"not a graph IRI: {exc}") from None
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
