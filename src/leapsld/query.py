"""Run a read-only SPARQL query with limits.

The endpoint never changes data and never makes an outbound request: updates, ``LOAD`` and
``SERVICE`` are refused before evaluation (``guard.check_read_only``). A query from a request
runs through ``QueryRunner`` in a query process (``executor.Executor``) that is killed at its
time or memory budget, whatever the engine is doing; a bounded number run at once, and one
client holds at most its share of them. ``run_query`` evaluates in this process, for the
library's own fixed queries and the command line. Results are capped at ``max_rows``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future

from .executor import (
    DEFAULT_MEMORY,
    QUERY_STACK,
    Executor,
    QueryOutcome,
    WaitingExecutor,
    Writer,
    evaluate,
    start_query_thread,
)
from .guard import Shape, check, check_read_only
from .store import Store, Term

__all__ = ["QUERY_STACK", "QueryOutcome", "QueryRunner", "run_query", "start_query_thread"]


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
                evaluate(
                    store,
                    text,
                    default_graphs,
                    named_graphs,
                    "FROM" not in words,
                    max_rows,
                    substitutions,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            future.set_exception(exc)

    start_query_thread(job, name="leapsld-query").join()
    return future.result()


class QueryRunner:
    """Runs queries from requests in killable query processes, within their budgets.

    A query runs in one of ``slots`` query processes sharing the store (``executor``); past
    ``timeout`` seconds, or ``memory`` bytes, it is killed and the caller gets
    ``QueryTimeout`` or ``QueryOverBudget``; its slot, CPU and memory are back at once. When
    every slot is taken a new query gets ``Busy`` at once (so a waiting query never holds a
    request thread), and a client already running ``per_client`` queries gets
    ``TooManyQueries``. Nothing starts before ``start`` or the first query: a server forks its
    workers after making the runner, and each worker has its own pool.
    """

    def __init__(
        self,
        store: Store,
        *,
        slots: int,
        timeout: float,
        max_rows: int,
        memory: int = DEFAULT_MEMORY,
        per_client: int | None = None,
    ) -> None:
        self.store, self.timeout, self.max_rows = store, timeout, max_rows
        # an engine elsewhere needs no killable process: leapsld only waits for its answer
        kind = WaitingExecutor if getattr(store, "evaluates_elsewhere", False) else Executor
        self.executor = kind(
            store,
            slots=slots,
            timeout=timeout,
            max_rows=max_rows,
            memory=memory,
            per_client=per_client,
        )

    def start(self) -> None:
        """Start the query processes in this process (before it serves; idempotent)."""
        self.executor.start()

    def close(self) -> None:
        """Stop every query process."""
        self.executor.close()

    def run(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Term] | None = None,
        max_rows: int | None = None,
        client: str | None = None,
        checked: Shape | None = None,
        writer: Writer | None = None,
    ) -> QueryOutcome:
        """Like ``run_query``, in a query process within this runner's limits.

        Args:
            client: who asks (the remote address): one client holds at most its share of
                the slots. ``None`` (the library's own queries) is not counted.
            checked: what ``guard.check`` returned for ``text``, when the caller has it
                already (a text is lexed once per request).
            writer: writes the answer in the query process (``Executor.run``); the outcome
                then carries only its bytes.

        Raises:
            QueryError, QueryRefused: as ``run_query``.
            QueryTimeout, QueryOverBudget: the query went past a budget and was stopped.
            Busy: every slot is taken.
            TooManyQueries: this client already runs as many queries as it may.
        """
        words = (checked or check(text)).keywords
        return self.executor.run(
            text,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            union="FROM" not in words,
            substitutions=substitutions,
            max_rows=max_rows,
            client=client,
            writer=writer,
        )
