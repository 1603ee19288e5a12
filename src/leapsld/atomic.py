"""Files that several processes share: one writer at a time, and no reader sees half a file.

A server's workers may all start together and ask for the same store, statistics or dumps: the
first takes the folder's lock and writes, the others wait and then read what it wrote. Every
file is written under a private temporary name and renamed into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

LOCK_NAME = ".lock"


@contextlib.contextmanager
def locked(folder: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold ``folder``'s lock (made if missing) for the duration of the block.

    Raises:
        BlockingIOError: ``wait`` is False and another process holds the lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(target: Path, write: Callable[[BinaryIO], None] | bytes) -> None:
    """Write ``target`` through a temporary file beside it, then rename it into place.

    Args:
        target: the file to (re)place; readable by everyone once written.
        write: the bytes, or a function writing them to the open binary file.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> write_atomically(folder / "a.txt", b"done\\n"); (folder / "a.txt").read_text()
    'done\\n'
    """
    handle, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as out:
            if isinstance(write, bytes):
                out.write(write)
            else:
                write(out)
        os.chmod(partial, 0o644)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
