"""The real server (``leapsld serve`` on Granian) on a loopback port, driven by real clients."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from .conftest import ROOT

LEAPSLD = str(Path(sys.executable).parent / "leapsld")
BASE = "https://w3id.org/leaps/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAPSLD_")}
    env.update(extra)
    return env


def spawn(command: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a server in a session of its own, its output (the access log too) going to a
    temporary file, readable as ``process.stdout``. Never a pipe nobody reads: once its 64 KB
    fill, every request thread blocks writing its log line, and the server seems to hang."""
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop(), as process.stdout
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.stdout = log
    return process


def start(*args: str, port: int) -> subprocess.Popen:
    return spawn([LEAPSLD, "serve", "--port", str(port), *args], cwd=ROOT, env=clean_env())


@contextlib.contextmanager
def served(*args: str) -> Iterator[str]:
    """A project server on a free port, up, for the ``with`` block; its origin."""
    port = free_port()
    process = start(*args, port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        yield url
    finally:
        stop(process)


def wait_until_up(process: subprocess.Popen, origin: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stdout is not None
            process.stdout.seek(0)
            raise AssertionError(f"server exited {process.returncode}: {process.stdout.read()}")
        try:
            if requests.get(f"{origin}/", timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # not up yet: the supervisor holds the socket, so a connection can wait in its queue
            # while the workers still build (slow on a loaded machine), and time out
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    port = free_port()
    process = start("--threads", "4", "--query-timeout", "3", port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        yield url
    finally:
        stop(process)


def test_curl_style_turtle_follows_the_303(origin: str) -> None:
    response = requests.get(f"{origin}/id/org/sesame", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.history[0].status_code == 303
    assert response.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    assert (rdflib.URIRef(f"{BASE}id/org/sesame"), None, None) in graph


def test_rdflib_parses_a_resource_url_like_a_harvester(origin: str) -> None:
    graph = rdflib.Graph()
    graph.parse(f"{origin}/id/project/beats")
    beats = rdflib.URIRef(f"{BASE}id/project/beats")
    assert (beats, rdflib.RDF.type, None) in graph
    assert (beats, rdflib.RDFS.label, None) in graph


def test_rdflib_parses_jsonld_with_the_served_context(origin: str) -> None:
    graph = rdflib.Graph().parse(f"{origin}/doc/project/beats.jsonld", format="json-ld")
    assert (rdflib.URIRef(f"{BASE}id/project/beats"), rdflib.RDFS.label, None) in graph


def test_sparqlwrapper_select_and_construct(origin: str) -> None:
    client = SPARQLWrapper(f"{origin}/sparql")
    client.setQuery((ROOT / "queries" / "cq04.rq").read_text())
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    assert len(bindings) == 8
    client.setQuery("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 3")
    client.setReturnFormat("xml")
    graph = client.query().convert()
    assert isinstance(graph, rdflib.Graph) and len(graph) == 3
    from SPARQLWrapper import JSONLD, RDFXML

    for fmt in (JSONLD, RDFXML):
        client.setReturnFormat(fmt)
        assert len(client.query().convert()) == 3, fmt
    client.setMethod("POST")
    client.setQuery("ASK { ?s ?p ?o }")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True


def test_a_slow_query_does_not_block_other_requests(origin: str) -> None:
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    finished: dict[str, float] = {}

    def run_slow() -> None:
        requests.get(f"{origin}/sparql", params={"query": slow}, timeout=30)
        finished["slow"] = time.monotonic()

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.2)
    response = requests.get(f"{origin}/doc/org/sesame.ttl", timeout=30)
    finished["doc"] = time.monotonic()
    thread.join()
    assert response.status_code == 200
    assert finished["doc"] < finished["slow"]


def test_the_slow_query_is_stopped_by_the_timeout(origin: str) -> None:
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    response = requests.get(f"{origin}/sparql", params={"query": slow}, timeout=30)
    assert response.status_code == 503
    assert "3 s" in response.json()["detail"]


def test_several_workers_on_an_on_disk_store(tmp_path: Path) -> None:
    port = free_port()
    process = start("--workers", "2", "--store", str(tmp_path / "store"), port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        answers = {
            requests.get(f"{url}/doc/org/sesame.ttl", timeout=10).headers["ETag"] for _ in range(8)
        }
        assert len(answers) == 1  # every worker serves the same version
        manifests = list((tmp_path / "store").glob("*/manifest.json"))
        assert len(manifests) == 1
    finally:
        stop(process)


def children(pid: int) -> set[int]:
    """The workers of a server: the children of its supervisor's children (generations)."""
    return {
        int(w)
        for g in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for w in Path(f"/proc/{g}/task/{g}/children").read_text().split()
    }


def test_workers_respawned_by_a_reload_build_the_same_dataset() -> None:
    """After a reload (SIGHUP) the next generation builds the same version from the files and
    its workers replace the old ones."""
    port = free_port()
    process = start("--workers", "2", port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        etag = requests.get(f"{url}/doc/org/sesame.ttl", timeout=10).headers["ETag"]
        before = children(process.pid)
        assert len(before) == 2
        os.kill(process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = children(process.pid)
            if len(now) == 2 and not now & before:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the workers were not respawned")
        wait_until_up(process, url)
        for _ in range(6):
            response = requests.get(f"{url}/doc/org/sesame.ttl", timeout=10)
            assert response.status_code == 200 and response.headers["ETag"] == etag
    finally:
        stop(process)


def test_refuses_to_start_on_data_that_does_not_conform(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "zz-broken.ttl").write_text(
        "@prefix schema: <https://schema.org/> .\n\n"
        "<https://w3id.org/leaps/id/project/nameless> a schema:ResearchProject .\n"
    )
    port = free_port()
    result = subprocess.run(
        [LEAPSLD, "serve", "--port", str(port), str(ROOT / "ontology"), str(data)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"{data}/zz-broken.ttl:3" in result.stderr
    assert "not serving" in result.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)
