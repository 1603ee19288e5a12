"""The W3C SPARQL 1.1 query evaluation tests through ``leapsld query``, as a user runs it.

Each test's dataset is declared as the test declares it: ``--data FILE`` for each ``qt:data``
(the default graph), ``--named IRI=FILE`` for each ``qt:graphData`` (its IRI the file's own, as
the manifest names it); the query runs with ``--base`` its own file IRI; the answer (``--format
json`` for a result set, ``nt`` for a graph, ``csv``/``tsv`` when the expected result is one) is
compared with the expected one by result-set isomorphism (``w3c_results``).

In-process through ``click.testing.CliRunner`` (the very ``main`` the ``leapsld`` script calls)
for speed, with a sample as real processes: see ``test_w3c_shacl_cli.py`` for why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from leapsld.cli import main

from .w3c_results import (
    DIFFERENT,
    EMPTY,
    EvalTest,
    manifest_tests,
    read_expected,
    read_srj,
    read_tsv,
    same_csv,
    same_graph,
    same_results,
)

TESTS = manifest_tests()


def command(test: EvalTest) -> list[str]:
    fmt = {"graph": "nt", "csv": "csv"}.get(test.kind, "json")
    if test.result.suffix == ".tsv":
        fmt = "tsv"
    args = ["query", str(test.query), "--base", test.query.as_uri(), "--format", fmt]
    for path in test.data or ((EMPTY,) if not test.named else ()):
        args += ["--data", str(path)]
    for iri, path in test.named:
        args += ["--named", f"{iri}={path}"]
    return args


def check(test: EvalTest, exit_code: int, stdout: bytes, stderr: str) -> None:
    """The answer is the expected one."""
    assert exit_code == 0, f"exit {exit_code}\n{stderr}"
    check_answer(test, stdout)


def check_answer(test: EvalTest, body: bytes) -> None:
    if test.kind == "graph":
        assert same_graph(test.result, body), body.decode()
        return
    if test.kind == "csv":
        assert same_csv(test.result, body), body.decode()
        return
    rows, boolean = read_tsv(body) if test.result.suffix == ".tsv" else read_srj(body)
    want_rows, want_boolean = read_expected(test)
    assert boolean == want_boolean, body.decode()
    if want_rows is not None:
        assert rows is not None
        assert same_results(want_rows, rows, ordered=test.ordered), (
            f"expected {want_rows}\ngot {rows}"
        )


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key in [k for k in os.environ if k.startswith("LEAPSLD_")]:
        monkeypatch.delenv(key)
    return CliRunner()


def test_the_suite_is_all_here() -> None:
    assert len(TESTS) == 242  # 235 of the query and results manifests, and 7 of SERVICE
    assert {t.name for t in TESTS} >= set(DIFFERENT)
    for test in TESTS:
        assert test.query.is_file() and test.result.is_file(), test.name
        assert all(p.is_file() for p in test.data), test.name


@pytest.mark.parametrize(
    "test",
    [
        pytest.param(t, marks=pytest.mark.xfail(reason=DIFFERENT[t.name], strict=True))
        if t.name in DIFFERENT
        else t
        for t in TESTS
    ],
    ids=[t.name for t in TESTS],
)
def test_w3c_sparql_evaluation_through_query(cli: CliRunner, test: EvalTest) -> None:
    result = cli.invoke(main, command(test))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r}") from result.exception
    check(test, result.exit_code, result.stdout_bytes, result.stderr)


SAMPLE = [
    "exists/exists-graph-variable",
    "subquery/subquery04",
    "aggregates/agg01",
    "service/service1",
]


def test_sample_as_real_processes() -> None:
    """Tests with named graphs and repeated triples as processes; SERVICE refused, exit 2."""
    chosen = {t.name: t for t in TESTS if t.name in SAMPLE}
    assert len(chosen) == len(SAMPLE)
    exe = Path(sys.executable).with_name("leapsld")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAPSLD_")}
    for name, test in chosen.items():
        done = subprocess.run([str(exe), *command(test)], capture_output=True, env=env, timeout=120)
        if name in DIFFERENT:
            assert done.returncode == 2 and b"SERVICE is not allowed" in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
            continue
        check(test, done.returncode, done.stdout, done.stderr.decode())
