"""The dataset's identity: read from its folder, overridden by settings, errors located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leapsld.errors import LoadError
from leapsld.identity import DEFAULT_QUERY, DEFAULT_STEM, DEFAULT_TITLE, read_identity
from leapsld.pipeline import build
from leapsld.settings import Settings

from .conftest import ROOT

BASE = "https://example.org/zoo/"
SECOND = Path(__file__).resolve().parent / "second"

HEAD = (
    "@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix void: <http://rdfs.org/ns/void#> .\n\n"
)


def identity_of(root: Path, **settings: object):  # type: ignore[no-untyped-def]
    return read_identity(Settings.from_env({}, root=root, base_iri=BASE, **settings))


def describe(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.ttl").write_text(HEAD + body)
    return root


def test_this_repository_says_what_the_library_used_to() -> None:
    identity = read_identity(Settings.from_env({}, root=ROOT))
    assert str(identity.title) == "LEAPS science diplomacy knowledge graph"
    assert identity.title.language == "en"
    assert str(identity.short_title) == "LEAPS Linked Data"
    assert identity.license == "https://creativecommons.org/licenses/by/4.0/"
    assert identity.stem == "leaps"
    assert identity.examples == tuple(
        f"https://w3id.org/leaps/id/{p}" for p in ("org/sesame", "project/beats", "org/leaps")
    )
    assert identity.root_resource == "https://w3id.org/leaps/id/org/leaps"
    assert [q.name for q in identity.queries] == [f"cq{n:02}.rq" for n in range(1, 13)]
    assert identity.queries[0].title.startswith("CQ1: Which organisations")
    assert identity.example_query == identity.queries[0].text
    assert identity.views is not None and identity.views.entries and identity.views.pictures
    assert identity.views.pictures[0].query.name == "network.rq"


def test_a_folder_without_files_gets_neutral_names(tmp_path: Path) -> None:
    identity = identity_of(tmp_path)
    assert str(identity.title) == DEFAULT_TITLE and identity.stem == DEFAULT_STEM
    assert identity.license is None and identity.examples == () and identity.views is None
    assert identity.example_query == DEFAULT_QUERY


def test_settings_override_title_and_licence(tmp_path: Path) -> None:
    env = {"LEAPSLD_TITLE": "Renamed", "LEAPSLD_LICENSE": "https://example.org/licence"}
    identity = read_identity(Settings.from_env(env, root=SECOND, base_iri=BASE))
    assert str(identity.title) == str(identity.short_title) == "Renamed"
    assert identity.license == "https://example.org/licence"
    assert identity.stem == "zoo-animals"  # the rest is still the file's
    assert identity.digest != identity_of(SECOND).digest
    other = describe(tmp_path / "elsewhere", '[] a void:Dataset ; dcterms:title "Other" .\n')
    named = identity_of(SECOND, description_file=other / "dataset.ttl")
    assert str(named.title) == "Other"
    with pytest.raises(LoadError, match="no such description file"):
        identity_of(SECOND, description_file=tmp_path / "missing.ttl")


def test_a_licence_setting_must_be_an_iri() -> None:
    from leapsld.errors import BadRequest

    with pytest.raises(BadRequest, match="license"):
        Settings.from_env({"LEAPSLD_LICENSE": "CC BY 4.0"})


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        (
            '<void#d> a void:Dataset ;\n    dcterms:title "A" ;\n    dcterms:title "B" .\n',
            "dcterms:title is given 2 times",
            5,
        ),
        (
            '<void#d> a void:Dataset ;\n    dcterms:title "A" ;\n    dcterms:license "CC0" .\n',
            "dcterms:license must be an IRI",
            6,
        ),
        (
            '<void#d> a void:Dataset ;\n    dcterms:identifier "no/slash" ;\n'
            '    dcterms:title "A" .\n',
            "names the dump files",
            5,
        ),
        (
            '<void#d> a void:Dataset ;\n    dcterms:description "no title" .\n',
            "no dcterms:title",
            4,
        ),
        ('<void#d> dcterms:title "untyped" .\n', "describes no dataset", None),
        (
            '<a> a void:Dataset ; dcterms:title "A" .\n<b> a void:Dataset ; dcterms:title "B" .\n',
            "describes 2 datasets",
            4,
        ),
        ('<void#d> a void:Dataset ;\n    dcterms:title "A\n', "end of file|string", 5),
    ],
)
def test_a_bad_description_names_its_file_and_line(
    tmp_path: Path, body: str, message: str, line: int | None
) -> None:
    with pytest.raises(LoadError, match=message) as caught:
        identity_of(describe(tmp_path, body))
    assert caught.value.path == "dataset.ttl"
    assert caught.value.line == line


def views(tmp_path: Path, text: str) -> Path:
    (tmp_path / "queries").mkdir(exist_ok=True)
    (tmp_path / "queries" / "b.rq").write_text("# Bees\nSELECT ?b WHERE { ?b a ?c }\n")
    (tmp_path / "queries" / "a.rq").write_text("SELECT ?a WHERE { ?a ?p ?o }\n")
    (tmp_path / "views.toml").write_text(text)
    return tmp_path


def test_views_and_queries_are_read(tmp_path: Path) -> None:
    identity = identity_of(
        views(
            tmp_path,
            'kinds = ["https://example.org/zoo/def#kind"]\n\n'
            '[[entry]]\nclass = "https://example.org/zoo/def#Animal"\nlabel = "Animals"\n\n'
            '[[picture]]\ntitle = "Bees"\nquery = "queries/b.rq"\nkind = "bars"\n',
        )
    )
    assert identity.views is not None
    assert identity.views.kinds == ("https://example.org/zoo/def#kind",)
    assert [(q.name, q.title) for q in identity.queries] == [("a.rq", "a"), ("b.rq", "Bees")]
    assert identity.example_query.startswith("SELECT ?a")
    assert identity.views is not None
    (entry,) = identity.views.entries
    assert (entry.iri, entry.label) == ("https://example.org/zoo/def#Animal", "Animals")
    (picture,) = identity.views.pictures
    assert (picture.title, picture.query.name, picture.kind) == ("Bees", "b.rq", "bars")


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('[[entry]]\nclass = "x:y"\nlabel = \n', "Invalid value", 3),
        (
            '[[entry]]\nclass = "https://e.org/A"\nlabel = "A"\n\n[[entry]]\nclass = "https://e.org/B"\n',
            "needs label",
            5,
        ),
        ('[[entry]]\nclass = "Animal"\nlabel = "A"\n', "not an absolute IRI", 1),
        ('[[picture]]\ntitle = "T"\nquery = "queries/missing.rq"\n', "does not exist", 1),
        (
            '[[picture]]\ntitle = "T"\nquery = "queries/a.rq"\ncolour = "red"\n',
            "unknown key 'colour'",
            1,
        ),
        ('[[pictures]]\ntitle = "T"\n', "unknown key 'pictures'", None),
        ('\nkinds = ["classification"]\n', "kinds must be a list of property IRIs", 2),
        ('kinds = "https://e.org/p"\n', "kinds must be a list of property IRIs", 1),
    ],
)
def test_bad_views_name_their_file_and_line(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    with pytest.raises(LoadError, match=message) as caught:
        identity_of(views(tmp_path, text))
    assert caught.value.path == "views.toml"
    assert caught.value.line == line


def test_the_identity_is_part_of_the_version(tmp_path: Path) -> None:
    root = tmp_path / "zoo"
    shutil.copytree(SECOND, root)
    settings = Settings.from_env({}, root=root, base_iri=BASE, validate=False)
    first = build(settings, load_shapes=False).version
    assert build(settings, load_shapes=False).version == first
    path = root / "dataset.ttl"
    path.write_text(path.read_text().replace("Exampleville Zoo animals", "Zoo"))
    assert build(settings, load_shapes=False).version != first
    assert build(settings.replace(title="Another"), load_shapes=False).version != first
    (root / "queries").mkdir()
    (root / "queries" / "q.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    second = build(settings, load_shapes=False).version
    (root / "queries" / "q.rq").write_text("ASK { ?s ?p ?o }\n")
    assert build(settings, load_shapes=False).version != second


def test_a_broken_description_stops_the_build(tmp_path: Path) -> None:
    root = tmp_path / "zoo"
    shutil.copytree(SECOND, root)
    (root / "dataset.ttl").write_text(HEAD + "<void#d> a void:Dataset ; dcterms:title .\n")
    with pytest.raises(LoadError) as caught:
        build(Settings.from_env({}, root=root, base_iri=BASE))
    assert str(caught.value).startswith("dataset.ttl:4:")
