"""The W3C SHACL test suite (core) through the compiled engine.

Each test of ``tests/shacl_w3c/core`` is either left to pyshacl (the compiler raises
``Unsupported``: listed below, with why) or gives the expected report: the verdict, and each
result's focus node, path, value, severity, constraint component and source shape.

Data, shapes and expected reports are read by Oxigraph, as the pipeline reads them, so literals
are compared in Oxigraph's canonical form ("4.0"^^xsd:decimal is kept as "4"). Blank nodes are
compared as blank nodes, paths by their structure.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from leapsld import shacl
from leapsld.bridge import graph_from_quads

CORE = Path(__file__).resolve().parent / "shacl_w3c" / "core"
BASE = "http://datashapes.org/sh/tests/core/"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")

#: Tests the compiler leaves to pyshacl, and the construct that sends them there.
UNSUPPORTED = {
    "node/disjoint-001": "sh:disjoint",
    "node/equals-001": "sh:equals",
    "property/disjoint-001": "sh:disjoint",
    "property/equals-001": "sh:equals",
    "property/lessThan-001": "sh:lessThan",
    "property/lessThan-002": "sh:lessThan",
    "property/lessThanOrEquals-001": "sh:lessThanOrEquals",
    "property/qualifiedMinCountDisjoint-001": "sh:qualifiedValueShapesDisjoint",
    "property/qualifiedValueShapesDisjoint-001": "sh:qualifiedValueShapesDisjoint",
    "property/datatype-ill-formed": "sh:datatype xsd:byte",
    "property/or-datatypes-001": "sh:datatype rdf:HTML",
}
#: Tests no engine reading its shapes with rdflib or Oxigraph can pass.
FAILING = {
    "property/uniqueLang-002": (
        'sh:uniqueLang "1"^^xsd:boolean must not switch the constraint on, but rdflib and '
        'Oxigraph both read it as true ("1" and "true" are the same boolean value)'
    ),
}


def iri(path: Path) -> str:
    return BASE + path.relative_to(CORE).as_posix()


def read(path: Path) -> rdflib.Graph:
    store = pyoxigraph.Store()
    store.load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE, base_iri=iri(path))
    return graph_from_quads(store.quads_for_pattern(None, None, None, None))


def manifest_tests(manifest: Path = CORE / "manifest.ttl") -> list[tuple[str, Path]]:
    """(name, file) of every test in the manifest and those it includes."""
    g = read(manifest)
    found = []
    for include in sorted(g.objects(None, MF.include)):
        found += manifest_tests(CORE / str(include).removeprefix(BASE))
    for entries in g.objects(None, MF.entries):
        for entry in Collection(g, entries):
            found.append((str(entry).removeprefix(BASE), manifest))
    return found


TESTS = manifest_tests()


def path_text(g: rdflib.Graph, path: rdflib.term.Node) -> str:
    if isinstance(path, rdflib.URIRef):
        return f"<{path}>"
    if (path, RDF.first, None) in g:
        return "(" + "/".join(path_text(g, p) for p in Collection(g, path)) + ")"
    for p, op in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = g.value(path, p)
        if inner is not None:
            return f"({path_text(g, inner)}){op}"
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{path_text(g, inverse)}"
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(g, p) for p in Collection(g, alternatives)) + ")"
    raise AssertionError(f"not a path: {path}")


def term(node: rdflib.term.Node | None) -> str | None:
    if node is None:
        return None
    return "_:" if isinstance(node, rdflib.BNode) else node.n3()


def report(g: rdflib.Graph, node: rdflib.term.Node) -> tuple[bool, list[tuple[str | None, ...]]]:
    """The verdict and the sorted results of the validation report ``node`` in ``g``."""
    results = []
    for r in g.objects(node, SH.result):
        path = g.value(r, SH.resultPath)
        results.append(
            (
                term(g.value(r, SH.focusNode)),
                path_text(g, path) if path is not None else None,
                term(g.value(r, SH.value)),
                term(g.value(r, SH.resultSeverity)),
                term(g.value(r, SH.sourceConstraintComponent)),
                term(g.value(r, SH.sourceShape)),
            )
        )
    conforms = g.value(node, SH.conforms)
    return bool(conforms and conforms.toPython()), sorted(results, key=repr)


def test_the_suite_is_all_here() -> None:
    assert len(TESTS) == 98
    assert {name for name, _ in TESTS} >= set(UNSUPPORTED) | set(FAILING)


@pytest.mark.parametrize(
    ("name", "manifest"),
    [
        pytest.param(
            name, manifest, marks=pytest.mark.xfail(reason=FAILING[name]) if name in FAILING else ()
        )
        for name, manifest in TESTS
    ],
    ids=[name for name, _ in TESTS],
)
def test_w3c_core(name: str, manifest: Path) -> None:
    g = read(manifest)
    entry = rdflib.URIRef(BASE + name)
    action = g.value(entry, MF.action)
    data = CORE / str(g.value(action, SHT.dataGraph)).removeprefix(BASE)
    shapes = read(CORE / str(g.value(action, SHT.shapesGraph)).removeprefix(BASE))
    store = pyoxigraph.Store()
    store.load(path=str(data), format=pyoxigraph.RdfFormat.TURTLE, base_iri=iri(data))

    def query(text: str) -> pyoxigraph.QuerySolutions:
        return store.query(text)  # type: ignore[return-value]

    if name in UNSUPPORTED:
        with pytest.raises(shacl.Unsupported):
            shacl.compile_shapes(shapes, query)
        return
    plan = shacl.compile_shapes(shapes, query)
    found = shacl.report_graph(plan, shacl.run(plan, query))
    got = report(found, next(found.subjects(RDF.type, SH.ValidationReport)))
    assert got == report(g, g.value(entry, MF.result))
