"""The W3C SPARQL 1.1 query syntax tests through ``leapsld query``, as a user runs it.

Each test's query file (``tests/sparql_w3c/``, vendored unchanged) is run with
``leapsld query FILE --data EMPTY --base IRI``, the base being the query file's own IRI as the
manifests name it: a positive syntax test must exit 0, a negative one must exit 2 with one line
that names where the parser stopped (``line L, column C``) — never a traceback, never exit 1
(which means "does not conform").

In-process through ``click.testing.CliRunner`` (the very ``main`` the script calls) for speed,
with a sample run as real processes of the installed ``leapsld`` executable; see
``test_w3c_shacl_cli.py`` for why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.collection import Collection

from leapsld.cli import main

SUITE = Path(__file__).resolve().parent / "sparql_w3c"
EMPTY = SUITE / "empty.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
FOLDERS = ("syntax-query", "syntax-fed", "aggregates", "construct", "grouping")

#: Tests whose outcome through the command differs from the suite's, and why.
DIFFERENT = {
    f"syntax-fed/test_{n}": (
        "well-formed, but leapsld makes no outbound requests: a query using SERVICE is refused "
        "before it is parsed (exit 2, 'SERVICE is not allowed')"
    )
    for n in (1, 2, 3)
} | {
    "syntax-query/test_4": (
        "well-formed, but it calls <http://example/function>, a custom function the engine does "
        "not implement: the command exits 2 naming the function"
    ),
}


def manifest_tests() -> list[tuple[str, Path, bool]]:
    """(name, query file, positive) of every query syntax test of the vendored manifests."""
    found = []
    for folder in FOLDERS:
        manifest = SUITE / folder / "manifest.ttl"
        g = rdflib.Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
        for entries in g.objects(None, MF.entries):
            for entry in Collection(g, entries):
                kind = str(g.value(entry, rdflib.RDF.type)).rsplit("#", 1)[-1]
                if kind not in ("PositiveSyntaxTest11", "NegativeSyntaxTest11"):
                    continue
                query = Path(str(g.value(entry, MF.action)).removeprefix("file://"))
                name = f"{folder}/{str(entry).rsplit('#', 1)[-1]}"
                found.append((name, query, kind.startswith("Positive")))
    return found


TESTS = manifest_tests()


def command(query: Path) -> list[str]:
    return ["query", str(query), "--data", str(EMPTY), "--base", query.as_uri()]


def check(positive: bool, exit_code: int, stdout: str, stderr: str) -> None:
    if positive:
        assert exit_code == 0, f"exit {exit_code}\n{stderr}"
        return
    assert exit_code == 2, f"exit {exit_code}, expected 2\n{stdout}{stderr}"
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leapsld: "), stderr
    assert re.search(r"line \d+, column \d+", lines[0]), lines[0]


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key in [k for k in os.environ if k.startswith("LEAPSLD_")]:
        monkeypatch.delenv(key)
    return CliRunner()


def test_the_suite_is_all_here() -> None:
    assert len(TESTS) == 106
    assert sum(positive for _, _, positive in TESTS) == 66
    assert {name for name, _, _ in TESTS} >= set(DIFFERENT)


@pytest.mark.parametrize(
    ("name", "query", "positive"),
    [
        pytest.param(
            name,
            query,
            positive,
            marks=pytest.mark.xfail(reason=DIFFERENT[name]) if name in DIFFERENT else (),
        )
        for name, query, positive in TESTS
    ],
    ids=[name for name, _, _ in TESTS],
)
def test_w3c_sparql_syntax_through_query(
    cli: CliRunner, name: str, query: Path, positive: bool
) -> None:
    result = cli.invoke(main, command(query))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r}") from result.exception
    check(positive, result.exit_code, result.stdout, result.stderr)


SAMPLE = ["syntax-query/test_1", "syntax-query/test_40", "aggregates/agg08", "syntax-fed/test_1"]


def test_sample_as_real_processes() -> None:
    """A positive and negative test as processes; and SERVICE refused with one line, exit 2."""
    chosen = {name: (query, positive) for name, query, positive in TESTS if name in SAMPLE}
    assert len(chosen) == len(SAMPLE)
    exe = Path(sys.executable).with_name("leapsld")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAPSLD_")}
    for name, (query, positive) in chosen.items():
        done = subprocess.run(
            [str(exe), *command(query)], capture_output=True, text=True, env=env, timeout=120
        )
        if name in DIFFERENT:
            assert done.returncode == 2 and "SERVICE is not allowed" in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
            continue
        check(positive, done.returncode, done.stdout, done.stderr)
