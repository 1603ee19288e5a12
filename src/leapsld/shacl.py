"""SHACL Core compiled to SPARQL and run on the store itself.

pyshacl walks an rdflib graph focus node by focus node, and re-parses a SPARQL constraint for
each one: about 45 s for 100k triples here, hours for a million, and the data must first be
copied into rdflib. Compiled, each constraint of each shape becomes one query that finds all
its violations at once, evaluated by Oxigraph over the very store that will be served: a few
seconds for a million triples.

The compiler covers the SHACL Core components that can be stated exactly in SPARQL (targets,
property paths, value type, cardinality, value range, string, language, logical, shape-based
and closed-shape constraints) and SPARQL-based constraints on focus nodes. Anything else raises
``Unsupported`` naming the construct, and the caller falls back to pyshacl, so a shapes file
never silently loses a check.

One difference from pyshacl is inherent to the store: Oxigraph keeps integers of the derived
XSD types (``xsd:int``, ``xsd:positiveInteger``…) as ``xsd:integer``, so ``sh:datatype`` with
such a type is unsupported here (and shapes should use ``xsd:integer`` with a range instead).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from .bridge import to_rdflib

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
        "string",
        "boolean",
        "integer",
        "decimal",
        "float",
        "double",
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
        shapes: set[Node] = set()
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
            shapes.update(self.g.subjects(p, None))
        for kind in (SH.NodeShape, SH.PropertyShape):
            for s in self.g.subjects(RDF.type, kind):
                if (s, RDF.type, RDFS.Class) in self.g:
                    shapes.add(s)
        if any(self.g.subjects(SH.target, None)):
            raise Unsupported("sh:target (SPARQL-based targets)")
        return sorted(
            (s for s in shapes if not self._deactivated(s)), key=lambda n: (type(n).__name__, n)
        )

    def focus(self, shape: Node) -> str:
        """A pattern binding ``?this`` to each focus node of ``shape`` (duplicates possible)."""
        classes = list(self.g.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in self.g:
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

    def conforms(self, shape: Node, var: str) -> str:
        """A SPARQL expression, true when the node in ``var`` conforms to ``shape``."""
        patterns = [c.pattern for c in self.checks(shape, var)]
        if not patterns:
            return "true"
        return "NOT EXISTS { " + " UNION ".join(f"{{ {p} }}" for p in patterns) + " }"

    def _property_checks(self, shape: Node, path_node: Node, this: str) -> list[Check]:
        path = self.path(path_node)
        if any(self.g.objects(shape, SH.property)):
            raise Unsupported("sh:property on a property shape")
        out: list[Check] = []
        value = self._var()
        # Value-level components, one check per value node.
        for check in self._value_checks(shape, value, path_node, this):
            check.pattern = f"{this} {path} {value} . {check.pattern}"
            out.append(check)
        for n in self.g.objects(shape, SH.minCount):
            count = _count(n, "sh:minCount")
            if count > 0:
                out.append(
                    self._check(
                        shape,
                        "minCount",
                        f"FILTER NOT EXISTS {{ {self._distinct(this, path, count)} }}",
                        path_node,
                    )
                )
        for n in self.g.objects(shape, SH.maxCount):
            count = _count(n, "sh:maxCount")
            out.append(
                self._check(shape, "maxCount", self._distinct(this, path, count + 1), path_node)
            )
        for flag in self.g.objects(shape, SH.uniqueLang):
            if flag.eq(rdflib.Literal(True)):
                a, b = self._var(), self._var()
                check = self._check(
                    shape,
                    "uniqueLang",
                    f"{this} {path} {a} . {this} {path} {b} . "
                    f'FILTER(!sameTerm({a}, {b}) && LANG({a}) != "" '
                    f"&& LCASE(LANG({a})) = LCASE(LANG({b}))) BIND(LCASE(LANG({a})) AS ?lang)",
                    path_node,
                )
                check.group_by_lang = True
                out.append(check)
        for v in self.g.objects(shape, SH.hasValue):
            out.append(
                self._check(
                    shape,
                    "hasValue",
                    f"FILTER NOT EXISTS {{ {this} {path} {_term(v)} }}",
                    path_node,
                )
            )
        for q in self.g.objects(shape, SH.qualifiedValueShape):
            disjoint = self.g.value(shape, SH.qualifiedValueShapesDisjoint)
            if disjoint is not None and disjoint.eq(rdflib.Literal(True)):
                raise Unsupported("sh:qualifiedValueShapesDisjoint")
            for n in self.g.objects(shape, SH.qualifiedMinCount):
                count = _count(n, "sh:qualifiedMinCount")
                if count > 0:
                    found = self._distinct(
                        this, path, count, where=lambda v, q=q: self.conforms(q, v)
                    )
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
                found = self._distinct(
                    this, path, count + 1, where=lambda v, q=q: self.conforms(q, v)
                )
                check = self._check(shape, "qualifiedValueShape", found, path_node)
                check.component = str(SH.QualifiedMaxCountConstraintComponent)
                out.append(check)
        for p in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            if (shape, p, None) in self.g:
                raise Unsupported(f"sh:{p.split('#')[-1]}")
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
            flags = g.value(shape, SH.flags)
            args = _string(str(pattern)) + (f", {_string(str(flags))}" if flags else "")
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
        for s in g.objects(shape, SH.node):
            add("node", f"!({self.conforms(s, v)})", nested=s)
        for s in g.objects(shape, SH["not"]):
            add("not", self.conforms(s, v))
        for name, join in (("and", " && "), ("or", " || ")):
            for members in g.objects(shape, SH[name]):
                tests = [f"({self.conforms(s, v)})" for s in Collection(g, members)]
                add(name, "!(" + (join.join(tests) or ("true" if name == "and" else "false")) + ")")
        for members in g.objects(shape, SH.xone):
            tests = [f"IF({self.conforms(s, v)}, 1, 0)" for s in Collection(g, members)]
            add("xone", "(" + (" + ".join(tests) or "0") + ") != 1")
        closed = g.value(shape, SH.closed)
        if closed is not None and closed.eq(rdflib.Literal(True)):
            out.append(self._closed(shape, v))
        for constraint in g.objects(shape, SH.sparql):
            out.append(self._sparql(shape, constraint, v, this, path))
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
        test = " && ".join(f"!sameTerm({p}, {_term(a)})" for a in allowed) or "true"
        pattern = f"{v} {p} {o} . FILTER({test}) BIND({p} AS ?closedPath)"
        return self._check(shape, "closed", pattern, None, value=o)

    def _sparql(self, shape: Node, constraint: Node, v: str, this: str, path: Node | None) -> Check:
        """A SPARQL-based constraint, joined to the focus nodes (it is run as a subquery)."""
        if v != "?this" or this != "?this" or path is not None:
            raise Unsupported("sh:sparql inside another shape or on a property shape")
        if self._deactivated(constraint):
            return self._check(shape, "sparql", "FILTER(false)", None)
        select = self.g.value(constraint, SH.select)
        if select is None:
            raise Unsupported("sh:sparql without sh:select")
        text = str(select)
        if re.search(r"[?$](currentShape|shapesGraph|PATH)\b", text):
            raise Unsupported("sh:sparql using $currentShape, $shapesGraph or $PATH")
        if not re.search(r"\$this\b", text):
            raise Unsupported("sh:sparql whose query does not mention $this")
        check = self._check(shape, "sparql", text, None)
        check.constraint = constraint
        check.prologue = self._prefixes(constraint)
        check.messages = list(self.g.objects(constraint, SH.message)) or check.messages
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
        self, this: str, path: str, count: int, where: Callable[[str], str] | None = None
    ) -> str:
        """A pattern with ``count`` pairwise distinct values of ``path`` (each passing ``where``)."""
        if count > _MAX_COUNT_JOIN:
            raise Unsupported(f"a count above {_MAX_COUNT_JOIN - 1}")
        names = [self._var() for _ in range(count)]
        triples = " ".join(f"{this} {path} {n} ." for n in names)
        tests = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        if where is not None:
            tests += [f"({where(n)})" for n in names]
        return triples + (f" FILTER({' && '.join(tests)})" if tests else "")

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
        flag = self.g.value(node, SH.deactivated)
        return flag is not None and flag.eq(rdflib.Literal(True))

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
    test = f"isLiteral({v}) && sameTerm(DATATYPE({v}), {_term(d)})"
    if str(d) in _CASTABLE and str(d) != str(XSD.string):
        test += f" && COALESCE(isLiteral({_term(d)}({v})), false)"
    return test


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


def run(plan: Plan, query: QueryFn, *, threads: int | None = None) -> list[Violation]:
    """Evaluate the plan in two passes, in parallel (Oxigraph releases the GIL).

    First, which focus nodes of each shape fail any of its checks: one pass over the focus
    nodes per group of checks, the cheap question for data that conforms. Then, only for the
    shapes with failing nodes, each check's full results for just those nodes.
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
        found = list(pool.map(lambda job: list(_evaluate(query, *job)), second))
    violations = [v for batch in found for v in batch]
    for v in violations:
        if v.check.nested is not None and v.value is not None:
            v.details = _details(plan, query, v.check.nested, v.value)
    return violations


