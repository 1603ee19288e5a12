"""Smoke test of ``benchmarks/run.py`` at a tiny size: every query of the mix is measured cold
and warm, the results reach the JSON and the table, and the same-answers check can say no.

Only leapsld with the memory store runs here (Oxigraph server and rdflib-endpoint come with the
``bench`` extra); wrk's part is skipped where wrk is not installed. No number is asserted
beyond being there.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_run"] = bench  # its dataclasses look their module up while being made
spec.loader.exec_module(bench)

QUERY_NAMES = sorted(p.stem for p in (ROOT / "benchmarks" / "queries").glob("*.rq"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("bench")
    cfg = bench.Config(
        triples=3000,
        systems=("leapsld-memory",),
        repeat=2,
        workers=1,
        timeout=30,
        start_timeout=60,
        duration=1,
        warmup=0,
        rotate=20,
        wrk=shutil.which("wrk") is not None,
        data_dir=folder,
        results=folder,
    )
    return bench.run(cfg)


def test_the_mix_has_at_least_ten_queries_each_saying_what_it_exercises() -> None:
    queries = bench.load_queries()
    assert len(queries) >= 10
    assert all(q.description for q in queries)
    assert {q.form for q in queries} >= {"select", "ask", "construct"}


def test_every_query_has_cold_and_warm_numbers(tiny) -> None:  # type: ignore[no-untyped-def]
    results = json.loads(Path(tiny.results["json_path"]).read_text())
    system = results["systems"]["leapsld-memory"]
    assert "error" not in system, system.get("error")
    assert sorted(system["queries"]) == QUERY_NAMES
    for name, record in system["queries"].items():
        assert record["status"] == "ok", (name, record)
        assert record["cold_ms"] > 0
        assert len(record["warm_ms"]) == 2
        assert 0 < record["warm_median_ms"] <= record["warm_p95_ms"]
    start = system["phases"][0]
    assert start["first_answer_s"] > 0
    if importlib.util.find_spec("psutil") is not None:
        assert start["memory"]["peak_rss_mib"] > 0
    table = (Path(results["config"]["results"]) / "run-latest.md").read_text()
    for name in QUERY_NAMES:
        assert f"| {name} |" in table


def test_documents_are_loaded_with_wrk(tiny) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    rows = tiny.results["systems"]["leapsld-memory"]["documents"]
    assert [r["target"] for r in rows][:2] == ["doc Turtle", "doc JSON-LD"]
    for row in rows:
        assert row.get("rps", 0) > 0 and row["errors"] == 0, row


def test_a_different_answer_is_flagged(tiny) -> None:  # type: ignore[no-untyped-def]
    mine = tiny.answers["leapsld-memory"]
    other = copy.deepcopy(mine)
    listing = other["q02-list-by-type"]
    first = listing.rows[0]
    listing.rows[0] = (first[0], ("literal", "Not the label", bench.LANG_STRING, "en"))
    other["q11-ask"].boolean = not other["q11-ask"].boolean
    graph = other["q01-resource-construct"].graph
    graph.remove(next(iter(graph)))
    comparison = bench.compare(bench.load_queries(), {"leapsld-memory": mine, "other": other})
    changed = {"q02-list-by-type", "q11-ask", "q01-resource-construct"}
    for name, verdict in comparison.items():
        assert verdict["reference"] == "leapsld-memory"
        assert verdict["same"]["other"] is (name not in changed), name
    assert "Not the label" in comparison["q02-list-by-type"]["diffs"]["other"]
    assert "ASK" in comparison["q11-ask"]["diffs"]["other"]


def _select(rows: list[dict], ordered: bool) -> tuple:
    query = bench.Query("q", "SELECT", "", "select", ordered)
    body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": rows}}).encode()
    return query, bench.parse_answer(query, body)


def test_equal_answers_are_equal_however_written() -> None:
    xsd = bench.XSD
    one = [
        {"x": {"type": "literal", "value": "1.50", "datatype": f"{xsd}decimal"}},
        {"x": {"type": "literal", "value": "label", "xml:lang": "EN"}},
        {"x": {"type": "literal", "value": "plain"}},
    ]
    two = [
        {"x": {"type": "literal", "value": "plain", "datatype": f"{xsd}string"}},
        {"x": {"type": "literal", "value": "label", "xml:lang": "en"}},
        {"x": {"type": "literal", "value": "1.5", "datatype": f"{xsd}decimal"}},
    ]
    unordered, a = _select(one, ordered=False)
    _, b = _select(two, ordered=False)
    assert bench.same_answer(a, b, unordered.ordered)
    ordered, _ = _select(one, ordered=True)
    assert not bench.same_answer(a, b, ordered.ordered)
    assert "another order" in bench.describe_difference(a, b, ordered.ordered)
    typed = [{"x": {"type": "literal", "value": "1.5", "datatype": f"{xsd}double"}}]
    _, c = _select(one[:1], ordered=False)
    _, d = _select(typed, ordered=False)
    assert not bench.same_answer(c, d, False)
