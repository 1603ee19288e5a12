"""A second dataset, unrelated to this repository's, served through every route and command.

``tests/second/`` has its own ontology, data, shapes and ``dataset.ttl`` (no ``views.toml``, no
queries), under another base IRI, title and licence. Whatever leapsld answers about it must be
about it alone: no response, header or output may name the repository's own dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
import requests

from leapsld.cli import main
from leapsld.dataset import Dataset
from leapsld.identity import DEFAULT_QUERY
from leapsld.pipeline import build
from leapsld.settings import Settings
from leapsld.web import create_app

from .test_server import LEAPSLD, clean_env, free_port, spawn, stop, wait_until_up

SECOND = Path(__file__).resolve().parent / "second"
BASE = "https://example.org/zoo/"
TITLE = "Exampleville Zoo animals"
LICENSE = "https://creativecommons.org/publicdomain/zero/1.0/"
STEM = "zoo-animals"
#: Nothing of the repository's own dataset (nor the library's name) in what is served.
FOREIGN = re.compile(r"leaps|sesame|w3id\.org", re.IGNORECASE)
ENV = {"LEAPSLD_ROOT": str(SECOND), "LEAPSLD_BASE_IRI": BASE}
DCT = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"


def own(text: str | bytes, where: str) -> None:
    """Assert that ``text`` names nothing of another dataset."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    match = FOREIGN.search(text)
    assert match is None, f"{where}: {text[max(0, match.start() - 80) : match.end() + 80]!r}"


@pytest.fixture(scope="module")
def zoo() -> Dataset:
    return build(Settings.from_env({}, root=SECOND, base_iri=BASE))


@pytest.fixture(scope="module")
def zoo_app(zoo: Dataset):  # type: ignore[no-untyped-def]
    application = create_app(zoo.settings, dataset=zoo)
    application.config["TESTING"] = True
    return application


@pytest.fixture()
def get(zoo_app):  # type: ignore[no-untyped-def]
    """GET a path from the zoo app; the body (unzipped) and headers must be the zoo's own."""
    client = zoo_app.test_client()

    def fetch(path: str, *, status: int = 200, **kw: object) -> tuple[object, bytes]:
        response = client.get(path, **kw)
        try:
            data = response.get_data()
            assert response.status_code == status, (path, response.status_code, data[:300])
            shown = gzip.decompress(data) if path.endswith(".gz") else data
            own(shown, path)
            own("\n".join(f"{k}: {v}" for k, v in response.headers.items()), f"{path} headers")
            return response, shown
        finally:
            response.close()

    return fetch


def triples(data: bytes, fmt: pyoxigraph.RdfFormat) -> list[pyoxigraph.Triple]:
    return [q.triple for q in pyoxigraph.parse(data, format=fmt)]


def values(graph: list[pyoxigraph.Triple], predicate: str, subject: str | None = None) -> set[str]:
    return {
        t.object.value
        for t in graph
        if t.predicate.value == predicate and subject in (None, t.subject.value)
    }


# The identity ----------------------------------------------------------------------------------


def test_the_identity_is_read_from_the_dataset_folder(zoo: Dataset) -> None:
    identity = zoo.identity
    assert str(identity.title) == str(identity.short_title) == TITLE
    assert identity.license == LICENSE and identity.stem == STEM
    assert identity.examples == (f"{BASE}id/animal/ada", f"{BASE}id/enclosure/savannah")
    assert identity.views is None and identity.queries == ()
    assert identity.example_query == DEFAULT_QUERY
    assert zoo.vocabularies == {"zoo": f"{BASE}def#"}
    own(repr(identity), "identity")


# Every route -------------------------------------------------------------------------------


def test_home_page_names_the_dataset_and_its_licence(get) -> None:  # type: ignore[no-untyped-def]
    _, html = get("/")
    text = html.decode()
    assert f"<h1>{TITLE}</h1>" in text and f"<title>{TITLE}</title>" in text
    assert "The animals of the Exampleville Zoo" in text
    assert f'href="{LICENSE}"' in text
    assert 'href="http://localhost/doc/animal/ada"' in text
    assert "https://example.org/zoo/def#Animal" in text  # the classes with their counts
    assert "Pictures" not in text and "Browse" not in text  # no views.toml


