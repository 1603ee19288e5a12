"""The one build path: inference kept apart, on-disk stores reused, failures leave nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph
import pytest

from leapsld.dataset import DERIVED
from leapsld.derived import STATISTICS, existing_dumps
from leapsld.errors import LoadError, ShapesViolation
from leapsld.pipeline import build
from leapsld.query import run_query
from leapsld.settings import Settings

from .conftest import FIXTURES, ROOT


def test_the_shipped_dataset_conforms_without_warnings(dataset) -> None:  # type: ignore[no-untyped-def]
    assert dataset.report is not None
    assert dataset.report.counts == {"Violation": 0, "Warning": 0, "Info": 0}, (
        dataset.report.summary()
    )


def test_every_file_has_its_own_graph(dataset) -> None:  # type: ignore[no-untyped-def]
    graphs = dataset.store.graphs()
    for f in dataset.data_files:
        assert f.graph in graphs
    assert len({f.graph for f in dataset.data_files}) == len(dataset.data_files)
    # the shapes are kept apart: not part of the published data
    assert dataset.shapes_store.graphs() == [f.graph for f in dataset.shapes_files]
    assert not set(dataset.shapes_graphs) & set(graphs)


@pytest.mark.parametrize("mode", ["rdfs", "owlrl"])
def test_inference_goes_into_its_own_graph(settings: Settings, dataset, mode: str) -> None:  # type: ignore[no-untyped-def]
    inferred = build(settings.replace(infer=mode), validate_data=False)
    assert inferred.inferred > 0
    graph = inferred.inferred_graph
    for g in inferred.data_graphs:  # asserted graphs unchanged
        assert sum(1 for _ in inferred.store.quads(graph=g)) == sum(
            1 for _ in dataset.store.quads(graph=g)
        )
    assert sum(1 for _ in inferred.store.quads(graph=graph)) == inferred.inferred
    assert graph not in dataset.store.graphs()


def test_rdfs_inference_answers_superclass_queries(settings: Settings) -> None:
    inferred = build(settings.replace(infer="rdfs"), validate_data=False)
    text = "ASK { <https://w3id.org/leaps/id/project/beats> a <https://schema.org/Project> }"
    assert run_query(inferred.store, text, default_graphs=[inferred.inferred_graph]).boolean is True


def test_version_changes_with_the_data(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "shapes", tmp_path / "shapes")
    settings = Settings.from_env({}, root=tmp_path)
    first = build(settings, validate_data=False).version
    assert build(settings, validate_data=False).version == first
    with (tmp_path / "data" / "extra.ttl").open("w") as f:
        f.write("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    assert build(settings, validate_data=False).version != first


def test_on_disk_store_is_reused_and_a_failed_build_leaves_the_good_one(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, root / part)
    store = tmp_path / "store"
    settings = Settings.from_env({}, root=root, store=str(store))
    built = build(settings)
    assert not built.reused and built.conforms
    count = len(built.store)
    again = build(settings)
    assert again.reused and len(again.store) == count and again.version == built.version
    (root / "data" / "zz.ttl").write_text(
        "<https://w3id.org/leaps/id/project/x> a <https://schema.org/ResearchProject> .\n"
    )
    with pytest.raises(ShapesViolation):
        build(settings)
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == [built.version]
    (root / "data" / "zz.ttl").write_text("broken turtle\n")
    with pytest.raises(LoadError):
        build(settings)
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == [built.version]


def test_no_files_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no RDF files"):
        build(
            Settings.from_env({}, root=tmp_path, data=(tmp_path,), shapes=(FIXTURES / "small.nt",))
        )


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, root / part)
    return root


def test_named_graphs_of_trig_files_are_validated_dumped_and_counted(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    (root / "data" / "extra.trig").write_text(
        "@prefix schema: <https://schema.org/> .\n"
        "GRAPH <https://example.org/extra> {\n"
        "  <https://w3id.org/leaps/id/programme/unlabelled> a schema:FundingScheme .\n"
        "}\n"
    )
    settings = Settings.from_env({}, root=root)
    built = build(settings, validate_data=False)
    assert "https://example.org/extra" in built.data_graphs
    with pytest.raises(ShapesViolation):
        build(settings)


def test_an_on_disk_store_holds_exactly_what_the_memory_store_holds(tmp_path: Path) -> None:
    """The on-disk store is bulk-loaded after the build in memory: same quads, graphs included
    (a TriG file's own graph, a blank node, and the inferred graph)."""
    root = _project_copy(tmp_path)
    (root / "data" / "extra.trig").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "GRAPH <https://example.org/extra> {\n"
        '  <https://example.org/a> rdfs:label "a"@en ; rdfs:seeAlso [ rdfs:label "b"@en ] .\n'
        "}\n"
    )
    settings = Settings.from_env({}, root=root, infer="rdfs")
    in_memory = build(settings, validate_data=False)
    on_disk = build(settings.replace(store=str(tmp_path / "store")), validate_data=False)
    assert on_disk.store.path is not None and on_disk.inferred == in_memory.inferred > 0

    def named(store) -> set[str]:  # type: ignore[no-untyped-def]
        blank = pyoxigraph.BlankNode
        return {
            str(q) for q in store if not isinstance(q.subject, blank) | isinstance(q.object, blank)
        }

    derived = tmp_path / "store" / on_disk.version / DERIVED
    assert existing_dumps(derived) is not None  # written while the data was in memory
    assert (derived / STATISTICS).is_file()
    assert named(on_disk.store) == named(in_memory.store)
    assert len(on_disk.store) == len(in_memory.store)
    assert "https://example.org/extra" in on_disk.store.graphs()
    # What was inferred about a blank node is about the data's blank node, not a stranger.
    inferred_blanks = {
        q.subject
        for q in on_disk.store.quads(graph=on_disk.inferred_graph)
        if isinstance(q.subject, pyoxigraph.BlankNode)
    }
    asserted_blanks = {
        q.subject
        for g in on_disk.data_graphs
        for q in on_disk.store.quads(graph=g)
        if isinstance(q.subject, pyoxigraph.BlankNode)
    }
    assert inferred_blanks and inferred_blanks <= asserted_blanks


