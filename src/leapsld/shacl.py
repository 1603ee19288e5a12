"""SHACL Core compiled to SPARQL and run on the store itself.

pyshacl walks an rdflib graph focus node by focus node, and re-parses a SPARQL constraint for
each one: about 45 s for 100k triples here, hours for a million, and the data must first be
copied into rdflib. Compiled, each constraint of each shape becomes one query that finds all
its violations at once, evaluated by Oxigraph over the very store that will be served: a few
seconds for a million triples.

The compiler covers the SHACL Core components that can be stated exactly in SPARQL (targets,
property paths, value type, cardinality, value range, string, language, logical, shape-based
and closed-shape constraints) and SPARQL-based constraints on focus nodes whose ``$this`` can
be bound by a join. Anything else raises ``Unsupported`` naming the construct, and the caller
falls back to pyshacl, so a shapes file never silently loses a check.

pyshacl is the reference: ``tests/test_shacl.py`` checks the two engines give the same results
construct by construct, and ``tests/test_shacl_w3c.py`` runs the W3C test suite. Where pyshacl
departs from the SHACL specification, the compiled engine follows the specification:

- ``sh:datatype`` checks the lexical form of dates, times, durations and the ``xsd:g*`` types
  (rdflib takes ``"x"^^xsd:gYear``, and ``"2020-01-01"^^xsd:dateTime``, for well-formed);
- ``sh:minInclusive`` and the other ranges compare as SPARQL does: values of types that do not
  compare with the bound (a boolean with a number, a date with an integer) fail, and gYears
  compare (pyshacl orders across types, and fails every gYear);
- ``sh:minLength 0`` fails blank nodes, as any minimum length does.

The store imposes its own differences: Oxigraph keeps integers of the derived XSD types
(``xsd:int``, ``xsd:positiveInteger``…) as ``xsd:integer``, so ``sh:datatype`` with such a type
is unsupported here (shapes should use ``xsd:integer`` with a range instead), and it keeps
literals in canonical form (``"4.0"^^xsd:decimal`` as ``"4"``), which results then show.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from .bridge import from_rdflib, to_rdflib

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue

Node = rdflib.term.Node

#: Parameters that say nothing about conformance (or are read along with the ones that do).
_NON_VALIDATING = {
    "name",
    "description",
    "order",
    "group",
    "defaultValue",
    "message",
    "severity",
    "deactivated",
    "path",
    "targetClass",
    "targetNode",
    "targetSubjectsOf",
    "targetObjectsOf",
    "property",
    "select",
    "prefixes",
    "declare",
    "prefix",
    "namespace",
    "flags",
    "ignoredProperties",
    "qualifiedMinCount",
    "qualifiedMaxCount",
    "qualifiedValueShapesDisjoint",
    "inversePath",
    "alternativePath",
    "zeroOrMorePath",
    "oneOrMorePath",
    "zeroOrOnePath",
    "labelTemplate",
}
#: Components compiled below.
_COMPONENTS = {
    "class": "ClassConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent",
    "uniqueLang": "UniqueLangConstraintComponent",
    "in": "InConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "node": "NodeConstraintComponent",
    "not": "NotConstraintComponent",
    "and": "AndConstraintComponent",
    "or": "OrConstraintComponent",
    "xone": "XoneConstraintComponent",
    "qualifiedValueShape": "QualifiedMinCountConstraintComponent",
    "closed": "ClosedConstraintComponent",
    "sparql": "SPARQLConstraintComponent",
}

#: XSD datatypes whose lexical forms Oxigraph checks when casting: a literal of one of these
#: with an ill-formed lexical form is not a valid value of the datatype.
_CASTABLE = {
    str(XSD[n])
    for n in [
        "dateTime",
        "date",
        "time",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
        "gYear",
        "gYearMonth",
        "gMonth",
        "gDay",
        "gMonthDay",
    ]
}
_NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
#: The lexical spaces of the types Oxigraph holds in bounded numbers (an xsd:integer beyond 64
#: bits fails its cast, yet is well-formed): checked on the lexical form instead, as rdflib
#: (so pyshacl) does.
_LEXICAL = {
    str(XSD.integer): r"^[+-]?[0-9]+$",
    str(XSD.decimal): f"^{_NUMBER}$",
    str(XSD.float): f"^({_NUMBER}([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$",
    str(XSD.double): f"^({_NUMBER}([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$",
    str(XSD.boolean): "^(true|false|1|0)$",
    str(XSD.hexBinary): "^([0-9a-fA-F]{2})*$",
}
#: Datatypes pyshacl reads in its own way: any literal has ``rdfs:Literal``.
_PYSHACL_READING = {str(RDFS.Literal), str(RDFS.Datatype)}
#: Integer types Oxigraph stores as ``xsd:integer``: their datatype cannot be checked on it.
_CANONICALISED = {
    str(XSD[n])
    for n in [
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    ]
}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
_RANGES = {
    SH.minInclusive: ">=",
    SH.maxInclusive: "<=",
    SH.minExclusive: ">",
    SH.maxExclusive: "<",
}
#: Severities that do not make a shape fail when another refers to it (see ``conforms``).
_ALLOWED_SEVERITIES = {SH.Warning, SH.Info}
_MAX_COUNT_JOIN = 4  # up to this many distinct values are counted with a join, not an aggregate


class Unsupported(Exception):
    """The shapes use something this compiler does not state in SPARQL (pyshacl takes over)."""


@dataclass
class Check:
    """One constraint of one shape, as a SPARQL pattern that matches exactly its violations.

    ``pattern`` is a group graph pattern in which ``?this`` is the focus node; when the
    constraint is about value nodes, ``value`` names the variable bound to the failing one.
    """

    shape: Node
    component: str
    pattern: str
    value: str | None = None
    path: Node | None = None
    severity: Node = SH.Violation
    messages: list[Node] = field(default_factory=list)
    #: For sh:node, the shape each failing value was checked against (for sh:detail).
    nested: Node | None = None
    #: For SPARQL-based constraints: the constraint node and its message templates.
    constraint: Node | None = None
    prologue: str = ""
    group_by_lang: bool = False
    #: The variable bound to the node results name as focus, when it is not ``?this``: the
    #: value nodes of a property shape are the focus nodes of its own property shapes.
    reported: str | None = None


@dataclass
class Violation:
    """One result found by a compiled check (terms in rdflib, for the report graph)."""

    check: Check
    focus: Node
    value: Node | None
    bindings: dict[str, Node] = field(default_factory=dict)
    details: list[Violation] = field(default_factory=list)


class Compiler:
    """Turns a shapes graph into ``Check``s; raises ``Unsupported`` on anything it cannot."""

    def __init__(
        self, shapes: rdflib.Graph, subclasses: Callable[[str], list[str] | None] | None = None
    ) -> None:
        self.g = shapes
        self._subclasses = subclasses
        self._known: dict[Node, list[str] | None] = {}
        self._fresh = itertools.count()
        self._stack: list[Node] = []

    def instance_of(self, node: str, cls: Node) -> str:
        """A pattern matching when ``node`` is a SHACL instance of ``cls``.

        With the data's class hierarchy at hand, ``rdf:type/rdfs:subClassOf*`` becomes a
        lookup of the (few) subclasses: the same answers, several times faster per node.
        """
        if (
            self._subclasses is not None
            and isinstance(cls, rdflib.URIRef)
            and cls not in self._known
        ):
            found = self._subclasses(str(cls))
            self._known[cls] = None if found is None else sorted(set(found) | {str(cls)})
        classes = self._known.get(cls)
        if classes is None:
            return f"{node} {_RDF_TYPE}/{_SUBCLASS}* {_term(cls)} ."
        if len(classes) == 1:
            return f"{node} {_RDF_TYPE} <{classes[0]}> ."
        t = self._var()
        return f"VALUES {t} {{ {' '.join(f'<{c}>' for c in classes)} }} {node} {_RDF_TYPE} {t} ."

    # Targets ---------------------------------------------------------------------------

    def targeted_shapes(self) -> list[Node]:
        """Every shape with a target, explicit or implicit (a shape that is also a class)."""
        g = self.g
        if any(g.subjects(SH.target, None)):
            raise Unsupported("sh:target (SPARQL-based targets)")
        if any(g.subjects(RDF.type, SH.ConstraintComponent)) or any(g.subjects(SH.parameter, None)):
            raise Unsupported("constraint components declared in the shapes (sh:parameter)")
        shapes: set[Node] = set()
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
            shapes.update(g.subjects(p, None))
        shapes.update(s for s in self._all_shapes() if self._is_class(s))
        return sorted(
            (s for s in shapes if not self._deactivated(s)), key=lambda n: (type(n).__name__, n)
        )

    def _all_shapes(self) -> set[Node]:
        """The nodes pyshacl takes for shapes: typed so, or where a shape is expected."""
        g = self.g
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

    def _is_class(self, shape: Node) -> bool:
        """``shape`` is typed rdfs:Class or a subclass of it (an implicit class target)."""
        classes = {RDFS.Class} | set(
            self.g.transitive_subjects(RDFS.subClassOf, RDFS.Class)  # type: ignore[arg-type]
        )
        if not any(t in classes for t in self.g.objects(shape, RDF.type)):
            return False
        if not isinstance(shape, rdflib.URIRef):
            raise Unsupported(f"a blank node shape that is also a class ({shape})")
        return True

    def focus(self, shape: Node) -> str:
        """A pattern binding ``?this`` to each focus node of ``shape`` (duplicates possible)."""
        classes = list(self.g.objects(shape, SH.targetClass))
        if self._is_class(shape):
            classes.append(shape)
        parts = [f"{{ {self.instance_of('?this', c)} }}" for c in classes]
        nodes = [_term(n) for n in self.g.objects(shape, SH.targetNode)]
        if nodes:
            parts.append("{ VALUES ?this { " + " ".join(nodes) + " } }")
        parts += [f"{{ ?this {_term(p)} [] }}" for p in self.g.objects(shape, SH.targetSubjectsOf)]
        parts += [f"{{ [] {_term(p)} ?this }}" for p in self.g.objects(shape, SH.targetObjectsOf)]
        return " UNION ".join(parts)

    # Shapes ----------------------------------------------------------------------------

    def checks(self, shape: Node, this: str = "?this") -> list[Check]:
        """Every check of ``shape`` (and of its property shapes) for the focus ``this``."""
        if self._deactivated(shape):
            return []
        if shape in self._stack:
            raise Unsupported(f"recursive shapes ({_show(self.g, shape)})")
        self._stack.append(shape)
        try:
            self._check_parameters(shape)
            path = self.g.value(shape, SH.path)
            if path is not None:
                out = self._property_checks(shape, path, this)
            else:
                out = self._value_checks(shape, this, None, this)
                for prop in self.g.objects(shape, SH.property):
                    if self.g.value(prop, SH.path) is None:
                        raise Unsupported(f"sh:property {_show(self.g, prop)} has no sh:path")
                    out += self.checks(prop, this)
            return out
        finally:
            self._stack.pop()

    def conforms(self, shape: Node, var: str, *, any_result: bool = False) -> str:
        """A SPARQL expression, true when the node in ``var`` conforms to ``shape``.

        As pyshacl, run with ``allow_warnings`` (``validation.validate``), decides it: for
        sh:not, sh:and, sh:or, sh:xone and sh:qualifiedValueShape, results of severity
        sh:Warning or sh:Info do not count, and a shape of such a severity always conforms; for
        sh:node (``any_result``), any result fails the value.
        """
        if not any_result and self.g.value(shape, SH.severity) in _ALLOWED_SEVERITIES:
            return "true"
        checks = self.checks(shape, var)
        patterns = [
            c.pattern for c in checks if any_result or c.severity not in _ALLOWED_SEVERITIES
        ]
        if not patterns:
            return "true"
        return "NOT EXISTS { " + " UNION ".join(f"{{ {p} }}" for p in patterns) + " }"

    def _property_checks(self, shape: Node, path_node: Node, this: str) -> list[Check]:
        path = self.path(path_node)

        def step(var: str) -> str:
            return self._values(this, path_node, var)

        out: list[Check] = []
        value = self._var()
        # Value-level components, one check per value node.
        for check in self._value_checks(shape, value, path_node, this):
            check.pattern = f"{step(value)} {check.pattern}"
            out.append(check)
        for prop in self.g.objects(shape, SH.property):
            if self.g.value(prop, SH.path) is None:
                raise Unsupported(f"sh:property {_show(self.g, prop)} has no sh:path")
            node = self._var()
            for check in self.checks(prop, node):
                check.pattern = f"{step(node)} {check.pattern}"
                check.reported = check.reported or node
                out.append(check)
        for n in self.g.objects(shape, SH.minCount):
            count = _count(n, "sh:minCount")
            if count > 0:
                out.append(
                    self._check(
                        shape,
                        "minCount",
                        f"FILTER NOT EXISTS {{ {self._distinct(step, count)} }}",
                        path_node,
                    )
                )
        for n in self.g.objects(shape, SH.maxCount):
            count = _count(n, "sh:maxCount")
            out.append(self._check(shape, "maxCount", self._distinct(step, count + 1), path_node))
        for flag in self.g.objects(shape, SH.uniqueLang):
            if _is_true(flag):
                a, b = self._var(), self._var()
                check = self._check(
                    shape,
                    "uniqueLang",
                    f"{step(a)} {step(b)} "
                    f'FILTER(!sameTerm({a}, {b}) && LANG({a}) != "" '
                    f"&& LCASE(LANG({a})) = LCASE(LANG({b}))) BIND(LCASE(LANG({a})) AS ?lang)",
                    path_node,
                )
                check.group_by_lang = True
                out.append(check)
        for v in self.g.objects(shape, SH.hasValue):
            if self._can_be_empty(path_node):
                x = self._var()
                found = f"{step(x)} FILTER(sameTerm({x}, {_term(v)}))"
            else:
                found = f"{this} {path} {_term(v)}"
            out.append(
                self._check(shape, "hasValue", f"FILTER NOT EXISTS {{ {found} }}", path_node)
            )
        for q in self.g.objects(shape, SH.qualifiedValueShape):
            if _is_true(self.g.value(shape, SH.qualifiedValueShapesDisjoint)):
                raise Unsupported("sh:qualifiedValueShapesDisjoint")
            for n in self.g.objects(shape, SH.qualifiedMinCount):
                count = _count(n, "sh:qualifiedMinCount")
                if count > 0:
                    found = self._distinct(step, count, where=lambda v, q=q: self.conforms(q, v))
                    out.append(
                        self._check(
                            shape,
                            "qualifiedValueShape",
                            f"FILTER NOT EXISTS {{ {found} }}",
                            path_node,
                        )
                    )
            for n in self.g.objects(shape, SH.qualifiedMaxCount):
                count = _count(n, "sh:qualifiedMaxCount")
                found = self._distinct(step, count + 1, where=lambda v, q=q: self.conforms(q, v))
                check = self._check(shape, "qualifiedValueShape", found, path_node)
                check.component = str(SH.QualifiedMaxCountConstraintComponent)
                out.append(check)
        return out

    def _value_checks(self, shape: Node, v: str, path: Node | None, this: str) -> list[Check]:
        """Checks about each value node ``v`` (the focus itself for a node shape)."""
        out: list[Check] = []

        def add(name: str, violated: str, nested: Node | None = None) -> None:
            check = self._check(shape, name, f"FILTER({violated})", path, value=v)
            check.nested = nested
            out.append(check)

        g = self.g
        for c in g.objects(shape, SH["class"]):
            add("class", f"NOT EXISTS {{ {self.instance_of(v, c)} }}")
        for d in g.objects(shape, SH.datatype):
            add("datatype", f"!({_datatype(d, v)})")
        for k in g.objects(shape, SH.nodeKind):
            if k not in _NODE_KINDS:
                raise Unsupported(f"sh:nodeKind {_show(g, k)}")
            add("nodeKind", "!" + _NODE_KINDS[k].format(v=v))
        for p, op in _RANGES.items():
            for bound in g.objects(shape, p):
                add(p.split("#")[-1], f"!COALESCE({v} {op} {_term(bound)}, false)")
        for p, op in ((SH.minLength, ">="), (SH.maxLength, "<=")):
            for n in g.objects(shape, p):
                add(
                    p.split("#")[-1],
                    f"isBlank({v}) || !COALESCE(STRLEN(STR({v})) {op} {_count(n, 'length')}, false)",
                )
        for pattern in g.objects(shape, SH.pattern):
            args = _regex_arguments(str(pattern), g.value(shape, SH.flags))
            add("pattern", f"isBlank({v}) || !COALESCE(REGEX(STR({v}), {args}), false)")
        for tags in g.objects(shape, SH.languageIn):
            matches = [f"langMatches(LANG({v}), {_string(str(t))})" for t in Collection(g, tags)]
            add("languageIn", "!COALESCE(" + (" || ".join(matches) or "false") + ", false)")
        for values in g.objects(shape, SH["in"]):
            members = [f"sameTerm({v}, {_term(m)})" for m in Collection(g, values)]
            add("in", "!(" + (" || ".join(members) or "false") + ")")
        if path is None:
            for value in g.objects(shape, SH.hasValue):
                add("hasValue", f"!sameTerm({v}, {_term(value)})")
                out[-1].value = None  # the result names no value node
        for s in g.objects(shape, SH.node):
            add("node", f"!({self.conforms(s, v, any_result=True)})", nested=s)
        for s in g.objects(shape, SH["not"]):
            add("not", self.conforms(s, v))
        for name, join in (("and", " && "), ("or", " || ")):
            for members in g.objects(shape, SH[name]):
                tests = [f"({self.conforms(s, v)})" for s in Collection(g, members)]
                add(name, "!(" + (join.join(tests) or ("true" if name == "and" else "false")) + ")")
        for members in g.objects(shape, SH.xone):
            tests = [f"IF({self.conforms(s, v)}, 1, 0)" for s in Collection(g, members)]
            add("xone", "(" + (" + ".join(tests) or "0") + ") != 1")
        if _is_true(g.value(shape, SH.closed)):
            out.append(self._closed(shape, v))
        for constraint in g.objects(shape, SH.sparql):
            sparql = self._sparql(shape, constraint, v, this, path)
            if sparql is not None:
                out.append(sparql)
        return out

    def _closed(self, shape: Node, v: str) -> Check:
        allowed = []
        for prop in self.g.objects(shape, SH.property):
            p = self.g.value(prop, SH.path)
            if isinstance(p, rdflib.URIRef):
                allowed.append(p)
        for ignored in self.g.objects(shape, SH.ignoredProperties):
            allowed += list(Collection(self.g, ignored))
        p, o = self._var(), self._var()
        tests = [f"!sameTerm({p}, {_term(a)})" for a in allowed]
        # pyshacl always allows rdf:type rdfs:Resource, which RDFS inference adds to every node.
        tests.append(f"!(sameTerm({p}, {_RDF_TYPE}) && sameTerm({o}, <{RDFS.Resource}>))")
        pattern = f"{v} {p} {o} . FILTER({' && '.join(tests)}) BIND({p} AS ?closedPath)"
        return self._check(shape, "closed", pattern, None, value=o)

    def _sparql(
        self, shape: Node, constraint: Node, v: str, this: str, path: Node | None
    ) -> Check | None:
        """A SPARQL-based constraint, run with the focus nodes joined in at the top of its query."""
        if v != "?this" or this != "?this" or path is not None:
            raise Unsupported("sh:sparql inside another shape or on a property shape")
        if self._deactivated(constraint):
            return None
        select = self.g.value(constraint, SH.select)
        if select is None:
            raise Unsupported("sh:sparql without sh:select")
        text = str(select)
        if re.search(r"[?$](currentShape|shapesGraph|PATH|failure)\b", text):
            raise Unsupported("sh:sparql using $currentShape, $shapesGraph, $PATH or ?failure")
        prologue = self._prefixes(constraint)
        _check_prebinding(prologue, text)
        check = self._check(shape, "sparql", text, None)
        check.constraint = constraint
        check.prologue = prologue
        check.messages = list(
            dict.fromkeys([*check.messages, *self.g.objects(constraint, SH.message)])
        )
        return check

    def _prefixes(self, constraint: Node) -> str:
        lines = []
        for ontology in self.g.objects(constraint, SH.prefixes):
            for decl in self.g.objects(ontology, SH.declare):
                prefix = self.g.value(decl, SH.prefix)
                namespace = self.g.value(decl, SH.namespace)
                lines.append(f"PREFIX {prefix}: <{namespace}>")
        return "\n".join(lines)

    # Helpers ---------------------------------------------------------------------------

    def _check(
        self, shape: Node, name: str, pattern: str, path: Node | None, *, value: str | None = None
    ) -> Check:
        severity = self.g.value(shape, SH.severity) or SH.Violation
        return Check(
            shape=shape,
            component=str(SH[_COMPONENTS[name]]),
            pattern=pattern,
            value=value,
            path=path,
            severity=severity,
            messages=list(self.g.objects(shape, SH.message)),
        )

    def _distinct(
        self, step: Callable[[str], str], count: int, where: Callable[[str], str] | None = None
    ) -> str:
        """A pattern with ``count`` pairwise distinct value nodes (each passing ``where``)."""
        if count > _MAX_COUNT_JOIN:
            raise Unsupported(
                f"a cardinality needing {count} distinct values (at most {_MAX_COUNT_JOIN})"
            )
        names = [self._var() for _ in range(count)]
        triples = " ".join(step(n) for n in names)
        tests = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        if where is not None:
            tests += [f"({where(n)})" for n in names]
        return triples + (f" FILTER({' && '.join(tests)})" if tests else "")

    def _values(self, this: str, path_node: Node, value: str) -> str:
        """A pattern binding ``value`` to each value node of the path from ``this``.

        Oxigraph matches a zero-length path only at nodes of the graph, while a focus node that
        is not in it (a literal sh:targetNode...) is still its own value on such a path.
        """
        path = self.path(path_node)
        if not self._can_be_empty(path_node):
            return f"{this} {path} {value} ."
        reached = self._var()
        return (
            f"OPTIONAL {{ {this} {path} {reached} }} BIND(COALESCE({reached}, {this}) AS {value})"
        )

    def _can_be_empty(self, node: Node) -> bool:
        """The path can be of length zero (so every node is one of its own values)."""
        g = self.g
        if isinstance(node, rdflib.URIRef):
            return False
        if (node, RDF.first, None) in g:
            return all(self._can_be_empty(p) for p in Collection(g, node))
        if (node, SH.zeroOrMorePath, None) in g or (node, SH.zeroOrOnePath, None) in g:
            return True
        for p in (SH.oneOrMorePath, SH.inversePath):
            inner = g.value(node, p)
            if inner is not None:
                return self._can_be_empty(inner)
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return any(self._can_be_empty(p) for p in Collection(g, alternatives))
        return False

    def path(self, node: Node) -> str:
        """A SHACL path as a SPARQL property path."""
        g = self.g
        if isinstance(node, rdflib.URIRef):
            return _term(node)
        if (node, RDF.first, None) in g:
            return "(" + "/".join(self.path(p) for p in Collection(g, node)) + ")"
        for p, op in (
            (SH.zeroOrMorePath, "*"),
            (SH.oneOrMorePath, "+"),
            (SH.zeroOrOnePath, "?"),
        ):
            inner = g.value(node, p)
            if inner is not None:
                return f"({self.path(inner)}){op}"
        inverse = g.value(node, SH.inversePath)
        if inverse is not None:
            return f"^({self.path(inverse)})"
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in Collection(g, alternatives)) + ")"
        raise Unsupported(f"the path {_show(g, node)}")

    def _check_parameters(self, shape: Node) -> None:
        for p in set(self.g.predicates(shape, None)):
            if str(p).startswith(str(SH)):
                name = p[len(str(SH)) :]
                if name not in _COMPONENTS and name not in _NON_VALIDATING and name != "closed":
                    raise Unsupported(f"sh:{name}")

    def _deactivated(self, node: Node) -> bool:
        return _is_true(self.g.value(node, SH.deactivated))

    def _var(self) -> str:
        return f"?v{next(self._fresh)}"


_RDF_TYPE = f"<{RDF.type}>"
_THIS = rdflib.Variable("this")
_FOCUS_MARKER = rdflib.URIRef("urn:x-leapsld:focus-nodes")
#: What a SPARQL query's text holds that may contain a brace (comments, strings and IRIs),
#: and a brace.
_SKIPPED = re.compile(
    r'#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|'
    r"'''(?:[^'\\]|\\.|'(?!''))*'''|"
    r'"(?:[^"\\\n]|\\.)*"|'
    r"'(?:[^'\\\n]|\\.)*'|"
    r'<[^<>"{}|^`\\\s]*>|\{',
    re.S,
)


def _inject(select: str, block: str) -> str:
    """``select`` with ``block`` put first in its WHERE clause (the first brace in its text)."""
    for m in _SKIPPED.finditer(select):
        if m.group() == "{":
            return f"{select[: m.end()]} {block} {select[m.end() :]}"
    raise Unsupported("sh:select without a WHERE clause")


def _check_prebinding(prologue: str, select: str) -> None:
    """Raise ``Unsupported`` unless joining the focus nodes in first gives pre-binding's results.

    SHACL pre-binds ``$this`` to each focus node in turn (pyshacl runs the query once per
    node). Run once for all of them, with the focus nodes as the first pattern of the WHERE
    clause, the query gives the same solutions when every use of ``$this`` is where it is
    bound: in triple patterns, in the top group's filters and binds, and in nested patterns
    only under the same rule (a nested group, OPTIONAL, UNION or sub-select is evaluated on its
    own before it is joined). Anything else (MINUS, VALUES, LIMIT, GRAPH, a sub-select that
    does not return ``$this``, a filter on ``$this`` where it is not bound) is left to pyshacl.
    """
    from rdflib.plugins.sparql import prepareQuery

    probe = f"{prologue}\n{_inject(select, f'?this <{_FOCUS_MARKER}> ?this .')}"
    try:
        algebra = prepareQuery(probe).algebra
    except Exception as e:  # pyparsing and rdflib raise many kinds
        raise Unsupported(f"a sh:select rdflib cannot parse ({e})") from e
    if algebra.name != "SelectQuery":
        raise Unsupported("sh:select that is not a SELECT query")
    top = algebra.p
    while top.name in ("Distinct", "Reduced", "OrderBy"):
        top = top.p
    if top.name != "Project":
        raise Unsupported(f"sh:select with {top.name} (LIMIT or OFFSET apply per focus node)")
    if _THIS not in top.PV:
        raise Unsupported("sh:select that does not return $this")
    if not _on_top(top.p):
        raise Unsupported("sh:select whose WHERE clause is not its first group")
    if not _exact(top.p)[0]:
        raise Unsupported("sh:select using $this where joining cannot pre-bind it")


def _on_top(node: CompValue) -> bool:
    """The focus marker is in the query's top group (not in a nested or sub-query)."""
    name = node.name
    if name == "BGP":
        return any(t[1] == _FOCUS_MARKER for t in node.triples)
    if name == "Join":
        return _on_top(node.p1) or _on_top(node.p2)
    if name == "LeftJoin":
        return _on_top(node.p1)
    if name in ("Filter", "Extend", "Group", "AggregateJoin"):
        return _on_top(node.p)
    return False


