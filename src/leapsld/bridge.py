"""Moving triples between pyoxigraph and rdflib.

pyoxigraph parses, stores and queries; rdflib is kept where it is the right tool (owlrl,
pyshacl on small graphs), so terms cross over here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyoxigraph
import rdflib

from .errors import NotAcceptable

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


#: What pyoxigraph puts in a triple's object: a term, or a triple term (RDF 1.2).
Object = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple


def to_rdflib(term: Object) -> rdflib.term.Node:
    """A pyoxigraph term as the equal rdflib term (the same lexical form: not normalised).

    >>> to_rdflib(pyoxigraph.Literal("1", datatype=pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    rdflib.term.Literal('1', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#integer'))
    """
    if isinstance(term, pyoxigraph.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return rdflib.Literal(term.value)
        # as written: rdflib would make "1"^^xsd:boolean "true" (another term)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(datatype), normalize=False)
    raise NotAcceptable(
        "a triple term (RDF 1.2) cannot be written in this format; ask for N-Triples or Turtle",
        offered=["application/n-triples", "text/turtle"],
    )


def from_rdflib(
    term: rdflib.term.Node,
) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal:
    """An rdflib term as the equal pyoxigraph term."""
    if isinstance(term, rdflib.URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return pyoxigraph.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None and str(term.datatype) not in (_XSD_STRING, _RDF_LANGSTRING):
            return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(str(term.datatype)))
        return pyoxigraph.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def graph_from_quads(quads: Iterable[pyoxigraph.Quad | pyoxigraph.Triple]) -> rdflib.Graph:
    """One rdflib Graph holding the triples of ``quads`` (graph names dropped)."""
    graph = rdflib.Graph()
    add = graph.add
    cache: dict[Object, rdflib.term.Node] = {}

    def conv(t: Object) -> rdflib.term.Node:
        node = cache.get(t)
        if node is None:
            node = cache[t] = to_rdflib(t)
        return node

    for q in quads:
        add((conv(q.subject), conv(q.predicate), conv(q.object)))
    return graph


def quads_from_graph(graph: rdflib.Graph, graph_name: str) -> Iterator[pyoxigraph.Quad]:
    """The triples of an rdflib graph as quads in the named graph ``graph_name``."""
    name = pyoxigraph.NamedNode(graph_name)
    for s, p, o in graph:
        subject, predicate = from_rdflib(s), from_rdflib(p)
        if isinstance(subject, pyoxigraph.Literal) or not isinstance(
            predicate, pyoxigraph.NamedNode
        ):
            raise TypeError(f"not an RDF triple: {s!r} {p!r} {o!r}")  # as pyoxigraph.Quad would
        yield pyoxigraph.Quad(subject, predicate, from_rdflib(o), name)
