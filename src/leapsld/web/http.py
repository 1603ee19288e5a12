"""HTTP helpers shared by the blueprints: origin, negotiation from a request, and document
responses with Link alternates, ETag, Last-Modified, conditional GET, gzip and caching headers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import pyoxigraph
from flask import Blueprint, Response, request

from ..errors import BadRequest, NotAcceptable
from ..formats import Format, among
from ..negotiation import Negotiated, accepts_encoding, negotiate
from ..serialization import JSONLD_PROFILES, jsonld_profile
from .memo import MEMO_FLAG
from .site import GZIP_MIN_BYTES, Body, Site

CACHE_CONTROL = "public, max-age=300"
_HIGH_ESCAPE = re.compile(r"%[89A-Fa-f][0-9A-Fa-f]")


def check_query_string(raw: str) -> None:
    """Refuse a query string that is not UTF-8 once its escapes are decoded.

    werkzeug replaces such bytes with U+FFFD, so ``/sparql?query=%FF`` would run another
    query than the one sent. ``raw`` is the WSGI ``QUERY_STRING`` (bytes as Latin-1).

    >>> check_query_string("query=ASK%20%7B%7D&format=json")
    >>> check_query_string("format=json&query=AS%FFK")
    Traceback (most recent call last):
    leapsld.errors.BadRequest: the query string parameter 'query' is not valid UTF-8 at byte 2 of its value
    """
    if raw.isascii() and not _HIGH_ESCAPE.search(raw):
        return
    for pair in raw.split("&"):
        name, _, value = pair.partition("=")
        decoded_name = unquote_to_bytes(name.replace("+", " ").encode("latin-1"))
        shown = decoded_name.decode("utf-8", "replace")[:100]
        for what, part in (("name", decoded_name), ("value", None)):
            if part is None:
                part = unquote_to_bytes(value.replace("+", " ").encode("latin-1"))
            try:
                part.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadRequest(
                    f"the query string parameter {shown!r} is not valid UTF-8 at byte "
                    f"{exc.start} of its {what}"
                ) from None


def origin() -> str:
    """This server's own origin and mount prefix, as the client reached it.

    From the scheme and Host alone: ``request.host_url`` decodes the whole URL, query string
    included, which cost more than a small SPARQL query.
    """
    return f"{request.scheme}://{request.host}{request.script_root}"


def choose(
    offered: Sequence[Format], *, default: Format | None = None, suffix: str | None = None
) -> Negotiated:
    """Negotiate for the current request.

    ``?format=`` (or ``?output=``, as SPARQLWrapper sends), a name or a media type, wins over
    Accept; ``xml``/``json`` mean RDF/XML and JSON-LD where a graph is answered.
    """
    override = request.args.get("format") or request.args.get("output")
    if override and not suffix:
        fmt = among(override, offered)
        if fmt is not None:
            return Negotiated(fmt)
        if request.headers.get("Accept") is None:
            raise NotAcceptable(
                f"format={override!r} is not offered here; offered: "
                + ", ".join(f.name for f in offered),
                offered=[f.media_type for f in offered],
            )
    return negotiate(request.headers.get("Accept"), offered=offered, default=default, suffix=suffix)


@dataclass(frozen=True)
class Offer:
    """What a document is offered in (the default first), and the URL suffixes naming each
    format: every suffix the registry gives each offered format, so that every suffixed URL
    a document advertises (``Link``, ``Content-Location``) answers."""

    formats: tuple[Format, ...]

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Every suffix of every offered format, the longest first (so none hides another)."""
        found = {suffix for f in self.formats for suffix in f.suffixes}
        return tuple(sorted(found, key=lambda suffix: (-len(suffix), suffix)))

    def split(self, path: str) -> tuple[str, str | None]:
        """``org/esrf.ttl`` → (``org/esrf``, ``.ttl``) when the suffix names an offered format.

        >>> from leapsld.formats import of_kind
        >>> Offer(of_kind("graph")).split("org/esrf.ttl")
        ('org/esrf', '.ttl')
        """
        for suffix in self.suffixes:
            if path.endswith(suffix):
                return path[: -len(suffix)], suffix
        return path, None

    def route(
        self, blueprint: Blueprint, rule: str, **options: Any
    ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        """Register a view at ``rule`` and at ``rule`` plus each suffix, which the view gets
        as its ``suffix`` argument (None at ``rule`` itself)."""
        choices = ", ".join(f"'{suffix}'" for suffix in self.suffixes)

        def register(view: Callable[..., Response]) -> Callable[..., Response]:
            blueprint.route(f"{rule}<any({choices}):suffix>", **options)(view)
            blueprint.route(rule, **options)(view)
            return view

        return register


def alternates(
    path: str, formats: Sequence[Format], answered: Format, *, query: str = ""
) -> list[str]:
    """The ``Link`` alternates a stock client can read, for a response in ``answered``.

    JSON-LD 1.1 §6.2: a processor that receives a non-JSON document follows its
    ``rel="alternate"`` link of type ``application/ld+json``. pyld's loader breaks on a
    repeated rel (it gets a list), and with the ``profile`` parameter both pyld and jsonld.js
    treat a JSON-LD answer as non-JSON and follow the link again. So: one alternate, the JSON-LD
    one, on a non-JSON answer; none on a JSON-LD answer. Every format is still listed where that
    hurts nobody (the HTML page's ``<link>`` elements, VoID).
    """
    if answered.context:
        return []
    return [
        f'<{origin()}{path}{f.suffix}{query}>; rel="alternate"; type="{f.media_type}"'
        for f in formats
        if f.context
    ][:1]


def document(
    site: Site,
    body: Body,
    fmt: Format,
    *,
    negotiated: bool,
    links: Sequence[str] = (),
    content_location: str | None = None,
    memoizable: bool = True,
) -> Response:
    """A cacheable document response; answers conditional GETs with 304 and gzips on demand.

    ``memoizable`` lets the response memo replay it to identical requests (its bytes depend
    only on the dataset version and the request headers the memo keys on).
    """
    data, etag = body.data, body.etag
    use_gzip = len(data) >= GZIP_MIN_BYTES and accepts_encoding(
        request.headers.get("Accept-Encoding"), "gzip"
    )
    if use_gzip:
        data, etag = body.gzipped(), etag + "-gzip"
    response = Response(data, content_type=body.content_type or fmt.content_type)
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    vary = ["Accept-Encoding"]
    if negotiated:
        vary.insert(0, "Accept")
        if content_location:
            response.headers["Content-Location"] = content_location
    response.headers["Vary"] = ", ".join(vary)
    if links:
        response.headers["Link"] = ", ".join(links)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.set_etag(etag)
    if site.dataset.modified is not None:
        response.last_modified = site.dataset.modified
    if memoizable:
        request.environ[MEMO_FLAG] = True
    response.make_conditional(request)  # in place; werkzeug types its return as its own class
    return response


def graph_document(
    site: Site,
    path: str,
    formats: Sequence[Format],
    *,
    name: str,
    triples: Callable[[], list[pyoxigraph.Triple]],
    suffix: str | None,
    page: Callable[[], Body] | None = None,
    origin_dependent: bool = False,
    links: Sequence[str] = (),
    query: str = "",
) -> Response:
    """The one shape of every RDF document view: negotiate (a suffix wins), render once per
    version (``page`` for HTML), and answer with alternates, Content-Location and validators.

    Args:
        path: the document's path without suffix (``/doc/org/esrf``, ``/def``).
        formats: what it is offered in, the default first.
        name: its cache name.
        triples: the graph, computed only when a rendering is not cached yet.
        suffix: the suffix of the request path, if any.
        page: the HTML rendering, when ``formats`` offers HTML.
        origin_dependent: the graph itself names this server's URLs (VoID, the SD).
        links: more ``Link`` values.
        query: the query string that names this document among its pages (``?page=2``), kept
            in its alternates and Content-Location.
    """
    chosen = choose(formats, suffix=suffix)
    fmt = chosen.format
    if fmt.kind == "page" and page is not None:
        body = site.rendered(("html", name, origin()), page)
    else:
        body = site.graph_body(
            name,
            triples,
            fmt,
            origin=origin(),
            profile=chosen.params.get("profile"),
            origin_dependent=origin_dependent,
        )
    # The suffixed URL serves the compacted form only: another profile has no location.
    compacted = jsonld_profile(chosen.params.get("profile")) == JSONLD_PROFILES["compacted"]
    located = not fmt.context or compacted
    return document(
        site,
        body,
        fmt,
        negotiated=suffix is None,
        links=[*alternates(path, formats, fmt, query=query), *links],
        content_location=f"{origin()}{path}{fmt.suffix}{query}" if located else None,
    )
