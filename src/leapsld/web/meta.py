"""Dataset metadata: VoID + DCAT at ``/.well-known/void`` (and ``/void``), dumps at ``/dumps/``."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, render_template, send_file

from ..errors import NotFound
from ..formats import by_name, of_kind
from .http import Offer, document, graph_document, origin
from .pages import graph_page
from .site import Body, current_site

blueprint = Blueprint("meta", __name__)

VOID = Offer((*of_kind("graph"), *of_kind("page")))


@blueprint.route("/.well-known/void", methods=["GET", "HEAD"])
@VOID.route(blueprint, "/void", methods=["GET", "HEAD"])
def void(suffix: str | None = None) -> Response:
    """The VoID + DCAT description, its links on this server's origin."""
    s = current_site()
    return graph_document(
        s,
        "/void",
        VOID.formats,
        name="void",
        triples=lambda: s.void(origin()),
        suffix=suffix,
        origin_dependent=True,
        page=lambda: graph_page(
            s,
            f"VoID description of {s.identity.title}",
            "What the dataset holds and where to get it, as machines read it (VoID and DCAT).",
            s.void(origin()),
            f"{origin()}/void",
            VOID.formats,
        ),
    )


@blueprint.route("/dumps/", methods=["GET", "HEAD"])
def dumps_index() -> Response:
    """The list of dumps with sizes and checksums."""
    s = current_site()
    html = render_template("dumps.html", dumps=s.dumps, origin=origin())
    return document(s, Body(html.encode()), by_name("html"), negotiated=False)


@blueprint.route("/dumps/<name>", methods=["GET", "HEAD"])
def dump(name: str) -> Response:
    """One dump file, or its SHA256SUMS."""
    s = current_site()
    known = {d.name: d for d in s.dumps}
    if name == "SHA256SUMS":
        path, mimetype = s.derived.folder / name, "text/plain"
        # the checksums of the dumps: their own checksum changes exactly when one of them does
        etag = hashlib.sha256("".join(d.sha256 for d in s.dumps).encode()).hexdigest()[:24]
    elif name in known:
        path, mimetype = known[name].path, known[name].media_type
        etag = known[name].sha256[:24]
    else:
        raise NotFound(f"no dump named {name!r}; dumps: {', '.join(sorted(known))}, SHA256SUMS")
    response = send_file(
        path,
        mimetype=mimetype,
        etag=etag,
        last_modified=s.dataset.modified,
        conditional=True,
        download_name=name,
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