def _exact(node: CompValue) -> tuple[bool, bool]:
    """Whether the pattern, joined with ``$this``, gives what ``$this`` pre-bound gives; and
    whether each of its solutions binds ``$this``."""
    name = node.name
    if name == "BGP":
        return True, any(_THIS in (t[0], t[1], t[2]) for t in node.triples)
    if name == "Join":
        (e1, c1), (e2, c2) = _exact(node.p1), _exact(node.p2)
        return e1 and e2, c1 or c2
    if name == "Union":
        (e1, c1), (e2, c2) = _exact(node.p1), _exact(node.p2)
        return e1 and e2, c1 and c2
    if name == "LeftJoin":
        (e1, c1), (e2, _) = _exact(node.p1), _exact(node.p2)
        right = _mentions(node.p2) or _mentions(node.expr)
        return e1 and (not right or (c1 and e2)), c1
    if name == "Filter":
        e, c = _exact(node.p)
        return e and (c or not _mentions(node.expr)), c
    if name == "Extend":
        e, c = _exact(node.p)
        if isinstance(node.expr, rdflib.Variable) and str(node.expr).startswith("__agg_"):
            return e, c  # rdflib's rewriting of a grouped variable
        if node.var == _THIS:
            return False, c
        return e and (c or not _mentions(node.expr)), c
    if name == "AggregateJoin":
        group = node.p
        e, c = _exact(group.p)
        if not _mentions(group.p):
            return e, False
        grouped = _THIS in list(group.expr or [])
        return e and c and grouped, c and grouped
    if name in ("Distinct", "Reduced", "OrderBy", "Project"):
        return _exact(node.p)
    if name == "ToMultiSet":
        inner = node.p
        limited = False
        while inner.name in ("Distinct", "Reduced", "OrderBy", "Slice"):
            limited = limited or inner.name == "Slice"
            inner = inner.p
        if inner.name != "Project":
            raise Unsupported(f"{inner.name} in a sh:select (VALUES is not allowed there)")
        if _THIS not in inner.PV:
            return not _mentions(inner.p), False
        e, c = _exact(inner.p)
        return e and not (limited and _mentions(inner.p)), c
    raise Unsupported(f"{name} in a sh:select")


