"""Loading: every readable syntax, one graph per file, and errors that name file:line:col."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from leapsld.errors import LoadError
from leapsld.loading import SourceIndex, find_files, load_files
from leapsld.store import OxigraphStore

from .conftest import FIXTURES, ROOT

BASE = "https://w3id.org/leaps/"


def load(*names: str) -> tuple[pyoxigraph.Store, list]:
    store = OxigraphStore()
    files = load_files([FIXTURES / n for n in names], store, base_iri=BASE, root=ROOT)
    return store, files


@pytest.mark.parametrize("name", ["small.nt", "small.rdf", "small.jsonld"])
def test_triple_formats_go_into_the_files_graph(name: str) -> None:
    store, files = load(name)
    graph = f"{BASE}graph/tests/fixtures/small"
    assert [f.graph for f in files] == [graph]
    assert {q.graph_name.value for q in store} == {graph}
    assert len(store) == 1


def test_trig_keeps_named_graphs_and_puts_default_graph_in_files_graph() -> None:
    store, _ = load("small.trig")
    graphs = {q.graph_name.value for q in store}
    assert graphs == {f"{BASE}graph/tests/fixtures/small", "https://example.org/g1"}


def test_nquads_keeps_named_graphs() -> None:
    store, _ = load("small.nq")
    graphs = sorted(q.graph_name.value for q in store)
    assert graphs == ["https://example.org/g2", f"{BASE}graph/tests/fixtures/small"]


@pytest.mark.parametrize(
    ("name", "line", "column"),
    [("broken.ttl", 4, 11), ("broken.nt", 3, 1), ("broken.rdf", 4, 16), ("broken.jsonld", 4, 1)],
)
def test_parse_errors_name_file_line_and_column(name: str, line: int, column: int | None) -> None:
    with pytest.raises(LoadError) as caught:
        load(name)
    error = caught.value
    assert error.path == f"tests/fixtures/{name}"
    assert error.line == line
    if column is not None:
        assert error.column == column
    assert str(error).startswith(f"tests/fixtures/{name}:{line}:")


def test_a_broken_file_adds_nothing() -> None:
    store = OxigraphStore()
    with pytest.raises(LoadError):
        load_files(
            [FIXTURES / "small.nt", FIXTURES / "broken.ttl"], store, base_iri=BASE, root=ROOT
        )
    assert len(store) == 1  # the good file only; none of broken.ttl's first triple


def test_unknown_suffix_and_missing_file_are_load_errors() -> None:
    with pytest.raises(LoadError, match=r"suffix '\.txt'"):
        find_files([FIXTURES / "notrdf.txt"])
    with pytest.raises(LoadError, match="no such file"):
        find_files([FIXTURES / "missing.ttl"])


def test_folders_expand_to_their_rdf_files_sorted() -> None:
    found = find_files([FIXTURES])
    assert [p.name for p in found] == sorted(p.name for p in found)
    assert all(p.suffix != ".txt" for p in found)


def test_two_files_with_one_graph_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.ttl").write_text("<https://e/a> <https://e/p> 1 .\n")
    (tmp_path / "a.nt").write_text("<https://e/a> <https://e/p> <https://e/b> .\n")
    with pytest.raises(LoadError, match="share the named graph"):
        load_files([tmp_path], OxigraphStore(), base_iri=BASE, root=tmp_path)


def test_source_index_finds_subject_lines(tmp_path: Path) -> None:
    text = (
        "@prefix ex: <https://example.org/> .\n"
        "PREFIX id: <https://w3id.org/leaps/id/>\n"
        "\n"
        "ex:a ex:p ex:b ;\n"
        "    ex:q ex:c .\n"
        "<https://example.org/full> ex:p ex:a .\n"
        "id:org\\/esrf ex:p ex:a .\n"
    )
    (tmp_path / "x.ttl").write_text(text)
    files = load_files([tmp_path / "x.ttl"], OxigraphStore(), base_iri=BASE, root=tmp_path)
    index = SourceIndex(files)
    assert index.locate("https://example.org/a") == ("x.ttl", 4)
    assert index.locate("https://example.org/full") == ("x.ttl", 6)
    assert index.locate("https://w3id.org/leaps/id/org/esrf") == ("x.ttl", 7)
    assert index.locate("https://example.org/b") is None


def test_source_index_prefers_where_a_subject_is_typed(tmp_path: Path) -> None:
    (tmp_path / "a-extra.ttl").write_text("<https://e/x> <https://e/p> 1 .\n")
    (tmp_path / "b-main.ttl").write_text(
        "\n<https://e/x>\n    a <https://e/Thing> ;\n    <https://e/q> 2 .\n"
    )
    files = load_files([tmp_path], OxigraphStore(), base_iri=BASE, root=tmp_path)
    assert SourceIndex(files).locate("https://e/x") == ("b-main.ttl", 2)
