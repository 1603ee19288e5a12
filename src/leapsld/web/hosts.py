"""Which ``Host`` a request may name, and which forwarded headers a trusted proxy may set.

Every link a document holds is written on the origin the client reached (``http.origin``), so
the ``Host`` header ends up in bodies, ``Link`` and ``Location`` headers and cached replays. As
Django does with ``ALLOWED_HOSTS``, only the hosts this server answers for are served: by
default the address it is bound to, the loopback names and the base IRI's host (a server
published at its own base IRI needs no setting); ``LEAPSLD_ALLOWED_HOSTS`` lists others
(``data.example.org``, ``.example.org`` for it and its subdomains, ``*`` for any). Any other
``Host`` is a 400 naming the setting.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ..errors import BadRequest
from ..settings import Settings

#: Where the server answers whatever ``Host`` a request names: probes and scrapers reach it
#: by address, and these answers hold no link.
UNCHECKED_ENDPOINTS = frozenset({"ops.health", "ops.ready", "ops.metrics"})
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_WILDCARD = ("", "0.0.0.0", "::", "[::]")
_HOST = re.compile(r"^(?:[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\.?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$")
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$")
_PORT = re.compile(r"^[0-9]{1,5}$")


class Hosts:
    """The hosts one server answers for (``None``: any)."""

    def __init__(self, settings: Settings) -> None:
        names = [n.strip().lower() for n in settings.allowed_hosts.split(",") if n.strip()]
        self.configured = bool(names)
        if "*" in names:
            self.names: frozenset[str] | None = None
            return
        if not names:
            names = [*_LOOPBACK, _bracketed(settings.host.lower())]
            base_host = urlsplit(settings.base_iri).hostname
            if base_host:
                names.append(base_host.lower())
            if settings.host in _WILDCARD:  # every address of this machine: its own names too
                names.extend({socket.gethostname().lower(), socket.getfqdn().lower()})
        self.names = frozenset(n for n in names if n not in _WILDCARD)

    def check(self, host: str) -> None:
        """Raise ``BadRequest`` unless ``host`` (``name[:port]``) is one this server serves."""
        host = host.lower()
        if not _HOST.match(host):
            raise BadRequest(f"the Host header {host[:100]!r} is not a host name")
        if self.names is None:
            return
        name = host if host.endswith("]") else host.rsplit(":", 1)[0] if ":" in host else host
        name = name.rstrip(".")
        if name in self.names or any(
            allowed.startswith(".") and (name == allowed[1:] or name.endswith(allowed))
            for allowed in self.names
        ):
            return
        raise BadRequest(
            f"this server does not answer for the host {name!r}; "
            f"add it to LEAPSLD_ALLOWED_HOSTS (comma-separated, '*' for any)"
        )


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ForwardedFilter:
    """WSGI middleware, in front of werkzeug's ``ProxyFix``: forwarded values that no proxy
    sends are dropped, so that they never reach a link (``X-Forwarded-Proto: javascript``
    made ``javascript://`` links). The proto must be http or https, the port digits, the
    prefix a path; the forwarded host is checked like ``Host`` once ``ProxyFix`` has set it."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for name, valid in (
            ("HTTP_X_FORWARDED_PROTO", lambda v: v.lower() in ("http", "https")),
            ("HTTP_X_FORWARDED_PORT", _PORT.match),
            ("HTTP_X_FORWARDED_PREFIX", _PREFIX.match),
        ):
            value = environ.get(name)
            if value is None:
                continue
            # ProxyFix reads the last value of a list (the one the nearest proxy added)
            last = value.rsplit(",", 1)[-1].strip()
            if not valid(last):
                del environ[name]
        return self.app(environ, start_response)