_CHECKS_PER_PASS = 6
_NARROW_LIMIT = 2000


def _failing(
    query: QueryFn, focus: str, checks: list[Check]
) -> list[pyoxigraph.NamedNode | pyoxigraph.BlankNode]:
    """The focus nodes that fail at least one of ``checks``."""
    union = " UNION ".join(f"{{ {c.pattern} }}" for c in checks)
    text = f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER EXISTS {{ {union} }} }}"
    try:
        return [row["this"] for row in query(text)]  # type: ignore[misc]
    except SyntaxError as e:
        raise Unsupported(f"{e} in the compiled query:\n{text}") from e


def _narrow(focus: str, nodes: list) -> str:  # type: ignore[type-arg]
    """The focus pattern for just ``nodes`` when they can be named, else the whole pattern."""
    if len(nodes) > _NARROW_LIMIT or not all(isinstance(n, pyoxigraph.NamedNode) for n in nodes):
        return focus
    return "VALUES ?this { " + " ".join(str(n) for n in nodes) + " }"


def _query_text(focus: str, check: Check) -> str:
    if check.constraint is not None:
        # A SPARQL-based constraint: its own SELECT, joined with the focus nodes.
        return (
            f"{check.prologue}\nSELECT * WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {focus} }} }} "
            f"{{ {check.pattern} }} }}"
        )
    projection = "?this" + (f" ({check.value} AS ?value)" if check.value else "")
    if check.group_by_lang:
        projection += " ?lang"
    if check.component == str(SH.ClosedConstraintComponent):
        projection += " ?closedPath"
    return (
        f"SELECT DISTINCT {projection} WHERE {{ "
        f"{{ SELECT DISTINCT ?this WHERE {{ {focus} }} }} {check.pattern} }}"
    )


