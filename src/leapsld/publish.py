"""Publishing: dumps with checksums, and the VoID + DCAT description of the dataset.

Statistics are computed once per dataset version; the description is then completed with the
URLs of the origin that serves it, so every link in it works where it was fetched.
"""

from __future__ import annotations

import dataclasses
import fcntl
import gzip
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyoxigraph

from .describe import exists
from .formats import Format, by_name
from .namespaces import PREFIXES
from .pipeline import Dataset
from .query import run_query
from .store import OxigraphStore

T = TypeVar("T")
N = pyoxigraph.NamedNode
L = pyoxigraph.Literal
_XSD = PREFIXES["xsd"]
VOID, DCAT, DCT, RDF = (PREFIXES[p] for p in ("void", "dcat", "dcterms", "rdf"))
SPDX = "http://spdx.org/rdf/terms#"
SD = PREFIXES["sd"]

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
EXAMPLES = ("id/org/sesame", "id/project/beats", "id/org/leaps")
ROOT_RESOURCE = "id/org/leaps"


@dataclass(frozen=True)
class Dump:
    """One dump file: its name, format, size and SHA-256."""

    name: str
    format: Format
    path: Path
    size: int
    sha256: str
    compressed: bool = False

    @property
    def media_type(self) -> str:
        return "application/gzip" if self.compressed else self.format.media_type


#: The folder, beside an on-disk store, of what is derived from its data.
DERIVED = "dumps"
STATISTICS = "statistics.json"
DUMPS = (
    ("leaps.ttl", "turtle", False),
    ("leaps.nt.gz", "ntriples", True),
    ("leaps.jsonld", "jsonld", False),
    ("leaps.nq.gz", "nquads", True),
)


def existing_dumps(folder: Path) -> list[Dump] | None:
    """The dumps already written in ``folder`` (for this version: the folder is the version's),
    or None when any is missing. A restart then serves them without writing them again."""
    try:
        sums = dict(
            reversed(line.split("  ", 1))
            for line in (folder / "SHA256SUMS").read_text().splitlines()
            if line
        )
    except (OSError, ValueError):
        return None
    dumps = []
    for name, fmt_name, compress in DUMPS:
        path = folder / name
        if name not in sums or not path.is_file():
            return None
        dumps.append(Dump(name, by_name(fmt_name), path, path.stat().st_size, sums[name], compress))
    return dumps