def test_sparql_query_description_and_query_page(get) -> None:  # type: ignore[no-untyped-def]
    query = f"SELECT ?a WHERE {{ ?a a <{BASE}def#Animal> }} ORDER BY ?a"
    _, data = get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    rows = list(pyoxigraph.parse_query_results(data, format=pyoxigraph.QueryResultsFormat.JSON))
    assert [r["a"].value for r in rows] == [f"{BASE}id/animal/{n}" for n in ("ada", "bruno", "pip")]
    get("/sparql", query_string={"query": query, "format": "html"})
    _, sd = get("/sparql", headers={"Accept": "text/turtle"})
    assert f"{TITLE} SPARQL endpoint (read-only)" in values(
        triples(sd, pyoxigraph.RdfFormat.TURTLE), DCT + "title"
    )
    _, page = get("/sparql", headers={"Accept": "text/html"})
    assert DEFAULT_QUERY in page.decode() and f"SPARQL — {TITLE}" in page.decode()


def test_things_redirect_to_their_documents_in_every_format(get) -> None:  # type: ignore[no-untyped-def]
    response, _ = get("/id/animal/ada", status=303)
    assert response.headers["Location"] == "http://localhost/doc/animal/ada"
    for media_type in (
        "text/turtle",
        "application/ld+json",
        "application/rdf+xml",
        "application/n-triples",
        "application/n-quads",
        "application/trig",
        "text/html",
    ):
        response, data = get("/doc/animal/ada", headers={"Accept": media_type})
        assert response.mimetype == media_type
        assert b"Ada" in data, media_type
    _, turtle = get("/doc/animal/ada.ttl")
    assert b"@prefix zoo: <https://example.org/zoo/def#>" in turtle
    _, html = get("/doc/animal/ada.html")
    assert f"Ada — {TITLE}" in html.decode()


def test_ontology_shapes_and_context(get) -> None:  # type: ignore[no-untyped-def]
    _, html = get("/def", headers={"Accept": "text/html"})
    assert "Zoo ontology" in html.decode()
    _, ontology = get("/def", headers={"Accept": "text/turtle"})
    assert f"{BASE}def#Animal" in {
        t.subject.value for t in triples(ontology, pyoxigraph.RdfFormat.TURTLE)
    }
    _, shapes = get("/shapes", headers={"Accept": "text/turtle"})
    assert b"Every animal lives in exactly one enclosure." in shapes
    _, context = get("/context.jsonld")
    assert b'"zoo": "https://example.org/zoo/def#"' in context


@pytest.mark.parametrize("path", ["/void", "/.well-known/void"])
def test_void_says_what_the_description_file_says(get, path: str) -> None:  # type: ignore[no-untyped-def]
    _, data = get(path, headers={"Accept": "text/turtle"})
    graph = triples(data, pyoxigraph.RdfFormat.TURTLE)
    (dataset,) = {
        t.subject.value for t in graph if t.object.value == VOID + "Dataset"
    }  # the description's subject is a blank node: the dataset is {base}void#dataset
    assert dataset == f"{BASE}void#dataset"
    assert values(graph, DCT + "title", dataset) == {TITLE}
    assert values(graph, DCT + "license", dataset) == {LICENSE}
    assert values(graph, DCT + "publisher") == {f"{BASE}id/organisation/exampleville-zoo"}
    assert values(graph, DCT + "source") == {f"{BASE}id/source/inventory-2024"}
    assert "2024-06-01" in values(graph, DCT + "modified")
    assert values(graph, VOID + "rootResource") == {f"{BASE}id/organisation/exampleville-zoo"}
    assert values(graph, VOID + "exampleResource") == {
        f"{BASE}id/animal/ada",
        f"{BASE}id/enclosure/savannah",
    }
    assert values(graph, VOID + "dataDump") == {
        f"http://localhost/dumps/{STEM}{suffix}"
        for suffix in (".ttl", ".nt.gz", ".jsonld", ".nq.gz")
    }


