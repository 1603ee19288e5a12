"""One generation of the server: a dataset version and the Granian workers serving it.

A generation is a process the supervisor (``supervisor.py``) forks. It builds and validates one
version, tells the supervisor, forks its workers on the supervisor's listening socket and keeps
them alive: a worker that dies (a crash in the engine, the OOM killer, ``kill -9``) is forked
again from the generation, which still holds the built dataset, so it is back in milliseconds
with nothing to rebuild. A worker that keeps dying is respawned with a growing delay; the
generation never gives up on its own (only its supervisor stops it).

With the memory store the workers inherit the dataset (parsed and validated once); with an
on-disk store the generation closes the store before forking (RocksDB runs threads, and a fork
taken while they hold a lock would block the worker) and each worker reopens it read-only.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import gc
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dataset import Dataset
from .errors import LeapsError, ShapesViolation
from .listener import BACKLOG
from .memory import release_free_memory
from .pipeline import build
from .remote import is_remote
from .rendering import render
from .settings import VALIDATED_ENV, Settings
from .validation import ValidationReport
from .web import App, create_app, warm

#: What each request leaves in the access log (stderr): client, request line, status, time.
#: The query string is left out: a SPARQL query may be a megabyte.
ACCESS_FORMAT = '%(addr)s - "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'

#: Granian's own messages and the access log both go to stderr.
LOG_CONFIG: dict[str, Any] = {
    "handlers": {
        "console": {
            "formatter": "generic",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
    },
}

#: A worker dying sooner than this after its start is in a crash loop: its next start waits.
QUICK_DEATH = 5.0
#: The first wait of a crash loop, doubled at each quick death up to ``LONGEST_WAIT``.
FIRST_WAIT = 0.5
LONGEST_WAIT = 8.0
#: How long a stopping worker may finish the requests it holds before it is killed.
STOP_TIMEOUT = 30.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``LEAPSLD_*`` variables that reproduce ``settings`` in a worker process (a setting
    left unset is left out, so the worker leaves it unset too)."""
    env = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = os.pathsep.join(str(Path(p).resolve()) for p in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"LEAPSLD_{f.name.upper()}"] = str(value)
    return env


def log(message: str) -> None:
    print(f"leapsld: {message}", file=sys.stderr, flush=True)


@dataclass
class Prepared:
    """A dataset built and validated before any worker starts: its summary, and with the
    memory store the dataset itself, for the workers to inherit."""

    version: str
    quads: int
    validated: bool
    dataset: Dataset | None = None


def prepare(settings: Settings) -> Prepared:
    """Build and validate once, before any worker starts.

    With the memory store the built dataset is kept (the workers are forked with it); an
    on-disk store is let go and reopened by each worker.

    Raises:
        LoadError, ShapesViolation: the dataset cannot be served.
    """
    dataset = build(settings)
    prepared = Prepared(dataset.version, len(dataset.store), dataset.conforms is not None)
    if settings.store == "memory" or is_remote(settings.store):
        prepared.dataset = dataset  # (a remote one: its workers share one folder of dumps)
    return prepared


def run_generation(
    settings: Settings, listener: socket.socket, channel: int, serving: str | None
) -> int:
    """Build, then serve with ``settings.workers`` workers until SIGTERM; the exit code.

    Args:
        listener: the supervisor's socket (bound; listening once the data is ready).
        channel: where to tell the supervisor ``built <version> <quads>`` and ``ready``.
        serving: the version the supervisor serves now (None at the start): a build that
            fails says that this one stays in service.

    Returns:
        0 once stopped; 2 when the data cannot be served (its report is on stderr) or the
        workers could not start.
    """
    die_with_parent()
    os.environ.update(settings_env(settings))  # what any code in a worker reads, as here
    try:
        prepared = prepare(settings)
    except LeapsError as exc:
        if isinstance(exc, ShapesViolation):
            assert isinstance(exc.report, ValidationReport)
            sys.stderr.write(render(exc.report, "text"))
        if serving is None:
            hint = " (use --no-validate to override)" if isinstance(exc, ShapesViolation) else ""
            log(f"{exc.message}; not serving{hint}")
        else:
            log(f"reload refused: {exc.message}; still serving version {serving}")
        return 2
    _send(channel, f"built {prepared.version} {prepared.quads}")
    if prepared.validated:
        os.environ[VALIDATED_ENV] = prepared.version
    app = None
    if prepared.dataset is not None:
        app = create_app(settings, dataset=prepared.dataset)
        prepared.dataset = None
    else:
        release_free_memory()  # the on-disk store ``prepare`` built is closed before the fork
    stop = _Stop()
    listener.listen(BACKLOG)
    pool = Workers(settings, listener, app, stop)
    gc.collect()
    gc.freeze()  # keep the shared objects out of the workers' collections: fewer copied pages
    return pool.run(channel)


class _Stop:
    """SIGTERM and SIGINT ask the generation to stop; a byte on a pipe wakes its loop."""

    def __init__(self) -> None:
        self.asked = False
        self.wake, writer = os.pipe()
        os.set_blocking(writer, False)
        signal.set_wakeup_fd(writer)
        signal.signal(signal.SIGTERM, self._ask)
        signal.signal(signal.SIGINT, self._ask)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # reloads are the supervisor's

    def _ask(self, _signum: int, _frame: object) -> None:
        self.asked = True


@dataclass
class _Worker:
    idx: int
    process: Any  # multiprocessing's Process (forked)
    started: float
    ready: bool = False


