"""leapsld in front of a SPARQL engine: ``leapsld load --to`` the shipped dataset into Oxigraph
server and Virtuoso 7, then the resource, negotiation and SPARQL tests of the embedded store,
run again on a dataset served from each engine (the same test functions, imported: only the
``dataset``, ``app``, ``client`` and ``origin`` fixtures differ), and what only a remote engine
can do: be killed half-way through a load, be down, be slow.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from leapsld.pipeline import build
from leapsld.remote import PASSWORD_ENV, Endpoint, Http
from leapsld.settings import Settings
from leapsld.target import read_record, record_graph
from leapsld.web import create_app

from .conftest import ENGINES, ROOT, engine_fixture
from .test_cli import broken_data
from .test_negotiation import *  # noqa: F403 - the same tests, on a remote engine
from .test_server import (
    LEAPSLD,
    clean_env,
    free_port,
    spawn,
    stop,
    test_curl_style_turtle_follows_the_303,
    test_rdflib_parses_a_resource_url_like_a_harvester,
    test_rdflib_parses_jsonld_with_the_served_context,
    test_sparqlwrapper_select_and_construct,
    wait_until_up,
)
from .test_web_resources import *  # noqa: F403
from .test_web_sparql import *  # noqa: F403

# the embedded store's timeout (503, a killed query process); a remote engine's is a 504 below
del test_timeout_is_503  # noqa: F821
# inference is chosen when loading (`load --infer`), not by the server
del test_the_inferred_graph_dereferences_when_inference_is_on  # noqa: F821

BASE = "https://w3id.org/leaps/"
XSD = "http://www.w3.org/2001/XMLSchema#"
__all__ = [
    "broken_data",
    "test_curl_style_turtle_follows_the_303",
    "test_rdflib_parses_a_resource_url_like_a_harvester",
    "test_rdflib_parses_jsonld_with_the_served_context",
    "test_sparqlwrapper_select_and_construct",
]


def leapsld(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LEAPSLD, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def engine_env(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return clean_env(**engine.env)


@pytest.fixture(scope="module", params=ENGINES)
def loaded(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """An engine holding the shipped dataset, loaded with ``leapsld load --to`` (a second
    load of the same version sends nothing)."""
    engine = request.getfixturevalue(engine_fixture(request.param))
    first = leapsld("load", "--to", engine.query_url, env=engine_env(engine))
    assert first.returncode == 0, first.stderr
    assert "loaded version" in first.stdout or "already served" in first.stdout
    again = leapsld("load", "--to", engine.query_url, env=engine_env(engine))
    assert again.returncode == 0, again.stderr
    assert "nothing sent" in again.stdout
    return engine


@pytest.fixture(scope="module")
def dataset(loaded):  # type: ignore[no-untyped-def]
    """The dataset as ``serve --store sparql+…`` opens it (overrides the embedded one)."""
    return build(Settings.from_env({}, root=ROOT, store=loaded.store))


@pytest.fixture(scope="module")
def app(dataset):  # type: ignore[no-untyped-def]
    application = create_app(dataset.settings, dataset=dataset)
    application.config["TESTING"] = True
    return application


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="module")
def origin(loaded) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``leapsld serve --store sparql+…`` as a process, on a free port."""
    port = free_port()
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port), "--threads", "4", "--store", loaded.store],
        cwd=ROOT,
        env=engine_env(loaded),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        yield url
    finally:
        stop(process)


# What only a remote engine does ------------------------------------------------------------


def test_the_served_version_is_the_loaded_one_and_credentials_stay_out_of_sight(
    loaded, dataset, origin: str
) -> None:  # type: ignore[no-untyped-def]
    local = build(Settings.from_env({}, root=ROOT))
    assert dataset.version == local.version
    assert len(dataset.store) == len(local.store)
    assert dataset.data_graphs == local.data_graphs
    first = requests.get(f"{origin}/id/org/sesame", headers={"Accept": "text/turtle"}, timeout=30)
    again = requests.get(f"{origin}/id/org/sesame", headers={"Accept": "text/turtle"}, timeout=30)
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == again.headers["ETag"]
    password = loaded.env.get(PASSWORD_ENV)
    if password:
        assert password not in repr(Endpoint.from_store(loaded.store, environ=loaded.env))


