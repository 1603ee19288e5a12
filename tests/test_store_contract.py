"""What any ``Store`` must do: the contract every backend passes, run on each implementation.

A backend is a factory from a list of quads (each file's named graph) to a ``Store`` holding
exactly them and a real default graph: each of their triples once (SPARQL's default graph is a
set). The embedded store runs materialised in memory, split in memory (the default graph also
alone in a store of its own), materialised on disk, and on disk reopened read-only (as the
server's workers and query processes open it); the remote store runs on Oxigraph server and on Virtuoso 7, each loaded the
way ``leapsld load`` loads (versioned graphs, a materialised default graph, skolemised blank
nodes).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest

from leapsld.derived import statistics, unique_triples
from leapsld.describe import describe, exists, known_under
from leapsld.query import run_query
from leapsld.remote import Endpoint, Http, RemoteStore
from leapsld.store import OxigraphStore, SplitStore, Store, reaches_named
from leapsld.target import read_record, write

from .conftest import ENGINES, engine_fixture

EX = "https://example.org/zoo/"
G1, G2 = f"{EX}graph/animals", f"{EX}graph/keepers"
N, L = pyoxigraph.NamedNode, pyoxigraph.Literal
LABEL = N("http://www.w3.org/2000/01/rdf-schema#label")
TYPE = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _quads() -> list[pyoxigraph.Quad]:
    lion, keeper, cage = N(f"{EX}id/lion"), N(f"{EX}id/ann"), pyoxigraph.BlankNode("cage")
    g1, g2 = N(G1), N(G2)
    return [
        pyoxigraph.Quad(lion, TYPE, N(f"{EX}def#Animal"), g1),
        pyoxigraph.Quad(lion, LABEL, L("lion", language="en"), g1),
        pyoxigraph.Quad(lion, N(f"{EX}def#livesIn"), cage, g1),
        pyoxigraph.Quad(cage, N(f"{EX}def#size"), L("12", datatype=N(_XSD_INT)), g1),
        pyoxigraph.Quad(keeper, TYPE, N(f"{EX}def#Keeper"), g2),
        pyoxigraph.Quad(keeper, LABEL, L("Ann"), g2),
        pyoxigraph.Quad(keeper, N(f"{EX}def#feeds"), lion, g2),
        # stated in both files: one triple of the data, two quads of the store
        pyoxigraph.Quad(lion, LABEL, L("lion", language="en"), g2),
    ]


_XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"


def _memory(_: Path, quads: list[pyoxigraph.Quad]) -> Store:
    store = OxigraphStore()
    store.add_quads(quads)
    store.materialise_default_graph()
    return store


def _memory_split(folder: Path, quads: list[pyoxigraph.Quad]) -> Store:
    store = _memory(folder, quads)
    assert isinstance(store, OxigraphStore)
    return SplitStore.of(store)


def _disk(folder: Path, quads: list[pyoxigraph.Quad]) -> Store:
    store = OxigraphStore(folder / "store")
    store.add_quads(quads)
    store.materialise_default_graph()
    store.mark_real_default()
    store.flush()
    return store


def _disk_read_only(folder: Path, quads: list[pyoxigraph.Quad]) -> Store:
    writer = OxigraphStore(folder / "store")
    writer.add_quads(quads)
    writer.materialise_default_graph()
    writer.mark_real_default()
    writer.flush()
    del writer
    return OxigraphStore(folder / "store", read_only=True)


def remote(engine: object, quads: list[pyoxigraph.Quad], *, base: str = EX) -> Store:
    """A ``RemoteStore`` on ``engine`` holding ``quads``, loaded as ``leapsld load`` loads, under
    a record graph of its own (tests share the engine)."""
    endpoint = Endpoint.from_store(
        engine.store,  # type: ignore[attr-defined]
        environ=engine.env,  # type: ignore[attr-defined]
    )
    http = Http(endpoint)
    where = f"{base}.well-known/leapsld/{uuid.uuid4().hex}/record"
    graphs: dict[str, list[pyoxigraph.Triple]] = {}
    for q in quads:
        graphs.setdefault(str(q.graph_name.value), []).append(q.triple)  # type: ignore[union-attr]
    write(
        http,
        where,
        version="contract",
        base_iri=base,
        graphs={g: (lambda t=t: t) for g, t in graphs.items()},
        default=lambda: list(dict.fromkeys(q.triple for q in quads)),
        manifest="{}",
    )
    record = read_record(http, where)
    assert record is not None
    return RemoteStore(endpoint, record.layout)


BACKENDS: dict[str, Callable[[Path, list[pyoxigraph.Quad]], Store]] = {
    "memory": _memory,
    "memory-split": _memory_split,
    "disk": _disk,
    "disk-read-only": _disk_read_only,
}


@pytest.fixture(params=[*sorted(BACKENDS), *ENGINES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param in ENGINES:  # started once per session (tests/conftest.py)
        return remote(request.getfixturevalue(engine_fixture(request.param)), _quads())
    return BACKENDS[request.param](tmp_path, _quads())


def _select(store: Store, text: str, **kw: object) -> list[tuple[str, ...]]:
    outcome = run_query(store, text, **kw)  # type: ignore[arg-type]
    return sorted(tuple(str(v) for v in row) for row in outcome.rows)


def test_it_holds_exactly_what_was_put_in(store: Store) -> None:
    assert len(store) == 8 + 7  # the named graphs' quads, and the default graph's triples
    named = [q for g in (G1, G2) for q in store.quads(graph=g)]
    assert sorted(map(str, named)) == sorted(map(str, _quads()))
    default = sorted(str(q.triple) for q in store.quads())
    assert default == sorted({str(q.triple) for q in _quads()})  # each triple once
    assert all(store.contains(q) for q in _quads())
    assert not store.contains(pyoxigraph.Quad(N(f"{EX}id/lion"), LABEL, L("tiger"), N(G1)))


def test_named_graphs_are_listed_sorted_with_their_sizes(store: Store) -> None:
    assert store.graphs() == [G1, G2]
    assert store.graph_sizes([G1, G2]) == {G1: 4, G2: 4}
    assert store.graph_sizes([G2]) == {G2: 4}
    assert store.graph_sizes([]) == {}


def test_quad_patterns_match_in_one_graph_or_in_the_default_graph(store: Store) -> None:
    lion = N(f"{EX}id/lion")
    assert len(list(store.quads(lion, LABEL))) == 1  # stated in two files, one triple
    assert len(list(store.quads(lion, LABEL, graph=G1))) == 1
    assert [q.subject for q in store.quads(None, None, lion)] == [N(f"{EX}id/ann")]
    assert list(store.quads(graph=f"{EX}graph/none")) == []


def test_the_default_graph_is_the_set_of_the_named_graphs_triples(store: Store) -> None:
    rows = _select(store, "SELECT ?s WHERE { ?s a ?type }")
    assert rows == [(f"<{EX}id/ann>",), (f"<{EX}id/lion>",)]
    # a triple stated in two files counts once, in COUNT(*) as in every solution sequence
    assert _select(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == [(f'"7"^^<{_XSD_INT}>',)]
    assert len(_select(store, "SELECT * WHERE { ?s ?p ?o }")) == 7
    # a query that reaches into the named graphs sees the same default graph beside them
    both = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    assert _select(store, both) == [(f'"15"^^<{_XSD_INT}>',)]


def test_graph_patterns_still_see_each_files_graph(store: Store) -> None:
    text = (
        'SELECT ?g WHERE { GRAPH ?g { ?s <http://www.w3.org/2000/01/rdf-schema#label> "lion"@en } }'
    )
    assert _select(store, text) == [(f"<{G1}>",), (f"<{G2}>",)]


def test_a_protocol_dataset_narrows_the_default_and_named_graphs(store: Store) -> None:
    text = "SELECT ?s WHERE { ?s a ?type }"
    assert _select(store, text, default_graphs=[G2]) == [(f"<{EX}id/ann>",)]
    named = "SELECT ?g WHERE { GRAPH ?g { ?s a ?type } }"
    assert _select(store, named, named_graphs=[G1]) == [(f"<{G1}>",)]


def test_the_querys_own_from_decides_when_it_has_one(store: Store) -> None:
    text = f"SELECT ?s FROM <{G1}> WHERE {{ ?s a ?type }}"
    assert _select(store, text) == [(f"<{EX}id/lion>",)]


def test_ask_and_construct(store: Store) -> None:
    assert run_query(store, f"ASK {{ <{EX}id/ann> ?p ?o }}").boolean is True
    assert run_query(store, f"ASK {{ <{EX}id/bob> ?p ?o }}").boolean is False
    graph = run_query(
        store, f"CONSTRUCT {{ ?s <{EX}def#fed> true }} WHERE {{ ?k <{EX}def#feeds> ?s }}"
    )
    assert [str(t.subject) for t in graph.triples] == [f"<{EX}id/lion>"]


def test_substitutions_bind_a_term_without_touching_the_text(store: Store) -> None:
    text = "ASK { ?s ?p ?label }"
    tricky = L('lion" } ; DROP ALL ; {', language="en")
    assert run_query(store, text, substitutions={"label": L("lion", language="en")}).boolean
    assert run_query(store, text, substitutions={"label": tricky}).boolean is False


def test_a_description_is_the_cbd_with_inverse_links_and_labels(store: Store) -> None:
    lion = f"{EX}id/lion"
    assert exists(store, lion) and not exists(store, f"{EX}id/bob")
    triples = {
        (str(t.subject), str(t.predicate), str(t.object)) for t in describe(store, lion).triples
    }
    assert (f"<{lion}>", str(LABEL), '"lion"@en') in triples  # once, though in two graphs
    assert ("_:cage", f"<{EX}def#size>", f'"12"^^<{_XSD_INT}>') in {
        (s if not s.startswith("_:") else "_:cage", p, o) for s, p, o in triples
    }
    assert (f"<{EX}id/ann>", f"<{EX}def#feeds>", f"<{lion}>") in triples  # inverse link
    assert (f"<{EX}id/ann>", str(LABEL), '"Ann"') in triples  # and the linker's label
    assert len(describe(store, lion).triples) == len(triples)


def test_known_resources_under_a_prefix(store: Store) -> None:
    assert known_under(store, f"{EX}id/") == [f"{EX}id/ann", f"{EX}id/lion"]
    assert known_under(store, EX + 'id/" ) ) } #') == []


def test_statistics_count_each_triple_once(store: Store) -> None:
    assert len(list(unique_triples(store, [G1, G2]))) == 7
    stats = statistics(store, [G1, G2], base_iri=EX)
    assert (stats.triples, stats.entities, stats.distinct_subjects) == (7, 2, 3)
    assert stats.classes == {f"{EX}def#Animal": 1, f"{EX}def#Keeper": 1}


def test_a_malformed_query_says_where(store: Store) -> None:
    from leapsld.errors import QueryError

    with pytest.raises(QueryError, match="line 1, column"):
        run_query(store, "SELECT ?s WHERE { ?s ?p }")


@pytest.mark.parametrize(
    ("text", "reaches"),
    [
        ("SELECT * { ?s ?p ?o }", False),
        ("# from 2010 to 2012\nSELECT * { ?s ?p ?o }", False),
        ('SELECT * { ?s <http://x/graph#from> "GRAPH" }', False),
        ("SELECT * { ?s ?p '''FROM\nGRAPH''' }", False),
        ('SELECT * { ?s ?p "a\\"b GRAPH" }', False),
        ("SELECT * FROM <g> { ?s ?p ?o }", True),
        ("select * { graph ?g { ?s ?p ?o } }", True),
        ("SELECT * { ?s ex:a\\#b ?o . GRAPH ?g { ?s ?p ?o } }", True),
        ("SELECT * { FILTER(?a<?b) GRAPH ?g { ?s ?p ?o } FILTER(?c>?d) }", True),
        ('SELECT * { "unterminated GRAPH ?g { } }', True),
        ("SELECT * { ?s ex:graph ?o }", True),  # a false yes: slower, never wrong
    ],
)
def test_the_split_store_sends_every_query_that_can_read_a_named_graph_to_them(
    text: str, reaches: bool
) -> None:
    assert reaches_named(text) is reaches
