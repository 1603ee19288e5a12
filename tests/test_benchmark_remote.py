"""Smoke test of ``benchmarks/remote.py`` at a tiny size on Oxigraph server: the data is loaded
with ``leapsld load``, served with ``serve --store``, every query of the mix answers through
leapsld and from the engine, and documents come from the memo. Numbers are not asserted."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT


def test_the_remote_benchmark_runs_end_to_end() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "remote.py"),
            "--triples",
            "3000",
            "--engines",
            "oxigraph-server",
            "--runs",
            "1",
            "--budget",
            "5",
            "--no-write",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [result] = json.loads(done.stdout.strip().splitlines()[-1])
    names = sorted(p.stem for p in (ROOT / "benchmarks" / "queries").glob("*.rq"))
    assert [row["query"] for row in result["queries"]] == names
    assert all(row["status"] == [200] for row in result["queries"])
    assert result["documents"]["memo_p50_ms"] > 0
