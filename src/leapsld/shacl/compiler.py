"""SHACL Core stated in SPARQL: each constraint of each shape as one pattern matching exactly
its violations.

The compiler covers the SHACL Core components that can be stated exactly in SPARQL (targets,
property paths, value type, cardinality, value range, string, language, logical, shape-based
and closed-shape constraints) and SPARQL-based constraints on focus nodes whose ``$this`` can
be bound by a join (``prebinding``). Anything else raises ``Unsupported`` naming the construct,
and the caller falls back to pyshacl, so a shapes file never silently loses a check.

Where pyshacl departs from the SHACL specification, the compiled engine follows the
specification:

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

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

from ..store import OxigraphStore
from .model import (
    IllFormed,
    Node,
    Unsupported,
    deactivated,
    is_class,
    is_true,
    show,
    targeted_shapes,
)
from .prebinding import check_prebinding

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
_NODE_KINDS: dict[Node, str] = {
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

    def focus(self, shape: Node) -> str:
        """A pattern binding ``?this`` to each focus node of ``shape`` (duplicates possible)."""
        classes = list(self.g.objects(shape, SH.targetClass))
        if is_class(self.g, shape):
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
        if deactivated(self.g, shape):
            return []
        if shape in self._stack:
            raise Unsupported(f"recursive shapes ({show(self.g, shape)})")
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
                        raise Unsupported(f"sh:property {show(self.g, prop)} has no sh:path")
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
                raise Unsupported(f"sh:property {show(self.g, prop)} has no sh:path")
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
            if is_true(flag):
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
            if is_true(self.g.value(shape, SH.qualifiedValueShapesDisjoint)):
                raise Unsupported("sh:qualifiedValueShapesDisjoint")
            for n in self.g.objects(shape, SH.qualifiedMinCount):
                count = _count(n, "sh:qualifiedMinCount")
                if count > 0:
                    found = self._distinct(step, count, where=functools.partial(self.conforms, q))
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
                found = self._distinct(step, count + 1, where=functools.partial(self.conforms, q))
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
                raise Unsupported(f"sh:nodeKind {show(g, k)}")
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
            options = [f"sameTerm({v}, {_term(m)})" for m in Collection(g, values)]
            add("in", "!(" + (" || ".join(options) or "false") + ")")
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
        if is_true(g.value(shape, SH.closed)):
            out.append(self._closed(shape, v))
        for constraint in g.objects(shape, SH.sparql):
            sparql = self._sparql(shape, constraint, v, this, path)
            if sparql is not None:
                out.append(sparql)
        return out

    def _closed(self, shape: Node, v: str) -> Check:
        allowed: list[Node] = []
        for prop in self.g.objects(shape, SH.property):
            path = self.g.value(prop, SH.path)
            if isinstance(path, rdflib.URIRef):
                allowed.append(path)
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
        if deactivated(self.g, constraint):
            return None
        select = self.g.value(constraint, SH.select)
        if select is None:
            raise Unsupported("sh:sparql without sh:select")
        text = str(select)
        if re.search(r"[?$](currentShape|shapesGraph|PATH|failure)\b", text):
            raise Unsupported("sh:sparql using $currentShape, $shapesGraph, $PATH or ?failure")
        prologue = self._prefixes(constraint)
        try:
            check_prebinding(prologue, text)
        except IllFormed as e:
            raise IllFormed(
                f"the SPARQL constraint {show(self.g, constraint)} of {show(self.g, shape)}: {e}"
            ) from None
        check = self._check(shape, "sparql", text, None)
        check.constraint = constraint
        check.prologue = prologue
        check.messages = list(
            dict.fromkeys([*check.messages, *self.g.objects(constraint, SH.message)])
        )
        return check

    def _prefixes(self, constraint: Node) -> str:
        """The PREFIX lines the constraint's ``sh:prefixes`` declare, with those of the nodes
        they import (``owl:imports``, transitively: SHACL §5.2.1)."""
        lines = []
        pending = list(self.g.objects(constraint, SH.prefixes))
        seen: set[Node] = set()
        while pending:
            ontology = pending.pop(0)
            if ontology in seen:
                continue
            seen.add(ontology)
            for decl in self.g.objects(ontology, SH.declare):
                prefix = self.g.value(decl, SH.prefix)
                namespace = self.g.value(decl, SH.namespace)
                lines.append(f"PREFIX {prefix}: <{namespace}>")
            pending += list(self.g.objects(ontology, OWL.imports))
        return "\n".join(dict.fromkeys(lines))

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
        raise Unsupported(f"the path {show(g, node)}")

    def _check_parameters(self, shape: Node) -> None:
        for p in set(self.g.predicates(shape, None)):
            if str(p).startswith(str(SH)):
                name = str(p)[len(str(SH)) :]
                if name not in _COMPONENTS and name not in _NON_VALIDATING and name != "closed":
                    raise Unsupported(f"sh:{name}")

    def _var(self) -> str:
        return f"?v{next(self._fresh)}"


_RDF_TYPE = f"<{RDF.type}>"

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
        result = OxigraphStore().query(probe)
        assert isinstance(result, pyoxigraph.QuerySolutions)
        runs = next(iter(result))["ok"] is not None
    except SyntaxError:
        runs = False
    if not runs:
        raise Unsupported(f"sh:pattern {pattern!r}, which Oxigraph cannot evaluate")
    return args


def _count(n: Node, what: str) -> int:
    try:
        return int(str(n))  # every rdflib term is a str; a literal's is its lexical form
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


# The compiled shapes -------------------------------------------------------------------------


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
        assert query is not None  # only handed to the compiler when there is a query
        text = f"SELECT DISTINCT ?c WHERE {{ ?c {_SUBCLASS}+ <{cls}> }}"
        found = [row["c"] for row in query(text)]
        if not all(isinstance(c, pyoxigraph.NamedNode) for c in found):
            return None  # a blank-node class: only the path can reach its instances
        return [c.value for c in found]

    compiler = Compiler(shapes, subclasses if query is not None else None)
    targets = [(s, compiler.focus(s), compiler.checks(s)) for s in targeted_shapes(shapes)]
    return Plan(shapes, targets, compiler)


QueryFn = Callable[[str], pyoxigraph.QuerySolutions]
