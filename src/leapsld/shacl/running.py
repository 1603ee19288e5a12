"""Running the compiled checks on a store: in parallel, in two passes, with a limit.

Most data conforms, so the cheap question comes first (which focus nodes fail any check of a
shape) and the full results are asked only for those. A file where every resource breaks a
shape gives hundreds of thousands of results: past a limit they are counted in the store, not
read. All of this is about evaluating queries well, and none of it about SHACL's meaning,
which is the compiler's.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import cast

import pyoxigraph
import rdflib
from rdflib.namespace import SH

from ..bridge import from_rdflib, to_rdflib
from .compiler import Check, Plan, QueryFn
from .model import Node, Unsupported, severity_name, severity_rank
from .prebinding import inject


@dataclass
class Violation:
    """One result found by a compiled check (terms in rdflib, for the report graph)."""

    check: Check
    focus: Node
    value: Node | None
    bindings: dict[str, Node] = field(default_factory=dict)
    details: list[Violation] = field(default_factory=list)


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


def _listing_order(v: Violation) -> tuple[int, str]:
    """The most severe first, then by focus node: the same listing on every run."""
    return severity_rank(severity_name(v.check.severity)), str(v.focus)


def _narrow_to(focus: str, check: Check, listed: list[Violation]) -> str:
    """The focus pattern for just the focus nodes of ``listed`` (see ``_narrow``)."""
    if check.reported:  # the listed focus nodes are not the pattern's ?this
        return focus
    # the foci are rdflib terms (Identifier), which order; their declared Node base does not
    foci = cast(set[rdflib.term.Identifier], {v.focus for v in listed})
    return _narrow(focus, [from_rdflib(n) for n in sorted(foci)])


_CHECKS_PER_PASS = 6
_NARROW_LIMIT = 2000


def _failing(query: QueryFn, focus: str, checks: list[Check]) -> list[Term | None]:
    """The focus nodes that fail at least one of ``checks``."""
    union = " UNION ".join(f"{{ {c.pattern} }}" for c in checks)
    text = f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER EXISTS {{ {union} }} }}"
    return [row[0] for row in _select(query, text)[1]]


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


def _narrow(focus: str, nodes: Sequence[Term | None]) -> str:
    """The focus pattern for just ``nodes`` when they can be named, else the whole pattern."""
    if len(nodes) > _NARROW_LIMIT or not all(isinstance(n, pyoxigraph.NamedNode) for n in nodes):
        return focus
    return "VALUES ?this { " + " ".join(str(n) for n in nodes) + " }"


def _query_text(focus: str, check: Check) -> str:
    if check.constraint is not None:
        # A SPARQL-based constraint: its own SELECT, the focus nodes first in its WHERE clause.
        block = f"{{ SELECT DISTINCT ?this WHERE {{ {focus} }} }}"
        return f"{check.prologue}\n{inject(check.pattern, block)}"
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
    total = counted[0][0]
    assert total is not None  # COUNT(*) is always bound
    return found[:limit], int(total.value)


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
            value: Node | None = bindings.get("value", focus_node)
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
