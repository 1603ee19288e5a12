"""Fuzzing the request path (issue 13): whatever a client sends, the answer is a real one or a
problem document — never a 500, never a traceback in the log.

A few seconds in ``make test``: each property runs a modest number of examples, without a
deadline (a loaded CI machine must not make a slow example fail) and without an example
database (nothing written to the checkout).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import pyoxigraph
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leapsld import guard
from leapsld.errors import LeapsError
from leapsld.formats import of_kind
from leapsld.iris import iri_problem
from leapsld.negotiation import negotiate, parse_accept

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: What an answer may be (308: werkzeug merges doubled slashes); never a 500.
ANSWERS = {200, 303, 308, 400, 403, 404, 405, 406, 413, 503}


class Tracebacks(logging.Handler):
    """Collects every error (and every record with an exception) logged anywhere."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@pytest.fixture()
def logged():  # type: ignore[no-untyped-def]
    handler = Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    assert [r.getMessage() for r in handler.records] == []


def answered(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in ANSWERS, (response.status_code, response.data[:300])
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", response.data[:300]
        assert response.get_json()["status"] == response.status_code


# The Accept parser -----------------------------------------------------------------------

_TOKENS = st.sampled_from(
    ["text", "turtle", "*", "application", "ld+json", "html", "rdf+xml", "x", ""]
)
_ACCEPT_PARTS = st.one_of(
    _TOKENS,
    st.sampled_from(["/", ";", ",", "=", "q", "0.5", "1", '"', "\\", " ", "\t", "profile", "q=2"]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=8),
)
ACCEPT = st.lists(_ACCEPT_PARTS, max_size=40).map("".join)


@FUZZ
@given(ACCEPT)
def test_the_accept_parser_answers_or_refuses(header: str) -> None:
    try:
        parse_accept(header)
        for kind in ("graph", "results", "page"):
            chosen = negotiate(header, offered=of_kind(kind))
            assert chosen.format in of_kind(kind)
    except LeapsError as exc:
        assert exc.http_status in (400, 406)


@FUZZ
@given(ACCEPT)
def test_any_accept_header_on_a_document(app: Flask, logged, header: str) -> None:  # type: ignore[no-untyped-def]
    response = app.test_client().get("/doc/org/sesame", headers={"Accept": header})
    answered(response)


# IRIs and paths ----------------------------------------------------------------------------

#: Text with what IRIs forbid, what they allow, and percent signs with or without hex digits.
NAMES = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list(" <>\"{}|\\^`%#?[]/.:@!$&'()*+,;=~-_\x00\x01\x1f\x7f\x85")),
        st.sampled_from(["org/", "sesame", ".ttl", ".rdf", ".html", "%20", "%ZZ", "%FF", "%C3"]),
    ),
    max_size=20,
).map("".join)


@FUZZ
@given(NAMES)
def test_iri_problem_agrees_with_the_engine(text: str) -> None:
    iri = "https://w3id.org/leaps/id/" + text
    problem = iri_problem(iri)
    try:
        pyoxigraph.NamedNode(iri)
        accepted = True
    except ValueError:
        accepted = False
    assert (problem is None) == accepted, (iri, problem)


@FUZZ
@given(st.sampled_from(["/doc/", "/id/", "/graph/", "/def/"]), NAMES, st.booleans())
def test_any_path_under_a_document_route(
    app: Flask, logged, prefix: str, name: str, raw: bool
) -> None:  # type: ignore[no-untyped-def]
    # quoted as a client would, or nearly raw (percent signs and bytes as they come)
    path = prefix + quote(name, safe="/%" if raw else "/")
    response = app.test_client().get(path)
    answered(response)


# The SPARQL pre-checks and the endpoint -------------------------------------------------

SPARQL_TOKENS = st.sampled_from(
    [
        "SELECT",
        "ASK",
        "CONSTRUCT",
        "DESCRIBE",
        "WHERE",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "?s",
        "?p",
        "?o",
        "$x",
        "*",
        ".",
        ";",
        ",",
        "a",
        "<urn:x>",
        "<http://a/b>",
        '"lit"',
        "'''x'''",
        "1",
        "1.5e3",
        "OPTIONAL",
        "UNION",
        "MINUS",
        "FILTER",
        "BIND",
        "AS",
        "VALUES",
        "GRAPH",
        "SERVICE",
        "INSERT",
        "DELETE",
        "DATA",
        "LOAD",
        "CLEAR",
        "PREFIX",
        "ex:",
        "ex:a",
        "BASE",
        "LIMIT",
        "OFFSET",
        "ORDER",
        "BY",
        "GROUP",
        "COUNT",
        "REGEX",
        "STR",
        "&&",
        "||",
        "!",
        "=",
        "+",
        "-",
        "/",
        "#c\n",
        "\\",
        '"',
        "'",
        "<",
        ">",
        "_:b",
        "@en",
        "^^",
        "FROM",
        "NAMED",
        "EXISTS",
        "NOT",
        "%FF",
    ]
)
QUERIES = st.one_of(
    st.lists(SPARQL_TOKENS, max_size=40).map(" ".join),
    st.text(max_size=200),
)


@FUZZ
@given(QUERIES)
def test_the_pre_checks_answer_or_refuse(text: str) -> None:
    for check in (guard.shape, guard.check_read_only):
        try:
            check(text)
        except LeapsError as exc:
            assert exc.http_status in (400, 403)


@FUZZ
@given(QUERIES)
def test_any_query_at_the_endpoint(app: Flask, logged, text: str) -> None:  # type: ignore[no-untyped-def]
    response = app.test_client().get(
        "/sparql",
        query_string={"query": text},
        headers={"Accept": "application/sparql-results+json"},
    )
    answered(response)