def _mentions(x: object) -> bool:
    """``$this`` occurs in the algebra or expression ``x``."""
    if isinstance(x, rdflib.Variable):
        return x == _THIS
    if isinstance(x, dict):
        return any(_mentions(v) for k, v in x.items() if not str(k).startswith("_"))
    if isinstance(x, list | tuple | set):
        return any(_mentions(v) for v in x)
    return False


_SUBCLASS = f"<{RDFS.subClassOf}>"


def _datatype(d: Node, v: str) -> str:
    """True when ``v`` is a well-formed literal of datatype ``d``."""
    if not isinstance(d, rdflib.URIRef):
        raise Unsupported("sh:datatype that is not an IRI")
    if str(d) == str(RDF.langString):
        return f'isLiteral({v}) && LANG({v}) != ""'
    if str(d) in _CANONICALISED:
        raise Unsupported(f"sh:datatype {d} (stored as xsd:integer by Oxigraph)")
    if str(d) in _PYSHACL_READING:
        raise Unsupported(f"sh:datatype {d} (pyshacl reads it as any literal)")
    test = f"isLiteral({v}) && sameTerm(DATATYPE({v}), {_term(d)})"
    if str(d) in _LEXICAL:
        test += f" && REGEX(STR({v}), {_string(_LEXICAL[str(d)])})"
    elif str(d) in _CASTABLE:
        test += f" && COALESCE(isLiteral({_term(d)}({v})), false)"
    elif rdflib.term.XSDToPython.get(d) is not None:
        # pyshacl takes a literal that rdflib cannot parse (base64, XML, HTML) for ill-formed.
        raise Unsupported(f"sh:datatype {d} (well-formed as rdflib parses it)")
    return test


