"""Harvesters with stock clients against a real server: every document reads unmodified."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin

import pyoxigraph
import pytest
import rdflib
import requests
from pyld import jsonld

from .test_server import served

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
    with served() as url:
        yield url


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


BASE = "https://w3id.org/leaps/"
RDF_TYPES = {
    "text/turtle": pyoxigraph.RdfFormat.TURTLE,
    "application/n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
    "application/n-quads": pyoxigraph.RdfFormat.N_QUADS,
    "application/trig": pyoxigraph.RdfFormat.TRIG,
    "application/rdf+xml": pyoxigraph.RdfFormat.RDF_XML,
    "application/ld+json": pyoxigraph.RdfFormat.JSON_LD,
}


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def _local(origin: str, iri: str) -> str | None:
    """The URL on this server for an IRI it answers for (the base IRI mapped onto the origin)."""
    iri = iri.split("#", 1)[0]
    for prefix in (origin + "/", BASE):
        if iri.startswith(prefix):
            return origin + "/" + iri[len(prefix) :]
    return None


def test_a_crawl_from_void_finds_every_document_and_the_whole_dataset(origin: str) -> None:
    """Start at VoID and follow every IRI the server answers for, in every document, header
    and page: each answers 200 and parses; the descriptions of all things together hold every
    triple of the dump about them."""
    queue, seen = [f"{origin}/.well-known/void"], set()
    contexts: dict[str, object] = {}
    fetch = jsonld.requests_document_loader()

    def loader(url: str, options: dict[str, object]) -> object:
        if url not in contexts:
            contexts[url] = fetch(url, options)
        return contexts[url]

    described: set[tuple[str, str, str]] = set()
    failures: list[str] = []
    while queue and len(seen) < 5_000:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        answer = requests.get(url, headers={"Accept": "text/turtle, text/html;q=0.5"}, timeout=30)
        if answer.status_code != 200:
            failures.append(f"{url}: {answer.status_code}")
            continue
        found = [
            link.split(">", 1)[0].lstrip(" <")
            for link in answer.headers.get("Link", "").split(",")
            if link.strip()
        ]
        found.append(answer.headers.get("Content-Location", ""))
        media = answer.headers["Content-Type"].split(";")[0]
        body = answer.content
        if url.endswith(".gz"):
            body = gzip.decompress(body)
            media = "application/n-quads" if url.endswith(".nq.gz") else "application/n-triples"
        if media in RDF_TYPES:
            try:
                if media == "application/ld+json":  # a real JSON-LD processor: it loads the context
                    body = jsonld.to_rdf(
                        answer.json(),
                        {"format": "application/n-quads", "base": url, "documentLoader": loader},
                    ).encode()
                    media = "application/n-quads"
                quads = list(pyoxigraph.parse(body, format=RDF_TYPES[media], base_iri=url))
            except (SyntaxError, jsonld.JsonLdError) as exc:
                failures.append(f"{url}: {exc}")
                continue
            for q in quads:
                for term in (q.subject, q.predicate, q.object):
                    if isinstance(term, pyoxigraph.NamedNode):
                        found.append(term.value)
                if "/doc/" in url and isinstance(q.subject, pyoxigraph.NamedNode):
                    o = "_" if isinstance(q.object, pyoxigraph.BlankNode) else str(q.object)
                    described.add((str(q.subject), str(q.predicate), o))
        elif media == "text/html":
            parser = _Hrefs()
            parser.feed(body.decode())
            found.extend(urljoin(url, href) for href in parser.found)
        for iri in found:
            local = _local(origin, iri) if iri else None
            if local and "/sparql?" not in local and local not in seen:
                queue.append(local)
    assert failures == []
    assert len(seen) > 150
    print(f"crawl: {len(seen)} URLs fetched, {len(failures)} failures")
    dump = requests.get(f"{origin}/dumps/leaps.nt.gz", timeout=30).content
    expected = {
        (
            str(t.subject),
            str(t.predicate),
            "_" if isinstance(t.object, pyoxigraph.BlankNode) else str(t.object),
        )
        for t in pyoxigraph.parse(gzip.decompress(dump), format=pyoxigraph.RdfFormat.N_TRIPLES)
        if isinstance(t.subject, pyoxigraph.NamedNode) and t.subject.value.startswith(BASE + "id/")
    }
    about_things = {t for t in described if t[0].startswith(f"<{BASE}id/")}
    print(
        f"crawl: {len(about_things)} triples about things in the documents, {len(expected)} in the dump"
    )
    assert about_things == expected
