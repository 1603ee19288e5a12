"""The SHACL validation report graph of the compiled engine, as pyshacl would write it.

``validation`` reads one report graph whichever engine ran, so the compiled engine's results
are written in pyshacl's form: the same result nodes, paths copied from the shapes, and
pyshacl's wording for shapes that give no message of their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import rdflib
import rdflib.collection
from rdflib.namespace import RDF, SH

from .compiler import Plan
from .model import Node, show
from .running import Violation


def report_graph(
    plan: Plan, violations: Sequence[Violation], *, conforms: bool = True
) -> rdflib.Graph:
    """The SHACL validation report, as pyshacl would write it (``conforms=False`` when results
    were counted but left out of ``violations``)."""
    g = rdflib.Graph()
    g.namespace_manager = plan.shapes.namespace_manager
    report = rdflib.BNode()
    g.add((report, RDF.type, SH.ValidationReport))
    g.add((report, SH.conforms, rdflib.Literal(conforms and not violations)))
    for v in violations:
        g.add((report, SH.result, _add_result(g, plan, v)))
    return g


def _add_result(g: rdflib.Graph, plan: Plan, v: Violation) -> rdflib.BNode:
    node = rdflib.BNode()
    check = v.check
    g.add((node, RDF.type, SH.ValidationResult))
    g.add((node, SH.focusNode, v.focus))
    g.add((node, SH.resultSeverity, check.severity))
    g.add((node, SH.sourceShape, check.shape))
    g.add((node, SH.sourceConstraintComponent, rdflib.URIRef(check.component)))
    if check.constraint is not None:
        g.add((node, SH.sourceConstraint, check.constraint))
    path = v.bindings.get("closedPath") or v.bindings.get("path") or check.path
    if path is not None:
        g.add((node, SH.resultPath, _copy_path(plan.shapes, g, path)))
    if v.value is not None:
        g.add((node, SH.value, v.value))
    for message in _messages(plan, v):
        g.add((node, SH.resultMessage, message))
    for detail in v.details:
        g.add((node, SH.detail, _add_result(g, plan, detail)))
    return node


_PATH_OPERATORS = (
    SH.inversePath,
    SH.alternativePath,
    SH.zeroOrMorePath,
    SH.oneOrMorePath,
    SH.zeroOrOnePath,
)


def _copy_path(source: rdflib.Graph, target: rdflib.Graph, node: Node) -> Node:
    """A copy of the SHACL path ``node`` of the shapes graph, in fresh blank nodes (one copy per
    result, as the W3C reports write it) and only what makes it the path it was read as: a
    blank node that also says other things (``path-strange-001``: a list that also has an
    ``sh:inversePath``) is not copied whole."""
    if not isinstance(node, rdflib.BNode):
        return node
    copy = rdflib.BNode()
    if (node, RDF.first, None) in source:
        items = list(rdflib.collection.Collection(source, node))
        rdflib.collection.Collection(target, copy, [_copy_path(source, target, i) for i in items])
        return copy
    for operator in _PATH_OPERATORS:
        inner = source.value(node, operator)
        if inner is not None:
            target.add((copy, operator, _copy_path(source, target, inner)))
            return copy
    return copy


_TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def _messages(plan: Plan, v: Violation) -> list[Node]:
    check = v.check
    if check.messages:
        if check.constraint is None:
            return check.messages
        bindings = {**v.bindings, "this": v.focus}
        if v.value is not None:
            bindings["value"] = v.value  # the focus node, when the query has no ?value
        return [
            rdflib.Literal(
                _TEMPLATE.sub(lambda m: _filled(m, bindings), str(msg)),
                lang=getattr(msg, "language", None),
            )
            for msg in check.messages
        ]
    return [rdflib.Literal(_default_message(plan, v))]


def _filled(match: re.Match[str], bindings: dict[str, Node]) -> str:
    """A ``{?var}`` of a message template: the variable's value as text (as pyshacl writes it),
    or the template itself when the solution leaves the variable unbound."""
    node = bindings.get(match.group(1))
    return match.group(0) if node is None else str(node)


def _default_message(plan: Plan, v: Violation) -> str:
    """Messages for shapes that give none, in the words pyshacl uses."""
    g = plan.shapes
    shape = v.check.shape
    name = v.check.component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent")

    def param(p: str) -> str:
        value = g.value(shape, SH[p])
        return show(g, value) if value is not None else ""

    def quoted(p: str) -> str:
        return repr(param(p))

    path = show(g, v.check.path) if v.check.path is not None else ""
    focus = show(g, v.focus)
    value = show(g, v.value) if v.value is not None else ""
    return {
        "Class": f"Value does not have class {param('class')}",
        "Datatype": f"Value is not Literal with datatype {param('datatype')}",
        "NodeKind": f"Value is not of Node Kind {param('nodeKind')}",
        "MinCount": f"Less than {param('minCount')} values on {focus}->{path}",
        "MaxCount": f"More than {param('maxCount')} values on {focus}->{path}",
        "Pattern": f'Value does not match pattern "{param("pattern")}"',
        "In": f"Value {value} not in list",
        "HasValue": f"Node {focus}->{path} does not contain a value in the set: [{quoted('hasValue')}]",
        "Node": f"Value does not conform to Shape {param('node')}",
        "Not": f"Node {value} conforms to shape {param('not')}",
        "Or": f"Node {value} does not conform to one or more shapes in the sh:or list",
        "And": f"Node {value} does not conform to all shapes in the sh:and list",
        "Xone": f"Node {value} does not conform to exactly one shape in the sh:xone list",
        "UniqueLang": "More than one String shares the same Language",
        "Closed": f"Node {focus} is closed. It cannot have value: {value}",
        "QualifiedMinCount": f"Focus node does not conform to shape {param('qualifiedValueShape')}",
        "QualifiedMaxCount": f"Focus node conforms to too many shapes {param('qualifiedValueShape')}",
    }.get(name, f"Value {value} does not satisfy {name}")