def write_dumps(dataset: Dataset, folder: Path, *, yield_to: Pause | None = None) -> list[Dump]:
    """Write the asserted ontology and data as Turtle, gzipped N-Triples and JSON-LD, and as
    gzipped N-Quads, which keeps each triple's graph and so the source a graph carries (the ROR
    links, the BEATS grant number).

    Each triple once, however many files state it. The triples stream from the store to the
    files, so writing a million of them needs no more memory than writing ten. One writer per
    folder (several workers may be asked at once): the others wait, then read what it wrote.
    Files are written under a private temporary name and renamed into place, so a reader never
    sees half a dump. The JSON-LD dump is expanded (pyoxigraph's writer): it scales to millions
    of triples, which a JSON-LD compaction does not.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = existing_dumps(folder)
            return done if done is not None else _write_dumps(dataset, folder, yield_to)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_dumps(dataset: Dataset, folder: Path, yield_to: Pause | None) -> list[Dump]:
    prefixes = dict(PREFIXES)
    prefixes.update(leaps=f"{dataset.settings.base_iri}def#")
    dumps = []
    for name, fmt_name, compress in DUMPS:
        fmt = by_name(fmt_name)
        if fmt_name == "nquads":
            items: Iterator[pyoxigraph.Quad | pyoxigraph.Triple] = _politely(
                (q for g in dataset.data_graphs for q in dataset.store.graph_quads(g)), yield_to
            )
        else:
            items = unique_triples(dataset.store, dataset.data_graphs, yield_to=yield_to)
        target = folder / name
        handle, partial_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        partial = Path(partial_name)
        try:
            with os.fdopen(handle, "wb") as raw:
                if compress:
                    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out:
                        pyoxigraph.serialize(items, out, format=fmt.rdf_format)
                else:
                    use_prefixes = prefixes if fmt.name == "turtle" else None
                    pyoxigraph.serialize(items, raw, format=fmt.rdf_format, prefixes=use_prefixes)
            os.chmod(partial, 0o644)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        dumps.append(Dump(name, fmt, target, target.stat().st_size, _sha256(target), compress))
    sums = "".join(f"{d.sha256}  {d.name}\n" for d in dumps)
    handle, partial_name = tempfile.mkstemp(dir=folder, prefix=".SHA256SUMS.")
    with os.fdopen(handle, "w") as out:
        out.write(sums)
    os.chmod(partial_name, 0o644)
    Path(partial_name).replace(folder / "SHA256SUMS")
    return dumps


def unique_triples(
    store: OxigraphStore, graphs: Sequence[str], *, yield_to: Pause | None = None
) -> Iterator[pyoxigraph.Triple]:
    """The triples of ``graphs``, each once, streamed.

    The largest graph comes first and is taken whole; a triple of a smaller graph is skipped
    when an earlier graph has it, by asking the store. So a million triples in one file and a
    few thousand beside it cost a few thousand lookups, and nothing is remembered.
    """
    earlier: list[pyoxigraph.NamedNode] = []
    inner = store.inner
    for g in _largest_first(store, graphs):
        name = pyoxigraph.NamedNode(g)
        for q in _politely(inner.quads_for_pattern(None, None, None, name), yield_to):
            if earlier and any(
                pyoxigraph.Quad(q.subject, q.predicate, q.object, e) in inner for e in earlier
            ):
                continue
            yield q.triple
        earlier.append(name)


#: Asked now and then by a long stream: true while requests are being answered.
Pause = Callable[[], bool]
#: Items streamed between two questions (about a tenth of a millisecond of work).
_YIELD_EVERY = 256
#: The longest one pause lasts, so that a steady load slows the stream but never stops it.
_LONGEST_PAUSE = 0.05


def _politely(items: Iterable[T], yield_to: Pause | None) -> Iterator[T]:
    """``items``, pausing while ``yield_to()`` says requests are being answered.

    Dumps and statistics are written in a background thread of a serving process; on two cores
    a million triples of Python work would otherwise slow every query answered meanwhile.
    """
    if yield_to is None:
        yield from items
        return
    for n, item in enumerate(items):
        if n % _YIELD_EVERY == 0:
            waited = 0.0
            while waited < _LONGEST_PAUSE and yield_to():
                time.sleep(0.001)
                waited += 0.001
        yield item


def _largest_first(store: OxigraphStore, graphs: Sequence[str]) -> list[str]:
    if len(graphs) < 2:
        return list(graphs)
    values = " ".join(f"<{g}>" for g in graphs)
    sizes = {
        row["g"].value: int(row["n"].value)
        for row in store.inner.query(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
            "GROUP BY ?g"
        )
    }
    return sorted(graphs, key=lambda g: (-sizes.get(g, 0), g))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Statistics:
    """What VoID says about the data, computed once per version."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[str, int]
    properties: dict[str, int]
    vocabularies: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Statistics:
        data = json.loads(text)
        data["vocabularies"] = tuple(data["vocabularies"])
        return cls(**data)