def _regex_arguments(pattern: str, flags: Node | None) -> str:
    """The pattern and flags of a REGEX call, once Oxigraph has shown it can run them.

    An expression Oxigraph cannot evaluate is false, so an unsupported regular expression
    (look-around, back-references) would fail every value: better to leave it to pyshacl.
    pyshacl reads only the flags ``i`` and ``m``.
    """
    text = str(flags) if flags is not None else ""
    if set(text) - {"i", "m"}:
        raise Unsupported(f"sh:flags {text!r} (pyshacl reads only i and m)")
    args = _string(pattern) + (f", {_string(text)}" if text else "")
    probe = f'SELECT (REGEX("", {args}) AS ?ok) WHERE {{}}'
    try:
        runs = next(iter(pyoxigraph.Store().query(probe)))["ok"] is not None  # type: ignore[index, arg-type]
    except SyntaxError:
        runs = False
    if not runs:
        raise Unsupported(f"sh:pattern {pattern!r}, which Oxigraph cannot evaluate")
    return args


def _is_true(node: Node | None) -> bool:
    """``node`` is ``true`` (only that literal switches a boolean parameter on: not ``"1"``)."""
    return isinstance(node, rdflib.Literal) and node.datatype == XSD.boolean and str(node) == "true"


def _count(n: Node, what: str) -> int:
    try:
        return int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Unsupported(f"{what} {n!r} is not an integer") from None


