"""Document routes built from the registry: every URL a document advertises answers, in the
format it is advertised as."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pyoxigraph
import pytest
from pyld import jsonld

from leapsld.formats import FORMATS, by_media_type, of_kind
from leapsld.web.http import Offer
from leapsld.web.meta import VOID
from leapsld.web.resources import DOCUMENT, SHAPES

#: Where the crawl starts: each document, and the SPARQL Service Description.
STARTS = ["/def", "/shapes", "/void", "/doc/org/esrf", "/sparql"]
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="alternate"\s*;\s*type="([^"]*)"')


def _local(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc in ("", "localhost"), url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _advertised(client, path: str) -> set[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    """(URL, media type, Accept to send) of every ``Link: rel="alternate"`` of ``path`` and of
    the ``Content-Location`` it answers with for each type it offers; a negotiated answer
    that names no location (the Service Description) is fetched again with its Accept."""
    plain = client.get(path)
    assert plain.status_code == 200, path
    links = _LINK.findall(plain.headers.get("Link", ""))
    found = {(url, media_type, None) for url, media_type in links}
    offered = {plain.mimetype, *(media_type for _, media_type in links)}
    if path == "/sparql":  # the Service Description names no alternates: ask for each type
        offered |= {f.media_type for f in of_kind("graph", "dataset")}
    for media_type in offered:
        response = client.get(path, headers={"Accept": media_type})
        assert response.status_code == 200, (path, media_type)
        assert response.mimetype == media_type, (path, media_type)
        location = response.headers.get("Content-Location")
        found.add((location, media_type, None) if location else (path, media_type, media_type))
    return found


def _parses(client, data: bytes, media_type: str) -> None:  # type: ignore[no-untyped-def]
    """``data`` reads as ``media_type``: RDF by pyoxigraph, JSON-LD by pyld (its context
    fetched from this server), HTML by the standard library's parser."""
    fmt = by_media_type(media_type)
    assert fmt is not None, media_type
    if fmt.context:

        def loader(url: str, options: object = None) -> dict[str, object]:
            context = client.get(_local(url))
            assert context.status_code == 200, url
            return {"contextUrl": None, "documentUrl": url, "document": context.get_json()}

        nquads = jsonld.to_rdf(
            json.loads(data), {"format": "application/n-quads", "documentLoader": loader}
        )
        assert list(pyoxigraph.parse(nquads.encode(), format=pyoxigraph.RdfFormat.N_QUADS))
    elif fmt.rdf_format is not None:
        assert list(pyoxigraph.parse(data, format=fmt.rdf_format)), media_type
    else:
        assert fmt.kind == "page", media_type
        parser = HTMLParser()
        parser.feed(data.decode())
        assert data.lstrip().lower().startswith(b"<!doctype html")


@pytest.mark.parametrize("start", STARTS)
def test_every_advertised_url_answers_in_its_type(client, start: str) -> None:  # type: ignore[no-untyped-def]
    advertised = _advertised(client, start)
    assert advertised
    for url, media_type, accept in sorted(advertised, key=str):
        response = client.get(_local(url), headers={"Accept": accept} if accept else {})
        assert response.status_code == 200, (start, url)
        assert response.mimetype == media_type, (start, url)
        _parses(client, response.get_data(), media_type)


def test_def_answers_at_every_suffix_it_advertises(client) -> None:  # type: ignore[no-untyped-def]
    """``/def`` offers TriG and N-Quads (its Content-Location names ``/def.trig``): the suffixed
    URLs answer (they were 404 while advertised)."""
    for suffix, media_type in ((".trig", "application/trig"), (".nq", "application/n-quads")):
        assert client.get(f"/def{suffix}").mimetype == media_type
    located = client.get("/def", headers={"Accept": "application/trig"})
    assert located.headers["Content-Location"] == "http://localhost/def.trig"


@pytest.mark.parametrize("offer", [DOCUMENT, SHAPES, VOID], ids=["document", "shapes", "void"])
def test_offer_routes_every_suffix_of_its_formats(offer: Offer) -> None:
    assert set(offer.suffixes) == {s for f in offer.formats for s in f.suffixes}
    for fmt in offer.formats:
        for suffix in fmt.suffixes:
            assert offer.split(f"org/esrf{suffix}") == ("org/esrf", suffix)
    assert offer.split("org/esrf") == ("org/esrf", None)
    assert offer.split("org/esrf.csv") == ("org/esrf.csv", None)


@pytest.mark.parametrize(
    ("path", "offer"),
    [("/def", DOCUMENT), ("/shapes", SHAPES), ("/void", VOID), ("/doc/org/esrf", DOCUMENT)],
)
def test_every_suffix_of_an_offered_format_answers(client, path: str, offer: Offer) -> None:  # type: ignore[no-untyped-def]
    for fmt in offer.formats:
        for suffix in fmt.suffixes:
            response = client.get(path + suffix)
            assert response.status_code == 200, path + suffix
            assert response.mimetype == fmt.media_type, path + suffix
    others = [f for f in FORMATS if f not in offer.formats and f.kind in ("results", "text")]
    for fmt in others:
        assert client.get(path + fmt.suffix).status_code in (404, 406), path + fmt.suffix


def test_a_thing_redirects_with_any_suffix_of_a_document_format(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/org/esrf.trig")
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/doc/org/esrf.trig"
