"""Publishing: the VoID + DCAT description of the dataset and the SPARQL Service Description.

Statistics and dumps are made once per dataset version (``derived``); the descriptions are then
completed with the URLs of the origin that serves them, so every link in them works where they
were fetched.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph

from .dataset import Dataset
from .derived import Dump, Statistics
from .describe import exists
from .formats import RDF_KINDS, Format, of_kind
from .namespaces import PREFIXES

N = pyoxigraph.NamedNode
L = pyoxigraph.Literal
_XSD = PREFIXES["xsd"]
VOID, DCAT, DCT, RDF = (PREFIXES[p] for p in ("void", "dcat", "dcterms", "rdf"))
SPDX = "http://spdx.org/rdf/terms#"
SD = PREFIXES["sd"]

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
EXAMPLES = ("id/org/sesame", "id/project/beats", "id/org/leaps")


def _w3c(formats: Sequence[Format]) -> list[str]:
    """The W3C format IRIs of ``formats`` (those without one, such as HTML, left out)."""
    return [f.w3c for f in formats if f.w3c is not None]


def void_description(
    dataset: Dataset,
    stats: Statistics,
    dumps: list[Dump],
    *,
    origin: str,
    formats: Sequence[Format] = of_kind("graph"),
) -> list[pyoxigraph.Triple]:
    """The VoID + DCAT description, its links on ``origin`` (where it is being served);
    ``formats`` are what its resources are served in (``void:feature``)."""
    base = dataset.settings.base_iri
    origin = origin.rstrip("/")
    ds = N(f"{base}void#dataset")
    out: list[pyoxigraph.Triple] = []

    def add(s: pyoxigraph.NamedNode | pyoxigraph.BlankNode, p: str, o: object) -> None:
        out.append(pyoxigraph.Triple(s, N(p), o))  # type: ignore[arg-type]

    def integer(n: int) -> pyoxigraph.Literal:
        return L(str(n), datatype=N(_XSD + "integer"))

    add(ds, RDF + "type", N(VOID + "Dataset"))
    add(ds, RDF + "type", N(DCAT + "Dataset"))
    add(ds, DCT + "title", L("LEAPS science diplomacy knowledge graph", language="en"))
    add(
        ds,
        DCT + "description",
        L(
            "The science-diplomacy work of the LEAPS light sources: SESAME, Light for Ukraine, "
            "LAAAMP, the African Light Source Foundation, and the projects, funders and "
            "memberships around them.",
            language="en",
        ),
    )
    add(ds, DCT + "license", N(LICENSE))
    add(ds, DCT + "source", N(f"{base}id/source/leaps-science-diplomacy"))
    add(ds, DCT + "publisher", N(f"{base}id/org/leaps"))
    add(ds, DCT + "modified", L(dataset.modified.isoformat(), datatype=N(_XSD + "dateTime")))
    add(ds, PREFIXES["owl"] + "versionInfo", L(dataset.version))
    add(ds, VOID + "sparqlEndpoint", N(f"{origin}/sparql"))
    add(ds, VOID + "uriSpace", L(f"{base}id/"))
    for iri in _w3c(formats):
        add(ds, VOID + "feature", N(iri))
    add(ds, VOID + "triples", integer(stats.triples))
    add(ds, VOID + "entities", integer(stats.entities))
    add(ds, VOID + "distinctSubjects", integer(stats.distinct_subjects))
    add(ds, VOID + "distinctObjects", integer(stats.distinct_objects))
    add(ds, VOID + "classes", integer(len(stats.classes)))
    add(ds, VOID + "properties", integer(len(stats.properties)))
    examples = [base + path for path in EXAMPLES if exists(dataset.store, base + path)]
    if examples:
        add(
            ds,
            VOID + "rootResource",
            N(examples[-1] if examples[-1].endswith("/org/leaps") else examples[0]),
        )
    for iri in examples:
        add(ds, VOID + "exampleResource", N(iri))
    for vocabulary in stats.vocabularies:
        add(ds, VOID + "vocabulary", N(vocabulary))
    for cls, count in stats.classes.items():
        part = pyoxigraph.BlankNode()
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", N(cls))
        add(part, VOID + "entities", integer(count))
    for prop, count in stats.properties.items():
        part = pyoxigraph.BlankNode()
        add(ds, VOID + "propertyPartition", part)
        add(part, VOID + "property", N(prop))
        add(part, VOID + "triples", integer(count))
    for dump in dumps:
        url = N(f"{origin}/dumps/{dump.name}")
        add(ds, VOID + "dataDump", url)
        dist = N(f"{base}void#dump-{dump.name}")
        add(ds, DCAT + "distribution", dist)
        add(dist, RDF + "type", N(DCAT + "Distribution"))
        add(
            dist,
            DCT + "title",
            L(f"{dump.format.label} dump" + (" (gzip)" if dump.compressed else "")),
        )
        add(dist, DCAT + "downloadURL", url)
        add(
            dist,
            DCAT + "mediaType",
            N(f"https://www.iana.org/assignments/media-types/{dump.format.media_type}"),
        )
        if dump.compressed:
            add(
                dist,
                DCAT + "compressFormat",
                N("https://www.iana.org/assignments/media-types/application/gzip"),
            )
        add(dist, DCAT + "byteSize", L(str(dump.size), datatype=N(_XSD + "nonNegativeInteger")))
        add(dist, DCT + "license", N(LICENSE))
        checksum = pyoxigraph.BlankNode()
        add(dist, SPDX + "checksum", checksum)
        add(checksum, RDF + "type", N(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", N(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", L(dump.sha256, datatype=N(_XSD + "hexBinary")))
    service = N(f"{origin}/sparql")
    add(ds, DCAT + "accessService", service)
    add(service, RDF + "type", N(DCAT + "DataService"))
    add(service, DCAT + "endpointURL", service)
    add(service, DCAT + "servesDataset", ds)
    add(service, DCT + "conformsTo", N("https://www.w3.org/TR/sparql11-protocol/"))
    return out


def service_description(
    dataset: Dataset,
    *,
    origin: str,
    formats: Sequence[Format] = of_kind("results", *RDF_KINDS),
) -> list[pyoxigraph.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint at ``origin``/sparql, which answers
    in ``formats`` (``sd:resultFormat``)."""
    origin = origin.rstrip("/")
    service = N(f"{origin}/sparql")
    out: list[pyoxigraph.Triple] = []

    def add(s: object, p: str, o: object) -> None:
        out.append(pyoxigraph.Triple(s, N(p), o))  # type: ignore[arg-type]

    add(service, RDF + "type", N(SD + "Service"))
    add(service, SD + "endpoint", service)
    add(service, SD + "supportedLanguage", N(SD + "SPARQL11Query"))
    add(service, SD + "feature", N(SD + "UnionDefaultGraph"))
    for iri in _w3c(formats):
        add(service, SD + "resultFormat", N(iri))
    description = pyoxigraph.BlankNode()
    default_graph = pyoxigraph.BlankNode()
    add(service, SD + "defaultDataset", description)
    add(description, RDF + "type", N(SD + "Dataset"))
    add(description, SD + "defaultGraph", default_graph)
    add(default_graph, RDF + "type", N(SD + "Graph"))
    add(default_graph, DCT + "description", L("The union of all named graphs", language="en"))
    for graph in dataset.served_graphs:
        named = pyoxigraph.BlankNode()
        add(description, SD + "namedGraph", named)
        add(named, SD + "name", N(graph))
    add(service, DCT + "title", L("LEAPS Linked Data SPARQL endpoint (read-only)", language="en"))
    return out
