"""One resource's description, self-contained for a harvester that follows links.

Its own triples with their blank-node closure (a Concise Bounded Description), the labels and
types of the resources it links to, and its inverse links (capped, so that a hub resource with
millions of incoming links still answers quickly).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph

from .errors import NotFound
from .namespaces import LABEL_PREDICATES, RDF_TYPE
from .query import QueryRunner, run_query
from .store import Store, Term

MAX_INVERSE = 2_000
_LABELS = tuple(pyoxigraph.NamedNode(p) for p in LABEL_PREDICATES)
_TYPE = pyoxigraph.NamedNode(RDF_TYPE)


def exists(store: Store, iri: str) -> bool:
    """True when the store has any triple about ``iri`` as subject."""
    return next(iter(store.quads(pyoxigraph.NamedNode(iri))), None) is not None


def describe(store: Store, iri: str, *, max_inverse: int = MAX_INVERSE) -> list[pyoxigraph.Triple]:
    """The triples describing ``iri``, deduplicated across graphs, in a stable order.

    Raises:
        NotFound: the store says nothing about ``iri`` as a subject.
    """
    node = pyoxigraph.NamedNode(iri)
    triples: dict[pyoxigraph.Triple, None] = {}
    linked: dict[pyoxigraph.NamedNode, None] = {}

    def add(quads: Iterable[pyoxigraph.Quad]) -> list[pyoxigraph.Quad]:
        added = []
        for q in quads:
            t = pyoxigraph.Triple(q.subject, q.predicate, q.object)
            if t not in triples:
                triples[t] = None
                added.append(q)
        return added

    own = add(store.quads(node))
    if not own:
        raise NotFound(f"nothing is known about <{iri}>")
    frontier = [q.object for q in own if isinstance(q.object, pyoxigraph.BlankNode)]
    seen = set(frontier)
    for q in own:
        if isinstance(q.object, pyoxigraph.NamedNode) and q.predicate != _TYPE:
            linked[q.object] = None
    while frontier:
        blank = frontier.pop()
        for q in add(store.quads(blank)):
            if isinstance(q.object, pyoxigraph.BlankNode) and q.object not in seen:
                seen.add(q.object)
                frontier.append(q.object)
            elif isinstance(q.object, pyoxigraph.NamedNode) and q.predicate != _TYPE:
                linked[q.object] = None
    for count, q in enumerate(store.quads(None, None, node)):
        if count >= max_inverse:
            break
        add([q])
        if isinstance(q.subject, pyoxigraph.NamedNode):
            linked[q.subject] = None
    linked.pop(node, None)
    for other in linked:
        for predicate in (*_LABELS, _TYPE):
            add(store.quads(other, predicate))
    return list(triples)


def known_under(
    store: Store, prefix: str, *, limit: int = 20, runner: QueryRunner | None = None
) -> list[str]:
    """Some IRIs described in the store that start with ``prefix``, sorted (for a helpful 404).

    The prefix may come from a request: with a ``runner`` the query runs within its limits.
    """
    text = (
        # ?prefix is bound, not spliced; pyoxigraph substitutes only projected variables
        "SELECT DISTINCT ?s ?prefix WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?prefix)) } "
        f"ORDER BY ?s LIMIT {int(limit)}"
    )
    bound: dict[str, Term] = {"prefix": pyoxigraph.Literal(prefix)}
    if runner is not None:
        outcome = runner.run(text, max_rows=limit, substitutions=bound)
    else:
        outcome = run_query(store, text, max_rows=limit, substitutions=bound)
    return [str(getattr(row[0], "value", "")) for row in outcome.rows]
