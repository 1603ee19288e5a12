"""Harvesters with stock clients against a real server: every document reads unmodified."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph
import pytest
import rdflib
import requests
from pyld import jsonld

from .test_server import free_port, start, stop, wait_until_up

ROUTES = [
    "/id/org/sesame",
    "/doc/org/sesame",
    "/doc/project/beats.jsonld",
    "/doc/project/beats",
    "/.well-known/void",
    "/def",
    "/shapes",
]


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    port = free_port()
    process = start(port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        yield url
    finally:
        stop(process)


@pytest.mark.parametrize("route", ROUTES)
def test_pyld_reads_every_document_with_its_stock_loader(origin: str, route: str) -> None:
    """pyld's requests loader broke on repeated ``rel="alternate"`` links (it got a list)."""
    nquads = jsonld.to_rdf(f"{origin}{route}", {"format": "application/n-quads"})
    parsed = list(pyoxigraph.parse(nquads.encode(), format=pyoxigraph.RdfFormat.N_QUADS))
    assert len(parsed) > 5


@pytest.mark.parametrize(
    "profile", ["expanded", "compacted", "flattened"], ids=lambda p: f"profile-{p}"
)
def test_pyld_reads_every_profile_without_following_itself(origin: str, profile: str) -> None:
    loads: list[str] = []
    loader = jsonld.requests_document_loader()

    def counting(url: str, options: dict[str, object]) -> object:
        loads.append(url)
        return loader(url, options)

    accept = f'application/ld+json;profile="http://www.w3.org/ns/json-ld#{profile}"'
    document = requests.get(f"{origin}/doc/org/sesame", headers={"Accept": accept}, timeout=10)
    assert document.status_code == 200
    assert 'rel="alternate"' not in document.headers.get("Link", "")
    nquads = jsonld.to_rdf(
        f"{origin}/doc/org/sesame.jsonld",
        {"format": "application/n-quads", "documentLoader": counting},
    )
    assert nquads and len(loads) <= 2  # the document, and its context


@pytest.mark.parametrize("route", ROUTES)
def test_rdflib_parses_every_document(origin: str, route: str) -> None:
    graph = rdflib.Graph().parse(f"{origin}{route}")
    assert len(graph) > 5


def test_plain_json_clients_get_compacted_json_ld(origin: str) -> None:
    for route in ("/doc/org/sesame", "/def", "/.well-known/void", "/shapes"):
        answer = requests.get(
            f"{origin}{route}", headers={"Accept": "application/json"}, timeout=10
        )
        assert answer.status_code == 200, route
        assert answer.headers["Content-Type"].startswith("application/ld+json"), route
        assert answer.json()["@context"], route
    results = requests.get(
        f"{origin}/sparql",
        params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert results.headers["Content-Type"].startswith("application/sparql-results+json")
