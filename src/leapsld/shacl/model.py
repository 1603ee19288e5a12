"""What the shapes graph says, read as pyshacl reads it: the shapes that have targets, which
of them are switched off, and the severities results are ranked by.

The compiler, the runner and the report all read the shapes graph the same way; these are the
few readings none of them owns, and the exception that sends a shapes file to pyshacl.
"""

from __future__ import annotations

import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

Node = rdflib.term.Node


class Unsupported(Exception):
    """The shapes use something this compiler does not state in SPARQL (pyshacl takes over)."""


class IllFormed(Exception):
    """The shapes break a rule of SHACL itself (e.g. the syntax rules of pre-binding, §5.3.1):
    no engine may validate with them, and the validation is a failure, not a verdict."""


#: The SHACL severities, most severe first, by ``severity_name``.
SEVERITIES = ("Violation", "Warning", "Info")


def severity_name(severity: Node | None) -> str:
    """``Violation``, ``Warning``, ``Info``: what follows the ``#`` of a severity (a severity
    of the shapes' own without one keeps its whole IRI)."""
    return str(severity).rsplit("#", 1)[-1]


def severity_rank(name: str) -> int:
    """Violation, Warning, Info, then any severity of the shapes' own."""
    return SEVERITIES.index(name) if name in SEVERITIES else len(SEVERITIES)


def targeted_shapes(g: rdflib.Graph) -> list[Node]:
    """Every shape with a target, explicit or implicit (a shape that is also a class)."""
    if any(g.subjects(SH.target, None)):
        raise Unsupported("sh:target (SPARQL-based targets)")
    if any(g.subjects(RDF.type, SH.ConstraintComponent)) or any(g.subjects(SH.parameter, None)):
        raise Unsupported("constraint components declared in the shapes (sh:parameter)")
    shapes: set[Node] = set()
    for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        shapes.update(g.subjects(p, None))
    shapes.update(s for s in _all_shapes(g) if is_class(g, s))
    return sorted((s for s in shapes if not deactivated(g, s)), key=lambda n: (type(n).__name__, n))


def _all_shapes(g: rdflib.Graph) -> set[Node]:
    """The nodes pyshacl takes for shapes: typed so, or where a shape is expected."""
    found: set[Node] = set()
    for kind in (SH.NodeShape, SH.PropertyShape):
        found.update(g.subjects(RDF.type, kind))
    for p in (SH.property, SH.node):
        found.update(g.subjects(p, None))
    for p in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
        found.update(g.objects(None, p))
    for p in (SH["and"], SH["or"], SH.xone):
        for members in g.objects(None, p):
            found.update(Collection(g, members))
    return found


def is_class(g: rdflib.Graph, shape: Node) -> bool:
    """``shape`` is typed rdfs:Class or a subclass of it (an implicit class target)."""
    classes = {RDFS.Class} | set(g.transitive_subjects(RDFS.subClassOf, RDFS.Class))
    if not any(t in classes for t in g.objects(shape, RDF.type)):
        return False
    if not isinstance(shape, rdflib.URIRef):
        raise Unsupported(f"a blank node shape that is also a class ({shape})")
    return True


def deactivated(g: rdflib.Graph, node: Node) -> bool:
    """``node`` (a shape or a SPARQL constraint) is switched off with ``sh:deactivated true``."""
    return is_true(g.value(node, SH.deactivated))


def is_true(node: Node | None) -> bool:
    """``node`` is ``true`` (only that literal switches a boolean parameter on: not ``"1"``)."""
    return isinstance(node, rdflib.Literal) and node.datatype == XSD.boolean and str(node) == "true"


def show(g: rdflib.Graph, node: Node) -> str:
    """A node of the shapes graph as messages name it (an IRI with the shapes' prefixes)."""
    return node.n3(g.namespace_manager) if isinstance(node, rdflib.URIRef) else str(node)
