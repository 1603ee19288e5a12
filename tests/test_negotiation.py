"""Negotiation as a table: suffix wins; q-values and specificity; defaults; 406; 400."""

from __future__ import annotations

import pytest

from leapsld.errors import BadRequest, NotAcceptable
from leapsld.formats import by_name, of_kind
from leapsld.negotiation import negotiate, parse_accept

DOCS = (*of_kind("graph"), *of_kind("page"))
GRAPHS = (*of_kind("graph"), *of_kind("dataset"))
RESULTS = of_kind("results")

CASES = [
    # (accept, offered, suffix, expected format name)
    (None, DOCS, None, "turtle"),
    ("", DOCS, None, "turtle"),
    ("text/turtle", DOCS, None, "turtle"),
    ("application/ld+json", DOCS, None, "jsonld"),
    ("application/rdf+xml", DOCS, None, "rdfxml"),
    ("application/n-triples", DOCS, None, "ntriples"),
    ("text/html", DOCS, None, "html"),
    ("application/x-turtle", DOCS, None, "turtle"),
    # a browser: html explicitly, everything else through */*
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", DOCS, None, "html"),
    # q-values decide
    ("text/turtle;q=0.5, application/ld+json", DOCS, None, "jsonld"),
    ("application/ld+json;q=0.9, text/*", DOCS, None, "turtle"),
    # equal q: explicit beats wildcard, then server order (Turtle first)
    ("*/*, application/rdf+xml", DOCS, None, "rdfxml"),
    (
        "application/rdf+xml, text/turtle, application/ld+json, application/n-triples",
        DOCS,
        None,
        "turtle",
    ),
    ("*/*", DOCS, None, "turtle"),
    # rdflib's Accept: RDF/XML, Turtle and friends at q=1
    (
        "application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
        "application/n-quads, application/trig, application/trix",
        DOCS,
        None,
        "turtle",
    ),
    # a client that puts N-Quads or TriG first on the graph endpoint gets one of them
    ("application/n-quads, text/turtle;q=0.9", GRAPHS, None, "nquads"),
    ("application/trig", GRAPHS, None, "trig"),
    # the most specific range decides an offer's q
    ("text/*;q=0.1, text/turtle;q=0.8, application/ld+json;q=0.5", DOCS, None, "turtle"),
    ("text/turtle;q=0, */*;q=0.1", DOCS, None, "jsonld"),
    # suffix wins over Accept
    ("text/turtle", DOCS, ".jsonld", "jsonld"),
    ("text/html", DOCS, ".nt", "ntriples"),
    # results
    (None, RESULTS, None, "json"),
    ("application/json", RESULTS, None, "json"),
    ("application/sparql-results+xml", RESULTS, None, "xml"),
    ("text/csv", RESULTS, None, "csv"),
    ("text/tab-separated-values", RESULTS, None, "tsv"),
    ("application/xml", RESULTS, None, "xml"),
    # media types are case-insensitive; parameters kept
    ("TEXT/Turtle", DOCS, None, "turtle"),
]


@pytest.mark.parametrize(
    ("accept", "offered", "suffix", "expected"),
    CASES,
    ids=[str(c[0])[:60] + (c[2] or "") for c in CASES],
)
def test_negotiate(accept, offered, suffix, expected) -> None:  # type: ignore[no-untyped-def]
    assert negotiate(accept, offered=offered, suffix=suffix).format.name == expected


def test_profile_parameter_is_returned() -> None:
    chosen = negotiate(
        'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"', offered=DOCS
    )
    assert chosen.format.name == "jsonld"
    assert chosen.params == {"profile": "http://www.w3.org/ns/json-ld#expanded"}


def test_explicit_default_is_used_without_accept() -> None:
    assert negotiate(None, offered=DOCS, default=by_name("html")).format.name == "html"


@pytest.mark.parametrize(
    "accept", ["image/png", "text/turtle;q=0", "application/sparql-results+json, text/csv"]
)
def test_nothing_acceptable_is_406_naming_what_is_offered(accept: str) -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate(accept, offered=DOCS)
    assert "text/turtle" in caught.value.message
    assert caught.value.offered == [f.media_type for f in DOCS]


def test_suffix_not_offered_is_406() -> None:
    with pytest.raises(NotAcceptable):
        negotiate(None, offered=DOCS, suffix=".csv")


@pytest.mark.parametrize(
    "accept",
    [
        "text",
        "text/turtle;q=2",
        "text/turtle;q=abc",
        "*/turtle",
        "text/turtle;=x",
        "a/b/c",
        "x" * 5000,
    ],
)
def test_malformed_accept_is_400(accept: str) -> None:
    with pytest.raises(BadRequest):
        negotiate(accept, offered=DOCS)


def test_parse_accept_handles_quoted_commas() -> None:
    ranges = parse_accept('application/ld+json;profile="a, b";q=0.5, text/turtle')
    assert [(r.subtype, r.q, r.params) for r in ranges] == [
        ("ld+json", 0.5, {"profile": "a, b"}),
        ("turtle", 1.0, {}),
    ]


def test_unreadable_entries_are_skipped_like_javas_default_header() -> None:
    java = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
    assert negotiate(java, offered=RESULTS).format.name == "json"
    assert negotiate(java, offered=DOCS).format.name == "html"


@pytest.mark.parametrize(
    "accept",
    [
        'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded";q=0, application/ld+json',
        'application/ld+json, application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded";q=0',
    ],
)
def test_a_refused_profile_does_not_refuse_the_type(accept: str) -> None:
    chosen = negotiate(accept, offered=DOCS)
    assert chosen.format.name == "jsonld" and chosen.params == {}


def test_ranges_with_parameters_the_offer_lacks_do_not_apply() -> None:
    assert negotiate("text/html;level=1;q=0, text/html", offered=DOCS).format.name == "html"
    assert negotiate("text/turtle;charset=utf-8", offered=DOCS).format.name == "turtle"


@pytest.mark.parametrize("fmt", DOCS, ids=lambda f: f.name)
def test_every_suffix_of_an_offered_format_chooses_it(fmt) -> None:  # type: ignore[no-untyped-def]
    for suffix in fmt.suffixes:
        assert negotiate("text/html", offered=DOCS, suffix=suffix).format is fmt
