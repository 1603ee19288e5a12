"""The one format registry: the CLI, the server and the static export all look formats up here.

A ``Format`` knows its name, media type, suffixes and kind:
``graph`` (RDF triples), ``dataset`` (RDF quads, also able to carry a graph), ``results``
(SPARQL SELECT/ASK results), ``page`` (HTML) and ``text`` (the CLI's table).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph

from .errors import UnsupportedFormat


@dataclass(frozen=True)
class Format:
    """One serialisation format."""

    name: str
    media_type: str
    extensions: tuple[str, ...]
    kind: str
    label: str
    aliases: tuple[str, ...] = ()
    rdf_format: pyoxigraph.RdfFormat | None = None
    results_format: pyoxigraph.QueryResultsFormat | None = None

    @property
    def suffix(self) -> str:
        """The canonical file suffix, with its dot."""
        return "." + self.extensions[0]

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (text formats say their charset)."""
        textual = self.media_type.startswith("text/") or self.media_type.endswith(("+xml", "/xml"))
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


_R = pyoxigraph.RdfFormat
_Q = pyoxigraph.QueryResultsFormat

FORMATS: tuple[Format, ...] = (
    Format(
        "turtle", "text/turtle", ("ttl",), "graph", "Turtle", ("application/x-turtle",), _R.TURTLE
    ),
    Format("jsonld", "application/ld+json", ("jsonld",), "graph", "JSON-LD", (), _R.JSON_LD),
    Format("rdfxml", "application/rdf+xml", ("rdf", "owl"), "graph", "RDF/XML", (), _R.RDF_XML),
    Format("ntriples", "application/n-triples", ("nt",), "graph", "N-Triples", (), _R.N_TRIPLES),
    Format("nquads", "application/n-quads", ("nq",), "dataset", "N-Quads", (), _R.N_QUADS),
    Format("trig", "application/trig", ("trig",), "dataset", "TriG", (), _R.TRIG),
    Format("html", "text/html", ("html",), "page", "HTML", ("application/xhtml+xml",)),
    Format(
        "json",
        "application/sparql-results+json",
        ("srj", "json"),
        "results",
        "SPARQL JSON",
        ("application/json",),
        results_format=_Q.JSON,
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        ("srx", "xml"),
        "results",
        "SPARQL XML",
        ("application/xml",),
        results_format=_Q.XML,
    ),
    Format("csv", "text/csv", ("csv",), "results", "CSV", (), results_format=_Q.CSV),
    Format(
        "tsv", "text/tab-separated-values", ("tsv",), "results", "TSV", (), results_format=_Q.TSV
    ),
    Format("table", "text/plain", ("txt",), "text", "aligned text table"),
)

#: Short names people type (``--format ttl``) mapped to registry names.
_NICKNAMES = {
    "ttl": "turtle",
    "nt": "ntriples",
    "nq": "nquads",
    "rdf": "rdfxml",
    "xml+rdf": "rdfxml",
}

_BY_NAME = {f.name: f for f in FORMATS}
_BY_MEDIA = {m: f for f in FORMATS for m in f.media_types}


def by_name(name: str) -> Format:
    """A format by its name or nickname.

    >>> by_name("ttl").media_type
    'text/turtle'
    """
    key = _NICKNAMES.get(name.lower(), name.lower())
    try:
        return _BY_NAME[key]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise UnsupportedFormat(f"unknown format {name!r}; known formats: {known}") from None


def by_media_type(media_type: str) -> Format | None:
    """The format for a media type (parameters ignored), or None."""
    return _BY_MEDIA.get(media_type.split(";", 1)[0].strip().lower())


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


#: What RDF files leapsld reads, by suffix (Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD).
READABLE_SUFFIXES: dict[str, pyoxigraph.RdfFormat] = {
    ".ttl": _R.TURTLE,
    ".nt": _R.N_TRIPLES,
    ".nq": _R.N_QUADS,
    ".trig": _R.TRIG,
    ".rdf": _R.RDF_XML,
    ".owl": _R.RDF_XML,
    ".xml": _R.RDF_XML,
    ".jsonld": _R.JSON_LD,
    ".json": _R.JSON_LD,
}