class Workers:
    """The workers of one generation, on Granian's WSGI worker."""

    def __init__(
        self, settings: Settings, listener: socket.socket, app: App | None, stop: _Stop
    ) -> None:
        from granian._granian import SocketHolder
        from granian.constants import Interfaces, RuntimeModes
        from granian.server.mp import MPServer

        self.settings = settings
        self.app = app
        self.stopping = stop
        # Granian's process server, for its worker (the WSGI worker and its arguments); its
        # own loop, which exits on a crash loop and swaps workers blindly, is not used.
        self.granian: Any = MPServer(
            "leapsld.web:create_app",
            interface=Interfaces.WSGI,
            address=settings.host,
            port=settings.port,
            workers=settings.workers,
            blocking_threads=settings.threads,
            backlog=BACKLOG,
            log_access=settings.access_log,
            log_access_format=ACCESS_FORMAT,
            log_dictconfig=LOG_CONFIG,
        )
        # What Granian.serve would set up; the socket is the supervisor's, shared by every
        # worker of every generation (no SO_REUSEPORT socket per worker, whose queued
        # connections would be reset with it).
        self.granian.runtime_mode = RuntimeModes.mt
        self.granian._ssp = None
        holder: Any = SocketHolder
        self.granian._shd = holder(listener.fileno(), False, BACKLOG)  # (fd, unix socket, backlog)
        self.granian._sso = listener
        self.ready_pipe, self._ready_writer = os.pipe()
        self.workers: dict[int, _Worker] = {}
        self.quick_deaths: dict[int, int] = {}
        self.due: dict[int, float] = {}

    def spawn(self, idx: int) -> None:
        loader = functools.partial(_load_worker, self.app, self.settings, self._ready_writer, idx)
        wrapper = self.granian._spawn_worker(
            idx=idx, target=self.granian._spawn_wsgi_worker, callback_loader=loader
        )
        process = wrapper.inner
        process.start()
        self.workers[idx] = _Worker(idx, process, time.monotonic())

    def run(self, channel: int) -> int:
        stop = self.stopping
        for idx in range(self.settings.workers):
            self.spawn(idx)
        announced = False
        buffer = b""
        while not stop.asked:
            now = time.monotonic()
            timeout = max(0.0, min(self.due.values()) - now) if self.due else None
            sentinels = {w.process.sentinel: w for w in self.workers.values()}
            woken = multiprocessing.connection.wait(
                [*sentinels, self.ready_pipe, stop.wake], timeout
            )
            if stop.wake in woken:
                os.read(stop.wake, 512)
            if self.ready_pipe in woken:
                buffer += os.read(self.ready_pipe, 4096)
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    idx, pid = map(int, line.split())
                    worker = self.workers.get(idx)
                    if worker is not None and worker.process.pid == pid:
                        worker.ready = True
                complete = len(self.workers) == self.settings.workers
                if not announced and complete and all(w.ready for w in self.workers.values()):
                    announced = True
                    pids = " ".join(str(w.process.pid) for w in self.workers.values())
                    _send(channel, f"ready {pids}")
            for sentinel in woken:
                if isinstance(sentinel, int) and sentinel in sentinels:
                    worker = sentinels[sentinel]
                    if not self._died(worker, announced):
                        self.stop()
                        return 2
            now = time.monotonic()
            for idx, when in list(self.due.items()):
                if when <= now and not stop.asked:
                    del self.due[idx]
                    self.spawn(idx)
        self.stop()
        return 0

    def _died(self, worker: _Worker, announced: bool) -> bool:
        """Plan the respawn of a dead worker; False when the generation never got ready."""
        worker.process.join()
        del self.workers[worker.idx]
        code = worker.process.exitcode or 0
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited {code}"
        name = f"worker-{worker.idx + 1} (pid {worker.process.pid})"
        if self.stopping.asked:
            return True
        if not announced:
            log(f"{name} {how} before it was ready; this version is not served")
            return False
        lived = time.monotonic() - worker.started
        quick = self.quick_deaths.get(worker.idx, 0) + 1 if lived < QUICK_DEATH else 0
        self.quick_deaths[worker.idx] = quick
        wait = 0.0 if quick <= 1 else min(FIRST_WAIT * 2 ** (quick - 2), LONGEST_WAIT)
        if quick > 1:
            log(
                f"{name} {how} {lived:.1f} s after it started ({quick} quick deaths in a row); "
                f"respawning in {wait:g} s, the other workers keep serving"
            )
        else:
            log(f"{name} {how} after {lived:.1f} s; respawning")
        self.due[worker.idx] = time.monotonic() + wait
        return True

    def stop(self) -> None:
        """Stop every worker: each finishes the requests it holds, or is killed after
        ``STOP_TIMEOUT`` seconds."""
        for worker in self.workers.values():
            worker.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers.values():
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log(f"worker-{worker.idx + 1} did not stop in {STOP_TIMEOUT:g} s; killing it")
                worker.process.kill()
                worker.process.join()
        self.workers.clear()


def _load_worker(app: App | None, settings: Settings, ready: int, idx: int) -> App:
    """In a new worker: the application (inherited, or reopened from the on-disk store),
    warmed, then ``<idx> <pid>`` on the ready pipe."""
    signal.set_wakeup_fd(-1)  # the generation's, inherited through the fork
    die_with_parent()
    if app is None:
        app = create_app(settings)  # warms itself
    else:
        warm(app)
    os.write(ready, f"{idx} {os.getpid()}\n".encode())
    return app


def _send(channel: int, line: str) -> None:
    os.write(channel, (line + "\n").encode())


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when this process's parent dies (Linux), so that no worker
    or generation serves on, unsupervised, after its parent was killed."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)
