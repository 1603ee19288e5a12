"""OWL RL (or RDFS) materialisation with owlrl, into its own named graph.

Asserted data is never changed: what the reasoner adds lands in ``{base}graph/inferred``, so a
consumer can always tell what the sources said from what was derived, and drop the derived part.
"""

from __future__ import annotations

from collections.abc import Sequence

import owlrl
import rdflib

from .bridge import graph_from_quads, quads_from_graph
from .namespaces import inferred_graph
from .store import OxigraphStore

_SEMANTICS = {"rdfs": owlrl.RDFS_Semantics, "owlrl": owlrl.OWLRL_Semantics}


def infer(store: OxigraphStore, *, mode: str, graphs: Sequence[str], base_iri: str) -> int:
    """Materialise the closure of ``graphs`` and store only the new triples.

    Two things are kept out of the reasoner, because owlrl gets them wrong for this data:
    literals are replaced by unique placeholders while it runs (it keys literals by their Python
    value, so ``1`` and ``true`` collide and get swapped), and ``owl:sameAs`` links are not
    reasoned with (a ROR link would otherwise copy every statement onto the ROR IRI, doubling
    every answer); they stay asserted links.

    Args:
        store: the store holding the asserted graphs; receives the inferred graph.
        mode: ``none``, ``rdfs`` or ``owlrl``.
        graphs: the asserted graphs to reason over (ontology and data).
        base_iri: decides the inferred graph's name.

    Returns:
        How many triples were inferred.
    """
    if mode == "none":
        return 0
    asserted = graph_from_quads(q for g in graphs for q in store.quads(graph=g))
    hidden: dict[rdflib.Literal, rdflib.Literal] = {}
    shown: dict[rdflib.Literal, rdflib.Literal] = {}

    def hide(term: rdflib.term.Node) -> rdflib.term.Node:
        if not isinstance(term, rdflib.Literal):
            return term
        placeholder = hidden.get(term)
        if placeholder is None:
            placeholder = hidden[term] = rdflib.Literal(f"leapsld-literal-{len(hidden)}")
            shown[placeholder] = term
        return placeholder

    closure = rdflib.Graph()
    for s, p, o in asserted:
        if p != rdflib.OWL.sameAs:
            closure.add((s, p, hide(o)))
    owlrl.DeductiveClosure(_SEMANTICS[mode], axiomatic_triples=False, datatype_axioms=False).expand(
        closure
    )
    new = rdflib.Graph()
    for s, p, o in closure:
        if isinstance(s, rdflib.Literal) or (isinstance(o, rdflib.Literal) and o not in shown):
            continue
        triple = (s, p, shown.get(o, o) if isinstance(o, rdflib.Literal) else o)
        if triple not in asserted and not (p == rdflib.OWL.sameAs and s == o):
            new.add(triple)
    store.add_quads(quads_from_graph(new, inferred_graph(base_iri)))
    return len(new)
