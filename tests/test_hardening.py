"""The request path under hostile input: every request answers with a problem document or a
real answer, never a 500 and never a traceback in the log (issue 13)."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

ILLEGAL = [
    "a%20b",
    "a b",
    "a%3Cb",
    "a%3Eb",
    "a%22b",
    "a%7Bb",
    "a%7Db",
    "a%7Cb",
    "a%5Cb",
    "a%5Eb",
    "a%60b",
    "a%00b",
    "a%01b",
    "a%1Fb",
    "a%7Fb",
    "a%C2%85b",
    "a%FFb",
    "a%25zzb",
    "org/a%5Bb%5D",
    "a%23b%23c",
]


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []


@pytest.mark.parametrize("prefix", ["/doc/", "/id/", "/graph/", "/def/"])
@pytest.mark.parametrize("name", ILLEGAL)
def test_iri_illegal_paths_are_not_found_without_a_traceback(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, prefix: str, name: str
) -> None:
    response = client.get(prefix + name)
    assert response.status_code == 404, response.data
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404
    no_tracebacks(caplog)


def test_an_illegal_iri_path_names_the_character(client: FlaskClient) -> None:
    detail = client.get("/doc/org/a%20b").get_json()["detail"]
    assert "U+0020" in detail


# Suggestions: an index made once per version, never a scan per request -----------------


def test_a_404_suggests_things_of_the_same_kind(client: FlaskClient) -> None:
    detail = client.get("/doc/org/no-such-thing").get_json()["detail"]
    assert "Known org resources include: http://localhost/doc/org/" in detail


def test_a_flood_of_unknown_kinds_never_reaches_the_store(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leapsld.web.site import Site

    site: Site = client.application.extensions["leapsld"]
    client.get("/doc/org/warm-the-index")  # the index is made once, in the background
    index = site.derived.suggestions
    store = site.dataset.store

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a 404 scanned the store")

    monkeypatch.setattr(store, "query", no_scan)
    for n in range(300):
        kind = f"kind{n}-" + "x" * 2000
        response = client.get(f"/doc/{kind}/thing")
        assert response.status_code == 404
    assert site.derived.suggestions is index
    assert len(index) < 50  # the data's kinds, none of the requests'


def test_the_suggestion_index_is_bounded_by_its_limits(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.describe import suggestion_index

    prefix = dataset.settings.base_iri + "id/"
    full = suggestion_index(dataset.store, prefix)
    assert full and all(len(iris) <= 20 for iris in full.values())
    assert all(list(iris) == sorted(iris) for iris in full.values())
    small = suggestion_index(dataset.store, prefix, per_kind=1, max_kinds=2)
    assert len(small) == 2 and all(len(iris) == 1 for iris in small.values())
    for kind, iris in small.items():
        assert iris[0] == full[kind][0]


# Host, forwarded headers and links from the data ---------------------------------------


def _app(dataset, **changes):  # type: ignore[no-untyped-def]
    from leapsld.web import create_app

    return create_app(dataset.settings.replace(**changes), dataset=dataset)


@pytest.mark.parametrize("path", ["/", "/doc/org/sesame", "/id/org/sesame", "/void.ttl"])
def test_a_host_this_server_does_not_answer_for_is_refused(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "LEAPSLD_ALLOWED_HOSTS" in response.get_json()["detail"]
    assert b"evil.example/" not in response.data


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "w3id.org"]
)
def test_loopback_the_bound_address_and_the_base_host_are_answered(
    client: FlaskClient, host: str
) -> None:
    assert client.get("/doc/org/sesame.ttl", headers={"Host": host}).status_code == 200


def test_allowed_hosts_lists_names_subdomains_or_any(dataset) -> None:  # type: ignore[no-untyped-def]
    listed = _app(dataset, allowed_hosts="data.example.org, .example.net").test_client()
    for host, status in [
        ("data.example.org", 200),
        ("data.example.org:443", 200),
        ("example.net", 200),
        ("a.b.example.net", 200),
        ("localhost", 400),
        ("example.org", 400),
        ("badexample.net", 400),
    ]:
        assert listed.get("/doc/org/sesame.ttl", headers={"Host": host}).status_code == status
    anything = _app(dataset, allowed_hosts="*").test_client()
    assert anything.get("/doc/org/sesame.ttl", headers={"Host": "x.example"}).status_code == 200
    bad = anything.get("/doc/org/sesame.ttl", headers={"Host": "x.example/<script>"})
    assert bad.status_code == 400


@pytest.mark.parametrize("proto", ["javascript", "data", "https:evil", "file", "http/1.1"])
def test_a_forwarded_proto_other_than_http_or_https_is_ignored(dataset, proto: str) -> None:  # type: ignore[no-untyped-def]
    client = _app(dataset, trust_proxy=True).test_client()
    response = client.get("/id/org/sesame", headers={"X-Forwarded-Proto": proto})
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/doc/org/sesame"
    ok = client.get("/id/org/sesame", headers={"X-Forwarded-Proto": "https"})
    assert ok.headers["Location"] == "https://localhost/doc/org/sesame"


def test_forwarded_hosts_are_checked_like_host(dataset) -> None:  # type: ignore[no-untyped-def]
    client = _app(dataset, trust_proxy=True).test_client()
    assert (
        client.get("/doc/org/sesame", headers={"X-Forwarded-Host": "evil.example"}).status_code
        == 400
    )
    odd = client.get("/id/org/sesame", headers={"X-Forwarded-Prefix": '/a"><script>'})
    assert odd.headers["Location"] == "http://localhost/doc/org/sesame"


def test_pages_link_only_to_web_schemes(dataset, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from leapsld.reference import ontology_reference
    from leapsld.web import resources

    def hostile(*args, **kwargs):  # type: ignore[no-untyped-def]
        reference = ontology_reference(*args, **kwargs)
        reference.header["license"] = "javascript:alert(document.domain)"
        return reference

    monkeypatch.setattr(resources, "ontology_reference", hostile)
    page = _app(dataset).test_client().get("/def", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert b'href="javascript:' not in page.data
    assert b"javascript:alert(document.domain)" in page.data  # shown as text


def test_web_link_refuses_every_other_scheme() -> None:
    from leapsld.web.pages import web_link

    assert web_link("mailto:a@example.org") == "mailto:a@example.org"
    for url in [
        "javascript:x",
        "JAVASCRIPT:x",
        "java\nscript:x",
        "data:text/html,x",
        "vbscript:x",
        "//evil.example",
        "file:///etc/passwd",
        "http://a b",
        None,
        "",
    ]:
        assert web_link(url) is None


# Query strings, Accept headers, RDF/XML ------------------------------------------------


@pytest.mark.parametrize(
    ("query_string", "named"),
    [
        ("query=%FF", "'query' is not valid UTF-8 at byte 0"),
        ("query=ASK%20%7B%7D%C3", "'query' is not valid UTF-8 at byte 6"),
        ("format=json&query=SELECT%20%2A%20%7B%7D%20%23%E9", "at byte 13"),
        ("default-graph-uri=urn:%FE&query=ASK%7B%7D", "'default-graph-uri'"),
    ],
)
def test_invalid_utf8_in_a_query_string_is_refused(
    client: FlaskClient, query_string: str, named: str
) -> None:
    response = client.get(f"/sparql?{query_string}")
    assert response.status_code == 400
    assert named in response.get_json()["detail"]


def test_valid_utf8_in_a_query_string_is_read(client: FlaskClient) -> None:
    response = client.get(
        "/sparql?query=SELECT%20%28%22%C3%A9%22%20AS%20%3Fx%29%20%7B%7D",
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert response.get_json()["results"]["bindings"][0]["x"]["value"] == "é"


@pytest.mark.parametrize(
    "accept",
    [
        "text/turtle;q=0.5, " * 21_000,
        "a" * 400_000,
        ",".join(["*/*"] * 100_000),
        ", ".join(["text/turtle"] * 65),
        'text/turtle;p="' + '\\"' * 200_000 + '"',
    ],
)
def test_a_huge_accept_header_is_refused_at_once(client: FlaskClient, accept: str) -> None:
    import time

    started = time.process_time()  # CPU time: a loaded machine does not count
    response = client.get("/doc/org/sesame", headers={"Accept": accept})
    assert response.status_code == 400
    assert "Accept header" in response.get_json()["detail"]
    assert time.process_time() - started < 0.5


def test_a_huge_accept_encoding_is_disregarded(client: FlaskClient) -> None:
    import time

    header = "gzip;q=0.5, " * 35_000
    started = time.process_time()  # CPU time: a loaded machine does not count
    for _ in range(5):
        response = client.get("/doc/org/sesame.ttl", headers={"Accept-Encoding": header})
        assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert time.process_time() - started < 0.75  # werkzeug's parser took 0.3 s each
    zipped = client.get("/doc/org/sesame.ttl", headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    plain = client.get("/doc/org/sesame.ttl", headers={"Accept-Encoding": "gzip;q=0, *"})
    assert "Content-Encoding" not in plain.headers


CONTROL = "CONSTRUCT { <urn:a> <urn:b> ?x } WHERE { BIND(CONCAT('a', CODEPOINT(1), 'b') AS ?x) }"


def test_construct_as_rdfxml_refuses_what_xml_cannot_carry(client: FlaskClient) -> None:
    text = CONTROL.replace("CODEPOINT(1)", '"\\u0001"')
    response = client.get(
        "/sparql", query_string={"query": text}, headers={"Accept": "application/rdf+xml"}
    )
    assert response.status_code == 406, response.data
    problem = response.get_json()
    assert "U+0001" in problem["detail"]
    assert "text/turtle" in problem["offered"]
    turtle = client.get("/sparql", query_string={"query": text}, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200


def test_a_document_as_rdfxml_refuses_what_xml_cannot_carry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from xml.dom.minidom import parseString

    from leapsld.pipeline import build
    from leapsld.settings import Settings
    from leapsld.web import create_app

    (tmp_path / "shapes").mkdir()
    data = tmp_path / "data.nt"
    data.write_text(
        "<https://example.org/z/id/t/bad> <http://www.w3.org/2000/01/rdf-schema#label> "
        '"tab\\tok, bell\\u0007 not" .\n'
        "<https://example.org/z/id/t/good> <http://www.w3.org/2000/01/rdf-schema#label> "
        '"tab\\tand\\nnewline" .\n'
    )
    settings = Settings.from_env(
        {}, root=tmp_path, data=(data,), base_iri="https://example.org/z/", validate=False
    )
    client = create_app(settings, dataset=build(settings)).test_client()
    bad = client.get("/doc/t/bad.rdf")
    assert bad.status_code == 406 and "U+0007" in bad.get_json()["detail"]
    good = client.get("/doc/t/good.rdf")
    assert good.status_code == 200
    parseString(good.data)