def _evaluate(query: QueryFn, focus: str, check: Check) -> Iterator[Violation]:
    text = _query_text(focus, check)
    try:
        solutions = query(text)
    except SyntaxError as e:  # a bug here or in a SPARQL constraint of the shapes
        raise Unsupported(f"{e} in the compiled query:\n{text}") from e
    variables = [v.value for v in solutions.variables]
    for row in solutions:
        bindings = {name: to_rdflib(row[name]) for name in variables if row[name] is not None}
        focus_node = bindings.get("this")
        if focus_node is None:
            continue
        if check.constraint is not None:
            value = bindings.get("value", focus_node)
        else:
            value = bindings.get("value")
        yield Violation(check, focus_node, value, bindings)


def _details(plan: Plan, query: QueryFn, shape: Node, node: Node) -> list[Violation]:
    """Why a value does not conform to the shape of an sh:node: that shape's own results."""
    focus = "VALUES ?this { " + _term_or_blank(node) + " }"
    if focus.endswith("{  }"):
        return []
    return [v for check in plan.compiler.checks(shape) for v in _evaluate(query, focus, check)]


def _term_or_blank(node: Node) -> str:
    try:
        return _term(node)
    except Unsupported:
        return ""


# The report graph ---------------------------------------------------------------------------


def report_graph(plan: Plan, violations: Sequence[Violation]) -> rdflib.Graph:
    """The SHACL validation report, as pyshacl would write it."""
    g = rdflib.Graph()
    g.namespace_manager = plan.shapes.namespace_manager
    report = rdflib.BNode()
    g.add((report, RDF.type, SH.ValidationReport))
    g.add((report, SH.conforms, rdflib.Literal(not violations)))
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
        return [
            rdflib.Literal(
                _TEMPLATE.sub(lambda m: _lexical(v.bindings.get(m.group(1)), plan), str(msg)),
                lang=getattr(msg, "language", None),
            )
            for msg in check.messages
        ]
    return [rdflib.Literal(_default_message(plan, v))]


def _lexical(node: Node | None, plan: Plan) -> str:
    if node is None:
        return ""
    if isinstance(node, rdflib.Literal):
        return str(node)
    return _show(plan.shapes, node)


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