def _term(node: Node) -> str:
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.Literal):
        if node.language:
            return f"{_string(str(node))}@{node.language}"
        if node.datatype is not None:
            return f"{_string(str(node))}^^<{node.datatype}>"
        return _string(str(node))
    raise Unsupported(f"a blank node ({node}) as a value in the shapes")


def _string(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _show(g: rdflib.Graph, node: Node) -> str:
    return node.n3(g.namespace_manager) if isinstance(node, rdflib.URIRef) else str(node)


# Running ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """The compiled shapes: for each targeted shape, its focus pattern and its checks."""

    shapes: rdflib.Graph
    targets: list[tuple[Node, str, list[Check]]]
    compiler: Compiler

    @property
    def queries(self) -> int:
        return sum(len(checks) for _, _, checks in self.targets)


def compile_shapes(shapes: rdflib.Graph, query: QueryFn | None = None) -> Plan:
    """Compile every targeted shape (for the data ``query`` runs on, when given).

    Raises:
        Unsupported: a construct the compiler cannot state exactly (use pyshacl then).
    """

    def subclasses(cls: str) -> list[str] | None:
        text = f"SELECT DISTINCT ?c WHERE {{ ?c {_SUBCLASS}+ <{cls}> }}"
        found = [row["c"] for row in query(text)]  # type: ignore[misc]
        if not all(isinstance(c, pyoxigraph.NamedNode) for c in found):
            return None  # a blank-node class: only the path can reach its instances
        return [c.value for c in found]

    compiler = Compiler(shapes, subclasses if query is not None else None)
    targets = [(s, compiler.focus(s), compiler.checks(s)) for s in compiler.targeted_shapes()]
    return Plan(shapes, targets, compiler)


QueryFn = Callable[[str], pyoxigraph.QuerySolutions]


class Violations(list[Violation]):
    """The results ``run`` found, and how many more it counted but did not read, by severity
    (``Violation``, ``Warning``, ``Info``): see its ``limit``."""

    def __init__(self, found: Iterable[Violation] = (), omitted: dict[str, int] | None = None):
        super().__init__(found)
        self.omitted: dict[str, int] = omitted or {}


def run(
    plan: Plan, query: QueryFn, *, threads: int | None = None, limit: int | None = None
) -> Violations:
    """Evaluate the plan in two passes, in parallel (Oxigraph releases the GIL).

    First, which focus nodes of each shape fail any of its checks: one pass over the focus
    nodes per group of checks, the cheap question for data that conforms. Then, only for the
    shapes with failing nodes, each check's full results for just those nodes.

    With a ``limit``, at most that many results are read (the most severe first) and the rest
    are only counted: a file where every resource breaks a shape gives hundreds of thousands of
    results, and reading each into a report took minutes and gigabytes for nobody to read.
    """
    jobs: list[tuple[Node, str, list[Check]]] = []
    direct: list[tuple[str, Check]] = []
    for shape, focus, checks in plan.targets:
        plain = [c for c in checks if c.constraint is None]
        direct += [(focus, c) for c in checks if c.constraint is not None]
        for start in range(0, len(plain), _CHECKS_PER_PASS):
            jobs.append((shape, focus, plain[start : start + _CHECKS_PER_PASS]))
    workers = threads or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        failing = list(pool.map(lambda job: _failing(query, job[1], job[2]), jobs))
        second: list[tuple[str, Check]] = list(direct)
        for (_shape, focus, checks), nodes in zip(jobs, failing, strict=True):
            if nodes:
                narrowed = _narrow(focus, nodes)
                second += [(narrowed, c) for c in checks]
        found = list(pool.map(lambda job: _evaluate(query, *job, limit=limit), second))
        violations = [v for batch, _ in found for v in batch]
        omitted: dict[str, int] = {}
        if limit is not None:
            totals = Counter[str]()
            for (_focus, check), (_batch, total) in zip(second, found, strict=True):
                totals[severity_name(check.severity)] += total
            violations.sort(key=_listing_order)
            del violations[limit:]
            kept = Counter(severity_name(v.check.severity) for v in violations)
            omitted = {k: n - kept[k] for k, n in totals.items() if n > kept[k]}
        # For sh:node, why each listed failing value does not conform: its results for that
        # shape, asked only for the focus nodes listed when the listing is cut.
        listed: dict[int, list[Violation]] = {}
        for v in violations:
            if v.value is not None:
                listed.setdefault(id(v.check), []).append(v)
        nested = [
            (focus if limit is None else _narrow_to(focus, check, listed[id(check)]), check, inner)
            for focus, check in second
            if check.nested is not None and check.value is not None and id(check) in listed
            for inner in plan.compiler.checks(check.nested, check.value)
        ]
        explained = list(pool.map(lambda job: _details(query, *job), nested))
    details: dict[tuple[int, Node], list[Violation]] = {}
    for (_focus, check, _inner), batch in zip(nested, explained, strict=True):
        for value, detail in batch:
            details.setdefault((id(check), value), []).append(detail)
    for v in violations:
        if v.value is not None:
            v.details = details.get((id(v.check), v.value), [])
    return Violations(violations, omitted)


#: The SHACL severities, most severe first, by ``severity_name``.
SEVERITIES = ("Violation", "Warning", "Info")


def severity_name(severity: Node | None) -> str:
    """``Violation``, ``Warning``, ``Info``: what follows the ``#`` of a severity (a severity
    of the shapes' own without one keeps its whole IRI)."""
    return str(severity).rsplit("#", 1)[-1]


def severity_rank(name: str) -> int:
    """Violation, Warning, Info, then any severity of the shapes' own."""
    return SEVERITIES.index(name) if name in SEVERITIES else len(SEVERITIES)


def _listing_order(v: Violation) -> tuple[int, str]:
    """The most severe first, then by focus node: the same listing on every run."""
    return severity_rank(severity_name(v.check.severity)), str(v.focus)


def _narrow_to(focus: str, check: Check, listed: list[Violation]) -> str:
    """The focus pattern for just the focus nodes of ``listed`` (see ``_narrow``)."""
    if check.reported:  # the listed focus nodes are not the pattern's ?this
        return focus
    return _narrow(focus, [from_rdflib(n) for n in sorted({v.focus for v in listed})])


_CHECKS_PER_PASS = 6
_NARROW_LIMIT = 2000


def _failing(
    query: QueryFn, focus: str, checks: list[Check]
) -> list[pyoxigraph.NamedNode | pyoxigraph.BlankNode]:
    """The focus nodes that fail at least one of ``checks``."""
    union = " UNION ".join(f"{{ {c.pattern} }}" for c in checks)
    text = f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER EXISTS {{ {union} }} }}"
    return [row[0] for row in _select(query, text)[1]]  # type: ignore[misc]


Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal


