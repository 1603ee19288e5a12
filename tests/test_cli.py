"""The ``leapsld`` command: exit codes, report formats, query output."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph
import pytest

from leapsld.cli import main
from leapsld.formats import RDF_KINDS, by_name, of_kind
from leapsld.pipeline import build
from leapsld.settings import Settings

from .conftest import FIXTURES, ROOT

BROKEN_PROJECT = (
    "@prefix schema: <https://schema.org/> .\n"
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    "\n"
    "<https://w3id.org/leaps/id/project/nameless> a schema:ResearchProject ;\n"
    '    rdfs:comment "has neither label nor source" .\n'
)


@pytest.fixture()
def broken_data(tmp_path: Path) -> Path:
    """The project's data plus one project that breaks the shapes, at a known line."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "zz-broken.ttl").write_text(BROKEN_PROJECT)
    return data


def test_validate_shipped_data_conforms(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "conforms: 0 violation(s), 0 warning(s)" in result.output


def test_validate_reports_file_line_and_exit_1(runner, broken_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["validate", str(ROOT / "ontology"), str(broken_data)])
    assert result.exit_code == 1
    assert f"{broken_data}/zz-broken.ttl:4: Violation:" in result.output
    assert "focus: <https://w3id.org/leaps/id/project/nameless>" in result.output


def test_validate_json_names_every_field(runner, broken_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        main, ["validate", str(ROOT / "ontology"), str(broken_data), "--format", "json"]
    )
    report = json.loads(result.output)
    assert report["conforms"] is False
    result0 = next(r for r in report["results"] if r["focus"].endswith("/nameless>"))
    assert set(result0) >= {
        "severity",
        "focus",
        "path",
        "value",
        "message",
        "file",
        "line",
        "shape",
    }
    assert result0["line"] == 4 and result0["file"].endswith("zz-broken.ttl")


def test_validate_junit_and_github(runner, broken_data: Path) -> None:  # type: ignore[no-untyped-def]
    paths = [str(ROOT / "ontology"), str(broken_data)]
    junit = runner.invoke(main, ["validate", *paths, "--format", "junit"])
    suite = ET.fromstring(junit.output)
    assert int(suite.get("failures")) >= 1
    github = runner.invoke(main, ["validate", *paths, "--format", "github"])
    assert (
        f"::error file={broken_data}/zz-broken.ttl,line=4,title=SHACL Violation::" in github.output
    )


def test_validate_turtle_report_is_a_shacl_report(runner, broken_data: Path) -> None:  # type: ignore[no-untyped-def]
    import rdflib

    result = runner.invoke(
        main, ["validate", str(ROOT / "ontology"), str(broken_data), "--format", "turtle"]
    )
    graph = rdflib.Graph().parse(data=result.output, format="turtle")
    assert (None, rdflib.RDF.type, rdflib.SH.ValidationReport) in graph


def test_validate_lists_at_most_max_results(runner, broken_data: Path) -> None:  # type: ignore[no-untyped-def]
    (broken_data / "zz-broken.ttl").write_text(
        BROKEN_PROJECT
        + "".join(
            f"<https://w3id.org/leaps/id/project/nameless-{i}> a schema:ResearchProject .\n"
            for i in range(5)
        )
    )
    paths = [str(ROOT / "ontology"), str(broken_data)]
    everything = json.loads(
        runner.invoke(main, ["validate", *paths, "--format", "json", "--max-results", "0"]).output
    )
    counts = everything["counts"]
    total, violations = sum(counts.values()), counts["Violation"]
    assert total == len(everything["results"]) and violations >= 6
    assert everything["not_listed"] == {}
    text = runner.invoke(main, ["validate", *paths, "--max-results", "2"])
    assert text.exit_code == 1
    assert text.output.count(": Violation: ") == 2  # the most severe first
    assert f"{violations} violation(s)" in text.output
    assert f"(2 listed, {total - 2} more not listed)" in text.output
    cut = json.loads(
        runner.invoke(main, ["validate", *paths, "--format", "json", "--max-results", "2"]).output
    )
    assert len(cut["results"]) == 2
    assert cut["not_listed"] == {
        k: n - (2 if k == "Violation" else 0) for k, n in counts.items() if n
    }
    assert cut["counts"] == everything["counts"] and cut["conforms"] is False
    junit = ET.fromstring(
        runner.invoke(main, ["validate", *paths, "--format", "junit", "--max-results", "2"]).output
    )
    assert junit.get("tests") == junit.get("failures") == "2"
    assert "not listed" in (junit.findtext("system-out") or "")


def test_validate_syntax_error_exit_2_with_position(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["validate", str(FIXTURES / "broken.ttl")])
    assert result.exit_code == 2
    assert "tests/fixtures/broken.ttl:4:11:" in result.output


def test_query_cq04_table_prints_the_eight_participants(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", str(ROOT / "queries" / "cq04.rq"), "--format", "table"])
    assert result.exit_code == 0, result.output
    for name in ("ALBA", "DESY", "Elettra", "ESRF", "INFN", "PSI", "SESAME", "SOLARIS"):
        assert name in result.output
    assert "(8 rows)" in result.output


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_query_result_formats(runner, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", "ASK { ?s ?p ?o }", "--format", fmt])
    assert result.exit_code == 0
    assert "true" in result.output


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "nt", "rdfxml", "nq", "trig"])
def test_query_graph_formats(runner, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        main, ["query", "-e", "CONSTRUCT WHERE { ?s a ?c } LIMIT 2", "--format", fmt]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip()


CONSTRUCT = "CONSTRUCT WHERE { ?s a ?c } LIMIT 2"
ASK = "ASK { ?s ?p ?o }"


def _graph_spellings() -> list[tuple[str, str]]:
    return [
        (value, fmt.name)
        for fmt in of_kind(*RDF_KINDS)
        for value in (*fmt.names, *fmt.graph_aliases, *fmt.media_types)
    ]


def _results_spellings() -> list[tuple[str, str]]:
    return [
        (value, fmt.name)
        for fmt in of_kind("results", "text")
        for value in (*fmt.names, *fmt.media_types)
    ]


@pytest.mark.parametrize(("value", "name"), _graph_spellings())
def test_query_graph_format_names_and_aliases(runner, value: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """``--format`` takes every name, alias and media type of the registry; ``xml``, ``json``
    mean RDF/XML and JSON-LD for a graph, as on the endpoint."""
    result = runner.invoke(main, ["query", "-e", CONSTRUCT, "--format", value])
    assert result.exit_code == 0, result.output
    fmt = by_name(name)
    data = result.stdout_bytes
    if fmt.context:
        data = _expanded(data)
    assert len(list(pyoxigraph.parse(data, format=fmt.rdf_format))) == 2


def _expanded(data: bytes) -> bytes:
    """A JSON-LD body read with the project's context (never fetched)."""
    from leapsld.namespaces import jsonld_context

    body = json.loads(data)
    body["@context"] = jsonld_context("https://w3id.org/leaps/")
    return json.dumps(body).encode()


@pytest.mark.parametrize(("value", "name"), _results_spellings())
def test_query_results_format_names_and_aliases(runner, value: str, name: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", ASK, "--format", value])
    assert result.exit_code == 0, result.output
    fmt = by_name(name)
    if fmt.results_format is None:  # the table
        assert result.output == "yes\n"
    elif fmt.results_format == pyoxigraph.QueryResultsFormat.CSV:  # which pyoxigraph never reads
        assert result.output == "true\n"
    else:
        assert pyoxigraph.parse_query_results(result.stdout_bytes, format=fmt.results_format)


@pytest.mark.parametrize(
    ("query", "value", "kind"),
    [
        (CONSTRUCT, "csv", "CONSTRUCT/DESCRIBE"),
        (CONSTRUCT, "table", "CONSTRUCT/DESCRIBE"),
        (CONSTRUCT, "html", "CONSTRUCT/DESCRIBE"),
        (ASK, "turtle", "SELECT/ASK"),
        (ASK, "nq", "SELECT/ASK"),
        (ASK, "json-ld", "SELECT/ASK"),
    ],
)
def test_query_format_of_the_wrong_kind_is_refused(
    runner, query: str, value: str, kind: str
) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", query, "--format", value])
    assert result.exit_code == 2
    assert f"a {kind} result cannot be written as" in result.output


def test_query_unknown_format_names_the_known_ones(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", ASK, "--format", "bogus"])
    assert result.exit_code == 2 and "known formats: csv" in result.output


def test_query_on_other_data(runner) -> None:  # type: ignore[no-untyped-def]
    # --data is the default graph; a TriG file's own named graph stays named
    def count(text: str) -> list[str]:
        args = ["query", "--data", str(FIXTURES / "small.trig"), "-e", text, "--format", "csv"]
        return runner.invoke(main, args).output.split()

    assert count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == ["n", "1"]
    assert count("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g") == [
        "g,n",
        "https://example.org/g1,1",
    ]


def test_query_syntax_error_exit_2(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", "SELECT * WHERE {"])
    assert result.exit_code == 2
    assert "line 1, column" in result.output


def test_query_refuses_updates(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", "DELETE WHERE { ?s ?p ?o }"])
    assert result.exit_code == 2 and "read-only" in result.output


def test_query_needs_exactly_one_source(runner) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(main, ["query"]).exit_code == 2


def test_build_on_disk_is_reused(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    first = runner.invoke(main, ["build", "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert "conforms" in first.output and " into " in first.output
    again = runner.invoke(main, ["build", "--store", str(store)])
    assert again.exit_code == 0 and " reused " in again.output


def test_validate_with_inference_and_other_shapes(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(main, ["validate", "--infer", "rdfs"]).exit_code == 0
    shapes = tmp_path / "founding.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix org: <http://www.w3.org/ns/org#> .\n"
        "@prefix schema: <https://schema.org/> .\n"
        "<urn:x:FoundedShape> a sh:NodeShape ; sh:targetClass org:OrganizationalUnit ;\n"
        '  sh:property [ sh:path schema:foundingDate ; sh:minCount 1 ; sh:message "needs a founding date" ] .\n'
    )
    result = runner.invoke(main, ["validate", "--shapes", str(shapes), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [(r["focus"], r["message"], r["file"]) for r in report["results"]] == [
        (
            "<https://w3id.org/leaps/id/org/leaps-general-assembly>",
            "needs a founding date",
            "data/organisations.ttl",
        )
    ]


# Standards: relative IRIs, exit codes (issue 15) --------------------------------------------

RELATIVE = '@prefix ex: <http://example.org/> .\n<> ex:p <a> .\n<#x> ex:p "1.50"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'


def test_relative_iris_resolve_against_the_file_in_validate_and_query(
    runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "rel.ttl"
    data.write_text(RELATIVE)
    (tmp_path / "shapes.ttl").write_text("")
    checked = runner.invoke(main, ["validate", str(data), "--shapes", str(tmp_path / "shapes.ttl")])
    assert checked.exit_code == 0, checked.output
    result = runner.invoke(
        main,
        [
            "query",
            "--data",
            str(data),
            "-e",
            "SELECT ?s ?o { ?s ?p ?o } ORDER BY ?s",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{data.as_uri()},{(tmp_path / 'a').as_uri()}" in result.stdout
    assert f"{data.as_uri()}#x,1.5" in result.stdout  # answers are canonical (README)


def test_relative_iris_resolve_against_the_dataset_in_build(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rel.ttl").write_text(RELATIVE)
    (tmp_path / "shapes").mkdir()
    (tmp_path / "ontology").mkdir()
    settings = Settings.from_env({}, root=tmp_path, base_iri="https://example.org/zoo/")
    d = build(settings, validate_data=False, load_shapes=False)
    subjects = {q.subject.value for q in d.store.quads()}
    assert subjects == {
        "https://example.org/zoo/data/rel.ttl",
        "https://example.org/zoo/data/rel.ttl#x",
    }
    again = build(settings.replace(root=tmp_path), validate_data=False, load_shapes=False)
    assert again.version == d.version


def test_query_base_resolves_the_query_text(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        main,
        [
            "query",
            "--base",
            "http://example.org/x/",
            "-e",
            "SELECT (<a> AS ?a) {}",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "http://example.org/x/a" in result.stdout
    broken = runner.invoke(
        main, ["query", "--base", "http://example.org/", "-e", "SELECT ?a { ?a }"]
    )
    assert broken.exit_code == 2
    # the position is in the text as written, not after the BASE put in front of it
    assert "line 1, column 17:" in broken.stderr and len(broken.stderr.splitlines()) == 1


def test_an_unsupported_custom_function_is_exit_2_naming_it(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["query", "-e", "SELECT (<http://example.org/f>(1) AS ?x) {}"])
    assert result.exit_code == 2
    assert "<http://example.org/f>" in result.stderr and len(result.stderr.splitlines()) == 1
