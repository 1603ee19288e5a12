"""VoID + DCAT, dumps with checksums, the home page, and the one error shape."""

from __future__ import annotations

import gzip
import hashlib

import pyoxigraph
import pytest
import rdflib

from leapsld.bridge import graph_from_quads

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
BASE = "https://w3id.org/leaps/"


def turtle(response):  # type: ignore[no-untyped-def]
    return graph_from_quads(
        pyoxigraph.parse(response.get_data(), format=pyoxigraph.RdfFormat.TURTLE)
    )


def objects(graph, predicate: str, subject: str | None = None) -> set[str]:  # type: ignore[no-untyped-def]
    node = rdflib.URIRef(subject) if subject else None
    return {str(o) for o in graph.objects(node, rdflib.URIRef(predicate))}


DATASET = f"{BASE}void#dataset"


def fetch(client, path: str) -> bytes:  # type: ignore[no-untyped-def]
    """GET a file response and close it (send_file keeps the file open until then)."""
    response = client.get(path)
    try:
        assert response.status_code == 200, path
        return response.get_data()
    finally:
        response.close()


@pytest.mark.parametrize("path", ["/.well-known/void", "/void", "/void.ttl"])
def test_void_describes_the_dataset(client, dataset, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = turtle(response)
    assert objects(graph, VOID + "sparqlEndpoint") == {"http://localhost/sparql"}
    assert objects(graph, VOID + "uriSpace") == {f"{BASE}id/"}
    assert objects(graph, VOID + "dataDump") == {
        "http://localhost/dumps/leaps.ttl",
        "http://localhost/dumps/leaps.nt.gz",
        "http://localhost/dumps/leaps.jsonld",
        "http://localhost/dumps/leaps.nq.gz",
    }
    assert f"{BASE}id/org/sesame" in objects(graph, VOID + "exampleResource")
    for predicate in ("license", "source", "modified"):
        assert objects(graph, "http://purl.org/dc/terms/" + predicate)
    (triples,) = (int(v) for v in objects(graph, VOID + "triples", DATASET))
    asserted = sum(1 for g in dataset.data_graphs for _ in dataset.store.quads(graph=g))
    assert triples == asserted
    assert "http://www.w3.org/ns/org#" in objects(graph, VOID + "vocabulary")
    assert int(next(iter(objects(graph, VOID + "classes", DATASET)))) > 5
    (entities,) = objects(graph, VOID + "entities", DATASET)
    described = {
        q.subject.value
        for g in dataset.data_graphs
        for q in dataset.store.quads(graph=g)
        if isinstance(q.subject, pyoxigraph.NamedNode) and q.subject.value.startswith(f"{BASE}id/")
    }
    assert int(entities) == len(described)


def test_void_links_follow_the_origin(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.web import create_app

    settings = dataset.settings.replace(allowed_hosts="data.example.org")
    client = create_app(settings, dataset=dataset).test_client()
    response = client.get("/void.ttl", base_url="http://data.example.org:8080")
    graph = turtle(response)
    assert objects(graph, VOID + "sparqlEndpoint") == {"http://data.example.org:8080/sparql"}


def test_dumps_are_complete_and_checksummed(client, dataset) -> None:  # type: ignore[no-untyped-def]
    sums = dict(
        reversed(line.split("  "))
        for line in fetch(client, "/dumps/SHA256SUMS").decode().splitlines()
    )
    assert set(sums) == {"leaps.ttl", "leaps.nt.gz", "leaps.jsonld", "leaps.nq.gz"}
    asserted = {
        (q.subject, q.predicate, q.object)
        for g in dataset.data_graphs
        for q in dataset.store.quads(graph=g)
    }
    for name, fmt in (
        ("leaps.ttl", pyoxigraph.RdfFormat.TURTLE),
        ("leaps.nt.gz", pyoxigraph.RdfFormat.N_TRIPLES),
        ("leaps.jsonld", pyoxigraph.RdfFormat.JSON_LD),
    ):
        data = fetch(client, f"/dumps/{name}")
        assert hashlib.sha256(data).hexdigest() == sums[name]
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        parsed = {(t.subject, t.predicate, t.object) for t in pyoxigraph.parse(data, format=fmt)}
        blank_free = {
            t for t in asserted if not any(isinstance(x, pyoxigraph.BlankNode) for x in t)
        }
        assert len(parsed) == len(asserted)
        assert blank_free <= parsed
    quads = list(
        pyoxigraph.parse(
            gzip.decompress(fetch(client, "/dumps/leaps.nq.gz")),
            format=pyoxigraph.RdfFormat.N_QUADS,
        )
    )
    assert {q.graph_name.value for q in quads} == set(dataset.data_graphs)  # each source kept
    assert client.get("/dumps/nothing.ttl").status_code == 404
    gz = client.head("/dumps/leaps.nt.gz")
    assert gz.mimetype == "application/gzip"
    gz.close()


def test_dumps_index_lists_checksums(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/dumps/").get_data(as_text=True)
    assert "leaps.nt.gz" in html and "SHA256SUMS" in html


def test_dump_checksums_are_in_dcat(client) -> None:  # type: ignore[no-untyped-def]
    graph = turtle(client.get("/void.ttl"))
    values = objects(graph, "http://spdx.org/rdf/terms#checksumValue")
    sums = {
        line.split("  ")[0] for line in fetch(client, "/dumps/SHA256SUMS").decode().splitlines()
    }
    assert values == sums
    assert len(objects(graph, DCAT + "downloadURL")) == 4


def test_home_page_links_to_examples_and_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="http://localhost/doc/org/sesame"' in html
    assert "http://localhost/sparql" in html
    assert "/.well-known/void" in response.headers["Link"]


def test_unknown_route_and_wrong_method_share_the_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.delete("/sparql")
    assert wrong.status_code == 405 and wrong.get_json()["status"] == 405
    assert "GET" in wrong.headers["Allow"]
    browser = client.get("/nowhere", headers={"Accept": "text/html"})
    assert browser.mimetype == "text/html" and "404" in browser.get_data(as_text=True)


def test_reverse_proxy_headers_are_honoured_only_when_trusted(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.web import create_app

    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "data.example.org",
        "X-Forwarded-Prefix": "/leaps",
    }
    settings = dataset.settings.replace(trust_proxy=True, allowed_hosts="data.example.org")
    trusted = create_app(settings, dataset=dataset).test_client()
    response = trusted.get("/id/org/sesame", headers=headers)
    assert response.headers["Location"] == "https://data.example.org/leaps/doc/org/sesame"
    untrusted = create_app(dataset.settings, dataset=dataset).test_client()
    assert (
        untrusted.get("/id/org/sesame", headers=headers).headers["Location"]
        == "http://localhost/doc/org/sesame"
    )


def test_dumps_beside_an_on_disk_store_are_written_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from leapsld.pipeline import build
    from leapsld.settings import Settings
    from leapsld.web import create_app

    from .conftest import ROOT

    settings = Settings.from_env({}, root=ROOT, store=str(tmp_path / "store"))
    first = create_app(settings, dataset=build(settings)).extensions["leapsld"].dumps
    written = [d.path.stat().st_mtime_ns for d in first]
    again = create_app(settings, dataset=build(settings)).extensions["leapsld"].dumps
    assert [d.path.stat().st_mtime_ns for d in again] == written  # reused, not rewritten
    assert [(d.name, d.sha256, d.size) for d in again] == [
        (d.name, d.sha256, d.size) for d in first
    ]


def test_void_features_are_the_registry_graph_formats(client) -> None:  # type: ignore[no-untyped-def]
    from leapsld.formats import of_kind

    graph = turtle(client.get("/void.ttl"))
    assert objects(graph, VOID + "feature") == {f.w3c for f in of_kind("graph")}