def test_load_refuses_data_that_does_not_conform_and_sends_nothing(
    loaded, broken_data: Path
) -> None:  # type: ignore[no-untyped-def]
    http = Http(Endpoint.from_store(loaded.store, environ=loaded.env))
    before = read_record(http, record_graph(BASE))
    assert before is not None
    beside = _sent_beside(http, before.load)
    done = leapsld(
        "load",
        "--to",
        loaded.query_url,
        str(ROOT / "ontology"),
        str(broken_data),
        env=engine_env(loaded),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "does not conform" in done.stderr
    assert read_record(http, record_graph(BASE)) == before
    assert _sent_beside(http, before.load) == beside


def _triples(origin: str) -> int:
    answer = requests.get(
        f"{origin}/sparql",
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def _sent_beside(http: Http, served: str) -> int:
    """How many triples the engine holds in load graphs other than the served load's."""
    prefix = record_graph(BASE).rsplit("/", 1)[0] + "/"
    text = (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{prefix}") && !CONTAINS(STR(?g), "{served}")) }}'
    )
    with http.post_form(
        http.endpoint.query_url, [("query", text)], accept="application/sparql-results+json"
    ) as answer:
        return int(json.loads(answer.read())["results"]["bindings"][0]["n"]["value"])


def test_a_load_killed_half_way_leaves_the_served_version_then_loading_again_works(
    loaded, origin: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """kill -9 during the push of a new version: the old version still answers, in full, and
    the next load completes and is served."""
    env = engine_env(loaded)
    http = Http(Endpoint.from_store(loaded.store, environ=loaded.env))
    served = read_record(http, record_graph(BASE))
    assert served is not None
    before = _triples(origin)
    # a new version: the shipped data and one more file
    extra = tmp_path / "extra.ttl"
    extra.write_text(
        "<https://w3id.org/leaps/id/org/sesame> "
        '<http://www.w3.org/2000/01/rdf-schema#comment> "loaded twice" .\n'
    )
    paths = [str(ROOT / "ontology"), str(ROOT / "data"), str(extra)]
    # batches of one triple: slow enough to be killed in the middle
    process = spawn(
        [LEAPSLD, "load", "--to", loaded.query_url, "--batch", "1", *paths], cwd=ROOT, env=env
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _sent_beside(http, served.load) > 50:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the load finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    stop(process)
    assert _sent_beside(http, served.load) > 50  # half a version is on the engine
    assert read_record(http, record_graph(BASE)) == served
    assert _triples(origin) == before
    assert (
        requests.get(
            f"{origin}/id/org/sesame", headers={"Accept": "text/turtle"}, timeout=30
        ).status_code
        == 200
    )
    # then the same load, to its end: served within a few seconds of the flip
    done = leapsld("load", "--to", loaded.query_url, *paths, env=env)
    assert done.returncode == 0, done.stderr
    new = read_record(http, record_graph(BASE))
    assert new is not None and new.version != served.version
    deadline = time.monotonic() + 60
    while _triples(origin) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _triples(origin) == before + 1
    # and back to the shipped data, for the other tests of this module
    back = leapsld("load", "--to", loaded.query_url, env=env)
    assert back.returncode == 0, back.stderr
    deadline = time.monotonic() + 60
    while _triples(origin) != before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _triples(origin) == before


def test_the_engines_bulk_load_a_file_into_their_default_graph(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``benchmarks/engines.py``'s direct load, as the benchmarks use it."""
    data = tmp_path / "one.nt"
    data.write_text('<urn:x:bulk> <urn:x:p> "loaded directly" .\n')
    engine.load_file(data)
    body = urllib.parse.urlencode({"query": 'ASK { <urn:x:bulk> <urn:x:p> "loaded directly" }'})
    request = urllib.request.Request(
        f"{engine.query_url}?{body}", headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        reply = json.loads(answer.read())
    # Virtuoso 7 writes an ASK's answer as one row of __ASK_RETVAL (leapsld reads both)
    rows = reply.get("results", {}).get("bindings", [])
    assert reply.get("boolean") is True or rows == [
        {"__ASK_RETVAL": {"type": "typed-literal", "datatype": f"{XSD}integer", "value": "1"}}
    ], reply
    assert engine.pid > 0 and engine.update_url and engine.query_url


# An engine down, an engine slow -----------------------------------------------------------


class _Silent:
    """A port that accepts connections and never answers: an engine stuck on a query."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                self.held.append(conn)

    def close(self) -> None:
        # shutdown wakes the accepting thread (close alone does not on Linux); only once it has
        # ended is every connection it accepted in ``held``, to be closed
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=10)
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_an_engine_down_is_502_and_a_slow_one_504_in_time_and_memoized_documents_still_serve(
    loaded,
) -> None:  # type: ignore[no-untyped-def]
    from leapsld.remote import RemoteStore

    dataset = build(Settings.from_env({}, root=ROOT, store=loaded.store))
    store = dataset.store
    assert isinstance(store, RemoteStore)
    served = create_app(dataset.settings.replace(query_timeout=1.0), dataset=dataset)
    client = served.test_client()
    page = client.get("/doc/org/sesame.ttl")
    assert page.status_code == 200
    query = {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}
    assert client.get("/sparql", query_string=query).status_code == 200
    real, real_http = store.endpoint, store.http
    silent = _Silent()
    try:
        # down: nobody listens on the port
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        store.endpoint = Endpoint(f"http://127.0.0.1:{closed}/sparql", timeout=1.0)
        store.http = Http(store.endpoint)
        down = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 4"})
        assert down.status_code == 502
        assert down.mimetype == "application/problem+json"
        assert "cannot be reached" in down.get_json()["detail"]
        assert client.get("/doc/project/beats.ttl").status_code == 502
        again = client.get("/doc/org/sesame.ttl")
        assert again.status_code == 200 and again.data == page.data  # from the memo
        # slow: the engine takes the connection and never answers
        store.endpoint = Endpoint(f"http://127.0.0.1:{silent.port}/sparql", timeout=1.0)
        store.http = Http(store.endpoint)
        started = time.monotonic()
        slow = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
        waited = time.monotonic() - started
        assert slow.status_code == 504, slow.data
        assert slow.mimetype == "application/problem+json"
        assert waited < 10  # the timeout is 1 s: a liveness bound, not a speed target
        runner = served.extensions["leapsld"].queries.executor
        assert runner._running == 0  # the slot is free again at once
        assert client.get("/doc/project/beats.ttl").status_code == 504
    finally:
        store.endpoint, store.http = real, real_http
        silent.close()
    assert (
        client.get(
            "/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 6"}
        ).status_code
        == 200
    )
