"""SHACL validation with reports that point back to the file and line.

The shapes are compiled to SPARQL and run on the store (``shacl``) when they can be; pyshacl,
the reference engine, runs when they use something the compiler does not cover
(``validate_in_store`` makes that choice). Engines report focus nodes, not where they are
written; a data maintainer reading a CI log needs ``data/projects.ttl:42``, so every result is
located through the ``SourceIndex``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import pyoxigraph
import rdflib
from rdflib.namespace import SH

from . import shacl
from .bridge import from_rdflib, graph_from_quads, to_rdflib
from .errors import EvaluationError
from .loading import SourceIndex
from .store import Store

SEVERITIES = shacl.SEVERITIES
#: Results listed by default; the rest are counted. A broken file of a million triples can
#: break a shape on every resource, and nobody reads the thousand-and-first result.
MAX_RESULTS = 1000


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result, with where its focus node is described."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str | None
    constraint: str | None
    file: str | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        """``file:line`` (or ``file``, or ``<unknown>``) for people and CI annotations."""
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or "<unknown>"


@dataclass
class ValidationReport:
    """All results of one validation run, and whether the data conforms."""

    results: list[ValidationResult]
    fail_on: str = "Violation"
    report_graph: rdflib.Graph | None = field(default=None, repr=False)
    #: ``sparql`` (the shapes compiled to queries on the store) or ``pyshacl``.
    engine: str = "pyshacl"
    #: Results counted but not listed (past ``max_results``), by severity.
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Results of each severity, listed or not."""
        counted = Counter(r.severity for r in self.results) + Counter(self.omitted)
        return {s: counted.get(s, 0) for s in SEVERITIES}

    @property
    def conforms(self) -> bool:
        """True when no result is at or above the failing severity."""
        failing = SEVERITIES[: SEVERITIES.index(self.fail_on) + 1]
        return not any(self.counts[s] for s in failing)

    def summary(self) -> str:
        c = self.counts
        verdict = "conforms" if self.conforms else "does not conform"
        line = (
            f"{verdict}: {c['Violation']} violation(s), {c['Warning']} warning(s), {c['Info']} info"
        )
        hidden = sum(self.omitted.values())
        if hidden:
            line += f" ({len(self.results)} listed, {hidden} more not listed)"
        return line


def validate_in_store(
    store: Store,
    *,
    graphs: Sequence[str],
    shapes: Store,
    index: SourceIndex | None = None,
    fail_on: str = "Violation",
    engine: str = "auto",
    max_results: int | None = MAX_RESULTS,
    shapes_as_written: Iterable[pyoxigraph.Quad] | None = None,
    data_as_written: Callable[[], Iterable[pyoxigraph.Quad]] | None = None,
) -> ValidationReport:
    """Validate some graphs of a store against shapes, choosing the engine.

    The store holds some literals in a canonical form (``"1.50"^^xsd:decimal`` as ``"1.5"``),
    so what is checked against datatypes, patterns and values, and named in the report, is
    read from the files as written when they say so: the shapes always, the data when it has
    literals the store rewrote (``data_as_written`` is then given, and pyshacl reads it: a
    query on the store cannot see the forms it did not keep).

    Args:
        store: holds the data.
        graphs: the graphs validated together, as one data graph (the ontology's included, so
            classes resolve); the store's other graphs are left out.
        shapes: holds the SHACL shapes graph (every quad of it is read, unless
            ``shapes_as_written`` gives the same quads as the files write them).
        index: where subjects are described, to locate each result.
        fail_on: the lowest severity that makes the data non-conformant.
        engine: ``sparql`` (the shapes compiled to queries on the store), ``pyshacl``, or
            ``auto``: sparql unless the shapes use what it does not compile.
        max_results: list at most this many results, count the rest (None: list all).
        shapes_as_written: the shapes' quads with literals as written.
        data_as_written: the data's quads with literals as written, for data the store has
            rewritten (the inferred graph, not in any file, is read from the store).

    Raises:
        shacl.Unsupported: ``engine="sparql"`` and the shapes need pyshacl.
        EvaluationError: the shapes cannot be evaluated (they break a rule of SHACL, or
            pyshacl fails on them): a failure, never a verdict on the data.
    """
    shapes_graph = graph_from_quads(
        shapes.quads() if shapes_as_written is None else shapes_as_written
    )
    # ``auto`` reads data the store rewrote as written (pyshacl); ``sparql`` is told to query
    # the store, and then names values in the store's form
    if engine == "sparql" or (engine == "auto" and data_as_written is None):
        # The union of all graphs is the same data when nothing else is in the store, and
        # Oxigraph reads it faster than a list of graphs.
        only = None if set(graphs) == set(store.graphs()) else graphs

        def query(text: str) -> pyoxigraph.QuerySolutions:
            result = store.query(text, default_graphs=only)
            assert isinstance(result, pyoxigraph.QuerySolutions)  # the compiler writes SELECTs
            return result

        def holders(node: rdflib.term.Node) -> Iterator[rdflib.term.Node]:
            for g in graphs:
                for q in store.quads(None, None, from_rdflib(node), g):
                    yield to_rdflib(q.subject)

        try:
            return validate_store(
                query,
                holders,
                shapes_graph,
                index=index,
                fail_on=fail_on,
                max_results=max_results,
            )
        except shacl.Unsupported:
            if engine == "sparql":
                raise
        except shacl.IllFormed as exc:
            raise EvaluationError(f"the shapes cannot be used: {exc}") from None
    if data_as_written is None:
        data = graph_from_quads(q for g in graphs for q in store.quads(graph=g))
    else:
        written = list(data_as_written())
        in_files = {q.graph_name.value for q in written if hasattr(q.graph_name, "value")}
        rest = [q for g in graphs if g not in in_files for q in store.quads(graph=g)]
        data = graph_from_quads([*written, *rest])
    return validate(data, shapes_graph, index=index, fail_on=fail_on, max_results=max_results)


