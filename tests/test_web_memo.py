"""The response memo: identical document requests are replayed, everything else goes through."""

from __future__ import annotations

import pytest

from leapsld.web import create_app
from leapsld.web.memo import ResponseMemo


@pytest.fixture()
def fresh(dataset):  # type: ignore[no-untyped-def]
    app = create_app(
        dataset.settings.replace(allowed_hosts="localhost, other.example"), dataset=dataset
    )
    memo = app.extensions["leapsld.memo"]
    assert isinstance(memo, ResponseMemo)
    return app.test_client(), memo


def test_identical_requests_are_replayed_byte_for_byte(fresh) -> None:  # type: ignore[no-untyped-def]
    client, memo = fresh
    first = client.get("/doc/org/sesame", headers={"Accept": "text/turtle"})
    assert len(memo) == 1
    second = client.get("/doc/org/sesame", headers={"Accept": "text/turtle"})
    assert len(memo) == 1
    assert second.get_data() == first.get_data()

    def without_date(response):  # type: ignore[no-untyped-def]
        return sorted((k, v) for k, v in response.headers.to_wsgi_list() if k != "Date")

    assert without_date(second) == without_date(first)
    assert second.headers["Date"]  # made for this answer, not replayed


def test_every_input_that_shapes_the_answer_is_in_the_key(fresh) -> None:  # type: ignore[no-untyped-def]
    client, memo = fresh
    turtle = client.get("/doc/org/sesame", headers={"Accept": "text/turtle"})
    jsonld = client.get("/doc/org/sesame", headers={"Accept": "application/ld+json"})
    zipped = client.get(
        "/doc/org/sesame", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"}
    )
    elsewhere = client.get("/doc/org/sesame.jsonld", base_url="http://other.example:9000")
    assert len(memo) == 4
    assert turtle.mimetype == "text/turtle" and jsonld.mimetype == "application/ld+json"
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert b"http://other.example:9000/context.jsonld" in elsewhere.get_data()


def test_head_is_answered_from_the_memo_without_a_body(fresh) -> None:  # type: ignore[no-untyped-def]
    client, memo = fresh
    get = client.get("/doc/project/beats.ttl")
    head = client.head("/doc/project/beats.ttl")
    assert len(memo) == 1
    assert (
        head.get_data() == b"" and head.headers["Content-Length"] == get.headers["Content-Length"]
    )


def test_conditional_requests_and_errors_go_through(fresh) -> None:  # type: ignore[no-untyped-def]
    client, memo = fresh
    etag = client.get("/doc/org/sesame.ttl").headers["ETag"]
    assert client.get("/doc/org/sesame.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/doc/org/atlantis").status_code == 404
    assert client.get("/doc/org/atlantis").status_code == 404
    assert client.get("/sparql", query_string={"query": "ASK {"}).status_code == 400
    assert len(memo) == 1


def test_complete_sparql_answers_are_replayed_cut_ones_are_not(dataset) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataset.settings.replace(max_rows=2), dataset=dataset)
    memo = app.extensions["leapsld.memo"]
    client = app.test_client()
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    assert len(memo) == 1
    for _ in range(2):
        cut = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
        assert cut.headers["X-SPARQL-Truncated"] == "true"
    assert len(memo) == 1


def test_forwarded_headers_are_keyed_only_behind_a_trusted_proxy(fresh) -> None:  # type: ignore[no-untyped-def]
    client, memo = fresh
    for n in range(5):
        client.get("/doc/org/sesame.ttl", headers={"X-Forwarded-Host": f"h{n}.example"})
    assert len(memo) == 1  # ignored by the app, so not part of what shapes the answer


def test_documents_and_replays_share_one_bounded_cache(dataset) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataset.settings, dataset=dataset)
    memo = app.extensions["leapsld.memo"]
    assert isinstance(memo, ResponseMemo)
    assert memo.cache is app.extensions["leapsld"].cache
    memo.cache.max_bytes, memo.cache.max_entry = 400_000, 100_000
    client = app.test_client()
    for n in range(300):  # unique Accept values, each ~10 KB: keys count against the bound
        client.get("/doc/org/sesame.ttl", headers={"Accept": f"text/turtle;x={'y' * 10_000}{n}"})
    assert memo.cache.bytes <= 400_000
    assert 0 < len(memo) < 300
