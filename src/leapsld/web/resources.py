"""Cool URIs: ``/id/…`` things answer 303 to ``/doc/…`` documents, which negotiate.

Also the ontology at its namespace (``/def``) and at each version IRI, earlier ones included
(``/def/<version>``), the shapes (``/shapes``) and the JSON-LD context. An IRI an earlier release
published and this one retired answers 301 to its successor or 410 (``releases.py``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pyoxigraph
from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from ..describe import exists, inverse_counts, kind_of
from ..errors import BadRequest, Gone, NotFound
from ..formats import by_suffix, of_kind
from ..iris import document_path, iri_for_path, iri_problem, local_url, path_for_iri
from ..namespaces import RDF_TYPE
from ..publish import HYDRA
from ..reference import has_version, ontology_reference
from ..serialization import short
from .http import CACHE_CONTROL, Offer, document, graph_document, origin
from .pages import graph_page, resource_view, web_link
from .site import Body, Site, current_site

blueprint = Blueprint("resources", __name__)

#: What a document offers, in the order a client with no preference gets them.
DOCUMENT = Offer((*of_kind("graph"), *of_kind("page"), *of_kind("dataset")))
#: The shapes are offered as RDF graphs only.
SHAPES = Offer((*of_kind("graph"), *of_kind("page")))


@blueprint.route("/id/<path:rest>", methods=["GET", "HEAD"])
def thing(rest: str) -> BaseResponse:
    """A thing is not a document: 303 See Other to the document that describes it."""
    name, suffix = DOCUMENT.split(rest)
    s = current_site()
    if not exists(s.dataset.store, _iri(s, f"id/{name}")):
        retired = _retired(s, f"id/{name}", suffix)
        if retired is None:
            raise _not_found(s, name)
        return retired
    response = redirect(f"{origin()}/doc/{name}{suffix or ''}", code=303)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@blueprint.route("/doc/<path:rest>", methods=["GET", "HEAD"])
def doc(rest: str) -> BaseResponse:
    """The document about ``/id/{rest}``, in the negotiated (or suffixed) format."""
    s = current_site()
    name, suffix = DOCUMENT.split(rest)
    if not exists(s.dataset.store, _iri(s, f"id/{name}")):
        retired = _retired(s, f"id/{name}", suffix, document=True)
        if retired is None:
            raise _not_found(s, name)
        return retired
    return _description(
        s,
        f"id/{name}",
        f"/doc/{name}",
        suffix,
        links=[f'<{origin()}/id/{name}>; rel="describes"'],
    )


def _retired(
    s: Site, local: str, suffix: str | None, *, document: bool = False
) -> BaseResponse | None:
    """What became of ``{base}{local}`` if an earlier release published it: 301 to its
    successor (its document, for a document request), or 410 Gone; None if it was never retired.
    """
    iri = iri_for_path(s.base, local)
    fate = s.identity.releases.fate(iri)
    if fate is None:
        return None
    if fate.successor is None:
        raise Gone(f"{iri} was published by an earlier release and retired: {fate.reason}")
    path = path_for_iri(s.base, fate.successor)
    if path is None:
        target = fate.successor
    else:
        target = f"{origin()}{document_path(path) if document else path}{suffix or ''}"
    response = redirect(target, code=301)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _iri(s: Site, local: str) -> str:
    """The IRI a request path stands for; a path no IRI can have names nothing (404), and
    the engine is never asked about it."""
    iri = iri_for_path(s.base, local)
    problem = iri_problem(iri)
    if problem is not None:
        raise NotFound(f"no resource has this IRI: {problem}; see {origin()}/")
    return iri


def _description(
    s: Site, local: str, path: str, suffix: str | None, *, links: list[str] | None = None
) -> Response:
    """The description of ``{base}{local}`` as the document at ``path``: one page of it.

    Links *to* a resource come ``MAX_INVERSE`` a page (``?page=2``, …): a page that is not the
    whole description says so with ``Link: rel="next"``/``"prev"`` and Hydra's paging terms in
    the document itself, so a harvester can tell a complete description from a cut one.
    """
    iri = iri_for_path(s.base, local)
    number = _page_number()
    described = s.description(iri, number)
    here = f"{origin()}{path}{suffix or ''}"
    paging: list[pyoxigraph.Triple] = []
    links = list(links or ())
    if number > 1 or described.more:
        view = pyoxigraph.NamedNode(f"{here}?page={number}" if number > 1 else here)
        paging.append(pyoxigraph.Triple(view, _N(RDF_TYPE), _N(HYDRA + "PartialCollectionView")))
        paging.append(pyoxigraph.Triple(view, _N(HYDRA + "first"), _N(here)))
        if described.more:
            following = f"{here}?page={number + 1}"
            paging.append(pyoxigraph.Triple(view, _N(HYDRA + "next"), _N(following)))
            links.append(f'<{following}>; rel="next"')
        if number > 1:
            previous = f"{here}?page={number - 1}" if number > 2 else here
            paging.append(pyoxigraph.Triple(view, _N(HYDRA + "previous"), _N(previous)))
            links.append(f'<{previous}>; rel="prev"')
    triples = [*described.triples, *paging]
    return graph_document(
        s,
        path,
        DOCUMENT.formats,
        name=f"describe:{iri}:{number}",
        triples=lambda: triples,
        suffix=suffix,
        page=lambda: _resource_page(
            s, iri, f"{origin()}{path}", triples, number=number, more=described.more
        ),
        origin_dependent=bool(paging),
        links=links,
        query=f"?page={number}" if number > 1 else "",
    )


def _page_number() -> int:
    """The ``?page=`` of a description (1 when absent).

    Raises:
        BadRequest: it is not a whole number from 1.
    """
    raw = request.args.get("page", "1")
    if not _PAGE.fullmatch(raw):
        raise BadRequest(f"page={raw!r}: pages are numbered 1, 2, 3, …")
    return int(raw)


_N = pyoxigraph.NamedNode
#: A page number as a client writes it: ASCII digits, from 1 (``str.isdigit`` takes ``²``).
_PAGE = re.compile(r"[1-9][0-9]{0,8}")


def _not_found(s: Site, name: str) -> NotFound:
    """A 404 that says what is known instead: things of the same kind, and where to search."""
    kind = kind_of(name)
    found = s.suggestions(kind) if kind else s.suggestions(name) or s.suggestions("")
    known = [local_url(origin(), s.base, iri) for iri in found]
    hint = f" Known {kind or name} resources include: {', '.join(known)}." if known else ""
    return NotFound(
        f"nothing is known about {s.base}id/{name}.{hint} "
        f"Browse {origin()}/ or search with SPARQL at {origin()}/sparql."
    )


def _resource_page(
    s: Site,
    iri: str,
    url: str,
    triples: list[pyoxigraph.Triple],
    *,
    number: int = 1,
    more: bool = False,
) -> Body:
    view = resource_view(
        iri,
        triples,
        origin=origin(),
        base=s.base,
        prefixes=s.prefixes,
        terms=s.terms,
        page_url=url,
    )
    for t in view.types:
        if t.iri:
            t.href = f"{origin()}/browse?class={quote(t.iri, safe='')}"
    counts, _complete = inverse_counts(s.dataset.store, iri)
    view.inverse_counts = counts
    pager = None
    if number > 1 or more:
        pager = {
            "number": number,
            "previous": (f"{url}?page={number - 1}" if number > 2 else url) if number > 1 else None,
            "next": f"{url}?page={number + 1}" if more else None,
        }
    html = render_template(
        "resource.html", view=view, formats=of_kind("graph"), path=url, pager=pager
    )
    return Body(html.encode())


@blueprint.route("/graph/<path:rest>", methods=["GET", "HEAD"])
def graph(rest: str) -> BaseResponse:
    """A named graph: what it is, where it comes from, and its triples (or its dump)."""
    s = current_site()
    name, suffix = DOCUMENT.split(rest)
    graph_iri = _iri(s, f"graph/{name}")
    if graph_iri not in s.dataset.served_graphs:
        if not exists(s.dataset.store, graph_iri):
            retired = _retired(s, f"graph/{name}", suffix)
            if retired is not None:
                return retired
            raise NotFound(
                f"no graph {graph_iri} is served here; the graphs are listed at {origin()}/sparql"
            )
        return _description(s, f"graph/{name}", f"/graph/{name}", suffix)
    return graph_document(
        s,
        f"/graph/{name}",
        DOCUMENT.formats,
        name=f"graph:{graph_iri}",
        triples=lambda: s.graph_document(graph_iri, origin()),
        suffix=suffix,
        page=lambda: _resource_page(
            s, graph_iri, f"{origin()}/graph/{name}", s.graph_document(graph_iri, origin())
        ),
        origin_dependent=True,
    )


@blueprint.route("/def/<version>", methods=["GET", "HEAD"])
def ontology_version(version: str) -> Response:
    """The ontology's version IRI answers with the ontology: the current one as ``/def`` does,
    an earlier one as it was published (its graph, kept in ``releases/ontology/``)."""
    s = current_site()
    version, suffix = DOCUMENT.split(version)
    wanted = _iri(s, f"def/{version}")
    if has_version(
        s.dataset.store,
        wanted,
        ontology_graphs=s.dataset.ontology_graphs,
        runner=s.queries,
        client=request.remote_addr or "",
    ):
        return ontology(suffix)
    earlier = s.identity.releases.ontology(wanted)
    if earlier is None:
        raise NotFound(f"{wanted} is no version of the ontology served here; see {origin()}/def")
    return graph_document(
        s,
        f"/def/{version}",
        SHAPES.formats,
        name=f"def:{wanted}",
        triples=lambda: list(earlier.triples),
        suffix=suffix,
    )


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
    here = origin()
    anchors = {e.iri: e.anchor for e in (*reference.classes, *reference.properties)}
    html = render_template(
        "ontology.html",
        ref=reference,
        origin=here,
        formats=of_kind("graph"),
        anchors=anchors,
        labels={**s.terms, **{e.iri: e.label for e in reference.classes if e.label}},
        link=lambda iri: web_link(local_url(here, s.base, iri)),
        short=lambda iri: short(pyoxigraph.NamedNode(iri), s.prefixes),
    )
    return Body(html.encode())


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
        page=lambda: graph_page(
            s,
            "Shapes",
            "The SHACL shapes every version of the data is validated against.",
            s.graph_triples(s.dataset.shapes_graphs, store=s.dataset.shapes_store),
            f"{origin()}/shapes",
            SHAPES.formats,
        ),
    )


@blueprint.route("/context.jsonld", methods=["GET", "HEAD"])
def context() -> Response:
    """The curated JSON-LD context every compact document names in its body."""
    s = current_site()
    body = s.rendered(
        ("context",),
        lambda: Body(json.dumps({"@context": s.context}, indent=2).encode()),
    )
    fmt = by_suffix(".jsonld")
    assert fmt is not None
    response = document(s, body, fmt, negotiated=False)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
