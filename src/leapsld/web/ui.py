"""Pages for people: the home page, class pages, search, the query editor, and the files
crawlers read (``sitemap.xml``, ``robots.txt``)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from ..errors import BadRequest, NotFound
from ..formats import by_name, of_kind
from ..iris import local_url
from ..publish import existing_examples
from ..reference import humanise
from ..search import PAGE_SIZE, SEARCH_LIMIT
from ..sitemap import PER_FILE, files_needed, index, robots, urlset
from .http import document, origin
from .pages import web_link
from .site import Body, Site, current_site

blueprint = Blueprint("ui", __name__)

#: The query editor runs YASGUI, which sets styles from script and talks to /sparql: its page
#: alone allows that much more than every other page (which load nothing but their stylesheet).
EDITOR_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'"
)
#: The most characters a search may be (a label search needs no essay).
MAX_SEARCH = 200


def _class_label(s: Site, iri: str) -> str:
    views = s.identity.views
    for entry in views.entries if views else ():
        if entry.iri == iri:
            return entry.label
    return s.terms.get(iri) or humanise(iri)


def _lastmod(s: Site) -> str | None:
    if s.identity.modified is not None:
        return s.identity.modified.value[:10]
    return s.dataset.modified.date().isoformat() if s.dataset.modified else None


@blueprint.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    """What the dataset is (title, source, licence, version, date, counts), its ways in by
    kind, its pictures, and its machine entry points."""
    s = current_site()

    def render() -> Body:
        here = origin()
        labels = s.labels
        views = s.identity.views

        def named(iri: str) -> tuple[str, str | None]:
            return labels.label(iri) or iri, web_link(local_url(here, s.base, iri))

        entries = [(entry, labels.count(entry.iri)) for entry in (views.entries if views else ())]
        classes = sorted(
            ((_class_label(s, cls), cls, n) for cls, n in s.stats.classes.items()),
            key=lambda item: item[0].casefold(),
        )
        html = render_template(
            "home.html",
            stats=s.stats,
            examples=[named(iri) for iri in existing_examples(s.dataset)],
            sources=[named(iri) for iri in s.identity.sources],
            publisher=named(s.identity.publisher) if s.identity.publisher else None,
            entries=entries,
            classes=classes,
            drawings=s.drawings,
            pictures=views.pictures if views else (),
            date=_lastmod(s),
            origin=here,
            dataset=s.dataset,
        )
        return Body(html.encode())

    body = s.rendered(("home", origin()), render)
    links = [f'<{origin()}/.well-known/void>; rel="describedby"; type="text/turtle"']
    return document(s, body, by_name("html"), negotiated=False, links=links)


@blueprint.route("/browse", methods=["GET", "HEAD"])
def browse() -> Response:
    """One page of a class's members in label order, ``?after=`` the last one shown."""
    s = current_site()
    cls = request.args.get("class", "")
    after = request.args.get("after") or None
    if not cls:
        raise BadRequest("name a class: /browse?class=<IRI>")
    labels = s.labels
    try:
        members, following = labels.members(cls, after=after, limit=PAGE_SIZE)
    except KeyError:
        raise NotFound(f"{after} is not a member of <{cls}>; start at the first page") from None
    if not members and after is None:
        raise NotFound(
            f"nothing here is of the class <{cls}>; the classes are listed at {origin()}/"
        )

    def render() -> Body:
        here = origin()
        html = render_template(
            "browse.html",
            cls=cls,
            label=_class_label(s, cls),
            count=labels.count(cls),
            members=[(m, web_link(local_url(here, s.base, m.iri))) for m in members],
            following=following,
            first=after is None,
            origin=here,
        )
        return Body(html.encode())

    body = s.rendered(("browse", cls, after, origin()), render)
    return document(s, body, by_name("html"), negotiated=False)


@blueprint.route("/search", methods=["GET", "HEAD"])
def search() -> Response:
    """Resources whose label holds every word searched for, from the per-version index."""
    s = current_site()
    text = request.args.get("q", "").strip()
    if len(text) > MAX_SEARCH:
        raise BadRequest(f"a search is at most {MAX_SEARCH} characters")
    here = origin()
    hits = s.labels.search(text, limit=SEARCH_LIMIT) if text else []
    html = render_template(
        "search.html",
        text=text,
        hits=[
            (h, web_link(local_url(here, s.base, h.iri)), [_class_label(s, t) for t in h.types])
            for h in hits
        ],
        limit=SEARCH_LIMIT,
        origin=here,
    )
    response = document(s, Body(html.encode()), by_name("html"), negotiated=False)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.route("/query", methods=["GET", "HEAD"])
def query_editor() -> Response:
    """The query editor, also at ``/query`` (where ``?query=`` fills the editor instead of
    running the query, as a link to a query should)."""
    s = current_site()
    return editor(s, request.args.get("query") or s.identity.example_query)


def editor(s: Site, example: str, *, negotiated: bool = False) -> Response:
    """The query editor (YASGUI) on this endpoint, with the dataset's example queries a
    click away and links to every results format: what a browser gets at ``/sparql``."""
    here = origin()
    html = render_template(
        "editor.html",
        origin=here,
        example=example,
        examples=s.identity.queries,
        formats=of_kind("results"),
        graph_formats=of_kind("graph"),
        prefixes=s.prefixes,
        base=s.base,
    )
    response = document(
        s, Body(html.encode()), by_name("html"), negotiated=negotiated, memoizable=False
    )
    response.headers["Content-Security-Policy"] = EDITOR_CSP
    return response


@blueprint.route("/robots.txt", methods=["GET", "HEAD"])
def robots_txt() -> Response:
    response = Response(robots(origin()), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.route("/sitemap.xml", methods=["GET", "HEAD"])
def sitemap() -> Response:
    """Every page worth a visit: the home page, the ontology, the class pages and every
    resource; an index of numbered files past ``PER_FILE`` URLs. Made once per version."""
    s = current_site()

    def render() -> Body:
        urls = _site_urls(s)
        needed = files_needed(len(urls), per_file=PER_FILE)
        if needed:
            files = [f"{origin()}/sitemap-{n}.xml" for n in range(1, needed + 1)]
            return Body(index(files, lastmod=_lastmod(s)))
        return Body(urlset(urls, lastmod=_lastmod(s)))

    return _xml(s.rendered(("sitemap", origin(), PER_FILE, 0), render).data)


@blueprint.route("/sitemap-<int:number>.xml", methods=["GET", "HEAD"])
def sitemap_file(number: int) -> Response:
    s = current_site()
    urls = _site_urls(s)
    needed = files_needed(len(urls), per_file=PER_FILE)
    if not 1 <= number <= needed:
        raise NotFound(f"no sitemap file {number}; see {origin()}/sitemap.xml")

    def render() -> Body:
        chunk = urls[(number - 1) * PER_FILE : number * PER_FILE]
        return Body(urlset(chunk, lastmod=_lastmod(s)))

    return _xml(s.rendered(("sitemap", origin(), PER_FILE, number), render).data)


def _site_urls(s: Site) -> list[str]:
    here = origin()
    labels = s.labels
    pages = [f"{here}/", f"{here}/def", f"{here}/void", f"{here}/shapes", f"{here}/dumps/"]
    views = s.identity.views
    for entry in views.entries if views else ():
        if labels.count(entry.iri):
            pages.append(f"{here}/browse?class={quote(entry.iri, safe='')}")
    return pages + [local_url(here, s.base, iri) for iri in labels.iris()]


def _xml(data: bytes) -> Response:
    response = Response(data, mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
