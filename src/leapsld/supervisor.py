"""``leapsld serve``: a supervisor that never stops serving while it runs.

The supervisor holds the listening socket and no dataset. It forks a *generation* (see
``serving.py``) that builds and validates one version and then keeps its Granian workers
alive. A reload (SIGHUP, or a changed file with ``--watch``) forks the next generation beside
the one in service: it builds and validates outside every serving process, and only once its
workers are ready is the old generation asked to stop (its workers finish what they hold). A
build that fails, or data that does not conform, logs its full report and leaves the old
version in service. Each generation listens on a socket of its own beside the others
(``SO_REUSEPORT``), and the kernel sends every new connection to the socket of the generation
in service (``listener.steer``): at a swap, new connections go to the new workers at once,
while the old socket's queue empties into the old workers; only once it is empty, and a
moment later (``GRACE``) every connection they accepted has sent its request, are they asked
to stop, so none of the connections they hold is closed unanswered. While no worker accepts
(a generation being built again after its processes died), connections wait in its queue.
With ``--reuse-port`` (sharing the port with another server) every generation listens on the
one socket instead, and the old workers are stopped as soon as the new ones are ready.

Each generation gets its own folder for temporary files (``tempfile`` points there), removed
when it ends however it ends; the supervisor removes its own at exit, and the folders of
supervisors that were killed at the next start.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from . import listener, metrics
from .errors import LeapsError
from .listener import BACKLOG, bind
from .remote import is_remote
from .serving import DRAIN, STOP_TIMEOUT, log, run_generation
from .settings import Settings
from .target import read_version

#: A change is reloaded once the watched files have been quiet this long (an editor's save,
#: a ``git checkout`` or a copy of many files is one change).
DEBOUNCE = 1.0
#: How often the watched files are looked at.
POLL = 0.5
#: How often a remote engine's version record is read (``RemoteWatch``).
REMOTE_POLL = 3.0
#: After a generation in service died and the next one could not be built, how long before
#: trying again (connections wait in the socket's queue meanwhile).
RETRY = 5.0
#: After its socket's queue is empty, how long an old generation keeps serving before it is
#: asked to stop: the connections it accepted last have sent their requests by then (hyper
#: closes a connection that has sent nothing when its worker stops).
GRACE = 1.0
#: How long an old generation may keep connections its clients keep alive without a request
#: (each one that sends a request is answered with ``Connection: close`` and so moves over).
DRAIN_LIMIT = 10.0

_SCRATCH = re.compile(r"^leapsld-serve-(\d+)-")


@dataclass
class _Generation:
    number: int
    pid: int
    channel: int
    scratch: Path
    sock: socket.socket
    version: str | None = None
    quads: int = 0
    ready: bool = False
    retiring: bool = False
    #: Since when no new connection reaches it (it was swapped out; it serves what it holds).
    draining: float | None = None
    buffer: bytes = b""
    exit_code: int | None = None
    workers: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.listener: socket.socket | None = None
        self.scratch: Path | None = None
        self.generations: list[_Generation] = []
        self.current: _Generation | None = None
        self.pending: _Generation | None = None
        self.served_once = False
        self.stop_asked = False
        self.reload_asked = False
        self.retry_at: float | None = None
        self.count = 0
        #: The listening sockets in their ``SO_REUSEPORT`` group's order (``listener.steer``);
        #: empty while only one socket is used (``--reuse-port``, or no swap yet).
        self.group: list[socket.socket] = []
        #: The socket of the generation in service that died, for the one built in its place.
        self.spare: socket.socket | None = None
        #: The kernel refused the steering program: every generation shares one socket.
        self.unsteerable = False

    # the loop ------------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT (0), or until the first version cannot be served (2).

        Raises:
            CannotListen: the port is taken (or not ours to take).
        """
        self.listener = bind(
            self.settings.host, self.settings.port, reuse_port=self.settings.reuse_port
        )
        remove_stale_scratch()
        self.scratch = Path(tempfile.mkdtemp(prefix=f"leapsld-serve-{os.getpid()}-"))
        # One metrics directory for every process of this run, gone with the scratch folder
        # (unless the operator named one).
        os.environ.setdefault(metrics.DIRECTORY_ENV, str(self.scratch / "metrics"))
        metrics.share_between_workers()
        wake, writer = os.pipe()
        os.set_blocking(writer, False)
        os.set_blocking(wake, False)
        previous = signal.set_wakeup_fd(writer)
        handlers = {
            sig: signal.signal(sig, self._signalled)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        }
        watch = Watch(self.settings) if self.settings.watch else None
        record = RemoteWatch(self.settings) if is_remote(self.settings.store) else None
        try:
            self.pending = self._fork(self.listener)
            while True:
                if self.stop_asked:
                    return 0
                if not self.generations and not self.served_once:
                    return 2  # the first version could not be served; the reason is logged
                channels = {g.channel: g for g in self.generations if g.channel >= 0}
                try:
                    readable, _, _ = select.select([*channels, wake], [], [], POLL)
                except InterruptedError:
                    readable = []
                if wake in readable:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake, 512)
                for fd in readable:
                    if fd in channels:
                        self._hear(channels[fd])
                self._reap()
                self._drain()
                if watch is not None and watch.changed():
                    log("files changed; reloading")
                    self.reload_asked = True
                if record is not None and self.current is not None and self.pending is None:
                    loaded = record.changed(self.current.version)
                    if loaded is not None:
                        log(f"the engine serves version {loaded} now; reloading")
                        self.reload_asked = True
                now = time.monotonic()
                if self.retry_at is not None and now >= self.retry_at and self.pending is None:
                    self.retry_at = None
                    self.reload_asked = True
                if self.reload_asked and self.pending is None and not self.stop_asked:
                    self.reload_asked = False
                    if self.current is None and not self.served_once:
                        continue  # the first generation is still on its way
                    self.pending = self._fork(self._next_socket())
        finally:
            self._stop_all()
            signal.set_wakeup_fd(previous)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            os.close(wake)
            os.close(writer)
            for sock in {id(s): s for s in [*self.group, self.listener, self.spare] if s}.values():
                sock.close()
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)

    def _signalled(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGHUP:
            self.reload_asked = True
        else:
            self.stop_asked = True

    # generations ---------------------------------------------------------------------------

    def _next_socket(self) -> socket.socket:
        """The socket of the next generation: the one in service when there is none to share
        it with (``--reuse-port``) or nothing serves; else a new one, listening at once but
        sent no connection until its generation is in service."""
        if self.settings.reuse_port or self.current is None or self.unsteerable:
            sock = self.spare or self.listener if self.current is None else self.current.sock
            assert sock is not None
            return sock
        if not self.group:
            self.group = [self.current.sock]
        sock = listener.sibling(self.current.sock)
        try:
            listener.steer(self.current.sock, self.group.index(self.current.sock))
        except OSError as exc:  # not Linux 4.5 or later: one socket for all, as with --reuse-port
            log(f"cannot steer connections between versions ({exc.strerror}); sharing one socket")
            self.unsteerable = True
            self.group = []
            sock.close()
            return self.current.sock
        sock.listen(BACKLOG)
        self.group.append(sock)
        return sock

    def _fork(self, sock: socket.socket) -> _Generation:
        assert self.scratch is not None
        self.count += 1
        scratch = self.scratch / f"generation-{self.count}"
        scratch.mkdir()
        serving = self.current.version if self.current is not None else None
        if serving is not None:
            log(f"building the next version beside version {serving}")
        reader, writer = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the generation
            code = 3
            try:
                os.close(reader)
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                for other in self.generations:
                    os.close(other.channel)
                for held in [*self.group, self.listener, self.spare]:
                    if held is not None and held is not sock:
                        held.close()  # this process's copy only
                tempfile.tempdir = str(scratch)
                os.environ["TMPDIR"] = str(scratch)
                code = run_generation(self.settings, sock, writer, serving)
            except BaseException:  # noqa: BLE001 - reported, and the exit code says it failed
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(writer)
        os.set_blocking(reader, False)
        generation = _Generation(self.count, pid, reader, scratch, sock)
        self.generations.append(generation)
        return generation

    def _hear(self, generation: _Generation) -> None:
        try:
            chunk = os.read(generation.channel, 4096)
        except BlockingIOError:
            return
        if not chunk:  # the generation exited; _reap will see it
            os.close(generation.channel)
            generation.channel = -1
            return
        generation.buffer += chunk
        *lines, generation.buffer = generation.buffer.split(b"\n")
        for line in lines:
            word, *rest = line.decode().split()
            if word == "built":
                generation.version, generation.quads = rest[0], int(rest[1])
            elif word == "ready":
                generation.ready = True
                generation.workers = [int(p) for p in rest]
                self._promote(generation)

    def _promote(self, generation: _Generation) -> None:
        if generation is not self.pending:
            return
        old, self.current, self.pending = self.current, generation, None
        if self.group:
            listener.steer(generation.sock, self.group.index(generation.sock))
        if self.spare is not None and self.spare is not generation.sock:
            # the socket of a generation that died while this one was being built
            spare, self.spare = self.spare, None
            self._let_go(spare)
        elif self.spare is generation.sock:
            self.spare = None
        if old is not None and self.group:
            old.draining = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                os.kill(old.pid, DRAIN)  # its workers answer "Connection: close" from now on
        elif old is not None:
            self._retire(old)
        s = self.settings
        where = f"http://{s.host}:{s.port}/"
        if not self.served_once:
            log(f"serving {generation.quads} quads (version {generation.version}) at {where}")
            self.served_once = True
        else:
            log(f"reloaded: serving {generation.quads} quads (version {generation.version})")

    def _drain(self) -> None:
        """Stop the swapped-out generations whose sockets have given their last connection
        and whose workers hold no connection (kept alive, or not yet answered), or that have
        waited ``DRAIN_LIMIT`` seconds for it; they finish what they hold as they stop."""
        now = time.monotonic()
        for generation in self.generations:
            if generation.draining is None or generation.retiring:
                continue
            waited = now - generation.draining
            if waited >= DRAIN_LIMIT:
                self._retire(generation)
                continue
            if waited < GRACE:
                continue
            try:
                if listener.queued(generation.sock) > 0:
                    continue
            except OSError:
                pass
            pids = _children(generation.pid)
            if listener.connections(pids, generation.sock.getsockname()[1]) == 0:
                self._retire(generation)

    def _retire(self, generation: _Generation) -> None:
        if not generation.retiring:
            generation.retiring = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(generation.pid, signal.SIGTERM)

    def _reap(self) -> None:
        for generation in list(self.generations):
            try:
                pid, status = os.waitpid(generation.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = generation.pid, 0
            if pid == 0:
                continue
            code = os.waitstatus_to_exitcode(status)
            self._ended(generation, code)

    def _ended(self, generation: _Generation, code: int) -> None:
        self.generations.remove(generation)
        if generation.channel >= 0:
            os.close(generation.channel)
            generation.channel = -1
        shutil.rmtree(generation.scratch, ignore_errors=True)
        if generation is self.current and not self.stop_asked:
            self.spare = generation.sock  # the next one serves on it: its queue waits
        self._let_go(generation.sock)
        if generation.retiring or self.stop_asked:
            return
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited {code}"
        if generation is self.pending:
            self.pending = None
            if self.current is not None:
                # The old version keeps serving; the next try is the next change (SIGHUP or
                # --watch), never a rebuild of the same broken files every few seconds.
                if code != 2:  # on 2 it said why itself
                    log(f"the next version {how}; still serving version {self.current.version}")
            elif self.served_once:
                log(f"the next version failed too; trying again in {RETRY:g} s")
                self.retry_at = time.monotonic() + RETRY
        elif generation is self.current:
            self.current = None
            log(
                f"the processes serving version {generation.version} {how}; "
                "building it again (connections wait meanwhile)"
            )
            if self.pending is None:
                self.pending = self._fork(self._next_socket())

    def _let_go(self, sock: socket.socket) -> None:
        """Close a swapped-out or failed generation's socket once no generation uses it (the
        one socket of a server that never swapped, and the ``spare``, stay), then steer to the
        one in service again: closing moved the group's last socket into its place."""
        if sock not in self.group or sock is self.spare:
            return
        if any(g.sock is sock for g in self.generations):
            return
        index = self.group.index(sock)
        last = self.group.pop()
        if last is not sock:
            self.group[index] = last
        listener.close(sock)
        if sock is self.listener:
            self.listener = None
        if self.current is not None and self.current.sock in self.group:
            listener.steer(self.current.sock, self.group.index(self.current.sock))

    def _stop_all(self) -> None:
        """Ask every generation to stop, wait for them (each waits for its workers), then
        kill what is left."""
        for generation in self.generations:
            self._retire(generation)
        deadline = time.monotonic() + STOP_TIMEOUT + 5
        while self.generations and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for generation in list(self.generations):
            with contextlib.suppress(ProcessLookupError):
                os.kill(generation.pid, signal.SIGKILL)
            os.waitpid(generation.pid, 0)
            self._ended(generation, -9)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def remove_stale_scratch() -> None:
    """Remove the temporary folders of supervisors that were killed (their pid is gone)."""
    root = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            match = _SCRATCH.match(entry.name)
            if match is None or not entry.is_dir():
                continue
            pid = int(match.group(1))
            try:
                alive = b"leapsld" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                alive = False
            if not alive:
                shutil.rmtree(entry, ignore_errors=True)


class Watch:
    """The files a version is made of, looked at every ``POLL`` seconds; ``changed()`` is
    true once, after a change followed by ``DEBOUNCE`` seconds of quiet."""

    def __init__(self, settings: Settings) -> None:
        root = settings.root
        self.paths = [
            *settings.data_paths,
            *settings.shapes_paths,
            settings.description_file or root / "dataset.ttl",
            root / "views.toml",
            root / "queries",
            root / "releases",
        ]
        self.seen = self._snapshot()
        self.looked = time.monotonic()
        self.moved: float | None = None

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for path in self.paths:
            files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
            for file in files:
                if any(part.startswith(".") for part in file.parts[-1:]):
                    continue
                with contextlib.suppress(OSError):
                    st = file.stat()
                    if not file.is_dir():
                        found[str(file)] = (st.st_mtime_ns, st.st_size)
        return found

    def changed(self) -> bool:
        now = time.monotonic()
        if now - self.looked < POLL:
            return False
        self.looked = now
        seen = self._snapshot()
        if seen != self.seen:
            self.seen, self.moved = seen, now
            return False
        if self.moved is not None and now - self.moved >= DEBOUNCE:
            self.moved = None
            return True
        return False


class RemoteWatch:
    """The version record on a remote engine (``--store sparql+http…``), read every
    ``REMOTE_POLL`` seconds: a new load there is served as a reload here, so ETags change
    when the engine's data changes, and only then. An engine that does not answer is asked
    again at the next look (what is served stays)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.replace(query_timeout=min(2.0, settings.query_timeout))
        self.looked = time.monotonic()

    def changed(self, serving: str | None) -> str | None:
        """The version the engine serves, when it is not ``serving`` (else None)."""
        now = time.monotonic()
        if now - self.looked < REMOTE_POLL:
            return None
        self.looked = now
        try:
            found = read_version(self.settings)
        except LeapsError:
            return None
        return found if found is not None and found != serving else None


def serve(settings: Settings) -> int:
    """Serve ``settings`` until stopped; the exit code (2: the dataset cannot be served).

    Raises:
        CannotListen: the port is taken (or not ours to take).
    """
    return Supervisor(settings).run()
