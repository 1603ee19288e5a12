"""The one format registry: the CLI, the server and the static export all look formats up here.

A ``Format`` knows its name, media type, suffixes and kind:
``graph`` (RDF triples), ``dataset`` (RDF quads, also able to carry a graph), ``results``
(SPARQL SELECT/ASK results), ``page`` (HTML), ``problem`` (RFC 9457 problem details) and
``text`` (the CLI's table). It also knows the names clients send for it, whether it writes
prefixes, whether its bytes depend on the origin that serves them, and its W3C format IRI.
Nothing outside this module decides any of that by a format's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph

from .errors import UnsupportedFormat

#: Where the W3C names formats (https://www.w3.org/ns/formats/).
W3C_FORMATS = "http://www.w3.org/ns/formats/"

#: Kinds that carry RDF.
RDF_KINDS = ("graph", "dataset")


@dataclass(frozen=True)
class Format:
    """One serialisation format.

    Args:
        name: the registry's name (``turtle``), also what ``--format`` and ``?format=`` take.
        media_type: the media type it is served as.
        extensions: every file suffix it has, without the dot; the first is the canonical one.
        kind: ``graph``, ``dataset``, ``results``, ``page``, ``problem`` or ``text``.
        label: what people call it.
        other_media_types: other media types that name it in Accept and ``?format=``.
        aliases: other names clients send for it (``ttl``, ``json-ld``, ``rdf+xml``).
        graph_aliases: names that mean it only where a graph is answered (``?format=xml`` is
            RDF/XML for a CONSTRUCT and SPARQL XML for a SELECT, as in Fuseki).
        prefixes: whether it writes a prefix map (Turtle, TriG, RDF/XML).
        context: whether it is written by a JSON-LD processor with the project's context
            (taking a ``profile``, naming the context's URL in its body).
        origin_dependent: whether its bytes name the origin that serves them.
        w3c: its IRI under http://www.w3.org/ns/formats/, if it has one.
    """

    name: str
    media_type: str
    extensions: tuple[str, ...]
    kind: str
    label: str
    other_media_types: tuple[str, ...] = ()
    rdf_format: pyoxigraph.RdfFormat | None = None
    results_format: pyoxigraph.QueryResultsFormat | None = None
    aliases: tuple[str, ...] = ()
    graph_aliases: tuple[str, ...] = ()
    prefixes: bool = False
    context: bool = False
    origin_dependent: bool = False
    w3c: str | None = None

    @property
    def suffix(self) -> str:
        """The canonical file suffix, with its dot."""
        return "." + self.extensions[0]

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Every file suffix, with its dot, the canonical one first."""
        return tuple("." + ext for ext in self.extensions)

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (text formats say their charset)."""
        textual = self.media_type.startswith("text/") or self.media_type.endswith(("+xml", "/xml"))
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.other_media_types)

    @property
    def names(self) -> tuple[str, ...]:
        """Its name and every alias (graph aliases not included)."""
        return (self.name, *self.aliases)


_R = pyoxigraph.RdfFormat
_Q = pyoxigraph.QueryResultsFormat

FORMATS: tuple[Format, ...] = (
    Format(
        "turtle",
        "text/turtle",
        ("ttl",),
        "graph",
        "Turtle",
        ("application/x-turtle",),
        _R.TURTLE,
        aliases=("ttl",),
        graph_aliases=("n3",),
        prefixes=True,
        w3c=W3C_FORMATS + "Turtle",
    ),
    Format(
        "jsonld",
        "application/ld+json",
        ("jsonld",),
        "graph",
        "JSON-LD",
        # Many JSON clients send nothing else: they get compacted JSON-LD, as ld+json.
        ("application/json",),
        rdf_format=_R.JSON_LD,
        aliases=("json-ld",),
        graph_aliases=("json",),
        context=True,
        origin_dependent=True,
        w3c=W3C_FORMATS + "JSON-LD",
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        ("rdf", "owl"),
        "graph",
        "RDF/XML",
        rdf_format=_R.RDF_XML,
        aliases=("rdf", "xml+rdf", "rdf+xml", "rdf/xml"),
        graph_aliases=("xml",),
        prefixes=True,
        w3c=W3C_FORMATS + "RDF_XML",
    ),
    Format(
        "ntriples",
        "application/n-triples",
        ("nt",),
        "graph",
        "N-Triples",
        rdf_format=_R.N_TRIPLES,
        aliases=("nt", "n-triples"),
        graph_aliases=("text",),
        w3c=W3C_FORMATS + "N-Triples",
    ),
    Format(
        "nquads",
        "application/n-quads",
        ("nq",),
        "dataset",
        "N-Quads",
        rdf_format=_R.N_QUADS,
        aliases=("nq", "n-quads"),
        w3c=W3C_FORMATS + "N-Quads",
    ),
    Format(
        "trig",
        "application/trig",
        ("trig",),
        "dataset",
        "TriG",
        rdf_format=_R.TRIG,
        prefixes=True,
        w3c=W3C_FORMATS + "TriG",
    ),
    Format("html", "text/html", ("html",), "page", "HTML", ("application/xhtml+xml",)),
    Format(
        "json",
        "application/sparql-results+json",
        ("srj", "json"),
        "results",
        "SPARQL JSON",
        ("application/json",),
        results_format=_Q.JSON,
        aliases=("sparql-results+json",),
        w3c=W3C_FORMATS + "SPARQL_Results_JSON",
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        ("srx", "xml"),
        "results",
        "SPARQL XML",
        ("application/xml",),
        results_format=_Q.XML,
        aliases=("sparql-results+xml",),
        w3c=W3C_FORMATS + "SPARQL_Results_XML",
    ),
    Format(
        "csv",
        "text/csv",
        ("csv",),
        "results",
        "CSV",
        results_format=_Q.CSV,
        w3c=W3C_FORMATS + "SPARQL_Results_CSV",
    ),
    Format(
        "tsv",
        "text/tab-separated-values",
        ("tsv",),
        "results",
        "TSV",
        results_format=_Q.TSV,
        aliases=("tab-separated-values",),
        w3c=W3C_FORMATS + "SPARQL_Results_TSV",
    ),
    Format("table", "text/plain", ("txt",), "text", "aligned text table"),
    Format(
        "problem",
        "application/problem+json",
        ("json",),
        "problem",
        "problem details",
        ("application/json",),
    ),
)


def _index(pairs: list[tuple[str, Format]]) -> dict[str, Format]:
    """Keys to formats, the first format in the registry's order winning a shared key."""
    out: dict[str, Format] = {}
    for key, fmt in pairs:
        out.setdefault(key.lower(), fmt)
    return out


_BY_NAME = _index([(n, f) for f in FORMATS for n in f.names])
_BY_GRAPH_ALIAS = _index([(n, f) for f in FORMATS for n in f.graph_aliases])
_BY_MEDIA = _index([(m, f) for f in FORMATS for m in f.media_types])


def by_name(name: str) -> Format:
    """A format by its name or an alias.

    >>> by_name("ttl").media_type
    'text/turtle'
    """
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise UnsupportedFormat(f"unknown format {name!r}; known formats: {_known()}") from None


def _known() -> str:
    return ", ".join(sorted(f.name for f in FORMATS))


def by_media_type(media_type: str, *, kinds: Sequence[str] | None = None) -> Format | None:
    """The format for a media type (parameters ignored), optionally of given kinds, or None.

    >>> by_media_type("application/json", kinds=("results",)).name
    'json'
    """
    key = media_type.split(";", 1)[0].strip().lower()
    if kinds is None:
        return _BY_MEDIA.get(key)
    return next((f for f in FORMATS if f.kind in kinds and key in f.media_types), None)


def candidates(value: str) -> list[Format]:
    """Every format a ``--format``/``?format=`` value may name, the likeliest first: by media
    type, by name or alias, then by graph alias (``xml``: SPARQL XML, then RDF/XML).

    >>> [f.name for f in candidates("json")]
    ['json', 'jsonld']
    """
    key = value.strip().lower()
    media = key.split(";", 1)[0].strip()
    by_media = [f for f in FORMATS if media in f.media_types]
    found = [*by_media, _BY_NAME.get(key), _BY_GRAPH_ALIAS.get(key)]
    out: list[Format] = []
    for fmt in found:
        if fmt is not None and fmt not in out:
            out.append(fmt)
    return out


def among(value: str, offered: Sequence[Format]) -> Format | None:
    """The offered format ``value`` names, or None when it names none of them.

    >>> among("xml", of_kind(*RDF_KINDS)).name
    'rdfxml'
    """
    return next((f for f in candidates(value) if f in offered), None)


def resolve(value: str, offered: Sequence[Format] = ()) -> Format:
    """The format ``value`` names, preferring one of ``offered``; the format it names first
    when none is offered (for the caller to refuse by kind).

    Raises:
        UnsupportedFormat: ``value`` names no format at all.
    """
    found = candidates(value)
    if not found:
        raise UnsupportedFormat(f"unknown format {value!r}; known formats: {_known()}")
    return next((f for f in found if f in offered), found[0])


def by_suffix(suffix: str, *, kinds: tuple[str, ...] | None = None) -> Format | None:
    """The format for a file suffix (with or without the dot), optionally of given kinds.

    >>> by_suffix(".jsonld").name
    'jsonld'
    """
    ext = suffix.lower().lstrip(".")
    for f in FORMATS:
        if ext in f.extensions and (kinds is None or f.kind in kinds):
            return f
    return None


def of_kind(*kinds: str) -> tuple[Format, ...]:
    """Formats of the given kinds, in the server's order of preference."""
    return tuple(f for f in FORMATS if f.kind in kinds)


#: What RDF files leapsld reads, by suffix: every suffix of an RDF format, and ``.xml`` and
#: ``.json`` read as RDF/XML and JSON-LD (a file read is a graph).
READABLE_SUFFIXES: dict[str, pyoxigraph.RdfFormat] = {
    **{s: f.rdf_format for f in of_kind(*RDF_KINDS) if f.rdf_format for s in f.suffixes},
    ".xml": _R.RDF_XML,
    ".json": _R.JSON_LD,
}
