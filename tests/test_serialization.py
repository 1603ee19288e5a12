"""Serialisation: every registry format, parsed back and compared with the engine's own answer."""

from __future__ import annotations

import json

import pyoxigraph
import pytest
from rdflib.compare import graph_diff, isomorphic

from leapsld.bridge import graph_from_quads
from leapsld.errors import UnsupportedFormat
from leapsld.formats import FORMATS, RDF_KINDS, by_name, of_kind
from leapsld.namespaces import jsonld_context, project_prefixes
from leapsld.query import run_query
from leapsld.serialization import (
    JSONLD_PROFILES,
    serialize_graph,
    serialize_outcome,
    serialize_results,
)

SELECT = """SELECT ?s ?label ?born ?other WHERE {
  ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label .
  OPTIONAL { ?s <https://example.org/born> ?born }
  OPTIONAL { ?s <https://example.org/knows> ?other }
} ORDER BY ?label ?other"""


def _engine_rows(store, text: str, fmt: pyoxigraph.QueryResultsFormat):  # type: ignore[no-untyped-def]
    """The engine's own serialisation of the same query, parsed back."""
    data = store.query(text).serialize(format=fmt)
    return _rows(pyoxigraph.parse_query_results(data, format=fmt))


def _rows(results):  # type: ignore[no-untyped-def]
    if isinstance(results, pyoxigraph.QueryBoolean):
        return bool(results)
    return sorted(tuple(str(v) if v is not None else "" for v in solution) for solution in results)


@pytest.mark.parametrize("fmt", of_kind("results"), ids=lambda f: f.name)
@pytest.mark.parametrize(
    "text",
    [
        SELECT,
        "ASK { ?s a <https://example.org/Person> }",
        "ASK { ?s a <https://example.org/Nobody> }",
    ],
)
def test_results_parse_back_equal_to_the_engines(store, fmt, text) -> None:  # type: ignore[no-untyped-def]
    outcome = run_query(store, text)
    data = serialize_results(outcome, fmt)
    if fmt.name == "csv":  # lossy: no parser; compare with the engine's bytes instead
        engine = store.query(text)
        assert data == engine.serialize(format=fmt.results_format)
        return
    ours = _rows(pyoxigraph.parse_query_results(data, format=fmt.results_format))
    assert ours == _engine_rows(store, text, fmt.results_format)


def test_csv_is_plain_values_with_crlf(store) -> None:  # type: ignore[no-untyped-def]
    data = serialize_results(run_query(store, SELECT), by_name("csv")).decode()
    assert data.startswith("s,label,born,other\r\n")
    assert '"Ada, ""the first""\tprogrammer"' in data


def test_table_is_aligned_for_people(store) -> None:  # type: ignore[no-untyped-def]
    text = "SELECT ?s ?born { ?s <https://example.org/born> ?born } ORDER BY ?born"
    table = serialize_results(
        run_query(store, text), by_name("table"), prefixes={"ex": "https://example.org/"}
    )
    assert table.decode().splitlines() == [
        "s           born",
        "----------  ----",
        "ex:charles  1791",
        "ex:ada      1815",
        "(2 rows)",
    ]


GRAPH_FORMATS = (*of_kind("graph"), *of_kind("dataset"))


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_graphs_parse_back_isomorphic(store, fmt) -> None:  # type: ignore[no-untyped-def]
    triples = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }").triples
    data = serialize_graph(
        triples, fmt, prefixes=project_prefixes(), context=jsonld_context(), profile=None
    )
    parsed = graph_from_quads(
        pyoxigraph.parse(data, format=fmt.rdf_format, base_iri="https://example.org/")
    )
    expected = graph_from_quads(triples)
    if not isomorphic(parsed, expected):
        _, only_ours, only_expected = graph_diff(parsed, expected)
        pytest.fail(
            f"not isomorphic\nonly in output:\n{only_ours.serialize()}\nmissing:\n{only_expected.serialize()}"
        )


def test_jsonld_compact_names_its_context_in_the_body(store) -> None:  # type: ignore[no-untyped-def]
    triples = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }").triples
    body = json.loads(
        serialize_graph(
            triples,
            by_name("jsonld"),
            context=jsonld_context(),
            context_url="http://127.0.0.1:1/context.jsonld",
        )
    )
    assert body["@context"] == "http://127.0.0.1:1/context.jsonld"
    assert "@graph" in body


