"""One resource's description, self-contained for a harvester that follows links.

Its own triples with their blank-node closure (a Concise Bounded Description), the labels and
types of the resources it links to, and its inverse links (capped, so that a hub resource with
millions of incoming links still answers quickly).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyoxigraph

from .errors import NotFound
from .namespaces import LABEL_PREDICATES, RDF_TYPE
from .query import QueryRunner, run_query
from .store import Store, Term

MAX_INVERSE = 2_000
_LABELS = tuple(pyoxigraph.NamedNode(p) for p in LABEL_PREDICATES)
_TYPE = pyoxigraph.NamedNode(RDF_TYPE)


def exists(store: Store, iri: str) -> bool:
    """True when the store has any triple about ``iri`` as subject (never, for a text that
    is not an IRI)."""
    try:
        node = pyoxigraph.NamedNode(iri)
    except ValueError:
        return False
    return next(iter(store.quads(node)), None) is not None


@dataclass(frozen=True)
class Description:
    """One page of a resource's description: its triples, and whether more inverse links follow
    (on the next page) than this one holds."""

    triples: list[pyoxigraph.Triple]
    page: int
    more: bool


def describe(
    store: Store, iri: str, *, page: int = 1, max_inverse: int = MAX_INVERSE
) -> Description:
    """The triples describing ``iri``, deduplicated across graphs, in a stable order.

    Every page holds the resource's own triples (with their blank-node closure) and the labels
    and types of what they link to; the links *to* it come ``max_inverse`` a page, so that a hub
    with millions of incoming links still answers quickly, and a harvester can tell a complete
    description from a cut one and fetch the rest.

    Raises:
        NotFound: the store says nothing about ``iri`` as a subject, or ``page`` is past the
            last page of inverse links.
    """
    try:
        node = pyoxigraph.NamedNode(iri)
    except ValueError:
        raise NotFound(f"{iri!r} is not an IRI") from None
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
    # Inverse links, each once however many graphs state it, in the store's stable order.
    skip, inverse, more = (page - 1) * max_inverse, 0, False
    distinct: set[pyoxigraph.Triple] = set()
    for q in store.quads(None, None, node):
        t = pyoxigraph.Triple(q.subject, q.predicate, q.object)
        if t in distinct:
            continue
        distinct.add(t)
        if len(distinct) <= skip:
            continue
        if inverse >= max_inverse:
            more = True
            break
        inverse += 1
        add([q])
        if isinstance(q.subject, pyoxigraph.NamedNode):
            linked[q.subject] = None
    if page > 1 and inverse == 0:
        raise NotFound(f"<{iri}> has no page {page} of links to it")
    linked.pop(node, None)
    for other in linked:
        for predicate in (*_LABELS, _TYPE):
            add(store.quads(other, predicate))
    return Description(list(triples), page, more)


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


#: How many resources of each kind a 404 suggests, and how many kinds an index keeps.
PER_KIND = 20
MAX_KINDS = 2_000


def kind_of(local: str) -> str:
    """The kind of a local name under ``id/``: its first segment (``org`` for ``org/esrf``),
    or ``""`` for a name with no segment of its own.

    >>> kind_of("org/esrf"), kind_of("esrf")
    ('org', '')
    """
    head, slash, _ = local.partition("/")
    return head if slash else ""


def suggestion_index(
    store: Store, prefix: str, *, per_kind: int = PER_KIND, max_kinds: int = MAX_KINDS
) -> Mapping[str, tuple[str, ...]]:
    """The first ``per_kind`` IRIs (in code-point order) of each kind described under
    ``prefix``, for 404s that say where to look instead.

    One pass over the described subjects, made once per dataset version: a 404 then costs
    a dictionary lookup, whatever kind the request names. At most ``max_kinds`` kinds are
    kept, so the index is bounded by the data's shape, never by requests.
    """
    rows = store.query(
        # ?prefix is bound, not spliced; pyoxigraph substitutes only projected variables
        "SELECT DISTINCT ?s ?prefix WHERE { ?s ?p ?o "
        "FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?prefix)) }",
        substitutions={"prefix": pyoxigraph.Literal(prefix)},
    )
    assert isinstance(rows, pyoxigraph.QuerySolutions)
    kinds: dict[str, list[str]] = {}
    for row in rows:
        subject = row[0]
        if not isinstance(subject, pyoxigraph.NamedNode):
            continue
        iri = subject.value
        kind = kind_of(iri[len(prefix) :])
        known = kinds.get(kind)
        if known is None:
            if len(kinds) >= max_kinds:
                continue
            known = kinds[kind] = []
        if len(known) < per_kind or iri < known[-1]:
            bisect.insort(known, iri)
            del known[per_kind:]
    return {kind: tuple(iris) for kind, iris in kinds.items()}


#: How many links to one resource ``inverse_counts`` counts at most (past it: "more than").
MAX_COUNTED = 100_000


def inverse_counts(
    store: Store, iri: str, *, cap: int = MAX_COUNTED
) -> tuple[dict[str, int], bool]:
    """How many distinct resources link to ``iri`` by each property, over every page of its
    description; and whether the count is complete (False: it stopped at ``cap`` links, so
    each number is a lower bound).
    """
    try:
        node = pyoxigraph.NamedNode(iri)
    except ValueError:
        return {}, True
    seen: set[tuple[object, object]] = set()
    counts: dict[str, int] = {}
    for q in store.quads(None, None, node):
        key = (q.subject, q.predicate)
        if key in seen:
            continue
        if len(seen) >= cap:
            return counts, False
        seen.add(key)
        counts[q.predicate.value] = counts.get(q.predicate.value, 0) + 1
    return counts, True
