"""One resource's description: CBD, labels of what it links to, inverse links."""

from __future__ import annotations

import pyoxigraph
import pytest

from leapsld.describe import describe, exists
from leapsld.errors import NotFound

EX = "https://example.org/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def spo(triples):  # type: ignore[no-untyped-def]
    return {(str(t.subject), t.predicate.value, str(t.object)) for t in triples}


def test_own_triples_blank_closure_labels_and_inverse(store) -> None:  # type: ignore[no-untyped-def]
    triples = describe(store, f"{EX}ada").triples
    subjects = {t.subject for t in triples}
    # own triples, including the blank node she knows, and that node's own label
    blank = next(t.object for t in triples if isinstance(t.object, pyoxigraph.BlankNode))
    assert blank in subjects
    # charles is linked: his label and type come along, not his birth year
    linked = {(p, o) for s, p, o in spo(triples) if s == f"<{EX}charles>"}
    assert (LABEL, '"Charles"') in linked
    assert all(p != f"{EX}born" for p, _ in linked)


def test_inverse_links_are_included(store) -> None:  # type: ignore[no-untyped-def]
    triples = spo(describe(store, f"{EX}charles").triples)
    assert (f"<{EX}ada>", f"{EX}knows", f"<{EX}charles>") in triples
    assert any(s == f"<{EX}ada>" and p == LABEL for s, p, _ in triples)


def test_inverse_links_come_a_page_at_a_time_and_say_when_more_follow() -> None:
    from leapsld.store import OxigraphStore

    hub, knows = pyoxigraph.NamedNode(f"{EX}hub"), pyoxigraph.NamedNode(f"{EX}knows")
    graph = pyoxigraph.NamedNode(f"{EX}g")
    store = OxigraphStore()
    store.add_quads(
        [pyoxigraph.Quad(hub, pyoxigraph.NamedNode(LABEL), pyoxigraph.Literal("hub"), graph)]
        + [pyoxigraph.Quad(pyoxigraph.NamedNode(f"{EX}p{n}"), knows, hub, graph) for n in range(5)]
    )
    everything = describe(store, f"{EX}hub")
    inverse = {t for t in everything.triples if t.object == hub}
    assert len(inverse) == 5 and not everything.more
    pages = [describe(store, f"{EX}hub", page=n, max_inverse=2) for n in (1, 2, 3)]
    assert [p.more for p in pages] == [True, True, False]
    seen = [{t for t in p.triples if t.object == hub} for p in pages]
    assert [len(s) for s in seen] == [2, 2, 1] and set().union(*seen) == inverse
    assert all(any(t.object.value == "hub" for t in p.triples) for p in pages)  # own triples
    with pytest.raises(NotFound, match="no page 4"):
        describe(store, f"{EX}hub", page=4, max_inverse=2)


def test_unknown_resource(store) -> None:  # type: ignore[no-untyped-def]
    assert not exists(store, f"{EX}nobody")
    with pytest.raises(NotFound, match="nobody"):
        describe(store, f"{EX}nobody")
