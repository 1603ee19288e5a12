"""Error responses: problem details for clients, a page for browsers, chosen by the same
negotiation as every other response."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "TEXT/HTML",
        "text/html; charset=utf-8",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json;q=0.5, text/html",
    ],
)
def test_a_client_asking_for_html_gets_the_page(client, accept: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/nowhere", headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "application/problem+json",
        "application/json, text/html;q=0.5",
        "text/turtle",
        "text/html;q=0",
        "application/*",
    ],
)
def test_everyone_else_gets_problem_details(client, accept: str | None) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/nowhere", headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize("accept", ["text/html;q=2", "garbage", "x" * 5000])
def test_a_malformed_accept_on_an_error_raises_no_second_error(client, accept: str) -> None:  # type: ignore[no-untyped-def]
    missing = client.get("/nowhere", headers={"Accept": accept})
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    refused = client.get("/def", headers={"Accept": accept})  # the 400 the header itself causes
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 400
