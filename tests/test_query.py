"""Queries: read-only guard, limits, timeouts, dataset selection and error positions."""

from __future__ import annotations

import os

import pytest

from leapsld.errors import BadRequest, QueryError, QueryRefused, QueryTimeout
from leapsld.guard import check_read_only
from leapsld.query import QueryRunner, run_query
from leapsld.store import OxigraphStore

BASE = "https://w3id.org/leaps/"
PEOPLE = f"{BASE}graph/tests/fixtures/people"
SMALL = f"{BASE}graph/tests/fixtures/small"


def test_select_uses_the_union_of_graphs_by_default(store: OxigraphStore) -> None:
    outcome = run_query(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert outcome.kind == "select"
    assert int(outcome.rows[0][0].value) == 10


def test_default_and_named_graphs_select_the_dataset(store: OxigraphStore) -> None:
    only_small = run_query(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", default_graphs=[SMALL])
    assert int(only_small.rows[0][0].value) == 1
    named = run_query(
        store, "SELECT ?g { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", named_graphs=[PEOPLE]
    )
    assert [r[0].value for r in named.rows] == [PEOPLE]
    empty_default = run_query(store, "ASK { ?s ?p ?o }", named_graphs=[PEOPLE])
    assert empty_default.boolean is False


def test_ask_and_construct(store: OxigraphStore) -> None:
    assert run_query(store, "ASK { ?s a <https://example.org/Person> }").boolean is True
    graph = run_query(store, "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c }")
    assert graph.kind == "graph"
    assert len(graph.triples) == 2


def test_rows_are_capped_and_marked_truncated(store: OxigraphStore) -> None:
    outcome = run_query(store, "SELECT * { ?s ?p ?o }", max_rows=3)
    assert len(outcome.rows) == 3
    assert outcome.truncated
    assert not run_query(store, "SELECT * { ?s ?p ?o }", max_rows=10).truncated


SSRF = [
    # a comment ended by a bare CR: the parser sees SERVICE on the next line
    "SELECT ?x { # c\rSERVICE <http://127.0.0.1:9/cr> { ?a ?b ?x }\n}",
    # no-break space inside an IRI, then a quote that would open a fake string
    "SELECT * { <http://a\u00a0'x> ?p ?o . SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } #'",
    # a codepoint escape inside an IRI, and one spelling the keyword
    "SELECT * { <http://a\\u00E9'> ?p ?o . SERV\\u0049CE <http://127.0.0.1:9/> { ?s ?p ?o } } #'",
    "select * { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * { SERVICE #\n ?endpoint { ?s ?p ?o } }",
]


@pytest.mark.parametrize("text", SSRF)
def test_service_bypasses_are_refused(store: OxigraphStore, text: str) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        run_query(store, text)


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <a:a> <a:b> <a:c> }",
        "PREFIX ex: <https://example.org/>\nDELETE WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:9/x>",
        "CLEAR ALL",
        "DROP GRAPH <a:g>",
        "CREATE GRAPH <a:g>",
        "WITH <a:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "# comment\nadd <a:g> to <a:h>",
    ],
)
def test_updates_are_refused_and_change_nothing(store: OxigraphStore, text: str) -> None:
    before = len(store)
    with pytest.raises(QueryRefused, match="read-only"):
        run_query(store, text)
    assert len(store) == before


def test_service_is_refused_before_any_request(store: OxigraphStore) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        run_query(store, "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")


def test_keywords_in_strings_iris_and_names_are_not_refused(store: OxigraphStore) -> None:
    check_read_only('SELECT ?service { ?service <https://e/DELETE> "SERVICE" } # SERVICE')
    outcome = run_query(store, 'SELECT ?insert { BIND("INSERT DATA" AS ?insert) }')
    assert outcome.rows[0][0].value == "INSERT DATA"


def test_syntax_error_names_line_and_column(store: OxigraphStore) -> None:
    with pytest.raises(QueryError) as caught:
        run_query(store, "SELECT *\nWHERE { ?s ?p }")
    assert (caught.value.line, caught.value.column) == (2, 16)
    assert caught.value.message.startswith("line 2, column 16:")


SLOW = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o . ?p ?q ?r . ?s ?t ?u }"


def test_timeout_stops_a_slow_query(store: OxigraphStore) -> None:
    # 10^7 rows: far more than 0.05 s of work; the worker stops at its next row once cancelled
    runner = QueryRunner(store, slots=2, timeout=0.05, max_rows=10**9)
    with pytest.raises(QueryTimeout, match=r"longer than 0\.05 s"):
        runner.run(SLOW)
    assert runner.run("ASK {}").boolean is True


def test_an_unstoppable_query_is_killed_and_its_slot_is_back_at_once(store: OxigraphStore) -> None:
    runner = QueryRunner(store, slots=1, timeout=0.05, max_rows=10)
    # an aggregate computes to the end (about 0.3 s here) before its first row: the engine
    # cannot stop it, so its process is killed
    unstoppable = (
        "SELECT (COUNT(*) AS ?n) { " + " . ".join(f"?a{i} ?b{i} ?c{i}" for i in range(6)) + " }"
    )
    with pytest.raises(QueryTimeout):
        runner.run(unstoppable)
    assert runner.run("ASK {}").boolean is True  # the one slot is free again, at once
    assert runner.executor.stopped["time"] == 1
    runner.close()


def test_queries_run_in_kept_query_processes(store: OxigraphStore) -> None:
    runner = QueryRunner(store, slots=3, timeout=5, max_rows=10)
    assert runner.executor.started_in is None  # nothing runs before the first query (forks)
    for _ in range(20):
        assert runner.run("ASK {}").boolean is True
    processes = runner.executor.processes()
    assert runner.executor.started_in == os.getpid()
    assert 2 <= len(processes) <= 4 and os.getpid() not in processes  # a zygote, its children
    for _ in range(20):
        runner.run("ASK {}")
    assert runner.executor.processes() == processes  # kept, not forked per query
    runner.close()
    assert runner.executor.processes() == []


def test_the_querys_own_from_is_honoured(store: OxigraphStore) -> None:
    text = f"SELECT (COUNT(*) AS ?n) FROM <{SMALL}> {{ ?s ?p ?o }}"
    assert int(run_query(store, text).rows[0][0].value) == 1
    protocol = run_query(store, text, default_graphs=[PEOPLE])
    assert int(protocol.rows[0][0].value) == 9  # the protocol's dataset overrides FROM


def test_a_graph_name_that_is_not_an_iri_is_a_bad_request(store: OxigraphStore) -> None:
    with pytest.raises(BadRequest):
        run_query(store, "ASK {}", default_graphs=["not an iri"])
