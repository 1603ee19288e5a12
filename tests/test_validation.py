"""Validation reports: location of focus nodes (named and blank), order and verdict."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
import rdflib

from leapsld.bridge import graph_from_quads
from leapsld.loading import SourceIndex, load_files
from leapsld.rendering import render
from leapsld.store import OxigraphStore
from leapsld.validation import validate, validate_in_store

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "A person needs a name." ] ;
  sh:property [ sh:path ex:email ; sh:minCount 1 ; sh:severity sh:Warning ; sh:message "A person should have an email." ] ;
  sh:property [ sh:path ex:address ; sh:node ex:AddressShape ] .
ex:AddressShape a sh:NodeShape ;
  sh:property [ sh:path ex:city ; sh:datatype xsd:string ; sh:message "A city is a string." ] .
"""

DATA = """@prefix ex: <https://example.org/> .

ex:ok a ex:Person ; ex:name "Ok" ; ex:email "ok@example.org" .

ex:nameless a ex:Person ;
    ex:email "n@example.org" ;
    ex:address [ ex:city 42 ] .

ex:mailless a ex:Person ; ex:name "No mail" .
"""


def check(tmp_path: Path, *, fail_on: str = "Violation"):  # type: ignore[no-untyped-def]
    (tmp_path / "people.ttl").write_text(DATA)
    store = OxigraphStore()
    files = load_files(
        [tmp_path / "people.ttl"], store, base_iri="https://w3id.org/leaps/", root=tmp_path
    )
    shapes = rdflib.Graph().parse(data=SHAPES, format="turtle")
    return validate(graph_from_quads(store), shapes, index=SourceIndex(files), fail_on=fail_on)


def test_results_are_located_and_ordered(tmp_path: Path) -> None:
    report = check(tmp_path)
    assert not report.conforms
    assert report.counts == {"Violation": 2, "Warning": 1, "Info": 0}
    assert [(r.severity, r.where, r.focus) for r in report.results] == [
        ("Violation", "people.ttl:5", "<https://example.org/nameless>"),
        ("Violation", "people.ttl:5", "<https://example.org/nameless>"),
        ("Warning", "people.ttl:9", "<https://example.org/mailless>"),
    ]
    nested = next(r for r in report.results if r.path == "<https://example.org/address>")
    assert (
        "because _:" in nested.message
        and "<https://example.org/city>: A city is a string." in nested.message
    )


def test_a_blank_focus_node_is_located_where_its_holder_is(tmp_path: Path) -> None:
    (tmp_path / "people.ttl").write_text(DATA)
    store = OxigraphStore()
    files = load_files(
        [tmp_path / "people.ttl"], store, base_iri="https://w3id.org/leaps/", root=tmp_path
    )
    shapes = rdflib.Graph().parse(
        data=SHAPES.replace("sh:targetClass ex:Person", "sh:targetClass ex:Nobody")
        + "ex:AddressShape sh:targetSubjectsOf ex:city .",
        format="turtle",
    )
    report = validate(graph_from_quads(store), shapes, index=SourceIndex(files))
    assert [(r.where, r.message) for r in report.results] == [
        ("people.ttl:5", "A city is a string.")
    ]


def test_warnings_fail_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    report = check(tmp_path, fail_on="Warning")
    assert not report.conforms
    assert "does not conform: 2 violation(s), 1 warning(s)" in report.summary()


def test_a_severity_of_the_shapes_own_is_listed_after_info(tmp_path: Path) -> None:
    custom = SHAPES.replace("sh:severity sh:Warning", "sh:severity ex:Notice")
    (tmp_path / "people.ttl").write_text(DATA)
    store = OxigraphStore()
    load_files([tmp_path / "people.ttl"], store, base_iri="https://w3id.org/leaps/", root=tmp_path)
    shapes = rdflib.Graph().parse(data=custom, format="turtle")
    report = validate(graph_from_quads(store), shapes)
    assert [r.severity for r in report.results][-1] == "https://example.org/Notice"
    for fmt in ("text", "json", "turtle", "junit", "github"):
        assert render(report, fmt)


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_only_the_given_graphs_of_a_store_are_validated(tmp_path: Path, engine: str) -> None:
    (tmp_path / "people.ttl").write_text(DATA)
    (tmp_path / "more.ttl").write_text(
        "@prefix ex: <https://example.org/> . ex:other a ex:Person ."
    )
    store = OxigraphStore()
    files = load_files(
        [tmp_path / "people.ttl", tmp_path / "more.ttl"],
        store,
        base_iri="https://w3id.org/leaps/",
        root=tmp_path,
    )
    shapes = OxigraphStore()
    shapes.load(SHAPES.encode(), format=pyoxigraph.RdfFormat.TURTLE)

    def focus_nodes(graphs: list[str]) -> set[str]:
        report = validate_in_store(
            store, graphs=graphs, shapes=shapes, index=SourceIndex(files), engine=engine
        )
        assert report.engine == engine
        return {r.focus for r in report.results}

    people = focus_nodes([files[0].graph])
    assert "<https://example.org/nameless>" in people
    assert "<https://example.org/other>" not in people
    assert "<https://example.org/other>" in focus_nodes(store.graphs())
