"""The project's namespaces, prefix map and graph names.

Graph names are derived from the base IRI so that a dataset published under another base keeps
its own graph IRIs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from .settings import DEFAULT_BASE_IRI

#: Prefixes used by every Turtle/TriG serialisation and by the JSON-LD context.
PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
    "schema": "https://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "frapo": "http://purl.org/cerif/frapo/",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "vann": "http://purl.org/vocab/vann/",
    "foaf": "http://xmlns.com/foaf/0.1/",
}

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
SKOS_PREFLABEL = PREFIXES["skos"] + "prefLabel"
LABEL_PREDICATES = (RDFS_LABEL, SKOS_PREFLABEL, "https://schema.org/name")


def project_prefixes(
    base_iri: str = DEFAULT_BASE_IRI, vocabularies: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The prefix map: the dataset's own vocabularies (as its ontology declares them, see
    ``identity.declared_prefixes``), ``id:`` for its things, and the well-known prefixes.

    >>> project_prefixes("https://example.org/x/", {"x": "https://example.org/x/def#"})["id"]
    'https://example.org/x/id/'
    """
    return {
        **(vocabularies or {}),
        "id": f"{base_iri}id/",
        **PREFIXES,
    }


def graph_iri(base_iri: str, relative_path: str) -> str:
    """The named graph a file is loaded into: ``{base}graph/{path without suffix}``.

    >>> graph_iri("https://example.org/zoo/", "data/animals.ttl")
    'https://example.org/zoo/graph/data/animals'
    """
    path = PurePosixPath(relative_path)
    stem = path.with_name(path.name.split(".", 1)[0])
    return f"{base_iri}graph/{stem.as_posix().lstrip('/')}"


def inferred_graph(base_iri: str) -> str:
    """The named graph holding inferred triples, never mixed into asserted data."""
    return f"{base_iri}graph/inferred"


def jsonld_context(
    base_iri: str = DEFAULT_BASE_IRI, vocabularies: Mapping[str, str] | None = None
) -> dict[str, object]:
    """The curated JSON-LD context published at ``/context.jsonld``.

    Prefixes for every vocabulary the data uses, and short terms for the handful of properties
    every description has, so compact JSON-LD reads well without being clever about datatypes.
    """
    prefixes = project_prefixes(base_iri, vocabularies)
    context: dict[str, object] = {"@version": 1.1}
    context.update({p: ns for p, ns in prefixes.items() if p != "id"})
    context.update(
        {
            "id": "@id",
            "type": "@type",
            "label": {"@id": "rdfs:label"},
            "prefLabel": {"@id": "skos:prefLabel"},
            "definition": {"@id": "skos:definition"},
            "comment": {"@id": "rdfs:comment"},
            "source": {"@id": "dcterms:source", "@type": "@id"},
            "sameAs": {"@id": "owl:sameAs", "@type": "@id"},
            "inScheme": {"@id": "skos:inScheme", "@type": "@id"},
            "classification": {"@id": "org:classification", "@type": "@id"},
        }
    )
    return context
