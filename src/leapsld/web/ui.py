"""The browser's entry point: what the dataset holds and where to go from there."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from ..formats import by_name
from ..iris import local_url
from ..publish import existing_examples
from .http import document, origin
from .site import Body, current_site

blueprint = Blueprint("ui", __name__)


@blueprint.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    """Home page: what the dataset is, its example resources, its entry-point classes and
    pictures (``views.toml``), every class with its count, and the machine entry points."""
    s = current_site()

    def render() -> Body:
        stats = s.stats
        examples = [(iri, local_url(origin(), s.base, iri)) for iri in existing_examples(s.dataset)]
        views = s.identity.views
        publisher = s.identity.publisher
        entries = [
            (entry, stats.classes.get(entry.iri, 0)) for entry in (views.entries if views else ())
        ]
        html = render_template(
            "home.html",
            stats=stats,
            examples=examples,
            entries=entries,
            pictures=views.pictures if views else (),
            publisher=publisher and local_url(origin(), s.base, publisher),
            origin=origin(),
            dataset=s.dataset,
            prefixes=s.prefixes,
        )
        return Body(html.encode())

    body = s.rendered(("home", origin()), render)
    links = [f'<{origin()}/.well-known/void>; rel="describedby"; type="text/turtle"']
    return document(s, body, by_name("html"), negotiated=False, links=links)
