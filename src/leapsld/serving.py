"""Run the web application under a production WSGI server (Granian), never Flask's dev server.

The dataset is built and validated here first, so a bad dataset stops the start with a report
before any port is opened; the workers then build the same version, skipping the validation
already done (or, with an on-disk store, reopen the store that was just built).
"""

from __future__ import annotations

import dataclasses
import gc
import os
from pathlib import Path

from .pipeline import build
from .settings import Settings

VALIDATED_ENV = "LEAPSLD_VALIDATED_VERSION"


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``LEAPSLD_*`` variables that reproduce ``settings`` in a worker process."""
    env = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple):
            value = os.pathsep.join(str(Path(p).resolve()) for p in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"LEAPSLD_{f.name.upper()}"] = str(value)
    return env


def check(settings: Settings) -> tuple[str, int, bool]:
    """Build and validate once, before any port is opened, and let the dataset go.

    Returns:
        The dataset version, its quad count, and whether it was validated.

    Raises:
        LoadError, ShapesViolation: the dataset cannot be served.
    """
    dataset = build(settings)
    return dataset.version, len(dataset.store), dataset.conforms is not None


def serve(settings: Settings, *, validated_version: str | None = None) -> None:
    """Serve until interrupted; the workers build (or reopen) the dataset themselves.

    Nothing of the dataset may be open here when Granian forks its workers: an on-disk store
    runs RocksDB background threads, and a fork taken while they hold a lock leaves the worker
    blocked forever. So ``check`` builds and drops it, and only its version is passed on.
    """
    from granian import Granian
    from granian.constants import Interfaces

    os.environ.update(settings_env(settings))
    if validated_version:
        os.environ[VALIDATED_ENV] = validated_version
    gc.collect()  # the store ``check`` built is closed before the fork
    Granian(
        "leapsld.web:create_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        blocking_threads=settings.threads,
        backlog=1024,
        log_access=False,
    ).serve()