def _select(query: QueryFn, text: str) -> tuple[list[str], list[list[Term | None]]]:
    """Run a SELECT query and read its rows, all in this thread.

    pyoxigraph's results must be dropped in the thread that made them: none may outlive this
    function, not even in the traceback of an exception raised while they are read.
    """
    try:
        solutions = query(text)
    except SyntaxError as e:  # a bug here or in a SPARQL constraint of the shapes
        raise Unsupported(f"{e} in the compiled query:\n{text}") from e
    names: list[str] = []
    rows: list[list[Term | None]] = []
    failure: str | None = None
    row = None
    try:
        names = [v.value for v in solutions.variables]
        for row in solutions:
            rows.append([row[name] for name in names])
    except RuntimeError as e:  # Oxigraph cannot evaluate it (an unknown function...)
        failure = str(e)
    finally:
        del solutions, row
    if failure is not None:
        raise Unsupported(f"{failure} in the compiled query:\n{text}")
    return names, rows


def _narrow(focus: str, nodes: list) -> str:  # type: ignore[type-arg]
    """The focus pattern for just ``nodes`` when they can be named, else the whole pattern."""
    if len(nodes) > _NARROW_LIMIT or not all(isinstance(n, pyoxigraph.NamedNode) for n in nodes):
        return focus
    return "VALUES ?this { " + " ".join(str(n) for n in nodes) + " }"


