"""Cool URIs: ``/id/…`` things answer 303 to ``/doc/…`` documents, which negotiate.

Also the ontology at its namespace (``/def``), the shapes (``/shapes``) and the JSON-LD context.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from ..describe import exists
from ..errors import NotFound
from ..formats import by_suffix, of_kind
from ..iris import iri_for_path, local_url
from ..reference import has_version, ontology_reference
from .http import CACHE_CONTROL, Offer, document, graph_document, origin
from .pages import resource_view
from .site import Body, Site, current_site

blueprint = Blueprint("resources", __name__)

#: What a document offers, in the order a client with no preference gets them.
DOCUMENT = Offer((*of_kind("graph"), *of_kind("page"), *of_kind("dataset")))
#: The shapes are offered as RDF graphs only.
SHAPES = Offer(of_kind("graph"))


@blueprint.route("/id/<path:rest>", methods=["GET", "HEAD"])
def thing(rest: str) -> BaseResponse:
    """A thing is not a document: 303 See Other to the document that describes it."""
    name, suffix = DOCUMENT.split(rest)
    s = current_site()
    if not exists(s.dataset.store, iri_for_path(s.base, f"id/{name}")):
        raise _not_found(s, name)
    response = redirect(f"{origin()}/doc/{name}{suffix or ''}", code=303)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@blueprint.route("/doc/<path:rest>", methods=["GET", "HEAD"])
def doc(rest: str) -> Response:
    """The document about ``/id/{rest}``, in the negotiated (or suffixed) format."""
    s = current_site()
    name, suffix = DOCUMENT.split(rest)
    if not exists(s.dataset.store, iri_for_path(s.base, f"id/{name}")):
        raise _not_found(s, name)
    return _description(
        s,
        f"id/{name}",
        f"/doc/{name}",
        suffix,
        links=[
            f'<{origin()}/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"',
            f'<{origin()}/id/{name}>; rel="describes"',
        ],
    )


def _description(
    s: Site, local: str, path: str, suffix: str | None, *, links: list[str] | None = None
) -> Response:
    """The description of ``{base}{local}`` as the document at ``path``."""
    iri = iri_for_path(s.base, local)
    return graph_document(
        s,
        path,
        DOCUMENT.formats,
        name=f"describe:{iri}",
        triples=lambda: s.description(iri),
        suffix=suffix,
        page=lambda: _resource_page(s, iri, f"{origin()}{path}"),
        links=links or (),
    )


def _not_found(s: Site, name: str) -> NotFound:
    """A 404 that says what is known instead: things of the same kind, and where to search."""
    kind = name.split("/", 1)[0]
    known = [local_url(origin(), s.base, iri) for iri in s.suggestions(kind)]
    hint = f" Known {kind} resources include: {', '.join(known)}." if known else ""
    return NotFound(
        f"nothing is known about {s.base}id/{name}.{hint} "
        f"Browse {origin()}/ or search with SPARQL at {origin()}/sparql."
    )


def _resource_page(s: Site, iri: str, url: str) -> Body:
    triples = s.description(iri)
    view = resource_view(iri, triples, origin=origin(), base=s.base, prefixes=s.prefixes)
    html = render_template("resource.html", view=view, formats=of_kind("graph"), path=url)
    return Body(html.encode(), s.etag("html", origin()))


@blueprint.route("/graph/<path:rest>", methods=["GET", "HEAD"])
def graph(rest: str) -> Response:
    """A named graph that describes itself (one with its own source): its description."""
    s = current_site()
    name, suffix = DOCUMENT.split(rest)
    if not exists(s.dataset.store, iri_for_path(s.base, f"graph/{name}")):
        raise NotFound(
            f"no graph {s.base}graph/{name} describes itself here; "
            f"the graphs are listed at {origin()}/sparql"
        )
    return _description(s, f"graph/{name}", f"/graph/{name}", suffix)


@blueprint.route("/def/<version>", methods=["GET", "HEAD"])
def ontology_version(version: str) -> Response:
    """The ontology's version IRI answers with the ontology (this server serves one version)."""
    s = current_site()
    wanted = iri_for_path(s.base, f"def/{version}")
    if not has_version(
        s.dataset.store,
        wanted,
        ontology_graphs=s.dataset.ontology_graphs,
        runner=s.queries,
        client=request.remote_addr or "",
    ):
        raise NotFound(f"{wanted} is not the version served here; see {origin()}/def")
    return ontology()


@DOCUMENT.route(blueprint, "/def", methods=["GET", "HEAD"])
def ontology(suffix: str | None = None) -> Response:
    """The ontology at its namespace: an HTML reference for people, RDF for machines."""
    s = current_site()
    return graph_document(
        s,
        "/def",
        DOCUMENT.formats,
        name="def",
        triples=lambda: s.graph_triples(s.dataset.ontology_graphs),
        suffix=suffix,
        page=lambda: _ontology_page(s),
    )


def _ontology_page(s: Site) -> Body:
    reference = ontology_reference(
        s.dataset.store,
        s.dataset.shapes_store,
        ontology_graphs=s.dataset.ontology_graphs,
        base=s.base,
    )
    html = render_template(
        "ontology.html", ref=reference, origin=origin(), formats=of_kind("graph")
    )
    return Body(html.encode(), s.etag("html", origin()))


@SHAPES.route(blueprint, "/shapes", methods=["GET", "HEAD"])
def shapes(suffix: str | None = None) -> Response:
    """The SHACL shapes the data is validated against."""
    s = current_site()
    return graph_document(
        s,
        "/shapes",
        SHAPES.formats,
        name="shapes",
        triples=lambda: s.graph_triples(s.dataset.shapes_graphs, store=s.dataset.shapes_store),
        suffix=suffix,
    )


@blueprint.route("/context.jsonld", methods=["GET", "HEAD"])
def context() -> Response:
    """The curated JSON-LD context every compact document names in its body."""
    s = current_site()
    body = s.rendered(
        ("context",),
        lambda: Body(json.dumps({"@context": s.context}, indent=2).encode(), s.etag("context")),
    )
    fmt = by_suffix(".jsonld")
    assert fmt is not None
    response = document(s, body, fmt, negotiated=False)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