def statistics(
    store: OxigraphStore,
    graphs: Sequence[str],
    *,
    base_iri: str,
    yield_to: Pause | None = None,
) -> Statistics:
    """Count distinct triples, entities (IRIs in the URI space), classes and properties over
    the asserted graphs; a triple stated in two files counts once.

    Triples, properties and classes are counted in one pass over the distinct triples as they
    stream from the store; the distinct subjects, objects and entities are left to the engine.
    Neither keeps a million triples in memory.
    """
    rdf_type = pyoxigraph.NamedNode(RDF + "type")
    triples = 0
    properties: dict[str, int] = {}
    classes: dict[str, int] = {}
    for t in unique_triples(store, graphs, yield_to=yield_to):
        triples += 1
        p = t.predicate.value
        properties[p] = properties.get(p, 0) + 1
        if t.predicate == rdf_type and isinstance(t.object, pyoxigraph.NamedNode):
            classes[t.object.value] = classes.get(t.object.value, 0) + 1

    def one(text: str) -> int:
        outcome = run_query(store, text, default_graphs=list(graphs), max_rows=1)
        return int(outcome.rows[0][0].value)  # type: ignore[union-attr]

    space = json.dumps(f"{base_iri}id/")
    vocabularies = sorted({_namespace(iri) for iri in (*classes, *properties)})
    return Statistics(
        triples=triples,
        entities=one(
            "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o "
            f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), {space})) }}"
        ),
        distinct_subjects=one("SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"),
        distinct_objects=one("SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }"),
        classes=dict(sorted(classes.items())),
        properties=dict(sorted(properties.items())),
        vocabularies=tuple(vocabularies),
    )


def recorded_statistics(
    dataset: Dataset, folder: Path, *, yield_to: Pause | None = None
) -> Statistics:
    """The statistics of this version, computed by one process and recorded in ``folder``
    (beside the dumps) for the others and for the next start."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STATISTICS
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                return Statistics.from_json(path.read_text())
            except (OSError, ValueError, KeyError, TypeError):
                pass
            stats = statistics(
                dataset.store,
                dataset.data_graphs,
                base_iri=dataset.settings.base_iri,
                yield_to=yield_to,
            )
            handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{STATISTICS}.")
            with os.fdopen(handle, "w") as out:
                out.write(stats.to_json())
            os.chmod(partial, 0o644)
            Path(partial).replace(path)
            return stats
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def void_description(
    dataset: Dataset,
    stats: Statistics,
    dumps: list[Dump],
    *,
    origin: str,
) -> list[pyoxigraph.Triple]:
    """The VoID + DCAT description, its links on ``origin`` (where it is being served)."""
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
    add(ds, VOID + "feature", N("http://www.w3.org/ns/formats/Turtle"))
    add(ds, VOID + "feature", N("http://www.w3.org/ns/formats/JSON-LD"))
    add(ds, VOID + "feature", N("http://www.w3.org/ns/formats/RDF_XML"))
    add(ds, VOID + "feature", N("http://www.w3.org/ns/formats/N-Triples"))
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


def service_description(dataset: Dataset, *, origin: str) -> list[pyoxigraph.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint at ``origin``/sparql."""
    origin = origin.rstrip("/")
    service = N(f"{origin}/sparql")
    out: list[pyoxigraph.Triple] = []

    def add(s: object, p: str, o: object) -> None:
        out.append(pyoxigraph.Triple(s, N(p), o))  # type: ignore[arg-type]

    add(service, RDF + "type", N(SD + "Service"))
    add(service, SD + "endpoint", service)
    add(service, SD + "supportedLanguage", N(SD + "SPARQL11Query"))
    add(service, SD + "feature", N(SD + "UnionDefaultGraph"))
    for fmt in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "JSON-LD",
        "RDF_XML",
        "N-Triples",
        "N-Quads",
        "TriG",
    ):
        add(service, SD + "resultFormat", N(f"http://www.w3.org/ns/formats/{fmt}"))
    description = pyoxigraph.BlankNode()
    default_graph = pyoxigraph.BlankNode()
    add(service, SD + "defaultDataset", description)
    add(description, RDF + "type", N(SD + "Dataset"))
    add(description, SD + "defaultGraph", default_graph)
    add(default_graph, RDF + "type", N(SD + "Graph"))
    add(default_graph, DCT + "description", L("The union of all named graphs", language="en"))
    for graph in [*dataset.data_graphs] + ([dataset.inferred_graph] if dataset.inferred else []):
        named = pyoxigraph.BlankNode()
        add(description, SD + "namedGraph", named)
        add(named, SD + "name", N(graph))
    add(service, DCT + "title", L("LEAPS Linked Data SPARQL endpoint (read-only)", language="en"))
    return out
