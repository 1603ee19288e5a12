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
