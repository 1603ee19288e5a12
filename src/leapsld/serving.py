"""Run the web application under a production WSGI server (Granian), never Flask's dev server.

The dataset is built and validated here first, so a bad dataset stops the start with a report
before any port is opened; the workers then build the same version, skipping the validation
already done (or, with an on-disk store, reopen the store that was just built).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .pipeline import Dataset, build
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


def serve(settings: Settings, *, dataset: Dataset | None = None) -> None:
    """Validate, then serve until interrupted.

    Raises:
        LoadError, ShapesViolation: the dataset cannot be served.
    """
    from granian import Granian
    from granian.constants import Interfaces

    dataset = dataset or build(settings)
    os.environ.update(settings_env(settings))
    if dataset.report is not None or dataset.counts is not None:
        os.environ[VALIDATED_ENV] = dataset.version
    del dataset  # the workers hold their own
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
