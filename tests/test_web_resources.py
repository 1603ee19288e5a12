"""Cool URIs through the Flask test client: 303s, negotiation matrix, caching headers."""

from __future__ import annotations

import gzip
import json

import pyoxigraph
import pytest

from leapsld.bridge import graph_from_quads
from leapsld.formats import by_name, of_kind

DOC_FORMATS = (*of_kind("graph"), *of_kind("page"))
RDF_FORMATS = of_kind("graph")
BASE = "https://w3id.org/leaps/"


def rdf_graph(client, response, fmt):  # type: ignore[no-untyped-def]
    data = response.get_data()
    if fmt.name == "jsonld":
        body = json.loads(data)
        context_url = body["@context"]
        assert context_url == "http://localhost/context.jsonld"
        body["@context"] = json.loads(client.get("/context.jsonld").get_data())["@context"]
        data = json.dumps(body).encode()
    return graph_from_quads(pyoxigraph.parse(data, format=fmt.rdf_format))


@pytest.mark.parametrize("path", ["/id/org/sesame", "/id/project/beats", "/id/org/leaps"])
def test_things_answer_303_to_their_document(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost" + path.replace("/id/", "/doc/")


def test_thing_with_suffix_redirects_to_that_format(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/org/sesame.jsonld")
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/doc/org/sesame.jsonld"


def test_unknown_thing_is_404_with_a_helpful_body(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/org/atlantis")
    assert response.status_code == 404
    body = response.get_json()
    assert body["status"] == 404 and "atlantis" in body["detail"]
    assert client.get("/doc/org/atlantis").status_code == 404


@pytest.mark.parametrize("fmt", DOC_FORMATS, ids=lambda f: f.name)
def test_documents_negotiate_every_format(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/doc/org/sesame", headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == f"http://localhost/doc/org/sesame{fmt.suffix}"
    links = response.headers.get("Link", "")
    # JSON-LD 1.1 §6.2, and what pyld's loader can read: one alternate, the JSON-LD one, on a
    # non-JSON answer; none on a JSON-LD answer; never the context link.
    alternates = [part for part in links.split(", ") if 'rel="alternate"' in part]
    if fmt.context:
        assert alternates == []
    else:
        assert alternates == [
            '<http://localhost/doc/org/sesame.jsonld>; rel="alternate"; type="application/ld+json"'
        ]
    assert "json-ld#context" not in links
    if fmt.kind == "page":  # the page itself lists every format
        page = response.get_data(as_text=True)
        for other in DOC_FORMATS:
            if other is not fmt:
                assert f'href="http://localhost/doc/org/sesame{other.suffix}"' in page
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    if fmt.kind == "graph":
        graph = rdf_graph(client, response, fmt)
        sesame = f"{BASE}id/org/sesame"
        labels = {str(o) for s, p, o in graph if str(s) == sesame and str(p).endswith("#label")}
        assert any("SESAME" in label for label in labels)
    else:
        assert "SESAME" in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", DOC_FORMATS, ids=lambda f: f.name)
def test_suffix_forces_the_format_without_vary_accept(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/doc/project/beats{fmt.suffix}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    assert "Accept" not in response.headers["Vary"].split(", ")


def test_representations_of_one_document_are_the_same_graph(client) -> None:  # type: ignore[no-untyped-def]
    graphs = [
        rdf_graph(client, client.get(f"/doc/project/beats{f.suffix}"), f) for f in RDF_FORMATS
    ]
    from rdflib.compare import isomorphic

    for other in graphs[1:]:
        assert isomorphic(graphs[0], other)


def test_description_is_self_contained(client) -> None:  # type: ignore[no-untyped-def]
    graph = rdf_graph(client, client.get("/doc/project/beats.nt"), by_name("ntriples"))
    beats = f"{BASE}id/project/beats"
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    # every IRI the resource links to (other than classes and foreign IRIs) has a label
    linked = {str(o) for s, p, o in graph if str(s) == beats and str(o).startswith(f"{BASE}id/")}
    labelled = {str(s) for s, p, o in graph if str(p) == label}
    assert linked and linked <= labelled
    # inverse links: something points at BEATS
    assert any(str(o) == beats for s, p, o in graph)


def test_conditional_get_answers_304(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/doc/org/sesame.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/doc/org/sesame.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert (
        client.get("/doc/org/sesame.ttl", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    assert (
        client.get("/doc/org/sesame.ttl", headers={"If-None-Match": '"other"'}).status_code == 200
    )


def test_gzip_when_asked(client) -> None:  # type: ignore[no-untyped-def]
    plain = client.get("/doc/org/sesame.ttl")
    zipped = client.get("/doc/org/sesame.ttl", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_head_has_headers_and_no_body(client) -> None:  # type: ignore[no-untyped-def]
    get = client.get("/doc/org/sesame.ttl")
    head = client.head("/doc/org/sesame.ttl")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_jsonld_profiles(client) -> None:  # type: ignore[no-untyped-def]
    expanded = client.get(
        "/doc/org/sesame",
        headers={"Accept": 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'},
    )
    body = json.loads(expanded.get_data())
    assert isinstance(body, list) and all("@context" not in n for n in body)
    compacted = json.loads(client.get("/doc/org/sesame.jsonld").get_data())
    assert compacted["@context"] == "http://localhost/context.jsonld"


def test_context_is_published_with_cache_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/context.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert "max-age" in response.headers["Cache-Control"]
    assert json.loads(response.get_data())["@context"]["leaps"] == f"{BASE}def#"


def test_406_names_what_is_offered(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/doc/org/sesame", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_json()["detail"]


def test_malformed_accept_is_400(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/doc/org/sesame", headers={"Accept": "text/turtle;q=7"})
    assert response.status_code == 400
    assert "q=" in response.get_json()["detail"]


@pytest.mark.parametrize("fmt", DOC_FORMATS, ids=lambda f: f.name)
def test_ontology_negotiates(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/def", headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    if fmt.kind == "graph":
        graph = rdf_graph(client, response, fmt)
        assert (None, None, None) in graph and len(graph) > 50
    else:
        html = response.get_data(as_text=True)
        assert "Beamline" in html and "constrained by" in html


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_shapes_are_published(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/shapes{fmt.suffix}")
    assert response.status_code == 200
    graph = rdf_graph(client, response, fmt)
    assert any(str(o) == "http://www.w3.org/ns/shacl#NodeShape" for o in graph.objects())


def test_cors_on_documents(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/doc/org/sesame.ttl", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = response.headers["Access-Control-Expose-Headers"]
    for header in ("Link", "ETag", "Content-Location"):
        assert header in exposed


def test_graphs_that_describe_themselves_and_the_version_iri_resolve(client) -> None:  # type: ignore[no-untyped-def]
    graph = client.get("/graph/data/identifiers", headers={"Accept": "text/turtle"})
    assert graph.status_code == 200
    assert b"<https://ror.org/>" in graph.get_data()
    assert client.get("/graph/data/beats-grant-number.html").mimetype == "text/html"
    assert client.get("/graph/data/nothing").status_code == 404
    assert client.get("/def/0.1.0", headers={"Accept": "text/turtle"}).status_code == 200
    assert client.get("/def/9.9.9").status_code == 404


def test_every_link_on_a_resource_page_works(client) -> None:  # type: ignore[no-untyped-def]
    import re

    html = client.get("/doc/project/beats.html").get_data(as_text=True)
    links = sorted(set(re.findall(r'href="(http://localhost[^"#]*)"', html)))
    assert len(links) > 10
    for link in links:
        response = client.get(link.removeprefix("http://localhost"))
        assert response.status_code in (200, 303), link
        response.close()


def test_another_base_iri_is_served_at_this_origin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from leapsld.settings import Settings
    from leapsld.web import create_app

    (tmp_path / "data").mkdir()
    (tmp_path / "shapes").mkdir()
    (tmp_path / "data" / "things.ttl").write_text(
        '<https://example.org/kb/id/thing/x> <http://www.w3.org/2000/01/rdf-schema#label> "X"@en ;\n'
        "    <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://example.org/kb/id/thing/y> .\n"
        '<https://example.org/kb/id/thing/y> <http://www.w3.org/2000/01/rdf-schema#label> "Y"@en .\n'
    )
    settings = Settings.from_env(
        {},
        root=tmp_path,
        data=(tmp_path / "data",),
        base_iri="https://example.org/kb/",
        validate=False,
    )
    client = create_app(settings).test_client()
    assert client.get("/id/thing/x").headers["Location"] == "http://localhost/doc/thing/x"
    turtle = client.get("/doc/thing/x.ttl").get_data(as_text=True)
    assert "<https://example.org/kb/id/thing/x>" in turtle  # the data's IRIs stay canonical
    html = client.get("/doc/thing/x.html").get_data(as_text=True)
    assert 'href="http://localhost/doc/thing/y"' in html  # links work on this origin


def test_every_named_graph_the_service_description_names_dereferences(client) -> None:  # type: ignore[no-untyped-def]
    sd = client.get("/sparql", headers={"Accept": "application/n-triples"}).get_data()
    names = {
        t.object.value
        for t in pyoxigraph.parse(sd, format=pyoxigraph.RdfFormat.N_TRIPLES)
        if t.predicate.value.endswith("sparql-service-description#name")
    }
    assert len(names) >= 12
    for name in sorted(names):
        path = name.removeprefix(BASE.rstrip("/"))
        answer = client.get(path, headers={"Accept": "text/turtle"})
        assert answer.status_code == 200, path
        graph = list(pyoxigraph.parse(answer.get_data(), format=pyoxigraph.RdfFormat.TURTLE))
        about = {t.predicate.value for t in graph if t.subject.value == name}
        assert "http://rdfs.org/ns/void#triples" in about, path
        assert "http://purl.org/dc/terms/isPartOf" in about, path


def test_the_inferred_graph_dereferences_when_inference_is_on(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.pipeline import build
    from leapsld.web import create_app

    inferred = build(dataset.settings.replace(infer="rdfs"))
    client = create_app(inferred.settings, dataset=inferred).test_client()
    answer = client.get("/graph/inferred.nt")
    assert answer.status_code == 200
    triples = list(pyoxigraph.parse(answer.get_data(), format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(triples) > inferred.inferred > 0  # its description, and its triples


def test_a_description_page_past_the_last_is_404_and_a_bad_page_400(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/doc/org/sesame?page=1").status_code == 200
    assert client.get("/doc/org/sesame?page=2").status_code == 404
    for bad in ("0", "-1", "x", "1e3", "9" * 20):
        assert client.get(f"/doc/org/sesame?page={bad}").status_code == 400


def test_unicode_digits_are_not_page_numbers(client) -> None:  # type: ignore[no-untyped-def]
    for bad in ("%C2%B2", "%D9%A1", "%EF%BC%91"):  # ², Arabic-Indic one, fullwidth one
        assert client.get(f"/doc/org/sesame?page={bad}").status_code == 400


def test_a_later_page_names_itself_in_its_location_and_alternate(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld import describe as module
    from leapsld.web import create_app

    client = create_app(dataset.settings, dataset=dataset).test_client()
    original = module.MAX_INVERSE
    try:
        module.describe.__kwdefaults__["max_inverse"] = 1
        first = client.get("/doc/org/leaps", headers={"Accept": "text/turtle"})
        assert 'rel="next"' in first.headers["Link"]
        second = client.get("/doc/org/leaps?page=2", headers={"Accept": "text/turtle"})
        assert second.status_code == 200
        assert second.headers["Content-Location"].endswith("/doc/org/leaps.ttl?page=2")
        assert "/doc/org/leaps.jsonld?page=2>" in second.headers["Link"]
    finally:
        module.describe.__kwdefaults__["max_inverse"] = original
