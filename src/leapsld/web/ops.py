"""For operators: liveness (``/health``), readiness (``/ready``) and Prometheus ``/metrics``.

None of them is memoized or cached, and none depends on the ``Host`` a probe sends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, request
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric

from .. import metrics
from .memo import ENDPOINT_KEY
from .site import Site, current_site

blueprint = Blueprint("ops", __name__)


def _json(payload: dict[str, object], status: int = 200) -> Response:
    response = Response(json.dumps(payload) + "\n", status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/health", methods=["GET", "HEAD"])
def health() -> Response:
    """Liveness: 200 while this process answers."""
    return _json({"status": "ok"})


@blueprint.route("/ready", methods=["GET", "HEAD"])
def ready() -> Response:
    """Readiness: 200 once the dataset is loaded and what is derived from it (suggestion
    index, statistics, dumps) is made, so that no route answers ``503 Busy`` for it; else 503."""
    s = current_site()
    parts = s.derived.readiness()
    status = 200 if all(parts.values()) else 503
    payload: dict[str, object] = {
        "status": "ready" if status == 200 else "starting",
        "version": s.version,
        **parts,
    }
    response = _json(payload, status)
    if status != 200:
        response.headers["Retry-After"] = "1"
    return response


@blueprint.route("/metrics", methods=["GET"])
def metrics_view() -> Response:
    """The Prometheus text exposition, summed over every worker of this server."""
    s = current_site()
    body = metrics.exposition(lambda: _live(s))
    response = Response(body, content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _live(s: Site) -> Iterator[Metric]:
    """The gauges read at scrape time: memory, the dataset served, readiness."""
    pss, processes = metrics.tree_memory()
    yield GaugeMetricFamily(
        "leapsld_memory_pss_bytes",
        "Proportional set size of the server's processes together (shared pages counted once).",
        value=pss,
    )
    yield GaugeMetricFamily(
        "leapsld_processes", "Processes of the server counted in the memory.", value=processes
    )
    info = InfoMetricFamily("leapsld_dataset", "The dataset version served.")
    info.add_metric([], {"version": s.version})
    yield info
    yield GaugeMetricFamily("leapsld_dataset_triples", "Quads in the served store.", value=s.quads)
    cache = GaugeMetricFamily(
        "leapsld_cache_entries",
        "Entries in the cache of the worker answering this scrape, by kind.",
        labels=["kind"],
    )
    for kind in ("doc", "memo", "answer"):
        cache.add_metric([kind], s.cache.count(kind))
    yield cache
    yield GaugeMetricFamily(
        "leapsld_cache_bytes",
        "Bytes (keys counted) in the cache of the worker answering this scrape.",
        value=s.cache.bytes,
    )
    yield GaugeMetricFamily(
        "leapsld_cache_max_bytes", "The bound of that cache.", value=s.cache.max_bytes
    )
    yield GaugeMetricFamily(
        "leapsld_ready",
        "1 once derived data is ready (as /ready says).",
        value=1 if all(s.derived.readiness().values()) else 0,
    )


def name_route() -> None:
    """Before each request: name its route for the counters (never the raw path)."""
    request.environ[ENDPOINT_KEY] = request.endpoint or "unmatched"


#: In ``environ``: a request the server makes to itself (``warm``), left out of the counters.
UNCOUNTED = "leapsld.uncounted"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Measured:
    """WSGI middleware, outermost: counts every request by route and status and times it
    to its last byte (replays from the response memo included)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get(UNCOUNTED):
            return self.app(environ, start_response)
        started = time.perf_counter()
        status = ["500"]

        def capture(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = line.split(" ", 1)[0]
            return start_response(line, headers, exc_info)

        def done() -> None:
            route = str(environ.get(ENDPOINT_KEY) or "unmatched")
            method = str(environ.get("REQUEST_METHOD", ""))
            metrics.observe_request(route, method, status[0], time.perf_counter() - started)

        try:
            result = self.app(environ, capture)
        except BaseException:
            done()
            raise
        if isinstance(result, list):
            # A body already in memory (every memo replay) stays a list: the server then
            # writes it in one piece with its length, instead of streaming it in chunks.
            done()
            return result
        return _Finished(result, done)


class _Finished:
    """An answer's body that calls ``done`` once, when it is read to the end or closed."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done: Callable[[], None] | None = done

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:
            self._finish()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()
