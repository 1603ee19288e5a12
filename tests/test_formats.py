"""The format registry: every fact about a format in one table, and the lookups on it."""

from __future__ import annotations

import pyoxigraph
import pytest

from leapsld.errors import UnsupportedFormat
from leapsld.formats import (
    FORMATS,
    RDF_KINDS,
    READABLE_SUFFIXES,
    W3C_FORMATS,
    among,
    by_media_type,
    by_name,
    by_suffix,
    candidates,
    of_kind,
    resolve,
)

RESULTS = of_kind("results")
GRAPHS = of_kind(*RDF_KINDS)

#: Every spelling ``?format=`` or ``--format`` took before the registry carried them, and what
#: it names where a graph is answered and where results are.
SPELLINGS = [
    # (value, as a graph, as results)
    ("ttl", "turtle", None),
    ("nt", "ntriples", None),
    ("nq", "nquads", None),
    ("rdf", "rdfxml", None),
    ("xml+rdf", "rdfxml", None),
    ("json-ld", "jsonld", None),
    ("rdf+xml", "rdfxml", None),
    ("rdf/xml", "rdfxml", None),
    ("n-triples", "ntriples", None),
    ("n-quads", "nquads", None),
    ("tab-separated-values", None, "tsv"),
    ("sparql-results+json", None, "json"),
    ("sparql-results+xml", None, "xml"),
    ("xml", "rdfxml", "xml"),
    ("json", "jsonld", "json"),
    ("n3", "turtle", None),
    ("text", "ntriples", None),
    ("JSON-LD", "jsonld", None),
    ("application/sparql-results+xml", None, "xml"),
    ("application/json", "jsonld", "json"),
    ("text/turtle", "turtle", None),
]


def test_registry_table() -> None:
    """Every format has a media type and a suffix; every RDF and results format its
    pyoxigraph format and its W3C IRI; names, media types and W3C IRIs are each one format's."""
    from leapsld.web.meta import VOID
    from leapsld.web.resources import DOCUMENT, SHAPES

    routed = {s for offer in (DOCUMENT, SHAPES, VOID) for s in offer.suffixes}
    for fmt in FORMATS:
        assert "/" in fmt.media_type and fmt.extensions, fmt.name
        if fmt.kind in (*RDF_KINDS, "page"):
            assert set(fmt.suffixes) <= routed, fmt.name
        if fmt.kind in RDF_KINDS:
            assert fmt.rdf_format is not None and fmt.w3c, fmt.name
        if fmt.kind == "results":
            assert fmt.results_format is not None and fmt.w3c, fmt.name
        if fmt.w3c:
            assert fmt.w3c.startswith(W3C_FORMATS), fmt.name
    names = [n.lower() for f in FORMATS for n in f.names]
    assert len(names) == len(set(names))
    # A media type names one format among those one answer can take: application/json is
    # SPARQL JSON for results and compacted JSON-LD for graphs.
    for kinds in (RDF_KINDS, ("results",)):
        media = [m for f in FORMATS if f.kind in kinds for m in f.media_types]
        assert len(media) == len(set(media)), kinds
    iris = [f.w3c for f in FORMATS if f.w3c]
    assert len(iris) == len(set(iris))


def test_format_properties() -> None:
    assert {f.name for f in FORMATS if f.prefixes} == {"turtle", "trig", "rdfxml"}
    assert {f.name for f in FORMATS if f.origin_dependent} == {"jsonld"}
    assert {f.name for f in FORMATS if f.context} == {"jsonld"}


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_name_alias_media_type_and_suffix_finds_its_format(fmt) -> None:  # type: ignore[no-untyped-def]
    for name in fmt.names:
        assert by_name(name) is fmt
        assert by_name(name.upper()) is fmt
    if fmt.kind != "problem":
        for media_type in fmt.media_types:
            assert by_media_type(f"{media_type}; charset=utf-8", kinds=(fmt.kind,)) is fmt
        for suffix in fmt.suffixes:
            assert by_suffix(suffix, kinds=(fmt.kind,)) is fmt


@pytest.mark.parametrize(("value", "as_graph", "as_results"), SPELLINGS)
def test_spellings_clients_send(value: str, as_graph: str | None, as_results: str | None) -> None:
    graph, results = among(value, GRAPHS), among(value, RESULTS)
    assert (graph.name if graph else None) == as_graph
    assert (results.name if results else None) == as_results
    assert resolve(value, GRAPHS if as_graph else RESULTS).name == (as_graph or as_results)


def test_graph_aliases_name_a_format_only_where_a_graph_is_answered() -> None:
    assert [f.name for f in candidates("xml")] == ["xml", "rdfxml"]
    assert by_name("xml").name == "xml"
    with pytest.raises(UnsupportedFormat):
        by_name("n3")


def test_unknown_names_are_refused() -> None:
    assert candidates("bogus") == []
    assert among("bogus", GRAPHS) is None
    with pytest.raises(UnsupportedFormat, match="known formats: csv"):
        resolve("bogus")


def test_readable_suffixes_are_the_rdf_suffixes_and_xml_and_json() -> None:
    assert READABLE_SUFFIXES == {
        ".ttl": pyoxigraph.RdfFormat.TURTLE,
        ".nt": pyoxigraph.RdfFormat.N_TRIPLES,
        ".nq": pyoxigraph.RdfFormat.N_QUADS,
        ".trig": pyoxigraph.RdfFormat.TRIG,
        ".rdf": pyoxigraph.RdfFormat.RDF_XML,
        ".owl": pyoxigraph.RdfFormat.RDF_XML,
        ".xml": pyoxigraph.RdfFormat.RDF_XML,
        ".jsonld": pyoxigraph.RdfFormat.JSON_LD,
        ".json": pyoxigraph.RdfFormat.JSON_LD,
    }