def _query_text(focus: str, check: Check) -> str:
    if check.constraint is not None:
        # A SPARQL-based constraint: its own SELECT, the focus nodes first in its WHERE clause.
        block = f"{{ SELECT DISTINCT ?this WHERE {{ {focus} }} }}"
        return f"{check.prologue}\n{_inject(check.pattern, block)}"
    return (
        f"SELECT DISTINCT ?this {_projection(check)} WHERE {{ "
        f"{{ SELECT DISTINCT ?this WHERE {{ {focus} }} }} {check.pattern} }}"
    )


def _projection(check: Check) -> str:
    """What a result of ``check`` names besides its focus node."""
    projection = f"({check.value} AS ?value)" if check.value else ""
    if check.reported:
        projection += f" ({check.reported} AS ?reportedFocus)"
    if check.group_by_lang:
        projection += " ?lang"
    if check.component == str(SH.ClosedConstraintComponent):
        projection += " ?closedPath"
    return projection


def _evaluate(
    query: QueryFn, focus: str, check: Check, *, limit: int | None = None
) -> tuple[list[Violation], int]:
    """The results of ``check`` (at most ``limit`` read, when the check allows it), and how
    many there are in all."""
    text = _query_text(focus, check)
    if limit is None or check.constraint is not None:  # a SPARQL constraint has its own form
        found = list(_violations(check, *_select(query, text)))
        return found, len(found)
    names, rows = _select(query, f"{text} ORDER BY ?this LIMIT {limit + 1}")
    found = list(_violations(check, names, rows))
    if len(rows) <= limit:
        return found, len(found)
    _, counted = _select(query, f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ {text} }} }}")
    return found[:limit], int(counted[0][0].value)  # type: ignore[union-attr]


