"""Files of the dataset folder, named as a user knows them: relative to that folder.

An error about ``dataset.ttl``, ``views.toml`` or ``releases/retired.toml`` names the file as the
user wrote it, not the machine path the server happens to run from.
"""

from __future__ import annotations

from pathlib import Path

from .errors import LoadError


def read(path: Path, root: Path) -> bytes:
    """The bytes of ``path``.

    Raises:
        LoadError: it cannot be read (named relative to ``root``).
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoadError(exc.strerror or str(exc), path=shown(path, root)) from None


def shown(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it lies inside, else as it is."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
