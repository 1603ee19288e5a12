"""Renderings of a validation report: text, JSON, Turtle, JUnit and GitHub annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import rdflib

from leapsld.bridge import graph_from_quads
from leapsld.loading import SourceIndex, load_files
from leapsld.rendering import render
from leapsld.store import OxigraphStore
from leapsld.validation import validate

from .test_validation import DATA, SHAPES, check


def test_renderings(tmp_path: Path) -> None:
    report = check(tmp_path)
    text = render(report, "text")
    assert "people.ttl:5: Violation: A person needs a name." in text
    assert "    path:  <https://example.org/name>" in text
    data = json.loads(render(report, "json"))
    assert data["conforms"] is False and len(data["results"]) == 3
    suite = ET.fromstring(render(report, "junit"))
    assert suite.get("failures") == "2" and len(suite.findall("testcase")) == 3
    github = render(report, "github").splitlines()
    assert (
        "::error file=people.ttl,line=5,title=SHACL Violation::A person needs a name."
        in github[1] + github[0]
    )
    assert any(line.startswith("::warning file=people.ttl,line=9,") for line in github)
    graph = rdflib.Graph().parse(data=render(report, "turtle"), format="turtle")
    assert len(list(graph.objects(None, rdflib.SH.result))) == 3  # and one nested sh:detail


def test_a_report_listing_none_of_its_results_fails_in_junit(tmp_path: Path) -> None:
    (tmp_path / "people.ttl").write_text(DATA)
    store = OxigraphStore()
    files = load_files(
        [tmp_path / "people.ttl"], store, base_iri="https://w3id.org/leaps/", root=tmp_path
    )
    shapes = rdflib.Graph().parse(data=SHAPES, format="turtle")
    report = validate(graph_from_quads(store), shapes, index=SourceIndex(files), max_results=0)
    assert report.results == [] and not report.conforms
    suite = ET.fromstring(render(report, "junit"))
    assert suite.get("failures") == "1"
    assert [c.get("name") for c in suite.iter("testcase")] == [
        "data does not conform to the shapes"
    ]
    assert [child.tag for child in suite][-1] == "system-out"  # after the test cases
