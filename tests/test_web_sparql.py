"""The SPARQL 1.1 Protocol at /sparql through the Flask test client."""

from __future__ import annotations

import urllib.parse

import pyoxigraph
import pytest

from leapsld.bridge import graph_from_quads
from leapsld.formats import of_kind

from .conftest import ROOT

RESULT_FORMATS = of_kind("results")
GRAPH_FORMATS = (*of_kind("graph"), *of_kind("dataset"))
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 5"


def rows(response, fmt):  # type: ignore[no-untyped-def]
    return list(pyoxigraph.parse_query_results(response.get_data(), format=fmt.results_format))


@pytest.mark.parametrize(
    "fmt", [f for f in RESULT_FORMATS if f.name != "csv"], ids=lambda f: f.name
)
@pytest.mark.parametrize("method", ["get", "form", "direct"])
def test_select_by_every_method_and_format(client, fmt, method) -> None:  # type: ignore[no-untyped-def]
    headers = {"Accept": fmt.media_type}
    if method == "get":
        response = client.get("/sparql", query_string={"query": COUNT}, headers=headers)
    elif method == "form":
        response = client.post("/sparql", data={"query": COUNT}, headers=headers)
    else:
        response = client.post(
            "/sparql",
            data=COUNT.encode(),
            headers={**headers, "Content-Type": "application/sparql-query"},
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == fmt.media_type
    assert "Accept" in response.headers["Vary"]
    assert int(rows(response, fmt)[0]["n"].value) > 100


def test_csv_results(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    header, value = response.get_data(as_text=True).split("\r\n")[:2]
    assert header == "n" and int(value) > 100


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_construct_in_every_graph_format(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": fmt.media_type}
    )
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    data = response.get_data()
    if fmt.name == "jsonld":
        import json

        body = json.loads(data)
        body["@context"] = json.loads(client.get("/context.jsonld").get_data())["@context"]
        data = json.dumps(body).encode()
    graph = graph_from_quads(pyoxigraph.parse(data, format=fmt.rdf_format))
    assert len(graph) == 5


def test_results_and_graphs_negotiate_separately(client) -> None:  # type: ignore[no-untyped-def]
    accept = "text/turtle, application/sparql-results+xml;q=0.9"
    select = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": accept})
    construct = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept})
    assert select.mimetype == "application/sparql-results+xml"
    assert construct.mimetype == "text/turtle"


def test_defaults_without_accept(client) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.get("/sparql", query_string={"query": COUNT}).mimetype
        == "application/sparql-results+json"
    )
    assert client.get("/sparql", query_string={"query": CONSTRUCT}).mimetype == "text/turtle"


def test_format_parameter_overrides_accept(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/sparql",
        query_string={"query": COUNT, "format": "csv"},
        headers={"Accept": "application/json"},
    )
    assert response.mimetype == "text/csv"
    by_media_type = client.get(
        "/sparql", query_string={"query": COUNT, "format": "application/sparql-results+xml"}
    )
    assert by_media_type.mimetype == "application/sparql-results+xml"
    wrong_kind = client.get("/sparql", query_string={"query": COUNT, "format": "turtle"})
    assert wrong_kind.status_code == 406


def test_406_for_results_names_what_is_offered(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/sparql", query_string={"query": COUNT}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.get_json()["detail"]


def test_named_and_default_graph_uris(client, dataset) -> None:  # type: ignore[no-untyped-def]
    graph = next(g for g in dataset.data_graphs if g.endswith("/ontology/leaps"))
    only = client.get(
        "/sparql",
        query_string={
            "query": "ASK { ?o a <http://www.w3.org/2002/07/owl#Ontology> }",
            "default-graph-uri": graph,
        },
    )
    assert only.get_json()["boolean"] is True
    other = next(g for g in dataset.data_graphs if "/data/" in g)
    none = client.get(
        "/sparql",
        query_string={
            "query": "ASK { ?o a <http://www.w3.org/2002/07/owl#Ontology> }",
            "default-graph-uri": other,
        },
    )
    assert none.get_json()["boolean"] is False
    named = client.get(
        "/sparql",
        query_string={
            "query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": [graph, other],
        },
    )
    found = {b["g"]["value"] for b in named.get_json()["results"]["bindings"]}
    assert found == {graph, other}


def test_malformed_query_is_400_with_position(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n ?s ?p }"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["line"] == 2 and body["column"] >= 1
    assert body["detail"].startswith("line 2, column")


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:9/x>",
        "CLEAR ALL",
        "DROP ALL",
        "CREATE GRAPH <urn:g>",
    ],
)
def test_updates_are_refused_and_nothing_changes(client, dataset, update: str) -> None:  # type: ignore[no-untyped-def]
    before = len(dataset.store)
    for response in (
        client.get("/sparql", query_string={"query": update}),
        client.post("/sparql", data={"update": update}),
        client.post(
            "/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-update"}
        ),
        client.post(
            "/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-query"}
        ),
    ):
        assert response.status_code == 403, response.get_data(as_text=True)
    assert len(dataset.store) == before


