"""Prometheus metrics of a server, summed over all its worker processes.

Each process counts into prometheus-client's multiprocess files, in one directory per server
run (``share_between_workers``, called by ``leapsld serve`` before its workers start, removed
when it exits); ``/metrics`` reads every process's files, so any worker answers for them all.
Outside ``leapsld serve`` (tests, another WSGI server) each process counts for itself.

Metrics are made on first use in the process that uses them (after the fork), so the choice
between shared files and process memory is made once the environment is settled. Other
modules count through the objects here: ``QUERY_KILLS.inc()`` where a runaway query is killed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

#: prometheus-client's own variable: where each process writes its values.
DIRECTORY_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The process whose tree ``leapsld_memory_pss_bytes`` measures (the server's main process).
SERVER_PID_ENV = "LEAPSLD_SERVER_PID"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Seconds, from a replayed document (tens of microseconds) to a query at its timeout.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
)

_lock = threading.Lock()
_registry = CollectorRegistry(auto_describe=True)


def shared() -> bool:
    """Whether this process counts into files shared with the server's other processes."""
    return bool(os.environ.get(DIRECTORY_ENV))


def share_between_workers() -> Path:
    """Make this server run's metrics directory (unless the operator named one) for the
    workers this process is about to start; it is removed when this process exits."""
    os.environ[SERVER_PID_ENV] = str(os.getpid())
    given = os.environ.get(DIRECTORY_ENV)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    folder = Path(tempfile.mkdtemp(prefix=f"leapsld-metrics-{os.getpid()}-"))
    os.environ[DIRECTORY_ENV] = str(folder)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked worker that inherited the hook
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder


class _Lazy:
    """A metric made on first use in this process, into the shared files when there are."""

    def __init__(self, make: Callable[[CollectorRegistry | None], Any]) -> None:
        self._make = make
        self._metric: Any = None

    def get(self) -> Any:
        if self._metric is None:
            with _lock:
                if self._metric is None:
                    if shared() and not getattr(values.ValueClass, "_multiprocess", False):
                        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]  # untyped in prometheus-client
                    self._metric = self._make(None if shared() else _registry)
        return self._metric

    def labels(self, *args: str, **kwargs: str) -> Any:
        return self.get().labels(*args, **kwargs)

    def inc(self, amount: float = 1.0) -> None:
        self.get().inc(amount)


REQUESTS = _Lazy(
    lambda r: Counter(
        "leapsld_http_requests",
        "HTTP requests answered, by route (the view's name), method and status.",
        ["route", "method", "status"],
        registry=r,
    )
)
LATENCY = _Lazy(
    lambda r: Histogram(
        "leapsld_http_request_duration_seconds",
        "Time from a request's arrival to its last byte, by route.",
        ["route"],
        buckets=LATENCY_BUCKETS,
        registry=r,
    )
)
QUERY_TIMEOUTS = _Lazy(
    lambda r: Counter(
        "leapsld_query_timeouts", "SPARQL queries answered 503 at their time limit.", registry=r
    )
)
QUERY_KILLS = _Lazy(
    lambda r: Counter(
        "leapsld_query_kills",
        "Runaway SPARQL queries stopped by killing the process that ran them.",
        registry=r,
    )
)
ANSWERS = _Lazy(
    lambda r: Counter(
        "leapsld_sparql_answers",
        "SPARQL answers made by the view, by source: 'kept' (the answer memo, the query not "
        "run) or 'run' (replays of identical GETs by the response memo are not counted here).",
        ["source"],
        registry=r,
    )
)
_ALL = (REQUESTS, LATENCY, QUERY_TIMEOUTS, QUERY_KILLS, ANSWERS)
_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})


def observe_request(route: str, method: str, status: str, seconds: float) -> None:
    """Count one answered request (labels bounded: a route name, four methods, a status)."""
    method = method if method in _METHODS else "other"
    REQUESTS.labels(route, method, status).inc()
    LATENCY.labels(route).observe(seconds)


def exposition(live: Callable[[], Iterable[Metric]]) -> bytes:
    """The text exposition of every process's counters and of ``live`` (gauges read now)."""
    for metric in _ALL:
        metric.get()  # a counter nobody has touched yet still shows, at 0
    if shared():
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]  # untyped in prometheus-client
    else:
        counted = _registry
    now = CollectorRegistry()
    now.register(_Live(live))
    return generate_latest(counted) + generate_latest(now)


class _Live:
    """A collector of values read at scrape time."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self.collect = collect


# Memory: PSS of the process tree ---------------------------------------------------------


def server_pid() -> int:
    """The server's main process (set by ``share_between_workers``), else this process."""
    try:
        pid = int(os.environ.get(SERVER_PID_ENV, ""))
    except ValueError:
        return os.getpid()
    return pid if Path(f"/proc/{pid}").exists() else os.getpid()


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: read after its last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        tree.append(pid)
        frontier.extend(children.get(pid, ()))
    return tree


def pss_bytes(pid: int) -> int | None:
    """The proportional set size of one process (shared pages split among their users)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def tree_memory(root: int | None = None) -> tuple[int, int]:
    """The PSS summed over the server's process tree, and how many processes were counted."""
    total = counted = 0
    for pid in process_tree(server_pid() if root is None else root):
        pss = pss_bytes(pid)
        if pss is not None:
            total += pss
            counted += 1
    return total, counted