def test_jsonld_expanded_profile_has_no_context(store) -> None:  # type: ignore[no-untyped-def]
    triples = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }").triples
    body = json.loads(
        serialize_graph(
            triples,
            by_name("jsonld"),
            context=jsonld_context(),
            profile=JSONLD_PROFILES["expanded"],
        )
    )
    assert isinstance(body, list)
    assert all("@context" not in node for node in body)


BLANK_CLASSIFICATION = """
@prefix org: <http://www.w3.org/ns/org#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://w3id.org/leaps/id/project/x> org:classification [ skos:prefLabel "blank class" ] ;
    dcterms:source <https://w3id.org/leaps/id/source/s> .
"""


@pytest.mark.parametrize("form", ["compacted", "flattened", "expanded"])
def test_jsonld_keeps_blank_nodes_behind_coerced_terms(form: str) -> None:
    triples = list(pyoxigraph.parse(BLANK_CLASSIFICATION, format=pyoxigraph.RdfFormat.TURTLE))
    context = jsonld_context()
    data = serialize_graph(
        triples, by_name("jsonld"), context=context, profile=JSONLD_PROFILES[form]
    )
    body = json.loads(data)
    if form != "expanded":
        assert body["@context"] == dict(context)
    if form == "flattened":
        assert all("id" in node for node in body["@graph"])  # "id" is the context's alias of @id
    parsed = graph_from_quads(
        pyoxigraph.parse(json.dumps(body), format=pyoxigraph.RdfFormat.JSON_LD)
    )
    assert isomorphic(parsed, graph_from_quads(triples))


def test_xml_results_keep_carriage_returns_and_refuse_what_xml_cannot_carry(store) -> None:  # type: ignore[no-untyped-def]
    from leapsld.errors import NotAcceptable

    fmt = by_name("xml")
    kept = run_query(store, 'SELECT ?v { BIND("a\\r\\nb" AS ?v) }')
    parsed = list(
        pyoxigraph.parse_query_results(serialize_results(kept, fmt), format=fmt.results_format)
    )
    assert parsed[0]["v"].value == "a\r\nb"
    control = run_query(store, 'SELECT ?v { BIND("bell\\u0007" AS ?v) }')
    with pytest.raises(NotAcceptable, match="U\\+0007"):
        serialize_results(control, fmt)


@pytest.mark.parametrize("name", ["json", "xml"])
def test_triple_terms_in_results(store, name: str) -> None:  # type: ignore[no-untyped-def]
    fmt = by_name(name)
    outcome = run_query(store, "SELECT ?t { BIND(<<( <http://a> <http://b> <http://c> )>> AS ?t) }")
    data = serialize_results(outcome, fmt)
    parsed = list(pyoxigraph.parse_query_results(data, format=fmt.results_format))
    assert parsed[0]["t"] == outcome.rows[0][0]


def test_triple_terms_in_csv_results_are_refused(store) -> None:  # type: ignore[no-untyped-def]
    from leapsld.errors import NotAcceptable

    outcome = run_query(store, "SELECT ?t { BIND(<<( <http://a> <http://b> <http://c> )>> AS ?t) }")
    with pytest.raises(NotAcceptable, match="triple term"):
        serialize_results(outcome, by_name("csv"))


CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_outcome_in_every_format_or_refused_by_kind(store, fmt) -> None:  # type: ignore[no-untyped-def]
    """One function writes any outcome; a graph only as RDF, results only as results (or the
    CLI's table), each refusal the typed error naming the format."""
    graph, results = run_query(store, CONSTRUCT), run_query(store, SELECT)
    if fmt.kind in RDF_KINDS:
        data = serialize_outcome(graph, fmt, context=jsonld_context("https://w3id.org/leaps/"))
        assert data == serialize_graph(
            graph.triples, fmt, context=jsonld_context("https://w3id.org/leaps/")
        )
    else:
        with pytest.raises(UnsupportedFormat, match=f"CONSTRUCT/DESCRIBE .* as {fmt.name} "):
            serialize_outcome(graph, fmt)
    if fmt.kind in ("results", "text"):
        assert serialize_outcome(results, fmt) == serialize_results(results, fmt)
    else:
        with pytest.raises(UnsupportedFormat, match=f"SELECT/ASK .* as {fmt.name} "):
            serialize_outcome(results, fmt)
