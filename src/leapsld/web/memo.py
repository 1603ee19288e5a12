"""A response memo in front of Flask for documents, the server's hot path.

A document's bytes and headers depend only on the dataset version (fixed for the life of the
app) and on a few request headers. So the first full answer to a request is kept, keyed by
exactly the inputs that shaped it, and later identical requests get it back without going
through Flask's routing, negotiation and response building. Conditional requests (which answer
304 or not depending on the client's validator) always go through the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from ..cache import BoundedCache

#: Set by a view in ``request.environ`` when its answer may be replayed for the same key.
MEMO_FLAG = "leapsld.memoizable"
#: The route (view name) that answered, in ``environ``: kept with a replay, for the counters.
ENDPOINT_KEY = "leapsld.endpoint"

_CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
_KEYED = (
    "PATH_INFO",
    "QUERY_STRING",
    "SCRIPT_NAME",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_ENCODING",
)
_FORWARDED = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)


def _now() -> str:
    """The HTTP date of this second (RFC 9110 §6.6.1: Date says when the answer was made)."""
    second = int(time.time())
    cached_second, date = _DATE_CACHE[0]
    if cached_second != second:
        date = formatdate(second, usegmt=True)
        _DATE_CACHE[0] = (second, date)  # one pair, so a thread never reads half of an update
    return date


_DATE_CACHE: list[tuple[int, str]] = [(0, "")]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Replay:
    """A memoized answer: status, headers (without Date) and body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    endpoint: str = ""

    def __len__(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + len(self.endpoint)


class ResponseMemo:
    """WSGI middleware replaying memoized ``200`` answers to identical GET/HEAD requests.

    Its entries live in the site's one bounded cache (keys tagged ``"memo"``), so documents and
    replays share one memory budget, keys counted.
    """

    def __init__(self, app: WSGIApp, *, cache: BoundedCache[Sized], forwarded: bool = False):
        self.app = app
        self.cache = cache
        #: Behind a trusted proxy the X-Forwarded-* headers shape the answer's links; otherwise
        #: they are ignored by the app, and keying on them would only let a client fill memory.
        self._keyed = (*_KEYED, *_FORWARDED) if forwarded else _KEYED

    def key(self, environ: dict[str, Any]) -> tuple[str, ...] | None:
        """The request's key, or None when it must not be memoized (not GET/HEAD, conditional)."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if any(name in environ for name in _CONDITIONAL):
            return None
        return ("memo", *(str(environ.get(name, "")) for name in self._keyed))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        key = self.key(environ)
        if key is None:
            return self.app(environ, start_response)
        hit = self.cache.get(key)
        if isinstance(hit, Replay):
            environ[ENDPOINT_KEY] = hit.endpoint
            start_response(hit.status, [*hit.headers, ("Date", _now())])
            return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [hit.body]
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.append((status, list(headers)))
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        if not (
            environ.get(MEMO_FLAG)
            and environ["REQUEST_METHOD"] == "GET"
            and captured
            and captured[-1][0].startswith("200")
        ):
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = captured[-1]
        headers = [(k, v) for k, v in headers if k.lower() != "date"]
        endpoint = str(environ.get(ENDPOINT_KEY, ""))
        self.cache.put(key, Replay(status, headers, body, endpoint))
        return [body]

    def __len__(self) -> int:
        return self.cache.count("memo")
