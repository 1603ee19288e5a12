"""Pictures from query answers: Graphviz networks with links, timelines with honest ends."""

from __future__ import annotations

import pyoxigraph
import pytest

from leapsld.identity import ExampleQuery, Picture
from leapsld.pictures import (
    Neighbour,
    PictureError,
    draw_network,
    draw_pictures,
    draw_timeline,
    drawings_from_json,
    drawings_to_json,
    neighbourhood,
)
from leapsld.query import QueryOutcome

BASE = "https://example.org/zoo/"
N, L = pyoxigraph.NamedNode, pyoxigraph.Literal


def outcome(variables: list[str], rows: list[list[object]]) -> QueryOutcome:
    return QueryOutcome(kind="select", variables=variables, rows=[tuple(r) for r in rows])


def picture(kind: str) -> Picture:
    return Picture("A picture", ExampleQuery("q.rq", "q", "SELECT * {}"), kind)


def test_a_timeline_draws_open_ends_as_open_and_links_each_bar() -> None:
    rows = [
        [N(BASE + "id/p/a"), L("A"), L("2019"), L("2023"), L("Projects")],
        [N(BASE + "id/m/b"), L("B"), L("2018"), None, L("Memberships")],
        [N(BASE + "id/m/c"), L("C"), None, L("2020"), L("Memberships")],
        [N(BASE + "id/m/d"), L("D"), None, None, L("Memberships")],
    ]
    drawing = draw_timeline(
        picture("timeline"), outcome(["item", "label", "start", "end", "group"], rows), BASE, "t"
    )
    svg = drawing.svg
    assert 'href="/doc/p/a"' in svg and "A: 2019\u20132023" in svg
    assert "B: since 2018, no end stated" in svg and 'class="bar open"' in svg
    assert "C: until 2020, start not stated" in svg
    assert drawing.notes == ("1 item without any date not drawn.",)


def test_a_network_is_laid_out_by_graphviz_with_links_and_roles() -> None:
    rows = [
        [
            N(BASE + "id/o/a"),
            L("Ada"),
            L("zoo"),
            N(BASE + "id/o/b"),
            L("Bruno"),
            L("park"),
            L("member"),
        ],
        [
            N(BASE + "id/o/a"),
            L("Ada"),
            L("zoo"),
            N(BASE + "id/o/b"),
            L("Bruno"),
            L("park"),
            L("keeper"),
        ],
    ]
    names = ["source", "sourceLabel", "sourceKind", "target", "targetLabel", "targetKind", "role"]
    drawing = draw_network(picture("network"), outcome(names, rows), BASE, "n")
    assert drawing.svg.startswith('<svg class="picture"') and "<?xml" not in drawing.svg
    assert 'href="/doc/o/a"' in drawing.svg and 'href="/doc/o/b"' in drawing.svg
    assert "keeper, member" in drawing.svg
    assert [kind for kind, _ in drawing.legend] == ["park", "zoo"]
    assert drawings_from_json(drawings_to_json([drawing])) == [drawing]


def test_without_graphviz_a_network_fails_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PictureError, match="Graphviz's dot is not installed"):
        draw_network(picture("network"), outcome(["source", "target"], []), BASE, "n")


def test_the_project_pictures_are_drawn_from_its_queries(dataset) -> None:  # type: ignore[no-untyped-def]
    views = dataset.identity.views
    drawings = draw_pictures(
        dataset.store, views.pictures, base=dataset.settings.base_iri, graphs=dataset.data_graphs
    )
    assert [d.kind for d in drawings] == ["network", "timeline"]
    assert drawings[0].rows > 20 and 'href="/doc/org/esrf"' in drawings[0].svg
    # most arrows are participations: those go unlabelled, and the caption says so
    assert drawings[0].notes == ("Arrows without a label: participant.",)


def test_a_neighbourhood_is_drawn_without_any_process() -> None:
    svg = neighbourhood(
        "Ada", [Neighbour("Bruno", "knows", "/doc/b"), Neighbour("Pip", "feeds", None, False)]
    )
    assert svg.count("<a ") == 1 and "Bruno" in svg and "is linked from" in svg
