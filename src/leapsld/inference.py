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
    asserted = graph_from_quads(q for g in graphs for q in store.graph_quads(g))
    closure = rdflib.Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(_SEMANTICS[mode], axiomatic_triples=False, datatype_axioms=False).expand(
        closure
    )
    new = rdflib.Graph()
    for s, p, o in closure:
        if (s, p, o) in asserted or isinstance(s, rdflib.Literal):
            continue
        if p == rdflib.OWL.sameAs and s == o:
            continue
        new.add((s, p, o))
    store.add_quads(quads_from_graph(new, inferred_graph(base_iri)))
    return len(new)
