"""The web layer: only HTTP translation, on top of the core library.

``create_app(settings=None)`` builds the dataset once (parse → infer → validate → store),
keeps it in ``app.extensions["leapsld"]`` and registers the blueprints and the one error
handler.
"""

from __future__ import annotations

import os
from collections.abc import Sized

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ..cache import BoundedCache
from ..dataset import Dataset
from ..pipeline import build
from ..settings import VALIDATED_ENV, Settings
from . import meta, ops, resources, sparql, ui
from .errors import register_error_handlers
from .hosts import UNCHECKED_ENDPOINTS, ForwardedFilter, Hosts
from .http import check_query_string
from .memo import ResponseMemo
from .pages import linkify, web_link
from .site import Site

#: The application ``create_app`` makes, for modules outside the web layer to name its type.
App = Flask


def create_app(settings: Settings | None = None, *, dataset: Dataset | None = None) -> Flask:
    """Build the Flask application serving one dataset.

    Args:
        settings: defaults to ``Settings.from_env()``.
        dataset: an already built dataset (tests, the static export); built from settings if None.

    Raises:
        LoadError, ShapesViolation: the dataset cannot be built; nothing is served.
    """
    settings = settings or Settings.from_env()
    built_here = dataset is None
    if dataset is None:
        dataset = _build(settings)
    app = Flask(__name__)
    # A form-encoded body spells each byte of the query in up to three (%XX).
    app.config.update(MAX_CONTENT_LENGTH=3 * settings.max_query_bytes + 4096, JSON_SORT_KEYS=False)
    cache = BoundedCache[Sized](max_bytes=settings.cache_memory << 20, size=len)
    app.extensions["leapsld"] = Site(dataset, settings, cache=cache)
    if settings.trust_proxy:
        proxied = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
        app.wsgi_app = ForwardedFilter(proxied)  # type: ignore[method-assign]  # Flask's middleware idiom
    memo = ResponseMemo(app.wsgi_app, cache=cache, forwarded=settings.trust_proxy)
    app.extensions["leapsld.memo"] = memo
    # outermost: every request is counted and timed, replays from the memo included
    app.wsgi_app = ops.Measured(memo)  # type: ignore[method-assign]  # Flask's middleware idiom

    for module in (resources, sparql, meta, ui, ops):
        app.register_blueprint(module.blueprint)
    register_error_handlers(app)
    site = app.extensions["leapsld"]
    hosts = Hosts(settings)

    def check_request() -> None:
        if request.endpoint not in UNCHECKED_ENDPOINTS:
            hosts.check(request.host)
        check_query_string(request.environ.get("QUERY_STRING", ""))

    app.jinja_env.filters["web_link"] = web_link
    app.jinja_env.filters["linkify"] = linkify
    # Every page names the dataset it belongs to, as the dataset's own files say.
    app.context_processor(lambda: {"identity": site.identity})
    app.before_request(ops.name_route)
    app.before_request(site.request_started)  # before any check: request_ended counts it out
    app.before_request(check_request)
    app.teardown_request(site.request_ended)
    app.after_request(_cors)
    if built_here:  # this process serves (a worker, or any WSGI server): it will not fork
        warm(app)
    return app


def warm(app: Flask) -> None:
    """Make a serving process ready before its first client: its query threads, its
    background work, Flask's first-request path and each results and graph writer, so that a
    first query costs what the query costs. Only in the process that serves: threads started
    before a fork are lost."""
    client = app.test_client()
    for accept in (
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ):
        client.get(
            "/sparql",
            query_string={"query": WARM_SELECT},
            headers={"Accept": accept},
            environ_base={ops.UNCOUNTED: True},
        ).close()
    for accept in (
        "text/turtle",
        "application/ld+json",
        "application/n-triples",
        "application/rdf+xml",
    ):
        client.get(
            "/sparql",
            query_string={"query": WARM_CONSTRUCT},
            headers={"Accept": accept},
            environ_base={ops.UNCOUNTED: True},
        ).close()


#: Queries that touch no data (``warm`` runs them before the first client).
WARM_SELECT = "SELECT ?x WHERE { VALUES ?x { <urn:leapsld:warm> 1 } }"
WARM_CONSTRUCT = "CONSTRUCT { <urn:leapsld:warm> <urn:leapsld:warm> 1 } WHERE {}"


def _build(settings: Settings) -> Dataset:
    """Build; skip validation only when the parent process validated this very version."""
    validated = os.environ.get(VALIDATED_ENV)
    if validated and settings.validate:
        dataset = build(settings, validate_data=False)
        if dataset.version == validated:
            return dataset
    return build(settings)


#: Pages load only their own stylesheet: nothing inline, nothing from elsewhere.
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'"
EXPOSED = "Link, ETag, Content-Location, Last-Modified, Vary, Content-Disposition, X-SPARQL-Truncated, X-SPARQL-MaxRows"


def _cors(response: Response) -> Response:
    """CORS on every answer: the data is public and read-only."""
    headers = response.headers
    headers.setdefault("Access-Control-Allow-Origin", "*")
    headers.setdefault("Access-Control-Expose-Headers", EXPOSED)
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = headers.get("Allow", "GET, HEAD, OPTIONS")
        headers["Access-Control-Allow-Headers"] = (
            request.headers.get("Access-Control-Request-Headers")
            or "Accept, Content-Type, If-None-Match, If-Modified-Since"
        )
        headers["Access-Control-Max-Age"] = "86400"
    return response
