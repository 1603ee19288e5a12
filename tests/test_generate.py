"""The benchmark's synthetic data: deterministic, and conforming to the project's own shapes."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from leapsld.pipeline import build
from leapsld.settings import Settings

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
assert spec is not None and spec.loader is not None
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)


def test_same_seed_same_data() -> None:
    first, second = io.StringIO(), io.StringIO()
    generate.generate(3000, 7, first)
    generate.generate(3000, 7, second)
    assert first.getvalue() == second.getvalue()


def test_generated_data_conforms_and_has_the_size_asked(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.ttl"
    with path.open("w") as out:
        generate.generate(4000, 2026, out)
    settings = Settings.from_env({}, root=ROOT, data=(ROOT / "ontology", path))
    dataset = build(settings)
    assert dataset.report is not None and dataset.report.results == []
    asserted = sum(1 for _ in dataset.store.quads(graph=dataset.data_files[-1].graph))
    assert 3600 <= asserted <= 4400
