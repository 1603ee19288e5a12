"""The browser's entry point: what the dataset holds and where to go from there."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from ..formats import by_name
from ..iris import local_url
from .http import document, origin
from .site import Body, current_site

blueprint = Blueprint("ui", __name__)


@blueprint.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    """Home page: classes with their counts, example resources, and the machine entry points."""
    s = current_site()

    def render() -> Body:
        stats = s.stats
        examples = [
            (iri, local_url(origin(), s.base, iri))
            for iri in (
                f"{s.base}{p}" for p in ("id/org/sesame", "id/project/beats", "id/org/leaps")
            )
        ]
        html = render_template(
            "home.html",
            stats=stats,
            examples=examples,
            origin=origin(),
            dataset=s.dataset,
            prefixes=s.prefixes,
        )
        return Body(html.encode(), s.etag("home", origin()))

    body = s.rendered(("home", origin()), render)
    links = [f'<{origin()}/.well-known/void>; rel="describedby"; type="text/turtle"']
    return document(s, body, by_name("html"), negotiated=False, links=links)
