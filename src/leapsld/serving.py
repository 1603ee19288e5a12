"""Run the web application under a production WSGI server (Granian), never Flask's dev server.

The dataset is built and validated here first, so a bad dataset stops the start with a report
before any port is opened. With the memory store the workers are forked with it; with an
on-disk store they reopen the store that was just built.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

from .dataset import Dataset
from .memory import release_free_memory
from .pipeline import build
from .settings import VALIDATED_ENV, Settings
from .web import App, create_app, warm


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


@dataclass
class Prepared:
    """A dataset built and validated before the port opens: its summary, and with the memory
    store the dataset itself, handed to ``serve`` (which lets go of it once the workers hold
    it, so nobody else may keep a reference)."""

    version: str
    quads: int
    validated: bool
    dataset: Dataset | None = None


def prepare(settings: Settings) -> Prepared:
    """Build and validate once, before any port is opened.

    With the memory store, the built dataset is kept: the workers are forked from this process
    with it, so a million triples are parsed and validated once, not once per worker. An
    on-disk store is let go instead (see ``serve``) and reopened by each worker.

    Raises:
        LoadError, ShapesViolation: the dataset cannot be served.
    """
    dataset = build(settings)
    prepared = Prepared(dataset.version, len(dataset.store), dataset.conforms is not None)
    if settings.store == "memory" and _forks():
        prepared.dataset = dataset
    return prepared


def _forks() -> bool:
    """Whether Granian's workers are forked (they inherit memory) rather than spawned."""
    return multiprocessing.get_start_method(allow_none=False) == "fork"


def serve(settings: Settings, prepared: Prepared | None = None) -> None:
    """Serve until interrupted.

    With a prepared dataset (a memory store), the application is made here and the workers
    fork with it: no thread may run at that moment, so the site starts its background work
    only on its first request. Once the workers hold it, this process drops its own copy.

    Otherwise the workers build (or reopen) the dataset themselves: nothing of an on-disk store
    may be open here when Granian forks, since RocksDB runs background threads, and a fork
    taken while they hold a lock leaves the worker blocked forever.
    """
    from granian import Granian
    from granian.constants import Interfaces

    os.environ.update(settings_env(settings))
    from .metrics import share_between_workers  # hardening: metrics summed over workers

    share_between_workers()  # hardening: one metrics directory per server run, removed at exit
    dataset = None
    if prepared is not None:
        if prepared.validated:
            os.environ[VALIDATED_ENV] = prepared.version
        dataset, prepared.dataset = prepared.dataset, None
    server = Granian(
        "leapsld.web:create_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        blocking_threads=settings.threads,
        backlog=1024,
        log_access=False,
        # A worker that dies (a crash in the engine, the OOM killer, kill -9) is replaced; by
        # default Granian would shut the whole server down, the healthy workers too.
        respawn_failed_workers=True,
        respawn_interval=1.0,
    )
    if dataset is None:
        release_free_memory()  # the store ``prepare`` built is closed before the fork
        server.serve()
        return
    shared: dict[str, App | None] = {"app": create_app(settings, dataset=dataset)}
    del dataset
    forked = 0
    server_pid = os.getpid()

    def after_fork_in_parent() -> None:
        # Each worker now holds the dataset; the parent lets its own copy go, so the memory
        # is the workers' alone (pages shared at the fork would be copied as they are read).
        # A worker inherits this hook: there it must do nothing.
        nonlocal forked
        if os.getpid() != server_pid:
            return
        forked += 1
        if forked >= settings.workers and shared["app"] is not None:
            shared["app"] = None
            gc.unfreeze()
            release_free_memory()

    def load(_target: str) -> App:
        # A worker respawned later builds again (the validated version is in its environment).
        app = shared["app"]
        if app is None:
            return create_app()
        warm(app)
        return app

    os.register_at_fork(after_in_parent=after_fork_in_parent)
    gc.collect()
    gc.freeze()  # keep the shared objects out of the workers' collections: fewer copied pages
    server.serve(target_loader=load)
