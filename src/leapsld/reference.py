"""The ontology as a reference: each class and property with its label, definition, domain,
range, and the shapes that constrain it. Read from the store, so it is always the served one."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph

from .query import QueryRunner, run_query
from .store import Store, Term

_PREFIXES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

_TERMS = (
    _PREFIXES
    + """
SELECT ?term ?kind ?label ?definition ?domain ?range {
  VALUES ?kind { owl:Class rdfs:Class owl:ObjectProperty owl:DatatypeProperty
                 owl:AnnotationProperty rdf:Property }
  ?term a ?kind . FILTER(isIRI(?term))
  OPTIONAL { ?term rdfs:label ?label FILTER(lang(?label) = "en" || lang(?label) = "") }
  OPTIONAL { ?term skos:definition|rdfs:comment ?definition
             FILTER(lang(?definition) = "en" || lang(?definition) = "") }
  OPTIONAL { ?term rdfs:domain ?domain FILTER isIRI(?domain) }
  OPTIONAL { ?term rdfs:range ?range FILTER isIRI(?range) }
}
"""
)

_SHAPES = (
    _PREFIXES
    + """
SELECT ?target ?shape ?name ?message ?severity {
  { ?shape sh:targetClass ?target . OPTIONAL { ?shape sh:name|rdfs:label ?name } }
  UNION
  { ?property sh:path ?target . FILTER isIRI(?target)
    OPTIONAL { ?owner sh:property ?property . FILTER isIRI(?owner) }
    BIND(COALESCE(?owner, ?property) AS ?shape)
    OPTIONAL { ?property sh:name ?name } OPTIONAL { ?property sh:message ?message }
    OPTIONAL { ?property sh:severity ?severity } }
}
"""
)

_HEADER = (
    _PREFIXES
    + """
SELECT ?ontology ?title ?version ?license ?description {
  ?ontology a owl:Ontology .
  OPTIONAL { ?ontology dcterms:title|rdfs:label ?title }
  OPTIONAL { ?ontology owl:versionInfo ?version }
  OPTIONAL { ?ontology dcterms:license ?license }
  OPTIONAL { ?ontology dcterms:description|rdfs:comment ?description }
} LIMIT 1
"""
)


@dataclass
class TermEntry:
    """One class or property of the reference."""

    iri: str
    kind: str
    label: str = ""
    definition: str = ""
    domains: set[str] = field(default_factory=set)
    ranges: set[str] = field(default_factory=set)
    shapes: list[dict[str, str]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@dataclass
class Scheme:
    """A SKOS concept scheme the ontology defines, with its concepts (IRI, label)."""

    iri: str
    label: str
    definition: str = ""
    concepts: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Reference:
    """The ontology header and its terms, classes first."""

    header: dict[str, str]
    classes: list[TermEntry]
    properties: list[TermEntry]
    schemes: list[Scheme] = field(default_factory=list)


_SCHEMES = (
    _PREFIXES
    + """
SELECT ?scheme ?schemeLabel ?definition ?concept ?label {
  ?scheme a skos:ConceptScheme . FILTER(isIRI(?scheme))
  OPTIONAL { ?scheme skos:prefLabel|rdfs:label ?schemeLabel }
  OPTIONAL { ?scheme skos:definition|rdfs:comment|dcterms:description ?definition }
  OPTIONAL { ?concept skos:inScheme ?scheme . FILTER(isIRI(?concept))
             OPTIONAL { ?concept skos:prefLabel|rdfs:label ?label } }
}
"""
)


def concept_schemes(store: Store, *, ontology_graphs: list[str]) -> list[Scheme]:
    """The concept schemes in the ontology's graphs, each with its concepts in label order."""
    schemes: dict[str, Scheme] = {}
    rows = run_query(store, _SCHEMES, default_graphs=ontology_graphs, max_rows=100_000).rows
    for row in rows:
        scheme, scheme_label, definition, concept, label = (
            getattr(v, "value", "") or "" for v in row
        )
        entry = schemes.setdefault(scheme, Scheme(scheme, scheme_label or humanise(scheme)))
        entry.definition = entry.definition or definition
        if concept and all(concept != c for c, _ in entry.concepts):
            entry.concepts.append((concept, label or humanise(concept)))
    for entry in schemes.values():
        entry.concepts.sort(key=lambda c: c[1].casefold())
    return sorted(schemes.values(), key=lambda s: s.label.casefold())


