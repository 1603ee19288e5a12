"""SPARQL's default graph is a set, on every path a user meets: a triple stated in two files
comes back once and counts once (the command, the endpoint on the memory and the on-disk
store, validation, VoID, documents), while ``GRAPH ?g`` still sees each file's graph.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests

from .test_server import LEAPSLD, clean_env, free_port, spawn, stop, wait_until_up

BASE = "https://example.org/zoo/"
SHARED = f'<{BASE}id/lion> <http://www.w3.org/2000/01/rdf-schema#label> "lion"@en .\n'
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two files stating the same triple (and one of their own each); a shape allowing one
    label per resource."""
    root = tmp_path_factory.mktemp("zoo")
    (root / "ontology").mkdir()
    (root / "data").mkdir()
    (root / "shapes").mkdir()
    (root / "data" / "animals.ttl").write_text(SHARED + f"<{BASE}id/lion> a <{BASE}def#Animal> .\n")
    (root / "data" / "names.ttl").write_text(
        SHARED + f'<{BASE}id/ann> <http://www.w3.org/2000/01/rdf-schema#label> "Ann" .\n'
    )
    (root / "shapes" / "labels.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        f"<{BASE}shapes#Label> a sh:NodeShape ; sh:targetSubjectsOf "
        "<http://www.w3.org/2000/01/rdf-schema#label> ;\n"
        "  sh:property [ sh:path <http://www.w3.org/2000/01/rdf-schema#label> ; "
        "sh:maxCount 1 ] .\n"
    )
    return root


def _env(root: Path) -> dict[str, str]:
    return clean_env(LEAPSLD_ROOT=str(root), LEAPSLD_BASE_IRI=BASE)


def _graph_names(root: Path) -> list[str]:
    return [f"{BASE}graph/data/animals", f"{BASE}graph/data/names"]


def test_the_command_counts_a_repeated_triple_once(project: Path) -> None:
    exe = Path(sys.executable).with_name("leapsld")

    def run(text: str) -> list[dict[str, dict[str, str]]]:
        done = subprocess.run(
            [str(exe), "query", "-e", text, "--format", "json"],
            capture_output=True,
            env=_env(project),
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout)["results"]["bindings"]  # type: ignore[no-any-return]

    assert run(COUNT)[0]["n"]["value"] == "3"
    assert len(run("SELECT * WHERE { ?s ?p ?o }")) == 3
    per_graph = {row["g"]["value"]: row["n"]["value"] for row in run(PER_GRAPH)}
    assert per_graph == dict.fromkeys(_graph_names(project), "2")


def test_validation_sees_the_repeated_triple_once(project: Path) -> None:
    exe = Path(sys.executable).with_name("leapsld")
    done = subprocess.run(
        [str(exe), "validate", "--format", "json"],
        capture_output=True,
        env=_env(project),
        timeout=120,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


@pytest.fixture(scope="module", params=["memory", "memory-split", "disk"])
def origin(
    request: pytest.FixtureRequest, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    disk = request.param == "disk"
    store = str(tmp_path_factory.mktemp("store")) if disk else "memory"
    env = _env(project)
    if request.param == "memory-split":
        env["LEAPSLD_MEMORY_LAYOUT"] = "split"
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port), "--store", store, "--no-access-log"],
        cwd=project,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url, timeout=120)
        yield url
    finally:
        stop(process)


def _ask(origin: str, text: str) -> list[dict[str, dict[str, str]]]:
    response = requests.post(
        f"{origin}/sparql",
        data={"query": text},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]  # type: ignore[no-any-return]


def test_the_endpoint_counts_a_repeated_triple_once(origin: str, project: Path) -> None:
    assert _ask(origin, COUNT)[0]["n"]["value"] == "3"
    assert len(_ask(origin, "SELECT * WHERE { ?s ?p ?o }")) == 3
    per_graph = {row["g"]["value"]: row["n"]["value"] for row in _ask(origin, PER_GRAPH)}
    assert per_graph == dict.fromkeys(_graph_names(project), "2")
    # a protocol dataset of both files is their merge, as the query's own FROM is
    both = requests.post(
        f"{origin}/sparql",
        data={"query": "SELECT ?o WHERE { ?s ?p ?o }", "named-graph-uri": _graph_names(project)},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert both.status_code == 200


def test_void_and_documents_count_a_repeated_triple_once(origin: str) -> None:
    void = rdflib.Graph().parse(
        data=requests.get(f"{origin}/void.ttl", timeout=30).text, format="turtle"
    )
    triples = {
        int(o)
        for s, o in void.subject_objects(rdflib.URIRef("http://rdfs.org/ns/void#triples"))
        if str(s).endswith("void#dataset")
    }
    assert triples == {3}
    doc = rdflib.Graph().parse(
        data=requests.get(
            f"{origin}/id/lion", headers={"Accept": "application/n-triples"}, timeout=30
        ).text,
        format="nt",
    )
    assert len(list(doc.triples((None, rdflib.RDFS.label, None)))) == 1
