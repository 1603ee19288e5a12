"""The query executor: queries in processes that are killed at their budgets."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest

from leapsld import executor as executor_module
from leapsld.errors import (
    Busy,
    LeapsError,
    NotAcceptable,
    QueryError,
    QueryOverBudget,
    QueryTimeout,
    TooManyQueries,
    UnsupportedFormat,
)
from leapsld.executor import JOB_NICENESS, Executor, _load_answer
from leapsld.store import OxigraphStore

EX = "http://example.org/"
#: An aggregate over a cartesian product: computes to the end before its first row, and the
#: engine cannot be told to stop it.
CARTESIAN = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n0 ?o }"
#: A string doubled 28 times from 1 KB: 256 GiB if it were allowed to finish.
DOUBLING = (
    'SELECT (STRLEN(?a28) AS ?n) { BIND("'
    + "x" * 1000
    + '" AS ?a0) '
    + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(28))
    + " }"
)


def _quads(n: int) -> list[pyoxigraph.Quad]:
    return [
        pyoxigraph.Quad(
            pyoxigraph.NamedNode(f"{EX}s{i}"),
            pyoxigraph.NamedNode(f"{EX}p{i % 7}"),
            pyoxigraph.Literal(f"value {i}"),
            pyoxigraph.NamedNode(f"{EX}g"),
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def store() -> OxigraphStore:
    s = OxigraphStore()
    s.add_quads(_quads(200))
    return s


@pytest.fixture()
def pool(store: OxigraphStore) -> Iterator[Executor]:
    executor = Executor(store, slots=2, timeout=1.0, max_rows=1000, memory=128 << 20)
    yield executor
    executor.close()


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


def test_answers_every_kind_of_query(pool: Executor) -> None:
    select = pool.run(f"SELECT ?o {{ <{EX}s3> ?p ?o }}")
    assert select.kind == "select" and select.variables == ["o"]
    assert select.rows == [(pyoxigraph.Literal("value 3"),)]
    assert pool.run("ASK { ?s ?p ?o }").boolean is True
    graph = pool.run("CONSTRUCT { ?s ?p ?o } { ?s ?p ?o } ORDER BY ?s LIMIT 3")
    assert graph.kind == "graph" and len(graph.triples) == 3
    assert isinstance(graph.triples[0], pyoxigraph.Triple)
    capped = pool.run("SELECT * { ?s ?p ?o }", max_rows=10)
    assert len(capped.rows) == 10 and capped.truncated


def test_terms_are_bound_not_spliced(pool: Executor) -> None:
    bound = {"s": pyoxigraph.NamedNode(f"{EX}s5")}
    outcome = pool.run("SELECT ?s ?o { ?s ?p ?o }", substitutions=bound)
    assert outcome.rows == [(bound["s"], pyoxigraph.Literal("value 5"))]


def test_a_malformed_query_names_line_and_column(pool: Executor) -> None:
    with pytest.raises(QueryError) as caught:
        pool.run("SELECT *\nWHERE { ?s ?p }")
    assert (caught.value.line, caught.value.column) == (2, 16)


def test_queries_run_in_other_processes_that_are_kept(pool: Executor) -> None:
    pool.run("ASK {}")
    first = pool.processes()
    assert os.getpid() not in first and all(_alive(p) for p in first)
    for _ in range(10):
        pool.run("ASK {}")
    assert pool.processes() == first


def test_a_query_past_its_timeout_is_killed_and_replaced(pool: Executor) -> None:
    pool.run("ASK {}")
    before = set(pool.processes())
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="stopped"):
        pool.run(CARTESIAN)
    assert time.monotonic() - started < 3
    killed = before - set(pool.processes())
    assert len(killed) == 1 and _gone_within(list(killed), 1)
    assert pool.run("ASK {}").boolean is True  # a fresh process answers
    assert pool.stopped["time"] == 1
    children = pool.processes()[1:]
    ticks = [_cpu_ticks(p) for p in children]
    time.sleep(0.5)
    assert [_cpu_ticks(p) for p in children] == pytest.approx(ticks, abs=3)  # idle


def test_a_memory_bomb_is_stopped_at_its_budget(pool: Executor) -> None:
    pool.run("ASK {}")
    before = set(pool.processes())
    with pytest.raises(QueryOverBudget) as caught:
        pool.run(DOUBLING)
    assert caught.value.budget == "memory" and "128 MiB" in caught.value.message
    assert _gone_within(list(before - set(pool.processes())), 1)
    assert pool.run("ASK {}").boolean is True


def test_an_answer_larger_than_its_budget_is_refused(store: OxigraphStore) -> None:
    small = Executor(store, slots=1, timeout=5, max_rows=1000, answer_bytes=2000)
    try:
        with pytest.raises(QueryOverBudget) as caught:
            small.run("SELECT * { ?s ?p ?o }")
        assert caught.value.budget == "answer"
        assert small.run("ASK {}").boolean is True
    finally:
        small.close()


def test_every_slot_busy_is_refused_at_once_and_one_client_gets_its_share(
    store: OxigraphStore,
) -> None:
    pool = Executor(store, slots=2, per_client=1, timeout=3, max_rows=10)
    try:
        pool.start()
        errors: list[BaseException] = []

        def slow(client: str) -> None:
            try:
                pool.run(CARTESIAN, client=client)
            except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
                errors.append(exc)

        first = threading.Thread(target=slow, args=("a",))
        first.start()
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(TooManyQueries):
            pool.run("ASK {}", client="a")  # "a" holds its one slot
        assert pool.run("ASK {}", client="b").boolean is True  # another client is answered
        second = threading.Thread(target=slow, args=("b",))
        second.start()
        time.sleep(0.3)
        with pytest.raises(Busy):
            pool.run("ASK {}", client="c")
        assert time.monotonic() - started < 2  # refused at once, never waiting
        first.join()
        second.join()
        assert all(isinstance(e, QueryTimeout) for e in errors) and len(errors) == 2
        assert pool.run("ASK {}", client="a").boolean is True
    finally:
        pool.close()


def test_forking_is_safe_while_another_thread_holds_the_stack_lock(store: OxigraphStore) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with executor_module._STACK_LOCK:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    pool = Executor(store, slots=1, timeout=5, max_rows=10)
    try:
        assert pool.run("ASK {}").boolean is True
    finally:
        release.set()
        holder.join()
        pool.close()


def test_closing_leaves_no_process_and_no_zombie(store: OxigraphStore) -> None:
    pool = Executor(store, slots=2, timeout=5, max_rows=10)
    pool.run("ASK {}")
    processes = pool.processes()
    assert len(processes) >= 2
    pool.close()
    assert _gone_within(processes, 2)
    assert pool.processes() == []
    assert pool.run("ASK {}").boolean is True  # it may start again
    pool.close()


def test_query_processes_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    script = (
        "import pyoxigraph, sys, time\n"
        "from leapsld.store import OxigraphStore\n"
        "from leapsld.executor import Executor\n"
        "s = OxigraphStore()\n"
        "e = Executor(s, slots=2, timeout=60, max_rows=10)\n"
        "e.run('ASK {}')\n"
        "print(*e.processes(), flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert process.stdout is not None
        pids = [int(p) for p in process.stdout.readline().split()]
        assert len(pids) >= 2 and all(_alive(p) for p in pids)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert _gone_within(pids, 2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert list(tmp_path.iterdir()) == []


def test_an_on_disk_store_is_opened_read_only_by_each_query_process(tmp_path: Path) -> None:
    written = OxigraphStore(tmp_path / "store")
    written.add_quads(_quads(50))
    written.flush()
    del written
    store = OxigraphStore(tmp_path / "store", read_only=True)
    pool = Executor(store, slots=2, timeout=2, max_rows=100)
    try:
        outcome = pool.run("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
        assert int(str(getattr(outcome.rows[0][0], "value", ""))) == 50
        with pytest.raises(QueryTimeout):
            pool.run(CARTESIAN)
        assert pool.run("ASK { ?s ?p ?o }").boolean is True
    finally:
        pool.close()


def test_query_processes_share_the_memory_store_instead_of_copying_it() -> None:
    big = OxigraphStore()
    big.add_quads(_quads(200_000))
    pool = Executor(big, slots=1, timeout=10, max_rows=10)
    try:
        pool.run("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
        child = pool.processes()[1]
        with open(f"/proc/{child}/smaps_rollup") as handle:
            fields = {
                line.split(":")[0]: int(line.split()[1])
                for line in handle
                if line.split(":")[0] in ("Rss", "Private_Dirty")
            }
        # the dataset (well over 100 MiB resident) is mapped, but only a little is its own
        assert fields["Private_Dirty"] < fields["Rss"] / 3
    finally:
        pool.close()


def test_an_answer_can_make_nothing_but_terms() -> None:
    assert _load_answer(pickle.dumps(("ok", [pyoxigraph.NamedNode(EX)]))) == (
        "ok",
        [pyoxigraph.NamedNode(EX)],
    )
    with pytest.raises(pickle.UnpicklingError):
        _load_answer(pickle.dumps(os.system))


def test_queries_waiting_for_a_slot_count_against_their_client() -> None:
    """Queueing cannot get a client past its share: a second waiting query of a client at its
    quota is refused at once (it used to wait, then be admitted over the quota)."""
    import threading
    import time

    from leapsld.errors import TooManyQueries
    from leapsld.executor import Executor
    from leapsld.store import OxigraphStore

    executor = Executor(OxigraphStore(), slots=4, timeout=5, max_rows=10, per_client=2)
    for client in "ABCD":
        executor._admit(client)  # the pool is full; A holds one of its two
    outcomes: list[str] = []

    def ask() -> None:
        try:
            executor._admit("A")
            outcomes.append("admitted")
        except TooManyQueries:
            outcomes.append("429")

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    executor._leave("C")
    executor._leave("D")
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["429", "admitted"]
    assert executor._clients["A"] == 2


def _record_job(store: OxigraphStore, target: str) -> None:
    """A background job: where it ran, at what priority, and what it saw of the store."""
    Path(target).write_text(f"{os.getpid()} {os.nice(0)} {len(store)}")


def _failing_job(store: OxigraphStore) -> None:
    raise ValueError("no such thing")


def test_a_background_job_runs_apart_at_the_lowest_priority(
    pool: Executor, store: OxigraphStore, tmp_path: Path
) -> None:
    target = tmp_path / "job.txt"
    pool.run_job(_record_job, str(target))
    pid, niceness, quads = map(int, target.read_text().split())
    assert pid != os.getpid() and niceness == JOB_NICENESS and quads == len(store)
    assert _gone_within([pid], 2)  # its process ends with it
    with pytest.raises(LeapsError, match="no such thing"):
        pool.run_job(_failing_job)
    assert pool.run("ASK {}").boolean is True  # the queries' pool is untouched


def test_a_writer_sends_back_bytes_written_in_the_query_process(pool: Executor) -> None:
    from leapsld.serialization import OutcomeWriter

    csv = pool.run("SELECT ?x { VALUES ?x { 1 2 } } ORDER BY ?x", writer=OutcomeWriter("csv"))
    assert csv.kind == "select" and csv.data == b"x\r\n1\r\n2\r\n" and csv.rows == []
    cut = pool.run("SELECT ?s { ?s ?p ?o }", max_rows=3, writer=OutcomeWriter("tsv"))
    assert cut.truncated and cut.data is not None and cut.data.count(b"\n") == 4
    graph = pool.run("CONSTRUCT { <urn:a> <urn:b> 1 } WHERE {}", writer=OutcomeWriter("ntriples"))
    assert graph.kind == "graph" and graph.data is not None and b"<urn:a> <urn:b>" in graph.data
    with pytest.raises(NotAcceptable) as refused:  # a character XML 1.0 cannot carry
        pool.run('SELECT ?x { BIND("a\\u0001" AS ?x) }', writer=OutcomeWriter("xml"))
    assert "application/sparql-results+json" in refused.value.offered
    with pytest.raises(UnsupportedFormat):  # a graph cannot be written as CSV
        pool.run("CONSTRUCT { <urn:a> <urn:b> 1 } WHERE {}", writer=OutcomeWriter("csv"))
    assert pool.run("ASK {}").boolean is True


def _query_job(store: OxigraphStore, target: str) -> None:
    """A job that runs a query of its own (a thread with a 256 MiB stack)."""
    from leapsld.query import run_query

    Path(target).write_text(str(run_query(store, "ASK { ?s ?p ?o }").boolean))


def test_a_job_is_not_held_to_the_memory_budget_of_queries(pool: Executor, tmp_path: Path) -> None:
    target = tmp_path / "asked.txt"
    pool.run_job(_query_job, str(target))  # the pool's queries get 128 MiB
    assert target.read_text() == "True"