def test_every_dump_is_named_after_the_dataset(get) -> None:  # type: ignore[no-untyped-def]
    _, html = get("/dumps/")
    _, sums = get("/dumps/SHA256SUMS")
    listed = dict(reversed(line.split("  ")) for line in sums.decode().splitlines())
    assert set(listed) == {f"{STEM}{s}" for s in (".ttl", ".nt.gz", ".jsonld", ".nq.gz")}
    for name, digest in listed.items():
        assert name in html.decode()
        _, data = get(f"/dumps/{name}")  # unzipped: its checksum is checked only when plain
        assert name.endswith(".gz") or hashlib.sha256(data).hexdigest() == digest
        assert b"Pip" in data


def test_not_found_pages_are_the_datasets_own(get) -> None:  # type: ignore[no-untyped-def]
    _, data = get("/id/animal/nobody", status=404)
    assert b"https://example.org/zoo/id/animal/nobody" in data
    assert b"http://localhost/doc/animal/ada" in data  # what is known instead
    _, html = get("/nowhere", status=404, headers={"Accept": "text/html"})
    assert f"404 Not Found — {TITLE}" in html.decode()


# Every command -----------------------------------------------------------------------------


def test_validate_query_and_build_on_the_second_dataset(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["validate"], env=ENV)
    assert result.exit_code == 0, result.output
    own(result.output, "validate")
    result = runner.invoke(
        main,
        [
            "query",
            "-e",
            f"SELECT ?name WHERE {{ ?a a <{BASE}def#Animal> ; "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?name } ORDER BY ?name",
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert "Ada" in result.output and "Pip" in result.output
    own(result.output, "query")
    result = runner.invoke(
        main,
        ["query", "--format", "ttl", "-e", f"DESCRIBE <{BASE}id/animal/ada>"],
        env=ENV,
    )
    assert result.exit_code == 0 and "zoo:Animal" in result.output, result.output
    own(result.output, "query DESCRIBE")
    store = tmp_path / "store"
    result = runner.invoke(main, ["build", "--store", str(store)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output
    own(result.output, "build")
    (version,) = [p for p in store.iterdir() if p.is_dir() and not p.name.startswith(".")]
    dumps = sorted(p.name for p in (version / "dumps").iterdir() if p.name.startswith(STEM))
    assert dumps == sorted(f"{STEM}{s}" for s in (".jsonld", ".nq.gz", ".nt.gz", ".ttl"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``leapsld serve`` of the second dataset on a loopback port, run from elsewhere."""
    port = free_port()
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port), "--threads", "2"],
        cwd=tmp_path_factory.mktemp("elsewhere"),
        env=clean_env(**ENV),
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, origin)
        yield origin
    finally:
        stop(process)


def test_serve_publishes_the_second_dataset(served: str) -> None:
    home = requests.get(f"{served}/", timeout=10)
    assert home.status_code == 200 and f"<h1>{TITLE}</h1>" in home.text
    own(home.text, "served /")
    doc = requests.get(f"{served}/doc/animal/ada", headers={"Accept": "text/turtle"}, timeout=10)
    assert doc.status_code == 200 and doc.headers["Content-Type"].startswith("text/turtle")
    assert "zoo:Animal" in doc.text
    own(doc.text, "served /doc/animal/ada")


def test_the_environment_sets_no_stray_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker gets the settings as variables: one left unset stays unset there."""
    from leapsld.serving import settings_env

    env = settings_env(Settings.from_env({}, root=SECOND, base_iri=BASE))
    assert "LEAPSLD_TITLE" not in env and "LEAPSLD_LICENSE" not in env
    assert Settings.from_env(env).title is None
    assert os.pathsep not in env["LEAPSLD_ROOT"]
