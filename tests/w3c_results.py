"""The W3C SPARQL 1.1 query evaluation tests: read from their manifests, and answers compared
as the suite says (result-set isomorphism: blank nodes match blank nodes one to one, order
only when the query orders). Shared by the command-line and the HTTP runs of the suite.

Only the test harness reads these formats; leapsld writes them (``serialization.py``) and a
test must not check leapsld's output with leapsld's own reader.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

SUITE = Path(__file__).resolve().parent / "sparql_w3c"
EMPTY = SUITE / "empty.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
RS = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
_XSD_NS = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = _XSD_NS + "string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: The query evaluation manifests of ``sparql/sparql11`` (manifest-sparql11-query.ttl and
#: manifest-sparql11-results.ttl), and the federation one, whose tests leapsld refuses.
FOLDERS = (
    "aggregates",
    "bind",
    "bindings",
    "cast",
    "construct",
    "exists",
    "functions",
    "grouping",
    "negation",
    "project-expression",
    "property-path",
    "subquery",
    "csv-tsv-res",
    "json-res",
    "service",
)

#: A term as the comparison sees it: ("uri", iri), ("bnode", label), ("literal", text, lang,
#: datatype) with xsd:string and rdf:langString as None (RDF 1.1: the same literals).
Term = tuple[str, ...]
Row = dict[str, Term]


@dataclass(frozen=True)
class EvalTest:
    name: str
    query: Path
    data: tuple[Path, ...]
    named: tuple[tuple[str, Path], ...]
    result: Path
    #: "results" (a result set, expected in SRX/SRJ/TSV/RDF), "csv" (CSVResultFormatTest),
    #: "graph" (CONSTRUCT/DESCRIBE, expected in Turtle)
    kind: str
    services: bool

    @property
    def dataset(self) -> tuple[tuple[Path, ...], tuple[tuple[str, Path], ...]]:
        """What the test loads: one server serves each distinct dataset."""
        return self.data, self.named

    @property
    def ordered(self) -> bool:
        return re.search(r"\bORDER\s+BY\b", self.query.read_text(), re.IGNORECASE) is not None


def _path(node: rdflib.term.Node) -> Path:
    return Path(str(node).removeprefix("file://"))


def manifest_tests() -> list[EvalTest]:
    found = []
    for folder in FOLDERS:
        manifest = SUITE / folder / "manifest.ttl"
        g = rdflib.Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
        for entries in g.objects(None, MF.entries):
            for entry in Collection(g, entries):
                kind = str(g.value(entry, rdflib.RDF.type)).rsplit("#", 1)[-1]
                if kind not in ("QueryEvaluationTest", "CSVResultFormatTest"):
                    continue
                action = g.value(entry, MF.action)
                data = tuple(sorted(_path(o) for o in g.objects(action, QT.data)))
                named = []
                for o in g.objects(action, QT.graphData):
                    if isinstance(o, rdflib.URIRef):
                        named.append((str(o), _path(o)))
                    else:  # [ qt:graph <file> ; rdfs:label "name" ]
                        named.append(
                            (str(g.value(o, rdflib.RDFS.label)), _path(g.value(o, QT.graph)))
                        )
                result = _path(g.value(entry, MF.result))
                if kind == "CSVResultFormatTest":
                    shape = "csv"
                elif (
                    result.suffix in (".ttl", ".rdf") and b"result-set#" not in result.read_bytes()
                ):
                    shape = "graph"
                else:
                    shape = "results"
                found.append(
                    EvalTest(
                        f"{folder}/{str(entry).rsplit('#', 1)[-1]}",
                        _path(g.value(action, QT.query)),
                        data,
                        tuple(sorted(named)),
                        result,
                        shape,
                        any(True for _ in g.objects(action, QT.serviceData)),
                    )
                )
    return found


# Reading result sets ----------------------------------------------------------------------


_INTEGERS = {
    _XSD_NS + name
    for name in [
        "integer",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    ]
}


def _literal(text: str, lang: str | None, datatype: str | None) -> Term:
    """A literal as compared. Numbers and booleans by value: the store keeps them canonical
    (README, "Values as written": ``"1.0"^^xsd:decimal`` as ``1``, ``"0"^^xsd:boolean`` as
    ``false``, ``"-3"^^xsd:negativeInteger`` as an ``xsd:integer``), so the suite's expected
    ``1.0`` and the answer's ``1`` are the same value; an integer of a derived type is an
    integer. Any other literal by its lexical form and datatype."""
    if lang:
        return ("literal", text, lang.lower(), "")
    if datatype in (None, "", XSD_STRING):
        return ("literal", text, "", "")
    try:
        if datatype in _INTEGERS:
            return ("literal", str(int(Decimal(text.strip()))), "", _XSD_NS + "integer")
        if datatype == _XSD_NS + "decimal":
            return ("literal", str(Decimal(text.strip()).normalize()), "", datatype)
        if datatype in (_XSD_NS + "double", _XSD_NS + "float"):
            return ("literal", repr(float(text.strip())), "", datatype)
        if datatype == _XSD_NS + "boolean" and text.strip() in ("true", "false", "1", "0"):
            return ("literal", str(text.strip() in ("true", "1")).lower(), "", datatype)
    except (ValueError, ArithmeticError):
        pass
    return ("literal", text, "", datatype)


def read_srj(data: bytes) -> tuple[list[Row] | None, bool | None]:
    doc = json.loads(data)
    if "boolean" in doc:
        return None, bool(doc["boolean"])
    rows = []
    for binding in doc["results"]["bindings"]:
        row: Row = {}
        for var, value in binding.items():
            kind = value["type"]
            if kind == "uri":
                row[var] = ("uri", value["value"])
            elif kind == "bnode":
                row[var] = ("bnode", value["value"])
            elif kind == "triple":
                row[var] = ("triple", json.dumps(value["value"], sort_keys=True))
            else:  # literal, typed-literal
                row[var] = _literal(value["value"], value.get("xml:lang"), value.get("datatype"))
        rows.append(row)
    return rows, None


_SRX = "{http://www.w3.org/2005/sparql-results#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def read_srx(data: bytes) -> tuple[list[Row] | None, bool | None]:
    root = ET.fromstring(data)
    boolean = root.find(f"{_SRX}boolean")
    if boolean is not None:
        return None, (boolean.text or "").strip() == "true"
    rows = []
    for result in root.iter(f"{_SRX}result"):
        row: Row = {}
        for binding in result.findall(f"{_SRX}binding"):
            (term,) = list(binding)
            tag = term.tag.removeprefix(_SRX)
            if tag == "uri":
                row[binding.get("name", "")] = ("uri", (term.text or "").strip())
            elif tag == "bnode":
                row[binding.get("name", "")] = ("bnode", (term.text or "").strip())
            else:
                row[binding.get("name", "")] = _literal(
                    term.text or "", term.get(_XML_LANG), term.get("datatype")
                )
        rows.append(row)
    return rows, None


def _from_rdflib(node: rdflib.term.Node) -> Term:
    if isinstance(node, rdflib.URIRef):
        return ("uri", str(node))
    if isinstance(node, rdflib.BNode):
        return ("bnode", str(node))
    assert isinstance(node, rdflib.Literal)
    return _literal(str(node), node.language, str(node.datatype) if node.datatype else None)


def read_rdf_results(path: Path) -> tuple[list[Row] | None, bool | None]:
    """A result set written in RDF (the DAWG result-set vocabulary)."""
    g = rdflib.Graph().parse(path, publicID=path.as_uri())
    rs = next(g.subjects(rdflib.RDF.type, RS.ResultSet))
    boolean = g.value(rs, RS.boolean)
    if boolean is not None:
        return None, bool(boolean.toPython())
    rows = []
    for solution in g.objects(rs, RS.solution):
        row: Row = {}
        for binding in g.objects(solution, RS.binding):
            row[str(g.value(binding, RS.variable))] = _from_rdflib(g.value(binding, RS.value))
        rows.append(row)
    return rows, None


_TSV_TERM = re.compile(
    r'^(?:<(?P<iri>[^>]*)>|_:(?P<bnode>\S+)|"(?P<text>(?:[^"\\]|\\.)*)"'
    r"(?:@(?P<lang>[A-Za-z0-9-]+)|\^\^<(?P<dt>[^>]*)>)?|(?P<number>[-+]?[0-9.eE+-]+)|(?P<word>true|false))$"
)
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _tsv_term(cell: str) -> Term:
    m = _TSV_TERM.match(cell)
    assert m, f"not a TSV term: {cell!r}"
    if m["iri"] is not None:
        return ("uri", m["iri"])
    if m["bnode"] is not None:
        return ("bnode", m["bnode"])
    if m["text"] is not None:
        text = re.sub(
            r"\\(.)", lambda e: {"t": "\t", "n": "\n", "r": "\r"}.get(e[1], e[1]), m["text"]
        )
        return _literal(text, m["lang"], m["dt"])
    if m["word"] is not None:
        return _literal(m["word"], None, _XSD + "boolean")
    number = m["number"]
    kind = "double" if "e" in number.lower() else "decimal" if "." in number else "integer"
    return _literal(number, None, _XSD + kind)


def read_tsv(data: bytes) -> tuple[list[Row] | None, bool | None]:
    lines = data.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    head = [v.removeprefix("?") for v in lines[0].split("\t")]
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        rows.append({var: _tsv_term(cell) for var, cell in zip(head, cells, strict=True) if cell})
    return rows, None


def read_expected(test: EvalTest) -> tuple[list[Row] | None, bool | None]:
    data = test.result.read_bytes()
    suffix = test.result.suffix
    if suffix == ".srj":
        return read_srj(data)
    if suffix == ".srx":
        return read_srx(data)
    if suffix == ".tsv":
        return read_tsv(data)
    return read_rdf_results(test.result)


# Comparing --------------------------------------------------------------------------------


def _has_blank(rows: list[Row]) -> bool:
    return any(t[0] == "bnode" for row in rows for t in row.values())


def _key(row: Row) -> frozenset[tuple[str, Term]]:
    return frozenset(row.items())


def _row_matches(
    expected: Row, actual: Row, mapping: dict[str, str], used: set[str]
) -> dict[str, str] | None:
    if expected.keys() != actual.keys():
        return None
    new = dict(mapping)
    taken = set(used)
    for var, term in expected.items():
        other = actual[var]
        if term[0] == "bnode":
            if other[0] != "bnode":
                return None
            if term[1] in new:
                if new[term[1]] != other[1]:
                    return None
            elif other[1] in taken:
                return None
            else:
                new[term[1]] = other[1]
                taken.add(other[1])
        elif term != other:
            return None
    return new


def same_results(expected: list[Row], actual: list[Row], *, ordered: bool) -> bool:
    """Result-set isomorphism: equal multisets of solutions (as lists when ``ordered``), blank
    nodes mapped one to one."""
    if len(expected) != len(actual):
        return False
    if not _has_blank(expected) and not _has_blank(actual):
        if ordered:
            return [_key(r) for r in expected] == [_key(r) for r in actual]
        return Counter(map(_key, expected)) == Counter(map(_key, actual))

    def search(i: int, mapping: dict[str, str], free: list[int]) -> bool:
        if i == len(expected):
            return True
        candidates = [free[0]] if ordered else free
        for j in candidates:
            found = _row_matches(expected[i], actual[j], mapping, set(mapping.values()))
            if found is not None and search(i + 1, found, [k for k in free if k != j]):
                return True
        return False

    return search(0, {}, list(range(len(actual))))


def same_graph(expected: Path, actual: bytes) -> bool:
    want = rdflib.Graph().parse(expected, publicID=expected.as_uri())
    got = rdflib.Graph().parse(data=actual, format="nt")
    return isomorphic(want, got)


def same_csv(expected: Path, actual: bytes) -> bool:
    """CSV results compared as text rows, blank node labels mapped one to one."""

    def rows(text: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(text)))

    want, got = rows(expected.read_text()), rows(actual.decode())
    if len(want) != len(got) or not want or sorted(want[0]) != sorted(got[0]):
        return False  # the columns in any order (SELECT * orders its variables freely)

    def cells(table: list[list[str]]) -> list[Row]:
        return [
            {
                name: ("bnode", c[2:]) if c.startswith("_:") else ("text", c)
                for name, c in zip(table[0], r, strict=True)
            }
            for r in table[1:]
        ]

    return same_results(cells(want), cells(got), ordered=False)


# What differs from the suite, and why ------------------------------------------------------

_ENGINE = "the engine (pyoxigraph 0.5) answers otherwise, as it does outside leapsld: "

#: The tests whose outcome differs from the suite's through leapsld, with the cause; the same
#: through the command and over HTTP. The first ten are the engine's own (each checked on
#: pyoxigraph directly); the rest are leapsld's choices.
DIFFERENT: dict[str, str] = {
    "aggregates/agg-groupconcat-04": _ENGINE
    + 'GROUP_CONCAT of "1"@en and "2"@en keeps the shared language tag ("1 2"@en), the test '
    'expects the simple literal "1 2"',
    "aggregates/agg-groupconcat-06": _ENGINE
    + 'GROUP_CONCAT of "1"@en alone keeps the tag ("1"@en), the test expects "1"',
    "aggregates/agg-empty-group-count-graph": _ENGINE
    + "a sub-select COUNT inside GRAPH ?g is evaluated once, not per named graph: one row "
    "without ?g instead of one per graph (0 for the graph with no match)",
    "bindings/graph": _ENGINE
    + "VALUES inside GRAPH ?g does not join the UNDEF row with every graph (one row instead of two)",
    "functions/bnode01": _ENGINE
    + "BNODE(str) gives the same blank node in different solutions (it must be fresh per solution)",
    "negation/graph-minus": _ENGINE
    + "MINUS inside GRAPH ?g treats ?g as shared by both sides and removes every row",
    "property-path/zero_or_more_set_start": _ENGINE
    + "?s :p* :o on an empty graph gives no row (a zero-length path must bind ?s to :o)",
    "property-path/zero_or_more_set_end": _ENGINE
    + ":s :p* ?o on an empty graph gives no row (a zero-length path must bind ?o to :s)",
    "property-path/zero_or_one_set_start": _ENGINE
    + "?s :p? :o on an empty graph gives no row (a zero-length path must bind ?s to :o)",
    "property-path/zero_or_one_set_end": _ENGINE
    + ":s :p? ?o on an empty graph gives no row (a zero-length path must bind ?o to :s)",
    "csv-tsv-res/csv03": "the store keeps literals canonical (README, 'Values as written'): "
    '"1.0E6"^^xsd:double is written 1000000 in CSV, which carries no datatype to compare by value',
} | {
    f"service/service{n}": (
        "SERVICE: leapsld makes no outbound request; a query using SERVICE is refused before it "
        "is parsed (exit 2 / 400, 'SERVICE is not allowed')"
    )
    for n in ("1", "2", "3", "4a", "5", "6", "7")
}
