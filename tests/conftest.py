"""Shared fixtures: the project's own dataset built once, the app, a test client and a runner.

Tests use the real files of the project; small broken variants live in ``tests/fixtures``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from leapsld.dataset import Dataset
from leapsld.pipeline import build
from leapsld.settings import Settings
from leapsld.web import create_app

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The project's own settings, independent of the caller's LEAPSLD_* environment."""
    return Settings.from_env({}, root=ROOT)


@pytest.fixture(scope="session")
def dataset(settings: Settings) -> Dataset:
    """The project's dataset, built and validated once per test session."""
    return build(settings)


@pytest.fixture(scope="session")
def app(dataset: Dataset):  # type: ignore[no-untyped-def]
    application = create_app(dataset.settings, dataset=dataset)
    application.config["TESTING"] = True
    return application


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def store():  # type: ignore[no-untyped-def]
    """A small store of test fixtures (people.ttl and small.nt), one graph per file."""
    from leapsld.loading import load_files
    from leapsld.store import OxigraphStore

    s = OxigraphStore()
    files = [FIXTURES / "people.ttl", FIXTURES / "small.nt"]
    load_files(files, s, base_iri="https://w3id.org/leaps/", root=ROOT)
    return s


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner with no LEAPSLD_* variables leaking in from the environment."""
    import os

    for key in list(os.environ):
        if key.startswith("LEAPSLD_"):
            monkeypatch.delenv(key)
    return CliRunner()


def bench_module(name: str):  # type: ignore[no-untyped-def]
    """A module of ``benchmarks/`` (imported by path: the folder's ``http.py`` would shadow
    the standard library's on ``sys.path``)."""
    import importlib.util
    import sys

    if f"bench_{name}" in sys.modules:
        return sys.modules[f"bench_{name}"]
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


def _engine(kind: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engines = bench_module("engines")
    with engines.ENGINES[kind](tmp_path_factory.mktemp(kind)) as running:
        yield running


@pytest.fixture(scope="session")
def oxigraph_server_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Oxigraph server on a free loopback port, for the session."""
    yield from _engine("oxigraph-server", tmp_path_factory)


@pytest.fixture(scope="session")
def virtuoso_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Virtuoso 7 (Debian's virtuoso-opensource-7-bin) on free loopback ports, for the session."""
    yield from _engine("virtuoso", tmp_path_factory)


#: The SPARQL engines the remote store is tested on.
ENGINES = ("oxigraph-server", "virtuoso")


def engine_fixture(kind: str) -> str:
    return kind.replace("-", "_") + "_engine"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Each SPARQL engine in turn (each started once per session)."""
    return request.getfixturevalue(engine_fixture(request.param))
