"""SPARQL-based constraints run once for all focus nodes, and when that is exact.

SHACL pre-binds ``$this`` to each focus node in turn, and pyshacl runs (and re-parses) a
constraint's query once per node. Here the focus nodes are joined in as the first pattern of the
query's WHERE clause and the query runs once. That gives the same solutions only for queries of
a certain form; this module decides which, from the query's algebra, and raises
``Unsupported`` (pyshacl then runs the shapes) for the rest.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import rdflib

from .model import IllFormed, Unsupported

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue

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


def inject(select: str, block: str) -> str:
    """``select`` with ``block`` put first in its WHERE clause (the first brace in its text)."""
    for m in _SKIPPED.finditer(select):
        if m.group() == "{":
            return f"{select[: m.end()]} {block} {select[m.end() :]}"
    raise Unsupported("sh:select without a WHERE clause")


def check_prebinding(prologue: str, select: str) -> None:
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

    probe = f"{prologue}\n{inject(select, f'?this <{_FOCUS_MARKER}> ?this .')}"
    try:
        algebra = prepareQuery(probe).algebra
    except Exception as e:  # pyparsing and rdflib raise many kinds
        raise Unsupported(f"a sh:select rdflib cannot parse ({e})") from e
    if algebra.name != "SelectQuery":
        raise Unsupported("sh:select that is not a SELECT query")
    _syntax_rules(algebra.p, top=True)
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


def _syntax_rules(node: object, *, top: bool = False) -> None:
    """SHACL's syntax rules for queries with pre-bound variables (§5.3.1.1): no MINUS, no
    VALUES, no SERVICE, no ``AS $this``, and every sub-select returns ``$this``.

    Raises:
        IllFormed: naming the rule broken (pyshacl reports these as a failure too).
    """
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, list | tuple):
        for item in node:
            _syntax_rules(item)
        return
    if not isinstance(node, CompValue):
        return
    name = node.name
    if name in _FORBIDDEN:
        raise IllFormed(f"sh:select uses {_FORBIDDEN[name]}, which pre-binding does not allow")
    rewritten = isinstance(node.get("expr"), rdflib.Variable) and str(node.expr).startswith(
        "__agg_"
    )
    if name == "Extend" and node.var == _THIS and not rewritten:  # not rdflib's GROUP BY $this
        raise IllFormed("sh:select binds $this with AS, which pre-binding does not allow")
    if name == "Project" and not top and _THIS not in node.PV:
        raise IllFormed("sh:select has a sub-select that does not return $this")
    for key, value in node.items():
        if not str(key).startswith("_"):
            _syntax_rules(value, top=top and name in ("Distinct", "Reduced", "OrderBy", "Slice"))


_FORBIDDEN = {"Minus": "MINUS", "values": "VALUES", "ServiceGraphPattern": "SERVICE"}


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
