"""Published IRIs are forever: every IRI an earlier release published still answers, over HTTP on
a real server: 200 (through its 303 for a thing), 301 to its successor, or 410 Gone; and every
earlier ontology version answers at its version IRI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests

from leapsld.errors import LoadError
from leapsld.releases import read_releases

from .conftest import FIXTURES, ROOT
from .test_server import LEAPSLD, clean_env, free_port, spawn, stop, wait_until_up

BASE = "https://w3id.org/leaps/"
RELEASED = [
    line
    for line in (FIXTURES / "released-iris.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    port = free_port()
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port), "--threads", "4"], cwd=ROOT, env=clean_env()
    )
    here = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, here)
        yield here
    finally:
        stop(process)


def _path(iri: str) -> str:
    assert iri.startswith(BASE), iri
    return "/" + iri[len(BASE) :].split("#", 1)[0]


def test_the_fixture_is_the_whole_release() -> None:
    assert len(RELEASED) == 185
    assert f"{BASE}id/instant/2019" in RELEASED and f"{BASE}def/0.1.0" in RELEASED


def test_every_iri_of_the_previous_release_answers_200_301_or_410(origin: str) -> None:
    answers: dict[str, list[int]] = {}
    with requests.Session() as http:
        for iri in RELEASED:
            response = http.get(origin + _path(iri), headers={"Accept": "text/turtle"}, timeout=30)
            answers[iri] = [r.status_code for r in response.history] + [response.status_code]
    wrong = {
        iri: chain
        for iri, chain in answers.items()
        if chain[-1] not in (200, 410) or any(code not in (301, 303) for code in chain[:-1])
    }
    assert wrong == {}
    moved = sorted(iri for iri, chain in answers.items() if chain[0] == 301)
    assert moved == sorted(
        [f"{BASE}id/instant/{y}" for y in (1950, 1959, 2017, 2018, 2019, 2022, 2023, 2024, 2027)]
        + [f"{BASE}id/membership/solaris-light-for-ukraine-coordinator"]
    )
    # the rest is still described: nothing retired silently
    assert sum(1 for chain in answers.values() if chain[-1] == 200) == len(RELEASED)


def test_a_retired_iri_moves_to_its_successor_as_thing_and_as_document(origin: str) -> None:
    thing = requests.get(f"{origin}/id/instant/2019", allow_redirects=False, timeout=10)
    assert thing.status_code == 301
    assert thing.headers["Location"] == f"{origin}/id/year/2019"
    doc = requests.get(f"{origin}/doc/instant/2019.ttl", allow_redirects=False, timeout=10)
    assert doc.status_code == 301
    assert doc.headers["Location"] == f"{origin}/doc/year/2019.ttl"
    graph = rdflib.Graph().parse(f"{origin}/id/instant/2019", format="turtle")
    year = rdflib.URIRef(f"{BASE}id/year/2019")
    assert (year, rdflib.RDFS.label, rdflib.Literal("2019", lang="en")) in graph
    # an IRI no release ever published is still a plain 404
    assert requests.get(f"{origin}/id/instant/2020", timeout=10).status_code == 404


def test_every_released_ontology_version_answers_at_its_version_iri(origin: str) -> None:
    for version, info in (("0.1.0", "0.1.0"), ("0.2.0", "0.2.0")):
        response = requests.get(
            f"{origin}/def/{version}", headers={"Accept": "text/turtle"}, timeout=10
        )
        assert response.status_code == 200, version
        graph = rdflib.Graph().parse(data=response.text, format="turtle")
        ontology = rdflib.URIRef(f"{BASE}def")
        assert (ontology, rdflib.OWL.versionInfo, rdflib.Literal(info)) in graph
    earlier = rdflib.Graph().parse(
        data=requests.get(f"{origin}/def/0.1.0", timeout=10).text, format="turtle"
    )
    # 0.1.0 as it was published: the PaNET concepts were still restated in it
    panet = rdflib.URIRef("http://purl.org/pan-science/PaNET/PaNET01207")
    assert (panet, rdflib.RDF.type, rdflib.SKOS.Concept) in earlier
    assert requests.get(f"{origin}/def/0.0.9", timeout=10).status_code == 404


def test_gone_answers_410_and_a_moved_graph_301(tmp_path: Path) -> None:
    """A second copy of the dataset whose release retired an IRI without successor."""
    root = tmp_path / "leaps"
    for name in ("ontology", "data", "shapes", "releases", "queries"):
        shutil.copytree(ROOT / name, root / name)
    for name in ("dataset.ttl", "views.toml"):
        shutil.copy(ROOT / name, root / name)
    retired = root / "releases" / "retired.toml"
    moved = '[moved]\n"graph/data/years" = "graph/data/time"\n'
    retired.write_text(
        retired.read_text().replace("[moved]\n", moved)
        + '"id/org/nowhere" = "never described by the text"\n'
    )
    port = free_port()
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port), "--threads", "2"],
        cwd=tmp_path,
        env=clean_env(LEAPSLD_ROOT=str(root)),
    )
    here = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, here)
        gone = requests.get(
            f"{here}/id/org/nowhere", headers={"Accept": "application/json"}, timeout=10
        )
        assert gone.status_code == 410
        assert "never described by the text" in gone.json()["detail"]
        assert requests.get(f"{here}/doc/org/nowhere", timeout=10).status_code == 410
        graph = requests.get(f"{here}/graph/data/years.ttl", allow_redirects=False, timeout=10)
        assert graph.status_code == 301
        assert graph.headers["Location"] == f"{here}/graph/data/time.ttl"
    finally:
        stop(process)


def test_successors_are_described_and_retired_iris_are_not(dataset) -> None:  # type: ignore[no-untyped-def]
    from leapsld.describe import exists

    releases = dataset.identity.releases
    assert len(releases.retired) == 10
    for fate in releases.retired.values():
        assert not exists(dataset.store, fate.iri), fate.iri
        assert fate.successor is None or exists(dataset.store, fate.successor), fate
    assert [o.version_iri for o in releases.ontologies] == [f"{BASE}def/0.1.0"]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('[moved]\n"id/a" = \n', "Invalid value", 2),
        ('[renamed]\n"id/a" = "id/b"\n', "unknown table [renamed]", None),
        ('[moved]\n"id/a" = "id/b"\n[gone]\n"id/a" = "why"\n', "both moved and gone", 2),
        ('[moved]\n"id/a" = "id/a"\n', "moved to itself", 2),
        ('[moved]\n"id/a" = "not an iri"\n', "is not an IRI", 2),
        ('[gone]\n"id/a" = 3\n', "the value must be a string", 2),
    ],
)
def test_a_malformed_retired_file_names_file_line_and_problem(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "retired.toml").write_text(text)
    with pytest.raises(LoadError) as caught:
        read_releases(tmp_path, BASE, hashlib.sha256())
    assert message in str(caught.value)
    assert caught.value.path == "releases/retired.toml"
    assert caught.value.line == line


def test_an_earlier_ontology_needs_one_version_iri(tmp_path: Path) -> None:
    (tmp_path / "releases" / "ontology").mkdir(parents=True)
    (tmp_path / "releases" / "ontology" / "0.0.1.ttl").write_text(
        "<https://w3id.org/leaps/def> a <http://www.w3.org/2002/07/owl#Ontology> .\n"
    )
    with pytest.raises(LoadError, match="one owl:versionIRI"):
        read_releases(tmp_path, BASE, hashlib.sha256())


def test_the_cli_refuses_a_broken_retired_file_with_exit_2(tmp_path: Path) -> None:
    root = tmp_path / "leaps"
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / name, root / name)
    (root / "releases").mkdir()
    (root / "releases" / "retired.toml").write_text('[moved]\n"id/a" = "not an iri"\n')
    done = subprocess.run(
        [LEAPSLD, "build"],
        cwd=tmp_path,
        env=clean_env(LEAPSLD_ROOT=str(root)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "releases/retired.toml:2" in done.stderr and "is not an IRI" in done.stderr


def test_version_iris_take_a_format_suffix(client) -> None:  # type: ignore[no-untyped-def]
    for version in ("0.1.0", "0.2.0"):
        turtle = client.get(f"/def/{version}.ttl")
        assert turtle.status_code == 200 and turtle.mimetype == "text/turtle", version
        jsonld = client.get(f"/def/{version}.jsonld")
        assert jsonld.status_code == 200 and jsonld.mimetype == "application/ld+json", version
    assert client.get("/def/0.2.0.html").mimetype == "text/html"
