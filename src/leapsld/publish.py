"""Publishing: the VoID + DCAT description of the dataset and the SPARQL Service Description.

What the dataset is (title, licence, publisher, examples) comes from its identity, read from
its folder (``identity``); statistics and dumps are made once per dataset version
(``derived``); the descriptions are then completed with the URLs of the origin that serves
them, so every link in them works where they were fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pyoxigraph

from .dataset import Dataset
from .derived import Dump, Statistics
from .describe import exists
from .formats import RDF_KINDS, Format, of_kind
from .namespaces import PREFIXES
from .store import Subject, Term

N = pyoxigraph.NamedNode
L = pyoxigraph.Literal
_XSD = PREFIXES["xsd"]
VOID, DCAT, DCT, RDF = (PREFIXES[p] for p in ("void", "dcat", "dcterms", "rdf"))
SPDX = "http://spdx.org/rdf/terms#"
SD = PREFIXES["sd"]


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
    identity = dataset.identity
    origin = origin.rstrip("/")
    ds = N(identity.iri or f"{base}void#dataset")
    out: list[pyoxigraph.Triple] = []

    def add(s: Subject, p: str, o: Term) -> None:
        out.append(pyoxigraph.Triple(s, N(p), o))

    def integer(n: int) -> pyoxigraph.Literal:
        return L(str(n), datatype=N(_XSD + "integer"))

    add(ds, RDF + "type", N(VOID + "Dataset"))
    add(ds, RDF + "type", N(DCAT + "Dataset"))
    add(ds, DCT + "title", identity.title.literal())
    if identity.short_title != identity.title:
        add(ds, DCT + "alternative", identity.short_title.literal())
    if identity.description is not None:
        add(ds, DCT + "description", identity.description.literal())
    if identity.license:
        add(ds, DCT + "license", N(identity.license))
    for source in identity.sources:
        add(ds, DCT + "source", N(source))
    if identity.publisher:
        add(ds, DCT + "publisher", N(identity.publisher))
    if identity.modified is not None:
        add(ds, DCT + "modified", identity.modified)
    elif dataset.modified is not None:
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
    root = identity.root_resource
    if root and exists(dataset.store, root):
        add(ds, VOID + "rootResource", N(root))
    for iri in existing_examples(dataset):
        add(ds, VOID + "exampleResource", N(iri))
    for vocabulary in stats.vocabularies:
        add(ds, VOID + "vocabulary", N(vocabulary))
    for cls, count in stats.classes.items():
        part = _blank("class", cls)
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", N(cls))
        add(part, VOID + "entities", integer(count))
    for prop, count in stats.properties.items():
        part = _blank("property", prop)
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
        if identity.license:
            add(dist, DCT + "license", N(identity.license))
        checksum = _blank("checksum", dump.name)
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

    def add(s: Subject, p: str, o: Term) -> None:
        out.append(pyoxigraph.Triple(s, N(p), o))

    add(service, RDF + "type", N(SD + "Service"))
    add(service, SD + "endpoint", service)
    add(service, SD + "supportedLanguage", N(SD + "SPARQL11Query"))
    add(service, SD + "feature", N(SD + "UnionDefaultGraph"))
    for iri in _w3c(formats):
        add(service, SD + "resultFormat", N(iri))
    description = _blank("dataset", "")
    default_graph = _blank("default-graph", "")
    add(service, SD + "defaultDataset", description)
    add(description, RDF + "type", N(SD + "Dataset"))
    add(description, SD + "defaultGraph", default_graph)
    add(default_graph, RDF + "type", N(SD + "Graph"))
    add(default_graph, DCT + "description", L("The union of all named graphs", language="en"))
    for graph in dataset.served_graphs:
        named = _blank("named-graph", graph)
        add(description, SD + "namedGraph", named)
        add(named, SD + "name", N(graph))
    name = dataset.identity.short_title
    title = f"{name} SPARQL endpoint (read-only)"
    add(service, DCT + "title", L(title, language=name.language) if name.language else L(title))
    return out


HYDRA = "http://www.w3.org/ns/hydra/core#"


def graph_description(
    dataset: Dataset, graph: str, *, dump: Dump | None, origin: str
) -> list[pyoxigraph.Triple]:
    """What a named graph is (its source file, size, the dataset it is part of), with its own
    triples when it is small enough to read in one document, else a link to its own dump.

    Every graph the Service Description names is an IRI minted under the base: it must
    dereference, and say where its triples are.
    """
    g = N(graph)
    size = dataset.store.graph_sizes([graph]).get(graph, 0)
    source = next((f.relpath for f in dataset.data_files if graph in f.all_graphs), None)
    label = f"Named graph of {source}" if source else "Triples inferred from the data"
    out = [
        pyoxigraph.Triple(g, N(RDF + "type"), N(SD + "Graph")),
        pyoxigraph.Triple(g, N(RDF + "type"), N(VOID + "Dataset")),
        pyoxigraph.Triple(g, N(PREFIXES["rdfs"] + "label"), L(label, language="en")),
        pyoxigraph.Triple(g, N(DCT + "isPartOf"), N(f"{dataset.settings.base_iri}void#dataset")),
        pyoxigraph.Triple(g, N(VOID + "triples"), L(str(size), datatype=N(_XSD + "integer"))),
    ]
    if source:
        out.append(pyoxigraph.Triple(g, N(DCT + "identifier"), L(source)))
    if dump is not None:
        out.append(pyoxigraph.Triple(g, N(VOID + "dataDump"), N(f"{origin}/dumps/{dump.name}")))
    else:
        out.extend(q.triple for q in dataset.store.quads(graph=graph))
    return out


def existing_examples(dataset: Dataset) -> list[str]:
    """The example resources the identity names that the data describes, in its order."""
    return [iri for iri in dataset.identity.examples if exists(dataset.store, iri)]


def _blank(role: str, key: str) -> pyoxigraph.BlankNode:
    """A blank node labelled by what it stands for, so that a description is the same bytes on
    every start and every replica (a fresh label each time would change them under one ETag).

    >>> _blank("class", "http://www.w3.org/ns/org#Membership").value
    'classff60f2f30d14'
    """
    return pyoxigraph.BlankNode(
        role.replace("-", "") + hashlib.sha256(key.encode()).hexdigest()[:12]
    )
