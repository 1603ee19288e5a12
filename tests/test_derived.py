"""Derived data: exact counts, one writer per folder, recorded once per version."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import pyoxigraph
import pytest

from leapsld import derived
from leapsld.dataset import Dataset
from leapsld.pipeline import build
from leapsld.settings import Settings

EX = "http://example.org/"


@pytest.fixture()
def overlapping(tmp_path: Path) -> Dataset:
    """Two files stating one triple twice, and a class with a subclass instance."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.ttl").write_text(
        f"<{EX}x> a <{EX}C> ; <{EX}p> 1 .\n<{EX}y> a <{EX}C> .\n"
        "<https://w3id.org/leaps/id/thing/z> <http://example.org/p> _:b .\n"
    )
    (data / "b.ttl").write_text(f"<{EX}x> <{EX}p> 1 .\n<{EX}x> a <{EX}D> .\n")
    settings = Settings.from_env({}, root=tmp_path, data=(data,), validate=False)
    return build(settings, load_shapes=False)


def test_unique_triples_counts_a_triple_in_two_files_once(overlapping: Dataset) -> None:
    triples = list(derived.unique_triples(overlapping.store, overlapping.data_graphs))
    assert len(triples) == len(set(triples)) == 5


def test_statistics_equal_what_sparql_counts(overlapping: Dataset) -> None:
    stats = derived.statistics(
        overlapping.store, overlapping.data_graphs, base_iri="https://w3id.org/leaps/"
    )

    def count(text: str) -> int:
        (row,) = overlapping.store.query(text, default_graphs=overlapping.data_graphs)
        return int(row[0].value)

    assert stats.triples == count("SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o {?s ?p ?o} }")
    assert stats.triples == 5
    assert stats.classes == {f"{EX}C": 2, f"{EX}D": 1}
    assert stats.properties == {
        f"{EX}p": 2,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": 3,
    }
    assert stats.distinct_subjects == 3 and stats.distinct_objects == 4  # C, D, 1, _:b
    assert stats.entities == 1  # only z is in the URI space
    assert derived.Statistics.from_json(stats.to_json()) == stats


def test_statistics_are_recorded_once_per_folder(
    overlapping: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = derived.statistics

    def counted(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(derived, "statistics", counted)
    folder = tmp_path / "derived"
    first = derived.recorded_statistics(overlapping, folder)
    again = derived.recorded_statistics(overlapping, folder)
    assert first == again and len(calls) == 1
    (folder / derived.STATISTICS).write_text("{ not json")
    assert derived.recorded_statistics(overlapping, folder) == first  # a damaged record is redone
    assert len(calls) == 2


def test_concurrent_writers_write_the_dumps_once(
    overlapping: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = derived._write_dumps

    def counted(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(derived, "_write_dumps", counted)
    folder = tmp_path / "dumps"
    results: list[list[derived.Dump]] = []
    threads = [
        threading.Thread(target=lambda: results.append(derived.write_dumps(overlapping, folder)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({tuple((d.name, d.sha256) for d in r) for r in results}) == 1
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def test_the_dumps_hold_each_distinct_triple(overlapping: Dataset, tmp_path: Path) -> None:
    dumps = {d.name: d for d in derived.write_dumps(overlapping, tmp_path / "dumps")}
    graph = list(pyoxigraph.parse(path=str(dumps[f"{overlapping.identity.stem}.ttl"].path)))
    assert len(graph) == 5
    with gzip.open(dumps[f"{overlapping.identity.stem}.nq.gz"].path) as handle:
        quads = list(pyoxigraph.parse(handle, format=pyoxigraph.RdfFormat.N_QUADS))
    assert len(quads) == 6  # the N-Quads keep the triple stated in both files, once per file


def test_the_project_dataset_statistics(dataset: Dataset) -> None:
    stats = derived.statistics(
        dataset.store, dataset.data_graphs, base_iri=dataset.settings.base_iri
    )
    assert stats.triples == sum(
        1 for _ in derived.unique_triples(dataset.store, dataset.data_graphs)
    )
    assert stats.classes["http://www.w3.org/ns/org#Membership"] == 49


def test_a_stream_pauses_while_requests_are_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([True] * 5 + [False] * 10_000)
    slept: list[float] = []
    monkeypatch.setattr(derived.time, "sleep", slept.append)
    out = list(derived._politely(range(1000), lambda: next(answers)))
    assert out == list(range(1000))
    assert len(slept) == 5  # paused while busy, then went on


def test_a_steady_load_slows_a_stream_but_never_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(derived.time, "sleep", slept.append)
    assert list(derived._politely(range(600), lambda: True)) == list(range(600))
    questions = len(range(0, 600, derived._YIELD_EVERY))
    assert sum(slept) <= questions * derived._LONGEST_PAUSE + 1e-9


def test_graph_dump_names_never_collide() -> None:
    base = "https://example.org/"
    one = derived.graph_dump_name("x", base + "graph/data/a-b", base)
    two = derived.graph_dump_name("x", base + "graph/data/a/b", base)
    assert one != two and one.startswith("x-graph-data-a-b-") and two.endswith(".nt.gz")
