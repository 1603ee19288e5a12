"""Every error becomes one response shape (RFC 9457 problem details), mapped here only.

``LeapsError`` subclasses carry their HTTP status; werkzeug's own HTTP errors (unknown route,
wrong method, body too large) take the same shape. Browsers asking for HTML get a page.
"""

from __future__ import annotations

import json

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from .. import metrics
from ..errors import LeapsError, NotAcceptable, QueryTimeout
from ..formats import of_kind
from ..negotiation import negotiate

#: What an error is offered in: problem details first (for clients with no preference), then
#: the page a browser asking for HTML gets.
ERROR_FORMATS = (*of_kind("problem"), *of_kind("page"))


def _wants_html() -> bool:
    """Whether the client prefers the HTML page, by the one negotiation every response uses;
    an Accept header that cannot be read or that accepts neither gets problem details (an
    error must not raise another)."""
    try:
        chosen = negotiate(request.headers.get("Accept"), offered=ERROR_FORMATS)
    except LeapsError:
        return False
    return chosen.format.kind == "page"


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """A problem-details response (JSON, or HTML for a browser)."""
    if _wants_html():
        body = render_template("error.html", status=status, title=title, detail=detail, extra=extra)
        response = Response(body, status=status, mimetype="text/html")
    else:
        payload = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        payload.update({k: v for k, v in extra.items() if v is not None})
        response = Response(
            json.dumps(payload, ensure_ascii=False, indent=2) + "\n",
            status=status,
            content_type="application/problem+json; charset=utf-8",
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def _leaps_error(exc: LeapsError) -> Response:
    extra = {k: v for k, v in exc.to_dict().items() if k not in ("error", "status", "message")}
    response = problem(exc.http_status, exc.title, exc.message, **extra)
    if isinstance(exc, NotAcceptable):
        response.headers["Vary"] = "Accept"
    if isinstance(exc, QueryTimeout):
        metrics.QUERY_TIMEOUTS.inc()
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _http_error(exc: HTTPException) -> Response:
    response = problem(exc.code or 500, exc.name, exc.description or exc.name)
    if exc.code == 405 and exc.response is None:
        valid = getattr(exc, "valid_methods", None)
        if valid:
            response.headers["Allow"] = ", ".join(valid)
    return response


def register_error_handlers(app: Flask) -> None:
    """Map ``LeapsError`` and HTTP errors to problem responses."""
    app.register_error_handler(LeapsError, _leaps_error)
    app.register_error_handler(HTTPException, _http_error)
