"""Repeated SPARQL queries answered from the answer memo, tried on a real server over HTTP.

An answer is a pure function of the dataset version, the query (in normal form), the protocol
dataset and the format: the same query sent again (GET or POST, spelled differently) gets the
same bytes and ETag without running; a cut answer is never kept; the memory bound holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from .conftest import ROOT
from .test_server import BASE, LEAPSLD, clean_env, free_port, spawn, stop, wait_until_up

JSON = "application/sparql-results+json"
#: Who is in the graph of one file; the same query spelled another way below.
QUERY = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?name WHERE { ?org a org:FormalOrganization ; rdfs:label ?name } ORDER BY ?name"""
VARIANTS = (
    # comments, white space, lower-case keywords, another prefix name
    """# who is there
prefix o: <http://www.w3.org/ns/org#> PREFIX : <http://www.w3.org/2000/01/rdf-schema#>
select ?name where {
    ?org a o:FormalOrganization ;   # an organisation
         :label ?name
} order by ?name""",
    # no prefix at all
    "SELECT ?name WHERE { ?org a <http://www.w3.org/ns/org#FormalOrganization> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?name } ORDER BY ?name",
)
CACHE_MIB = 1
MAX_ROWS = 50


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    port = free_port()
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port), "--max-rows", str(MAX_ROWS), "--no-validate"],
        cwd=ROOT,
        env=clean_env(LEAPSLD_CACHE_MEMORY=str(CACHE_MIB)),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        yield url
    finally:
        stop(process)


def _metric(origin: str, name: str, labels: str = "") -> float:
    text = requests.get(f"{origin}/metrics", timeout=10).text
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + "$", text, re.M)
    return float(match.group(1)) if match else 0.0


def _counts(origin: str) -> tuple[float, float]:
    """(answers kept, answers run) so far."""
    return (
        _metric(origin, "leapsld_sparql_answers_total", 'source="kept"'),
        _metric(origin, "leapsld_sparql_answers_total", 'source="run"'),
    )


def test_a_repeated_query_gets_the_same_bytes_and_etag_and_304(origin: str) -> None:
    first = requests.get(
        f"{origin}/sparql", params={"query": QUERY}, headers={"Accept": JSON}, timeout=30
    )
    assert first.status_code == 200, first.text
    assert first.json()["results"]["bindings"]
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")  # strong: it names these bytes
    kept, run = _counts(origin)
    again = requests.get(
        f"{origin}/sparql", params={"query": QUERY}, headers={"Accept": JSON}, timeout=30
    )
    assert again.content == first.content and again.headers["ETag"] == etag
    same = requests.get(
        f"{origin}/sparql",
        params={"query": QUERY},
        headers={"Accept": JSON, "If-None-Match": etag},
        timeout=30,
    )
    assert same.status_code == 304 and same.headers["ETag"] == etag and not same.content
    assert _counts(origin) == (kept + 1, run)  # the 304 came from the memo, nothing ran


def test_the_same_query_spelled_otherwise_or_posted_is_not_run_again(origin: str) -> None:
    first = requests.get(
        f"{origin}/sparql", params={"query": QUERY}, headers={"Accept": JSON}, timeout=30
    )
    kept, run = _counts(origin)
    answers = [
        requests.post(f"{origin}/sparql", data={"query": QUERY}, headers={"Accept": JSON}),
        requests.post(
            f"{origin}/sparql",
            data=QUERY.encode(),
            headers={"Accept": JSON, "Content-Type": "application/sparql-query"},
        ),
        *(
            requests.post(
                f"{origin}/sparql",
                data=text.encode(),
                headers={"Accept": JSON, "Content-Type": "application/sparql-query"},
            )
            for text in VARIANTS
        ),
        *(
            requests.get(f"{origin}/sparql", params={"query": text}, headers={"Accept": JSON})
            for text in VARIANTS
        ),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.content == first.content
        assert answer.headers["ETag"] == first.headers["ETag"]
    assert _counts(origin) == (kept + len(answers), run)


def test_another_dataset_or_format_or_query_is_run(origin: str) -> None:
    graph = f"{BASE}graph/data/organisations"
    whole = requests.get(
        f"{origin}/sparql", params={"query": QUERY}, headers={"Accept": JSON}, timeout=30
    )
    kept, run = _counts(origin)
    one_graph = requests.get(
        f"{origin}/sparql",
        params={"query": QUERY, "default-graph-uri": "urn:leapsld:test:none"},
        headers={"Accept": JSON},
        timeout=30,
    )
    assert one_graph.status_code == 200
    assert one_graph.json()["results"]["bindings"] == []  # not the kept answer
    assert one_graph.content != whole.content
    named = requests.get(
        f"{origin}/sparql",
        params={"query": QUERY, "named-graph-uri": graph},
        headers={"Accept": JSON},
        timeout=30,
    )
    assert named.status_code == 200
    csv = requests.get(
        f"{origin}/sparql", params={"query": QUERY}, headers={"Accept": "text/csv"}, timeout=30
    )
    assert csv.headers["Content-Type"].startswith("text/csv")
    # a string that differs only in white space is another query
    spaced = requests.get(
        f"{origin}/sparql",
        params={"query": 'SELECT ("a  b" AS ?x) {}'},
        headers={"Accept": JSON},
        timeout=30,
    )
    tight = requests.get(
        f"{origin}/sparql",
        params={"query": 'SELECT ("a b" AS ?x) {}'},
        headers={"Accept": JSON},
        timeout=30,
    )
    assert spaced.json()["results"]["bindings"][0]["x"]["value"] == "a  b"
    assert tight.json()["results"]["bindings"][0]["x"]["value"] == "a b"
    assert _counts(origin) == (kept, run + 5)


def test_a_cut_answer_is_never_kept(origin: str) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    kept, run = _counts(origin)
    for _ in range(2):
        for send in (
            lambda: requests.get(f"{origin}/sparql", params={"query": query}, timeout=30),
            lambda: requests.post(f"{origin}/sparql", data={"query": query}, timeout=30),
        ):
            cut = send()
            assert cut.status_code == 200
            assert cut.headers["X-SPARQL-Truncated"] == "true"
            assert len(cut.json()["results"]["bindings"]) == MAX_ROWS
    assert _counts(origin) == (kept, run + 4)


def test_a_flood_of_different_queries_stays_within_the_bound(origin: str) -> None:
    padding = "x" * 1500
    with requests.Session() as session:
        for n in range(1200):  # ~3 KB of key and answer each: three times the bound
            answer = session.get(
                f"{origin}/sparql",
                params={"query": f'SELECT ("{padding}{n}" AS ?x) {{}}'},
                headers={"Accept": JSON},
                timeout=30,
            )
            assert answer.status_code == 200
    bound = _metric(origin, "leapsld_cache_max_bytes")
    assert bound == CACHE_MIB << 20
    assert 0 < _metric(origin, "leapsld_cache_bytes") <= bound
    kept_now = _metric(origin, "leapsld_cache_entries", 'kind="answer"')
    assert 0 < kept_now < 1200
    # the last ones are still kept, the first ones were let go
    kept, run = _counts(origin)
    for n, was_kept in ((1199, True), (0, False)):
        session_answer = requests.get(
            f"{origin}/sparql",
            params={"query": f'SELECT\n\t("{padding}{n}"  AS ?x) {{}}'},  # another spelling
            headers={"Accept": JSON},
            timeout=30,
        )
        assert session_answer.status_code == 200
        kept, run = (kept + 1, run) if was_kept else (kept, run + 1)
        assert _counts(origin) == (kept, run)