def test_a_file_cannot_fill_another_files_graph(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    (root / "data" / "zz.trig").write_text(
        "GRAPH <https://w3id.org/leaps/graph/data/organisations> { <https://e/a> <https://e/b> 1 }\n"
    )
    with pytest.raises(LoadError, match=r"belongs to data/organisations\.ttl"):
        build(Settings.from_env({}, root=root), validate_data=False)
    (root / "data" / "zz.trig").write_text(
        "GRAPH <https://w3id.org/leaps/graph/inferred> { <https://e/a> <https://e/b> 1 }\n"
    )
    with pytest.raises(LoadError, match="reserved"):
        build(Settings.from_env({}, root=root), validate_data=False)


def test_builders_started_together_share_one_store(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = tmp_path / "store"
    leapsld = str(Path(sys.executable).parent / "leapsld")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    runs = [
        subprocess.Popen(
            [leapsld, "build", "--store", str(store)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert sum(" into " in out for out in outputs) == 1
    assert sum(" reused " in out for out in outputs) == 2


@pytest.mark.parametrize("mode", ["rdfs", "owlrl"])
def test_the_shipped_data_conforms_under_every_inference_mode(
    settings: Settings, mode: str
) -> None:
    inferred = build(settings.replace(infer=mode))
    assert inferred.report is not None and inferred.report.results == [], inferred.report.summary()
    text = (ROOT / "queries" / "cq04.rq").read_text()
    assert len(run_query(inferred.store, text).rows) == 8  # no copies through owl:sameAs


def test_a_build_removes_the_staging_folders_of_interrupted_builds(tmp_path: Path) -> None:
    """A builder killed mid-build leaves ``<version>.building``; the next build (which holds
    the store's lock, as every builder does while staging) removes it."""
    store = tmp_path / "store"
    abandoned = store / "0123456789abcdef.building"
    (abandoned / "store").mkdir(parents=True)
    (abandoned / "quads.nq").write_bytes(b"x" * 1024)
    settings = Settings.from_env({}, root=ROOT, store=str(store))
    built = build(settings)
    assert not abandoned.exists()
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == [built.version]
    (store / "fedcba9876543210.building").mkdir()
    assert build(settings).reused  # reusing removes them too
    assert not (store / "fedcba9876543210.building").exists()
