"""A response memo in front of Flask for documents, the server's hot path.

A document's bytes and headers depend only on the dataset version (fixed for the life of the
app) and on a few request headers. So the first full answer to a request is kept, keyed by
exactly the inputs that shaped it, and later identical requests get it back without going
through Flask's routing, negotiation and response building. Conditional requests (which answer
304 or not depending on the client's validator) always go through the app.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

#: Set by a view in ``request.environ`` when its answer may be replayed for the same key.
MEMO_FLAG = "leapsld.memoizable"

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
    cached = _DATE_CACHE
    if cached[0] != second:
        cached[:] = [second, formatdate(second, usegmt=True)]
    return cached[1]  # type: ignore[return-value]


_DATE_CACHE: list[object] = [0, ""]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ResponseMemo:
    """WSGI middleware replaying memoized ``200`` answers to identical GET/HEAD requests."""

    def __init__(self, app: WSGIApp, *, max_entries: int = 20_000, max_bytes: int = 256 << 20):
        self.app = app
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: dict[tuple[str, ...], tuple[str, list[tuple[str, str]], bytes]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def key(self, environ: dict[str, Any]) -> tuple[str, ...] | None:
        """The request's key, or None when it must not be memoized (not GET/HEAD, conditional)."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if any(name in environ for name in _CONDITIONAL):
            return None
        return tuple(str(environ.get(name, "")) for name in (*_KEYED, *_FORWARDED))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        key = self.key(environ)
        if key is None:
            return self.app(environ, start_response)
        hit = self._entries.get(key)
        if hit is not None:
            status, headers, body = hit
            start_response(status, [*headers, ("Date", _now())])
            return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]
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
        self._remember(key, captured[-1][0], captured[-1][1], body)
        return [body]

    def _remember(
        self, key: tuple[str, ...], status: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        with self._lock:
            if key in self._entries or len(body) > self.max_bytes // 16:
                return
            while self._entries and (
                len(self._entries) >= self.max_entries or self._size + len(body) > self.max_bytes
            ):
                oldest = next(iter(self._entries))
                self._size -= len(self._entries.pop(oldest)[2])
            headers = [(k, v) for k, v in headers if k.lower() != "date"]
            self._entries[key] = (status, headers, body)
            self._size += len(body)

    def __len__(self) -> int:
        return len(self._entries)