def validate(
    data: rdflib.Graph,
    shapes: rdflib.Graph,
    *,
    index: SourceIndex | None = None,
    fail_on: str = "Violation",
    max_results: int | None = None,
) -> ValidationReport:
    """Validate an rdflib graph with pyshacl (the reference engine, for any SHACL).

    Args:
        data: the data graph, with the ontology's triples merged in (so classes resolve).
        shapes: the SHACL shapes graph.
        index: where subjects are described, to locate each result.
        fail_on: the lowest severity that makes the data non-conformant.
        max_results: list at most this many results (the most severe first), count the rest.

    Returns:
        The report; ``report.conforms`` is the verdict.
    """
    import pyshacl  # only when the compiled engine cannot run the shapes: it is slow to import

    _check_fail_on(fail_on)
    try:
        _, report_graph, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True
        )
    except Exception as exc:  # noqa: BLE001 - pyshacl raises many kinds for shapes it refuses
        raise EvaluationError(f"the shapes cannot be evaluated: {_one_line(exc)}") from None
    if not isinstance(report_graph, rdflib.Graph):  # a ValidationFailure: no report at all
        raise EvaluationError(f"the shapes cannot be evaluated: {_one_line(report_graph)}")

    def holders(node: rdflib.term.Node) -> Iterator[rdflib.term.Node]:
        return data.subjects(None, node)

    report = _report(report_graph, _locator(index, holders), fail_on, max_results)
    report.engine = "pyshacl"
    return report


def _one_line(problem: object) -> str:
    """pyshacl's message for a failure, on one line (its messages quote whole queries)."""
    text = " ".join(str(getattr(problem, "message", None) or problem).split())
    kind = type(problem).__name__
    text = text or kind
    return text if len(text) <= 400 else text[:400] + "…"


def validate_store(
    query: shacl.QueryFn,
    holders: Callable[[rdflib.term.Node], Iterator[rdflib.term.Node]],
    shapes: rdflib.Graph,
    *,
    index: SourceIndex | None = None,
    fail_on: str = "Violation",
    max_results: int | None = None,
) -> ValidationReport:
    """Validate the data in a store with the shapes compiled to SPARQL; pyshacl's results, in
    seconds instead of hours at a million triples.

    Args:
        query: runs a SELECT over the data graphs (the ontology included).
        holders: the subjects that link to a node (to locate a blank focus node).
        shapes: the SHACL shapes graph.
        max_results: read and list at most this many results (the most severe first); the
            rest are only counted, in the store.

    Raises:
        shacl.Unsupported: the shapes need pyshacl (``validate``) instead.
    """
    _check_fail_on(fail_on)
    plan = shacl.compile_shapes(shapes, query)
    violations = shacl.run(plan, query, limit=max_results)
    report = _report(
        shacl.report_graph(plan, violations, conforms=not violations.omitted),
        _locator(index, holders),
        fail_on,
        max_results,
        violations.omitted,
    )
    report.engine = "sparql"
    return report


def _check_fail_on(fail_on: str) -> None:
    if fail_on not in SEVERITIES:
        raise ValueError(f"fail_on must be one of {SEVERITIES}")


Locate = Callable[[rdflib.term.Node], "tuple[str, int] | None"]