def _violations(
    check: Check, names: list[str], rows: list[list[Term | None]]
) -> Iterator[Violation]:
    seen: set[tuple[tuple[str, Node], ...]] = set()
    for row in rows:
        bindings = {n: to_rdflib(t) for n, t in zip(names, row, strict=True) if t is not None}
        focus_node = bindings.get("reportedFocus" if check.reported else "this")
        if focus_node is None:
            continue
        if check.constraint is not None:
            key = tuple(sorted(bindings.items()))
            if key in seen:  # as pyshacl, one result for each distinct solution
                continue
            seen.add(key)
            value = bindings.get("value", focus_node)
        else:
            value = bindings.get("value")
        yield Violation(check, focus_node, value, bindings)


def _details(
    query: QueryFn, focus: str, check: Check, inner: Check
) -> list[tuple[Node, Violation]]:
    """The results of ``inner``, a check of the shape of the sh:node ``check``, for each value
    that fails ``check`` (named or blank, so found in the same query)."""
    text = (
        f"SELECT DISTINCT ({check.value} AS ?failing) {_projection(inner)} WHERE {{ "
        f"{{ SELECT DISTINCT ?this WHERE {{ {focus} }} }} {check.pattern} {inner.pattern} }}"
    )
    names, rows = _select(query, text)
    found = []
    for row in rows:
        bindings = {n: to_rdflib(t) for n, t in zip(names, row, strict=True) if t is not None}
        failing = bindings.pop("failing")
        node = bindings.get("reportedFocus", failing)
        found.append((failing, Violation(inner, node, bindings.get("value"), bindings)))
    return found


# The report graph ---------------------------------------------------------------------------


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
        g.add((node, SH.resultPath, path))
        _copy_path(plan.shapes, g, path)
    if v.value is not None:
        g.add((node, SH.value, v.value))
    for message in _messages(plan, v):
        g.add((node, SH.resultMessage, message))
    for detail in v.details:
        g.add((node, SH.detail, _add_result(g, plan, detail)))
    return node


def _copy_path(source: rdflib.Graph, target: rdflib.Graph, node: Node) -> None:
    if not isinstance(node, rdflib.BNode):
        return
    for p, o in source.predicate_objects(node):
        target.add((node, p, o))
        _copy_path(source, target, o)


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
        return _show(g, value) if value is not None else ""

    def quoted(p: str) -> str:
        return repr(param(p))

    path = _show(g, v.check.path) if v.check.path is not None else ""
    focus = _show(g, v.focus)
    value = _show(g, v.value) if v.value is not None else ""
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
