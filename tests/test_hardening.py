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