def _report(
    report_graph: rdflib.Graph,
    locate: Locate,
    fail_on: str,
    max_results: int | None = None,
    omitted: dict[str, int] | None = None,
) -> ValidationReport:
    found = [
        (_result(report_graph, node, locate), node)
        for node in report_graph.objects(None, SH.result)
    ]
    hidden = Counter(omitted or {})
    if max_results is not None and len(found) > max_results:
        # The same ones as the compiled engine keeps: the most severe, then by focus node.
        found.sort(key=lambda pair: (shacl.severity_rank(pair[0].severity), pair[0].focus))
        for result, node in found[max_results:]:
            hidden[result.severity] += 1
            _drop_result(report_graph, node)
        del found[max_results:]
    found.sort(key=lambda pair: _listing_order(pair[0]))
    return ValidationReport(
        [result for result, _ in found],
        fail_on=fail_on,
        report_graph=report_graph,
        omitted=dict(hidden),
    )


def _listing_order(r: ValidationResult) -> tuple[int, str, int, str, str]:
    """The most severe first, then by place."""
    return (shacl.severity_rank(r.severity), r.file or "~", r.line or 0, r.focus, r.message)


def _drop_result(g: rdflib.Graph, node: rdflib.term.Node) -> None:
    """Take a result out of the report graph, with what hangs off it alone (its details, a
    path no other result uses), so the graph lists what the report lists."""
    g.remove((None, SH.result, node))
    pending = [node]
    while pending:
        current = pending.pop()
        objects = list(g.objects(current, None))
        g.remove((current, None, None))
        pending += [o for o in objects if isinstance(o, rdflib.BNode) and (None, None, o) not in g]


def _result(g: rdflib.Graph, node: rdflib.term.Node, locate: Locate) -> ValidationResult:
    focus = g.value(node, SH.focusNode)
    path = g.value(node, SH.resultPath)
    value = g.value(node, SH.value)
    messages = sorted(str(m) for m in g.objects(node, SH.resultMessage))
    details = sorted(
        f"{_show(g.value(d, SH.focusNode))} {_show(g.value(d, SH.resultPath))}: {m}"
        for d in g.objects(node, SH.detail)
        for m in g.objects(d, SH.resultMessage)
    )
    if details:
        messages.append("because " + "; ".join(details))
    severity = shacl.severity_name(g.value(node, SH.resultSeverity))
    located = locate(focus) if focus is not None else None
    return ValidationResult(
        severity=severity,
        focus=_show(focus),
        path=_show_path(g, path) if path is not None else None,
        value=_show(value) if value is not None else None,
        message="; ".join(messages) or "(no message)",
        shape=_show(g.value(node, SH.sourceShape)),
        constraint=_show(g.value(node, SH.sourceConstraintComponent)),
        file=located[0] if located else None,
        line=located[1] if located else None,
    )


def _locator(
    index: SourceIndex | None, holders: Callable[[rdflib.term.Node], Iterator[rdflib.term.Node]]
) -> Locate:
    """Where a focus node is described; a blank one, where the nearest named resource holding
    it is described."""

    def locate(focus: rdflib.term.Node) -> tuple[str, int] | None:
        if index is None:
            return None
        if isinstance(focus, rdflib.URIRef):
            return index.locate(str(focus))
        seen: set[rdflib.term.Node] = {focus}
        frontier: list[rdflib.term.Node] = [focus]
        while frontier:
            current = frontier.pop(0)
            for holder in holders(current):
                if isinstance(holder, rdflib.URIRef):
                    found = index.locate(str(holder))
                    if found:
                        return found
                elif holder not in seen:
                    seen.add(holder)
                    frontier.append(holder)
        return None

    return locate


def _show(term: rdflib.term.Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.Literal):
        # Built from the lexical form: rdflib's own n3() warns on ill-formed numbers ("1,5").
        text = rdflib.Literal(str(term)).n3()
        if term.language:
            return f"{text}@{term.language}"
        return f"{text}^^<{term.datatype}>" if term.datatype is not None else text
    return term.n3()


def _show_path(g: rdflib.Graph, path: rdflib.term.Node) -> str:
    """A SHACL path as SPARQL property path text."""
    if isinstance(path, rdflib.URIRef):
        return f"<{path}>"
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{_show_path(g, inverse)}"
    for prop, op in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = g.value(path, prop)
        if inner is not None:
            return f"({_show_path(g, inner)}){op}"
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        return (
            "("
            + "|".join(_show_path(g, p) for p in rdflib.collection.Collection(g, alternatives))
            + ")"
        )
    if (path, rdflib.RDF.first, None) in g:
        return "/".join(_show_path(g, p) for p in rdflib.collection.Collection(g, path))
    return _show(path)
