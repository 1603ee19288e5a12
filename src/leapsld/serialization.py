"""Graphs and query results to bytes, in any format of the registry.

RDF syntaxes are pyoxigraph's writers (fast, correct escaping); JSON-LD is compacted with the
project's curated context by pyld, never fetching a remote context; SPARQL results are written
here so that a capped result can be written without the engine's iterator.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph
from pyld import jsonld

from .errors import NotAcceptable, UnsupportedFormat
from .formats import RDF_KINDS, Format, by_name, of_kind
from .query import QueryOutcome

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
#: Kinds that carry SELECT/ASK results (``text`` is the CLI's table).
RESULT_KINDS = ("results", "text")
JSONLD_PROFILES = {
    "expanded": "http://www.w3.org/ns/json-ld#expanded",
    "compacted": "http://www.w3.org/ns/json-ld#compacted",
    "flattened": "http://www.w3.org/ns/json-ld#flattened",
}


def serialize_graph(
    triples: Iterable[pyoxigraph.Triple | pyoxigraph.Quad],
    fmt: Format,
    *,
    prefixes: Mapping[str, str] | None = None,
    context: Mapping[str, object] | None = None,
    context_url: str | None = None,
    profile: str | None = None,
) -> bytes:
    """Serialise triples (or quads, for N-Quads and TriG) as ``fmt``.

    Args:
        triples: the graph (``Triple``) or dataset (``Quad``) to write.
        fmt: a ``graph`` or ``dataset`` format from the registry.
        prefixes: prefix map for Turtle and TriG (only the used ones matter to readers).
        context: the JSON-LD context to compact with.
        context_url: where that context is published; written as the body's ``@context``.
        profile: JSON-LD profile IRI(s) from the Accept header (expanded/compacted/flattened).
    """
    if fmt.context:
        return _jsonld(triples, context=context, context_url=context_url, profile=profile)
    if fmt.rdf_format is None:
        raise UnsupportedFormat(f"{fmt.label} is not an RDF format")
    items: list[pyoxigraph.Triple] | list[pyoxigraph.Quad]
    if fmt.kind == "dataset":
        items = [
            item
            if isinstance(item, pyoxigraph.Quad)
            else pyoxigraph.Quad(
                item.subject, item.predicate, item.object, pyoxigraph.DefaultGraph()
            )
            for item in triples
        ]
    else:
        items = as_triples(triples)
    if fmt.rdf_format == pyoxigraph.RdfFormat.RDF_XML:
        _refuse_what_xml_cannot_carry(items)
    use_prefixes = used_prefixes(items, prefixes or {}) if fmt.prefixes else None
    return _serialized(items, fmt.rdf_format, prefixes=use_prefixes)


def _refuse_what_xml_cannot_carry(items: Iterable[pyoxigraph.Triple | pyoxigraph.Quad]) -> None:
    """Raise ``NotAcceptable`` when a term holds a character XML 1.0 cannot carry (U+0000 to
    U+001F but tab, LF and CR; U+FFFE, U+FFFF): pyoxigraph's RDF/XML writer would write it
    as it is, and no XML parser reads the result."""

    def check(term: object) -> None:
        if isinstance(term, pyoxigraph.Triple):
            check(term.subject)
            check(term.predicate)
            check(term.object)
            return
        text = getattr(term, "value", "")
        bad = _XML_FORBIDDEN.search(text) if isinstance(text, str) else None
        if bad:
            raise NotAcceptable(
                f"a term holds U+{ord(bad.group()):04X}, which XML 1.0 cannot carry; "
                "ask for Turtle, N-Triples or JSON-LD",
                offered=[
                    f.media_type
                    for f in of_kind("graph")
                    if f.rdf_format != pyoxigraph.RdfFormat.RDF_XML
                ],
            )
        if isinstance(term, pyoxigraph.Literal):
            check(term.datatype)

    for item in items:
        check(item.subject)
        check(item.predicate)
        check(item.object)


def _serialized(
    items: list[pyoxigraph.Triple] | list[pyoxigraph.Quad],
    rdf_format: pyoxigraph.RdfFormat,
    *,
    prefixes: dict[str, str] | None = None,
) -> bytes:
    data = pyoxigraph.serialize(items, format=rdf_format, prefixes=prefixes)
    assert data is not None  # pyoxigraph returns the bytes when given no output
    return data


def used_prefixes(
    items: Iterable[pyoxigraph.Triple | pyoxigraph.Quad], prefixes: Mapping[str, str]
) -> dict[str, str]:
    """The prefixes a document actually uses (a description then starts with the few that
    matter, not with every vocabulary of the project). Namespaces whose local names would need
    escaping (``id:animal\\/ada``) are left out: full IRIs read better.

    >>> t = pyoxigraph.Triple(pyoxigraph.NamedNode("https://schema.org/a"), pyoxigraph.NamedNode("https://schema.org/b"), pyoxigraph.Literal("c"))
    >>> used_prefixes([t], {"schema": "https://schema.org/", "owl": "http://www.w3.org/2002/07/owl#"})
    {'schema': 'https://schema.org/'}
    """
    namespaces: set[str] = set()

    def note(term: object) -> None:
        if isinstance(term, pyoxigraph.NamedNode):
            cut = max(term.value.rfind("#"), term.value.rfind("/"))
            namespaces.add(term.value[: cut + 1])
        elif isinstance(term, pyoxigraph.Literal):
            note(term.datatype)

    for item in items:
        note(item.subject)
        note(item.predicate)
        note(item.object)
        if isinstance(item, pyoxigraph.Quad):
            note(item.graph_name)
    return {p: ns for p, ns in prefixes.items() if ns in namespaces and ns.endswith(("#", "/"))}


def as_triples(items: Iterable[pyoxigraph.Triple | pyoxigraph.Quad]) -> list[pyoxigraph.Triple]:
    """Quads as triples (graph names dropped), triples as they are."""
    return [
        pyoxigraph.Triple(i.subject, i.predicate, i.object) if isinstance(i, pyoxigraph.Quad) else i
        for i in items
    ]


def jsonld_profile(requested: str | None) -> str:
    """The JSON-LD form a request gets: the first of its ``profile`` IRIs leapsld can produce,
    compacted when it names none (JSON-LD 1.1 §9: the profile parameter is a space-separated
    list of IRIs).

    >>> jsonld_profile("http://www.w3.org/ns/json-ld#flattened")
    'http://www.w3.org/ns/json-ld#flattened'
    """
    for iri in (requested or "").split():
        if iri in JSONLD_PROFILES.values():
            return iri
    return JSONLD_PROFILES["compacted"]


def _never_fetch(url: str, options: object = None) -> dict[str, object]:
    raise UnsupportedFormat(f"leapsld never fetches a remote JSON-LD context ({url})")


def _jsonld(
    triples: Iterable[pyoxigraph.Triple | pyoxigraph.Quad],
    *,
    context: Mapping[str, object] | None,
    context_url: str | None,
    profile: str | None,
) -> bytes:
    """JSON-LD by a real JSON-LD processor: pyld reads the graph from N-Quads (so ``rdf:type``
    becomes ``@type``) and compacts or flattens it with the curated context; no remote
    document is ever loaded."""
    nquads = _serialized(as_triples(triples), pyoxigraph.RdfFormat.N_TRIPLES)
    document = jsonld.from_rdf(nquads.decode(), {"format": "application/n-quads"})
    form = jsonld_profile(profile)
    if form == JSONLD_PROFILES["expanded"] or context is None:
        return json.dumps(document, indent=2, ensure_ascii=False).encode()
    options = {"documentLoader": _never_fetch}
    if form == JSONLD_PROFILES["flattened"]:
        out = jsonld.flatten(document, dict(context), options)
    else:
        out = jsonld.compact(document, dict(context), options)
    out["@context"] = context_url if context_url else dict(context)
    return json.dumps(out, indent=2, ensure_ascii=False).encode()


def serialize_outcome(
    outcome: QueryOutcome,
    fmt: Format,
    *,
    prefixes: Mapping[str, str] | None = None,
    context: Mapping[str, object] | None = None,
    context_url: str | None = None,
    profile: str | None = None,
) -> bytes:
    """A query's outcome as ``fmt``: a CONSTRUCT/DESCRIBE graph in an RDF format, SELECT or ASK
    results in a results format (or the CLI's table).

    Raises:
        UnsupportedFormat: ``fmt`` cannot carry this kind of outcome (a graph as CSV, results
            as Turtle).
    """
    if outcome.kind == "graph":
        if fmt.kind not in RDF_KINDS:
            raise UnsupportedFormat(
                f"a CONSTRUCT/DESCRIBE result cannot be written as {fmt.name} ({fmt.label})"
            )
        return serialize_graph(
            outcome.triples,
            fmt,
            prefixes=prefixes,
            context=context,
            context_url=context_url,
            profile=profile,
        )
    if fmt.kind not in RESULT_KINDS:
        raise UnsupportedFormat(
            f"a SELECT/ASK result cannot be written as {fmt.name} ({fmt.label})"
        )
    return serialize_results(outcome, fmt, prefixes=prefixes)


@dataclass(frozen=True)
class OutcomeWriter:
    """``serialize_outcome`` with its format and prefixes fixed, sent with a query to the query
    process (``executor.Writer``), which then answers with bytes instead of terms. Plain
    values only, so that it pickles small and by reference to this class."""

    format: str
    prefixes: tuple[tuple[str, str], ...] = ()

    def __call__(self, outcome: QueryOutcome) -> bytes:
        return serialize_outcome(outcome, by_name(self.format), prefixes=dict(self.prefixes))


# SPARQL results --------------------------------------------------------------------------


def serialize_results(
    outcome: QueryOutcome, fmt: Format, *, prefixes: Mapping[str, str] | None = None
) -> bytes:
    """SELECT or ASK results as SPARQL JSON, XML, CSV, TSV, or an aligned text table."""
    writer = _RESULT_WRITERS.get(fmt.name)
    if writer is None:
        raise UnsupportedFormat(f"{fmt.label} cannot carry SELECT or ASK results")
    return writer(outcome, prefixes or {})


def _json_term(term: object) -> dict[str, object]:
    if isinstance(term, pyoxigraph.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, pyoxigraph.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, pyoxigraph.Triple):  # SPARQL 1.2 results: a triple term
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    assert isinstance(term, pyoxigraph.Literal)
    out: dict[str, object] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _results_json(outcome: QueryOutcome, _: Mapping[str, str]) -> bytes:
    if outcome.kind == "ask":
        return json.dumps({"head": {}, "boolean": outcome.boolean}).encode()
    bindings = [
        {
            var: _json_term(term)
            for var, term in zip(outcome.variables, row, strict=True)
            if term is not None
        }
        for row in outcome.rows
    ]
    return json.dumps(
        {"head": {"vars": outcome.variables}, "results": {"bindings": bindings}}, ensure_ascii=False
    ).encode()


_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text as XML character data; CR kept (as ``&#13;``), characters XML 1.0 cannot carry refused."""
    bad = _XML_FORBIDDEN.search(text)
    if bad:
        raise NotAcceptable(
            f"a value holds U+{ord(bad.group()):04X}, which XML 1.0 cannot carry; "
            "ask for JSON, CSV or TSV results",
            offered=["application/sparql-results+json", "text/csv", "text/tab-separated-values"],
        )
    return escape(text, {"\r": "&#13;"})


def _xml_term(term: object) -> str:
    if isinstance(term, pyoxigraph.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, pyoxigraph.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, pyoxigraph.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    assert isinstance(term, pyoxigraph.Literal)
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{_xml_text(term.value)}</literal>"
    if term.datatype.value != _XSD_STRING:
        return (
            f"<literal datatype={quoteattr(term.datatype.value)}>{_xml_text(term.value)}</literal>"
        )
    return f"<literal>{_xml_text(term.value)}</literal>"


def _results_xml(outcome: QueryOutcome, _: Mapping[str, str]) -> bytes:
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
    if outcome.kind == "ask":
        out.append(
            f"</head>\n<boolean>{'true' if outcome.boolean else 'false'}</boolean>\n</sparql>\n"
        )
        return "".join(out).encode()
    out.extend(f"<variable name={quoteattr(v)}/>" for v in outcome.variables)
    out.append("</head>\n<results>\n")
    for row in outcome.rows:
        out.append("<result>")
        for var, term in zip(outcome.variables, row, strict=True):
            if term is not None:
                out.append(f"<binding name={quoteattr(var)}>{_xml_term(term)}</binding>")
        out.append("</result>\n")
    out.append("</results>\n</sparql>\n")
    return "".join(out).encode()


def _csv_value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, pyoxigraph.Triple):
        raise NotAcceptable(
            "a triple term (RDF 1.2) has no CSV form; ask for JSON, XML or TSV results",
            offered=[
                "application/sparql-results+json",
                "application/sparql-results+xml",
                "text/tab-separated-values",
            ],
        )
    assert isinstance(term, pyoxigraph.NamedNode | pyoxigraph.Literal), term
    return term.value


def _results_csv(outcome: QueryOutcome, _: Mapping[str, str]) -> bytes:
    if outcome.kind == "ask":
        return b"true" if outcome.boolean else b"false"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(outcome.variables)
    for row in outcome.rows:
        writer.writerow([_csv_value(t) for t in row])
    return buffer.getvalue().encode()


def turtle_term(term: object) -> str:
    """A term in Turtle/TSV syntax (IRIs in angle brackets, literals quoted and escaped)."""
    return "" if term is None else str(term)


def _results_tsv(outcome: QueryOutcome, _: Mapping[str, str]) -> bytes:
    if outcome.kind == "ask":
        return b"true" if outcome.boolean else b"false"
    lines = ["\t".join(f"?{v}" for v in outcome.variables)]
    lines.extend("\t".join(turtle_term(t) for t in row) for row in outcome.rows)
    return ("\n".join(lines) + "\n").encode()


def short(term: object, prefixes: Mapping[str, str]) -> str:
    """A term as people read it: prefixed name or IRI, literal's text, ``_:b`` for blank nodes."""
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        best = max(
            ((p, ns) for p, ns in prefixes.items() if term.value.startswith(ns)),
            key=lambda item: len(item[1]),
            default=None,
        )
        if best and all(c.isalnum() or c in "-_./" for c in term.value[len(best[1]) :]):
            return f"{best[0]}:{term.value[len(best[1]) :]}"
        return f"<{term.value}>"
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, pyoxigraph.Literal):
        return term.value
    return str(term)


def _results_table(outcome: QueryOutcome, prefixes: Mapping[str, str]) -> bytes:
    if outcome.kind == "ask":
        return b"yes\n" if outcome.boolean else b"no\n"
    cells = [[short(t, prefixes) for t in row] for row in outcome.rows]
    header = list(outcome.variables)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]

    def fmt_row(row: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    lines = [fmt_row(header), "  ".join("-" * w for w in widths)]
    lines.extend(fmt_row(r) for r in cells)
    count = f"{len(cells)} row{'s' if len(cells) != 1 else ''}"
    lines.append(f"({count}{', truncated' if outcome.truncated else ''})")
    return ("\n".join(lines) + "\n").encode()


_RESULT_WRITERS = {
    "json": _results_json,
    "xml": _results_xml,
    "csv": _results_csv,
    "tsv": _results_tsv,
    "table": _results_table,
}
