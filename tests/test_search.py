"""The label index: word-prefix search ranked whole label first, class pages by key."""

from __future__ import annotations

import pytest

from leapsld.search import Entry, LabelIndex, build_index

ENTRIES = [
    Entry("x:1", "Light for Ukraine", ("p",)),
    Entry("x:2", "Ukraine", ("c",)),
    Entry("x:3", "Ukrainian Society", ("o",)),
    Entry("x:4", "Société Générale", ("o",)),
    Entry("x:5", "ukraine", ("c",)),
]


def test_search_matches_word_starts_ranks_whole_labels_first() -> None:
    index = LabelIndex(ENTRIES)
    assert [e.iri for e in index.search("ukr")] == ["x:2", "x:5", "x:3", "x:1"]
    assert [e.iri for e in index.search("ukraine")][:2] == ["x:2", "x:5"]
    assert [e.label for e in index.search("light ukr")] == ["Light for Ukraine"]
    assert [e.label for e in index.search("societe gen")] == ["Société Générale"]  # accents folded
    assert index.search("kraine") == []  # words match from their start
    assert index.search("   ") == [] and index.search("zebra") == []
    assert len(index.search("u", limit=2)) == 2


def test_key_paging_walks_every_member_once() -> None:
    index = LabelIndex([Entry(f"x:{i:03}", f"Item {i:03}", ("c",)) for i in range(250)])
    seen: list[str] = []
    after = None
    while True:
        page, after = index.members("c", after=after, limit=100)
        seen += [e.iri for e in page]
        if after is None:
            break
    assert seen == [f"x:{i:03}" for i in range(250)]
    with pytest.raises(KeyError):
        index.members("c", after="x:nope")


def test_the_project_index_names_resources_by_their_labels(dataset) -> None:  # type: ignore[no-untyped-def]
    index = build_index(
        dataset.store, dataset.data_graphs, prefix=f"{dataset.settings.base_iri}id/"
    )
    assert index.label(f"{dataset.settings.base_iri}id/org/sesame") == "SESAME"
    assert index.count("http://www.w3.org/ns/org#FormalOrganization") >= 15
    assert index.search("sesame")[0].label == "SESAME"


def test_kinds_count_as_classes_with_the_concepts_they_are_narrower_than(dataset) -> None:  # type: ignore[no-untyped-def]
    base = dataset.settings.base_iri
    kind = f"{base}id/concept/organisation-kind/"
    plain = build_index(dataset.store, dataset.data_graphs, prefix=f"{base}id/")
    assert plain.count(f"{kind}body") == 0  # without kinds, only rdf:type makes a class
    index = build_index(
        dataset.store,
        dataset.data_graphs,
        prefix=f"{base}id/",
        kinds=["http://www.w3.org/ns/org#classification"],
    )
    facilities = {e.label for e in index.members(f"{kind}light-source-facility")[0]}
    assert {"ESRF", "SESAME"} <= facilities  # SESAME is a synchrotron light source: narrower
    bodies = {e.iri for e in index.members(f"{kind}body", limit=1000)[0]}
    projects = {e.iri for e in index.members(f"{kind}project", limit=1000)[0]}
    assert f"{base}id/org/sesame" in bodies and f"{base}id/project/beats" in projects
    assert not bodies & projects  # the text's bodies are not its projects
    assert index.count("http://www.w3.org/ns/org#FormalOrganization") == plain.count(
        "http://www.w3.org/ns/org#FormalOrganization"
    )