def test_service_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    query = "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 403
    assert "SERVICE" in response.get_json()["detail"]


def test_bad_requests(client) -> None:  # type: ignore[no-untyped-def]
    two = client.get(
        "/sparql?" + urllib.parse.urlencode([("query", "ASK {}"), ("query", "ASK {}")])
    )
    assert two.status_code == 400
    wrong_type = client.post("/sparql", data=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert (
        wrong_type.status_code == 400
        and "application/sparql-query" in wrong_type.get_json()["detail"]
    )
    empty = client.get("/sparql", query_string={"query": "  "})
    assert empty.status_code == 400


def test_long_queries_clients_send_are_answered(client) -> None:  # type: ignore[no-untyped-def]
    """A VALUES list of thousands of IRIs is what clients really send (a 197 KB one got 413)."""
    values = " ".join(f"<https://w3id.org/leaps/id/r/{n}>" for n in range(20_000))
    text = f"SELECT ?r WHERE {{ VALUES ?r {{ {values} }} }} LIMIT 1"
    assert len(text) > 600_000
    assert client.post("/sparql", data={"query": text}).status_code == 200
    posted = client.post(
        "/sparql", data=text.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert posted.status_code == 200


def test_huge_requests_are_413(client, app) -> None:  # type: ignore[no-untyped-def]
    limit = app.extensions["leapsld"].settings.max_query_bytes
    text = "ASK {}" + " " * limit
    assert client.post("/sparql", data={"query": text}).status_code == 413
    assert (
        client.post(
            "/sparql", data=text.encode(), headers={"Content-Type": "application/sparql-query"}
        ).status_code
        == 413
    )


def test_truncated_results_say_so(app, dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.web import create_app

    small = create_app(dataset.settings.replace(max_rows=3), dataset=dataset).test_client()
    response = small.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert response.headers["X-SPARQL-Truncated"] == "true"
    assert response.headers["X-SPARQL-MaxRows"] == "3"
    assert len(response.get_json()["results"]["bindings"]) == 3
    full = small.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 2"})
    assert "X-SPARQL-Truncated" not in full.headers


def test_timeout_is_503(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.web import create_app

    quick = create_app(
        dataset.settings.replace(query_timeout=0.05, max_rows=10**9), dataset=dataset
    ).test_client()
    slow = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    response = quick.get("/sparql", query_string={"query": slow})
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_service_description_without_query(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = graph_from_quads(
        pyoxigraph.parse(response.get_data(), format=pyoxigraph.RdfFormat.TURTLE)
    )
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoints = {str(o) for s, p, o in graph if str(p) == sd + "endpoint"}
    assert endpoints == {"http://localhost/sparql"}
    for fmt in ("application/ld+json", "application/rdf+xml"):
        assert client.get("/sparql", headers={"Accept": fmt}).mimetype == fmt


def test_query_page_for_browsers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert response.mimetype == "text/html"
    assert "<form" in response.get_data(as_text=True)


def test_cors_preflight_for_direct_post(client) -> None:  # type: ignore[no-untyped-def]
    response = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_head_answered(client) -> None:  # type: ignore[no-untyped-def]
    response = client.head("/sparql", query_string={"query": COUNT})
    assert response.status_code == 200 and response.get_data() == b""


CQ_FILES = sorted((ROOT / "queries").glob("cq*.rq"))


@pytest.mark.parametrize("path", CQ_FILES, ids=lambda p: p.stem)
def test_every_competency_question_answers_in_all_four_formats(client, dataset, path) -> None:  # type: ignore[no-untyped-def]
    from leapsld.query import run_query
    from leapsld.serialization import serialize_results

    text = path.read_text()
    expected = run_query(dataset.store, text)
    for fmt in RESULT_FORMATS:
        response = client.post("/sparql", data={"query": text}, headers={"Accept": fmt.media_type})
        assert response.status_code == 200
        assert response.get_data() == serialize_results(expected, fmt), fmt.name
        if fmt.name != "csv":
            parsed = pyoxigraph.parse_query_results(response.get_data(), format=fmt.results_format)
            if expected.kind == "ask":
                assert bool(parsed) == expected.boolean
            else:
                assert len(list(parsed)) == len(expected.rows)


def test_html_results_never_link_to_javascript(client) -> None:  # type: ignore[no-untyped-def]
    query = 'SELECT ?x { BIND(IRI("javascript:alert(document.domain)//") AS ?x) }'
    response = client.get("/sparql", query_string={"query": query, "format": "html"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="javascript:' not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_protocol_misuse_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/sparql", query_string={"update": "DROP ALL"}).status_code == 403
    both = client.post(
        "/sparql?query=ASK%20%7B%7D",
        data=b"ASK {}",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert both.status_code == 400
    url_only = client.post("/sparql?query=ASK%20%7B%7D", data={"x": "1"})
    assert url_only.status_code == 400
    latin1 = client.post(
        "/sparql",
        data="SELECT * { ?s ?p 'café' }".encode("latin-1"),
        headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"},
    )
    assert latin1.status_code == 400
    not_utf8 = client.post(
        "/sparql",
        data=b"SELECT * { ?s ?p 'caf\xe9' }",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert not_utf8.status_code == 400
    form_not_utf8 = client.post(
        "/sparql",
        data=b"query=ASK%20%7B%22caf%E9%22%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form_not_utf8.status_code == 400
    for bad in ("not an iri", ""):
        assert (
            client.get(
                "/sparql", query_string={"query": "ASK {}", "default-graph-uri": bad}
            ).status_code
            == 400
        )


def test_from_in_the_query_is_honoured(client, dataset) -> None:  # type: ignore[no-untyped-def]
    graph = next(g for g in dataset.data_graphs if g.endswith("/ontology/leaps"))
    query = f"ASK FROM <{graph}> {{ ?s a <http://www.w3.org/ns/org#Membership> }}"
    assert client.get("/sparql", query_string={"query": query}).get_json()["boolean"] is False


def test_strong_etags_follow_the_bytes(client) -> None:  # type: ignore[no-untyped-def]
    query = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 3"
    compact = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/ld+json"}
    )
    expanded = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'},
    )
    assert compact.headers["ETag"] != expanded.headers["ETag"]
    random = "SELECT (RAND() AS ?r) {}"
    first, second = (client.get("/sparql", query_string={"query": random}) for _ in range(2))
    assert (first.headers["ETag"] == second.headers["ETag"]) == (
        first.get_data() == second.get_data()
    )


def test_the_default_graph_is_the_data_not_the_shapes(client) -> None:  # type: ignore[no-untyped-def]
    ask = "ASK { ?s a <http://www.w3.org/ns/shacl#NodeShape> }"
    assert client.get("/sparql", query_string={"query": ask}).get_json()["boolean"] is False
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    served = int(
        client.get("/sparql", query_string={"query": count}).get_json()["results"]["bindings"][0][
            "n"
        ]["value"]
    )
    void = client.get("/void.nt").get_data(as_text=True)
    assert f'<http://rdfs.org/ns/void#triples> "{served}"' in void


def test_format_spellings_clients_send(client) -> None:  # type: ignore[no-untyped-def]
    construct = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 2"
    for spelling, media_type in (
        ("json-ld", "application/ld+json"),
        ("rdf+xml", "application/rdf+xml"),
        ("xml", "application/rdf+xml"),
    ):
        response = client.get(
            "/sparql", query_string={"query": construct, "format": spelling, "output": spelling}
        )
        assert response.mimetype == media_type, spelling
    unknown = client.get(
        "/sparql",
        query_string={"query": construct, "format": "bogus"},
        headers={"Accept": "application/n-triples"},
    )
    assert unknown.mimetype == "application/n-triples"
    assert (
        client.get("/sparql", query_string={"query": construct, "format": "bogus"}).status_code
        == 406
    )


def test_service_description_lists_the_registry_formats_the_endpoint_answers(client) -> None:  # type: ignore[no-untyped-def]
    """``sd:resultFormat`` names each results and RDF format by its W3C IRI, from the registry."""
    response = client.get("/sparql", headers={"Accept": "application/n-triples"})
    graph = graph_from_quads(
        pyoxigraph.parse(response.get_data(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    )
    sd = "http://www.w3.org/ns/sparql-service-description#"
    listed = {str(o) for _, p, o in graph if str(p) == sd + "resultFormat"}
    from leapsld.web.sparql import GRAPH_FORMATS, RESULT_FORMATS

    expected = {f.w3c for f in (*RESULT_FORMATS, *GRAPH_FORMATS) if f.kind != "page"}
    assert listed == expected
    assert len(listed) == 10 and all(
        iri.startswith("http://www.w3.org/ns/formats/") for iri in listed
    )


@pytest.mark.parametrize(
    ("value", "media_type", "graph"),
    [
        *(
            (value, f.media_type, True)
            for f in of_kind("graph", "dataset")
            for value in (*f.names, *f.graph_aliases)
        ),
        *((value, f.media_type, False) for f in of_kind("results") for value in f.names),
    ],
)
def test_every_registry_name_and_alias_works_as_format_parameter(
    client, value: str, media_type: str, graph: bool
) -> None:  # type: ignore[no-untyped-def]
    query = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 2" if graph else COUNT
    response = client.get("/sparql", query_string={"query": query, "format": value})
    assert response.status_code == 200, value
    assert response.mimetype == media_type, value