def ontology_reference(
    store: Store, shapes: Store, *, ontology_graphs: list[str], base: str
) -> Reference:
    """Collect the reference of the project's own terms (those under ``{base}def``).

    Args:
        store: where the ontology is (its ``ontology_graphs``).
        shapes: the store of the shapes, to say which shapes constrain each term.
        base: the base IRI; only terms under ``{base}def`` are listed.
    """
    terms: dict[str, TermEntry] = {}
    for row in run_query(store, _TERMS, default_graphs=ontology_graphs, max_rows=100_000).rows:
        term, kind, label, definition, domain, range_ = (getattr(v, "value", None) for v in row)
        if term is None or not term.startswith(f"{base}def"):
            continue
        assert kind is not None  # VALUES binds it in every row
        entry = terms.setdefault(
            term, TermEntry(term, "class" if kind.endswith("Class") else "property")
        )
        entry.label = entry.label or (label or "")
        entry.definition = entry.definition or (definition or "")
        if domain:
            entry.domains.add(domain)
        if range_:
            entry.ranges.add(range_)
    by_target: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in run_query(shapes, _SHAPES, max_rows=100_000).rows:
        target, shape, name, message, severity = (getattr(v, "value", "") or "" for v in row)
        by_target[target].append(
            {
                "shape": shape,
                "name": name,
                "message": message,
                "severity": severity.rsplit("#", 1)[-1] or "Violation",
            }
        )
    for term, entry in terms.items():
        entry.shapes = sorted(by_target.get(term, []), key=lambda s: (s["name"], s["shape"]))
    header_rows = run_query(store, _HEADER, default_graphs=ontology_graphs, max_rows=1).rows
    header = {}
    if header_rows:
        names = ("ontology", "title", "version", "license", "description")
        header = {
            k: getattr(v, "value", "") or "" for k, v in zip(names, header_rows[0], strict=True)
        }
    ordered = sorted(terms.values(), key=lambda e: e.anchor.lower())
    return Reference(
        header,
        [e for e in ordered if e.kind == "class"],
        [e for e in ordered if e.kind == "property"],
        concept_schemes(store, ontology_graphs=ontology_graphs) if ontology_graphs else [],
    )


def has_version(
    store: Store,
    iri: str,
    *,
    ontology_graphs: list[str],
    runner: QueryRunner | None = None,
    client: str | None = None,
) -> bool:
    """Whether an ontology in ``ontology_graphs`` has ``iri`` as its ``owl:versionIRI``.

    The IRI comes from a request path: it is bound as a term, never spliced into the text, and
    with a ``runner`` the query runs within its limits (for ``client``), as every query with a
    term from a request must.
    """
    try:
        version = pyoxigraph.NamedNode(iri)
    except ValueError:  # not an IRI at all: certainly not a version of ours
        return False
    text = "ASK { ?ontology <http://www.w3.org/2002/07/owl#versionIRI> ?version }"
    bound: dict[str, Term] = {"version": version}
    if runner is not None:
        outcome = runner.run(
            text, default_graphs=ontology_graphs, substitutions=bound, client=client
        )
    else:
        outcome = run_query(store, text, default_graphs=ontology_graphs, substitutions=bound)
    return bool(outcome.boolean)


_LABELS = (
    _PREFIXES
    + """
SELECT ?term ?label {
  ?term rdfs:label|skos:prefLabel ?label . FILTER(isIRI(?term))
  FILTER(lang(?label) = "en" || lang(?label) = "" || langMatches(lang(?label), "en"))
}
"""
)


def term_labels(store: Store, *, ontology_graphs: list[str]) -> dict[str, str]:
    """The label of every term the ontology names (its own terms, and any other vocabulary's
    term it labels), for pages that show properties and classes as words, not IRIs."""
    labels: dict[str, str] = {}
    if not ontology_graphs:
        return labels
    rows = run_query(store, _LABELS, default_graphs=ontology_graphs, max_rows=1_000_000).rows
    for term, label in rows:
        key = getattr(term, "value", "")
        text = getattr(label, "value", "")
        if key and text and (key not in labels or len(text) < len(labels[key])):
            labels[key] = text
    return labels


def humanise(iri: str) -> str:
    """A term's local name as words, for a term no ontology labels (acronyms kept).

    >>> humanise("http://www.w3.org/ns/org#memberDuring"), humanise("http://www.w3.org/ns/dcat#downloadURL")
    ('member during', 'download URL')
    """
    local = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    words = _WORDS.findall(local)
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words) or iri


_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[A-Z]")
