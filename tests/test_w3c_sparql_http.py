"""The W3C SPARQL 1.1 query evaluation and syntax tests over HTTP, through a running
``leapsld serve``, as a client of the SPARQL Protocol meets it.

Each distinct dataset of the evaluation tests is served once, declared as the test declares it
(``leapsld serve --data FILE --named IRI=FILE``), and every test over that dataset is asked of
that server: the query is POSTed as a form, with ``BASE <its file IRI>`` in front of it (the
protocol has no base parameter, so a client says it in the text), and the answer compared with
the expected one as through the command (``w3c_results``). Servers start a few ahead of the
test that needs them, so that their start-up overlaps (one server per dataset, not per test).

The syntax tests go to one server over an empty dataset: a positive test must answer 200, a
negative one 400 naming where the parser stopped.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .test_server import LEAPSLD, clean_env, free_port, spawn, stop
from .test_w3c_sparql_eval_cli import check_answer
from .test_w3c_sparql_syntax_cli import DIFFERENT as SYNTAX_DIFFERENT
from .test_w3c_sparql_syntax_cli import TESTS as SYNTAX_TESTS
from .w3c_results import DIFFERENT, EMPTY, SUITE, EvalTest, manifest_tests

Dataset = tuple[tuple[Path, ...], tuple[tuple[str, Path], ...]]

#: The tests, grouped by dataset (in the order their datasets first appear).
_ALL = manifest_tests()
_ORDER = list(dict.fromkeys(t.dataset for t in _ALL))
TESTS = sorted(_ALL, key=lambda t: _ORDER.index(t.dataset))
#: The syntax tests' dataset: empty (its own key, served last).
SYNTAX: Dataset = ((EMPTY,), ())
#: How many servers start ahead of the one in use.
AHEAD = 4


def _serve_args(dataset: Dataset) -> list[str]:
    data, named = dataset
    args = []
    for path in data or ((EMPTY,) if not named else ()):
        args += ["--data", str(path)]
    for iri, path in named:
        args += ["--named", f"{iri}={path}"]
    return args


def _wait_until_up(process: subprocess.Popen[str], origin: str, timeout: float = 120) -> None:
    """Until the endpoint answers (a slow first answer, on a loaded machine, is waited for)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stdout is not None
            process.stdout.seek(0)
            raise AssertionError(f"server exited {process.returncode}: {process.stdout.read()}")
        try:
            if requests.get(f"{origin}/sparql", params={"query": "ASK {}"}, timeout=10).ok:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"the server at {origin} did not come up")


class Servers:
    """One ``leapsld serve`` per dataset, started ``AHEAD`` of use, stopped once passed."""

    def __init__(self, order: list[Dataset], root: Path) -> None:
        self.order, self.root = order, root
        self.running: dict[Dataset, tuple[subprocess.Popen[str], str]] = {}
        self.ready: set[Dataset] = set()

    def _start(self, dataset: Dataset) -> None:
        port = free_port()
        process = spawn(
            [
                LEAPSLD,
                "serve",
                "--port",
                str(port),
                "--no-validate",
                "--no-access-log",
                "--relative-iris",
                "file",
                "--threads",
                "2",
                *_serve_args(dataset),
            ],
            cwd=SUITE,
            env=clean_env(LEAPSLD_ROOT=str(self.root)),
        )
        self.running[dataset] = (process, f"http://127.0.0.1:{port}")

    def origin(self, dataset: Dataset) -> str:
        at = self.order.index(dataset)
        for done in [d for d in self.running if self.order.index(d) < at]:
            stop(self.running.pop(done)[0])
        for ahead in self.order[at : at + AHEAD + 1]:
            if ahead not in self.running:
                self._start(ahead)
        process, origin = self.running[dataset]
        if dataset not in self.ready:
            _wait_until_up(process, origin)
            self.ready.add(dataset)
        return origin

    def close(self) -> None:
        for process, _ in self.running.values():
            stop(process)
        self.running.clear()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)  # no description, no shapes: the test's data alone is served
        (root / "shapes").mkdir()
        pool = Servers([*_ORDER, SYNTAX], root)
        try:
            yield pool
        finally:
            pool.close()


def ask(origin: str, query: Path, accept: str) -> requests.Response:
    text = f"BASE <{query.as_uri()}>\n{query.read_text(encoding='utf-8')}"
    return requests.post(
        f"{origin}/sparql", data={"query": text}, headers={"Accept": accept}, timeout=60
    )


def _accept(test: EvalTest) -> str:
    if test.kind == "csv":
        return "text/csv"
    if test.result.suffix == ".tsv":
        return "text/tab-separated-values"
    if test.kind == "graph":
        return "application/n-triples"
    return "application/sparql-results+json"


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
def test_w3c_sparql_evaluation_over_http(servers: Servers, test: EvalTest) -> None:
    response = ask(servers.origin(test.dataset), test.query, _accept(test))
    assert response.status_code == 200, response.text
    check_answer(test, response.content)


# Syntax ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_origin(servers: Servers) -> str:
    return servers.origin(SYNTAX)


@pytest.mark.parametrize(
    ("name", "query", "positive"),
    [
        pytest.param(
            name,
            query,
            positive,
            marks=pytest.mark.xfail(reason=SYNTAX_DIFFERENT[name], strict=True)
            if name in SYNTAX_DIFFERENT
            else (),
        )
        for name, query, positive in SYNTAX_TESTS
    ],
    ids=[name for name, _, _ in SYNTAX_TESTS],
)
def test_w3c_sparql_syntax_over_http(
    empty_origin: str, name: str, query: Path, positive: bool
) -> None:
    response = ask(
        empty_origin, query, "application/sparql-results+json, application/n-triples;q=0.9"
    )
    if positive:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400, response.text
    assert "line" in response.text and "column" in response.text, response.text
