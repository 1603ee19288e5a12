"""Queries run where they can be killed: a bounded pool of query processes sharing the store.

pyoxigraph has no query timeout, no cancellation and no memory limit, and a query still planning
or computing its first row cannot be told to stop. So a query from a request never runs in a
process that serves requests: it runs in a *query process*, and a query past its time or memory
budget is ended with SIGKILL, which gives its CPU and memory back at once whatever the engine
was doing. A replacement is forked in its place.

How the query processes share the store:

- **memory store**: a *zygote* is forked from the serving process once, before it serves (the
  first request or query, before any background thread of the site starts). Its one thread
  holds the dataset in pages shared copy-on-write; it forks the query processes on demand, and
  since it is single-threaded those forks are always safe, and each child shares the dataset's
  pages instead of copying them (only the pages a query writes are ever copied: Python objects'
  headers, never the engine's data).
- **on-disk store**: a process that has RocksDB open must never fork (its background threads'
  locks), so the zygote is a fresh interpreter and each query process opens the store read-only.

The hop: each query process has its own Unix socket pair (no file anywhere); a request is one
pickled frame (text, dataset, row cap, bound terms), the answer one frame back: the
materialised ``QueryOutcome`` (terms pickle in pyoxigraph's own form), read with an unpickler
that makes nothing but terms. Serialising the outcome stays in the serving process, which knows
the format, prefixes and origin of the request.

Budgets, enforced from the serving process: a deadline on the answer (then SIGKILL); a watchdog
thread that reads each busy child's resident memory every 100 ms and kills one that has grown
more than ``memory`` bytes since it started (plus an address-space limit in the child, twice
that, against an allocation faster than the watchdog); a cap on the answer's bytes. Slots are
the pool's size; one client may hold ``per_client`` of them; a full pool refuses at once, so a
waiting query never holds a request thread.

Children die with their parent: the zygote ends when the serving process's end of its socket
closes (the serving process exited or closed the pool), and each child has
``PR_SET_PDEATHSIG`` = SIGKILL on the zygote, which ignores SIGCHLD so that the kernel reaps
its children: no zombie, nothing in the temporary folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import os
import pickle
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pyoxigraph

from . import metrics
from .errors import (
    BadRequest,
    Busy,
    LeapsError,
    NotAcceptable,
    QueryError,
    QueryOverBudget,
    QueryTimeout,
    TooManyQueries,
    UnsupportedFormat,
)
from .store import OxigraphStore, Store, Term

#: How long a query waits for a slot when all are busy (a few may wait; more get 503 at once).
QUEUE_WAIT = 1.0
#: The default memory budget of one query: sized for a 2-core, 24 GB machine (four slots per
#: worker), small enough that a bomb never reaches the machine's limit.
DEFAULT_MEMORY = 1 << 30

#: How often the watchdog reads each busy child's memory.
WATCH_EVERY = 0.1


@dataclass
class QueryOutcome:
    """What a query returned: ``select`` rows, an ``ask`` boolean or ``graph`` triples."""

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[object, ...]] = field(default_factory=list)
    triples: list[pyoxigraph.Triple] = field(default_factory=list)
    boolean: bool | None = None
    truncated: bool = False
    #: The answer already written (by the ``writer`` the query was run with), when it was:
    #: then ``rows`` and ``triples`` are empty and only the bytes crossed between processes.
    data: bytes | None = None


#: Writes an outcome as bytes, in a query process: a picklable callable (the serving process
#: sends it with the query, so only bytes come back instead of every term).
Writer = Callable[[QueryOutcome], bytes]


#: The stack of every thread that parses and evaluates a query: pyoxigraph's parser recurses,
#: and a thread's default 8 MiB overflow (killing the process) near 1,000 nested function calls.
#: Only the pages a query really touches are ever committed.
QUERY_STACK = 256 << 20
_STACK_LOCK = threading.Lock()


def _fresh_stack_lock() -> None:
    # a fork taken while another thread held the lock would leave it held forever
    global _STACK_LOCK
    _STACK_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_fresh_stack_lock)


def start_query_thread(target: Callable[[], None], *, name: str) -> threading.Thread:
    """Start a daemon thread with ``QUERY_STACK`` bytes of stack."""
    with _STACK_LOCK:
        previous = threading.stack_size(QUERY_STACK)
        try:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    return thread


def evaluate(
    store: Store,
    text: str,
    default_graphs: Sequence[str] | None,
    named_graphs: Sequence[str] | None,
    union: bool,
    max_rows: int,
    substitutions: Mapping[str, Term] | None = None,
    cancelled: threading.Event | None = None,
) -> QueryOutcome:
    """Evaluate a query in this thread and collect at most ``max_rows`` results.

    Raises:
        QueryError: malformed query, with line and column.
        BadRequest: a graph name that is not an IRI.
    """
    try:
        result = store.query(
            text,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            union=union,
            substitutions=substitutions,
        )
        if isinstance(result, pyoxigraph.QueryBoolean):
            return QueryOutcome("ask", boolean=bool(result))
        if isinstance(result, pyoxigraph.QuerySolutions):
            outcome = QueryOutcome("select", variables=[v.value for v in result.variables])
            width = range(len(outcome.variables))
            for solution in result:
                if cancelled is not None and cancelled.is_set():
                    break
                if len(outcome.rows) >= max_rows:
                    outcome.truncated = True
                    break
                outcome.rows.append(tuple(solution[i] for i in width))
            return outcome
        outcome = QueryOutcome("graph")
        for triple in result:
            if cancelled is not None and cancelled.is_set():
                break
            if len(outcome.triples) >= max_rows:
                outcome.truncated = True
                break
            outcome.triples.append(triple)
        return outcome
    except SyntaxError as exc:
        raise _query_error(exc) from None
    except ValueError as exc:
        raise BadRequest(f"not a graph IRI: {exc}") from None
    except OSError as exc:
        raise LeapsError(f"the query could not be evaluated: {exc}") from None


_POSITION = re.compile(r"^error at (\d+):(\d+): ")


def _query_error(exc: SyntaxError) -> QueryError:
    message = str(exc.msg if exc.msg else exc)
    match = _POSITION.match(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        return QueryError(
            f"line {line}, column {column}: {message[match.end() :]}", line=line, column=column
        )
    return QueryError(message)


# Frames ------------------------------------------------------------------------------------

_LENGTH = struct.Struct("!Q")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class _Gone(Exception):
    """The other end closed (the process died)."""


class _Late(Exception):
    """The deadline passed."""


def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(data)))
    sock.sendall(data)


def _read(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Late
            sock.settimeout(remaining)
        try:
            n = sock.recv_into(view[got:])
        except TimeoutError:
            raise _Late from None
        except OSError:
            raise _Gone from None
        if n == 0:
            raise _Gone
        got += n
    return bytes(buffer)


def _receive(sock: socket.socket, deadline: float | None = None, limit: int | None = None) -> bytes:
    (size,) = _LENGTH.unpack(_read(sock, _LENGTH.size, deadline))
    if limit is not None and size > limit:
        raise _TooLarge(size)
    return _read(sock, size, deadline)


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


_TERMS = {
    name: getattr(pyoxigraph, name)
    for name in ("NamedNode", "BlankNode", "Literal", "Triple", "DefaultGraph", "Variable")
}


class _AnswerUnpickler(pickle.Unpickler):
    """Makes terms and nothing else: an answer never runs code in the serving process."""

    def find_class(self, module: str, name: str) -> object:
        if module in ("pyoxigraph", "builtins") and name in _TERMS:
            return _TERMS[name]
        raise pickle.UnpicklingError(f"an answer may not hold {module}.{name}")


def _load_answer(data: bytes) -> object:
    return _AnswerUnpickler(io.BytesIO(data)).load()


def _resident(pid: int | str = "self") -> int:
    """Resident bytes of a process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _die_with_parent() -> None:
    """SIGKILL this process when the thread that forked it (the single-threaded zygote) ends."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


# The query process ---------------------------------------------------------------------------


def _child_main(sock: socket.socket, store: Store | None, path: str | None, memory: int) -> None:
    """Serve queries on ``sock`` until it closes; never returns into the caller's code."""
    _die_with_parent()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_DFL)
    if store is None:
        assert path is not None
        store = OxigraphStore(Path(path), read_only=True)
    serving: Store = store

    def serve() -> None:
        with contextlib.suppress(OSError, ValueError):
            with open("/proc/self/statm", "rb") as handle:
                size = int(handle.read().split()[0]) * _PAGE
            # a backstop for an allocation faster than the watchdog: the engine aborts
            limit = size + 2 * memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        start = _resident()
        _send(sock, pickle.dumps(("hello", start)))
        while True:
            try:
                request = pickle.loads(_receive(sock))
            except (_Gone, _Late):
                return
            if request[0] == _JOB:
                _run_job(sock, serving, request[1], request[2], request[3])
                return
            text, default_graphs, named_graphs, union, max_rows, substitutions, answer = request[:7]
            writer: Writer | None = request[7]
            try:
                outcome = evaluate(
                    serving, text, default_graphs, named_graphs, union, max_rows, substitutions
                )
                if writer is not None:
                    reply = pickle.dumps(
                        ("bytes", outcome.kind, writer(outcome), outcome.truncated),
                        protocol=pickle.HIGHEST_PROTOCOL,
                    )
                else:
                    reply = pickle.dumps(
                        (
                            "ok",
                            outcome.kind,
                            outcome.variables,
                            outcome.rows,
                            outcome.triples,
                            outcome.boolean,
                            outcome.truncated,
                        ),
                        protocol=pickle.HIGHEST_PROTOCOL,
                    )
                del outcome
                if len(reply) > answer:
                    reply = _error("answer", f"the answer is larger than {answer >> 20} MiB")
            except QueryError as exc:
                reply = _error("syntax", exc.message, exc.line, exc.column)
            except BadRequest as exc:
                reply = _error("request", exc.message)
            except NotAcceptable as exc:  # the writer: a term its format cannot carry
                reply = pickle.dumps(("error", "not-acceptable", exc.message, exc.offered, None))
            except UnsupportedFormat as exc:  # the writer: a format for another query form
                reply = _error("unsupported", exc.message)
            except MemoryError:
                reply = _error("memory", "the query ran out of memory")
            except LeapsError as exc:
                reply = _error("engine", exc.message)
            except Exception as exc:  # noqa: BLE001 - anything the engine raises is answered
                reply = _error("engine", f"the query could not be evaluated: {exc}")
            grown = _resident() - start
            retire = grown > memory // 4
            if retire:  # give garbage back; a child still fat after that is replaced
                gc.collect()
                with contextlib.suppress(OSError, AttributeError):
                    ctypes.CDLL("libc.so.6").malloc_trim(0)
                retire = _resident() - start > memory // 4
            try:
                _send(sock, (b"R" if retire else b"K") + reply)
            except OSError:
                return
            del reply
            if retire:
                return

    start_query_thread(serve, name="leapsld-query").join()


def _error(kind: str, message: str, line: int | None = None, column: int | None = None) -> bytes:
    return pickle.dumps(("error", kind, message, line, column))


#: The first item of a request that is a background job, not a query.
_JOB = "job"
#: The niceness of a background job: it gets a core only when queries leave one free (about
#: 1.5% of a busy one), so it never slows a query, and still ends under a steady load.
JOB_NICENESS = 19
#: The memory budget a job process is given (its address-space limit is twice that): none to
#: speak of, since a job is the library's own work (it starts query threads with large stacks).
JOB_MEMORY = 1 << 40


def _run_job(
    sock: socket.socket,
    store: Store,
    job: Callable[..., None],
    args: tuple[object, ...],
    niceness: int,
) -> None:
    """Run ``job(store, *args)`` at ``niceness``, then say how it ended."""
    with contextlib.suppress(OSError):
        os.nice(niceness)
    try:
        job(store, *args)
        reply = pickle.dumps(("ok",))
    except LeapsError as exc:
        reply = _error("engine", exc.message)
    except Exception as exc:  # noqa: BLE001 - anything a job raises is answered
        reply = _error("engine", f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError):
        _send(sock, b"K" + reply)


# The zygote ------------------------------------------------------------------------------------

#: This process's ends of every executor socket, closed in a zygote forked from it (so that a
#: zygote never keeps another pool's processes alive).
_OURS: weakref.WeakSet[socket.socket] = weakref.WeakSet()
_SPAWN = struct.Struct("!Q")
_PID = struct.Struct("!i")


def _zygote_main(control: socket.socket, store: Store | None, path: str | None) -> NoReturn:
    """Fork a query process for every socket sent on ``control``; end when it closes."""
    # First of all: everything inherited is frozen, never collected. Its finalizers could
    # take locks that another thread of the parent held at the fork, and the collector would
    # write to every shared object's header (copying the pages the children share).
    gc.freeze()
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps: never a zombie
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        while True:
            message, fds, _, _ = socket.recv_fds(control, _SPAWN.size, 1)
            if not message or not fds:
                os._exit(0)
            (memory,) = _SPAWN.unpack(message)
            pid = os.fork()
            if pid == 0:
                try:
                    control.close()
                    _child_main(socket.socket(fileno=fds[0]), store, path, memory)
                finally:
                    os._exit(0)
            os.close(fds[0])
            control.sendall(_PID.pack(pid))
    except BaseException:  # noqa: BLE001 - a zygote never returns into its parent's code
        pass
    os._exit(0)


def _exec_zygote() -> NoReturn:
    """The zygote of an on-disk store, in a fresh interpreter: ``argv`` = control fd, path."""
    control = socket.socket(fileno=int(sys.argv[1]))
    _zygote_main(control, None, sys.argv[2])


class _Zygote:
    """The process that forks query processes, and the socket to ask it."""

    def __init__(self, store: Store) -> None:
        ours, theirs = socket.socketpair()
        _OURS.add(ours)
        self.control = ours
        self.lock = threading.Lock()
        self.popen: subprocess.Popen[bytes] | None = None
        path = getattr(store, "path", None) if isinstance(store, OxigraphStore) else None
        if path is not None:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from leapsld.executor import _exec_zygote; _exec_zygote()",
                    str(theirs.fileno()),
                    str(path),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
            self.pid = self.popen.pid
            theirs.close()
            return
        pid = os.fork()
        if pid == 0:
            try:
                for other in list(_OURS):
                    other.close()
                _zygote_main(theirs, store, None)
            finally:
                os._exit(0)
        self.pid = pid
        theirs.close()

    def spawn(self, memory: int) -> tuple[int, socket.socket]:
        """A new query process and the socket to it."""
        ours, theirs = socket.socketpair()
        _OURS.add(ours)
        try:
            with self.lock:
                self.control.settimeout(30)
                socket.send_fds(self.control, [_SPAWN.pack(memory)], [theirs.fileno()])
                data = b""
                while len(data) < _PID.size:
                    chunk = self.control.recv(_PID.size - len(data))
                    if not chunk:
                        raise OSError("the query zygote is gone")
                    data += chunk
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        (pid,) = _PID.unpack(data)
        return pid, ours

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def close(self) -> None:
        self.control.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()
        else:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


# The pool ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Child:
    pid: int
    sock: socket.socket
    start: int | None = None  # resident bytes when it was ready
    over: str | None = None  # the budget the watchdog stopped it for
    peak: int = 0


class _Pool:
    """The processes of one executor in one serving process (what closing must reach)."""

    def __init__(self, zygote: _Zygote, lock: threading.Lock) -> None:
        self.zygote, self.lock = zygote, lock
        self.idle: list[_Child] = []
        self.busy: set[_Child] = set()
        self.closed = threading.Event()
        self.pid = os.getpid()

    def watched(self) -> list[_Child]:
        with self.lock:
            return list(self.busy)

    def close(self) -> None:
        if os.getpid() != self.pid:  # a copy inherited through a fork: not ours to close
            return
        self.closed.set()
        for child in [*self.idle, *self.busy]:
            _kill(child)
        self.idle.clear()
        self.zygote.close()


def _kill(child: _Child) -> None:
    with contextlib.suppress(OSError):
        os.kill(child.pid, signal.SIGKILL)
    child.sock.close()


class Executor:
    """A bounded pool of query processes for one store, in the process that serves.

    Nothing runs until ``start`` (or the first query): a server forks its workers after making
    the executor, and the pool belongs to the process that started it (a fork starts afresh).
    """

    def __init__(
        self,
        store: Store,
        *,
        slots: int,
        timeout: float,
        max_rows: int,
        memory: int = DEFAULT_MEMORY,
        per_client: int | None = None,
        answer_bytes: int | None = None,
    ) -> None:
        self.store, self.slots, self.timeout, self.max_rows = store, slots, timeout, max_rows
        self.memory = memory
        self.per_client = per_client if per_client is not None else max(1, slots // 2)
        #: The largest answer sent back (pickled); by default an eighth of the memory budget.
        self.answer_bytes = answer_bytes if answer_bytes is not None else max(1 << 20, memory // 8)
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._waiting = 0
        self._running = 0
        self._clients: dict[str, int] = {}
        self._pool: _Pool | None = None
        self._finalizer: weakref.finalize[[], Executor] | None = None
        #: The process the pool belongs to.
        self.started_in: int | None = None
        #: How many queries were stopped, by budget (``time``, ``memory``, ``answer``).
        self.stopped: dict[str, int] = {"time": 0, "memory": 0, "answer": 0}

    # Life --------------------------------------------------------------------------------

    def start(self) -> None:
        """Fork the zygote and one query process, in this process (idempotent)."""
        if self.started_in == os.getpid():
            return
        with self._lock:
            if self.started_in == os.getpid():
                return
            # a pool inherited through a fork belongs to the parent: start afresh
            self._running, self._waiting, self._clients = 0, 0, {}
            pool = _Pool(_Zygote(self.store), self._lock)
            self._pool = pool
            self._finalizer = weakref.finalize(self, pool.close)
            self.started_in = os.getpid()
            watchdog = threading.Thread(
                target=_watch, args=(weakref.ref(self), pool), name="leapsld-watchdog", daemon=True
            )
            watchdog.start()
        with contextlib.suppress(OSError):
            self._put(self._spawn())

    def close(self) -> None:
        """Kill every query process and the zygote (the executor may start again)."""
        with self._lock:
            if self._finalizer is not None and self.started_in == os.getpid():
                self._finalizer()
            self._pool, self._finalizer, self.started_in = None, None, None

    def processes(self) -> list[int]:
        """The zygote and the query processes alive now (for tests and metrics)."""
        pool = self._pool
        if pool is None or self.started_in != os.getpid():
            return []
        return [pool.zygote.pid, *(c.pid for c in [*pool.idle, *pool.busy])]

    # Queries -------------------------------------------------------------------------------

    def run(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
        substitutions: Mapping[str, Term] | None = None,
        max_rows: int | None = None,
        client: str | None = None,
        writer: Writer | None = None,
    ) -> QueryOutcome:
        """Evaluate a read-only query (already checked) in a query process, within the budgets.

        With a ``writer``, the query process writes the answer and only its bytes come back
        (``QueryOutcome.data``): no term is pickled, sent and rebuilt.

        Raises:
            QueryError, BadRequest: as ``evaluate``.
            QueryTimeout: past the timeout (the query was stopped).
            QueryOverBudget: over the memory budget or the answer's size (stopped).
            Busy: every slot is taken.
            TooManyQueries: this client already holds its share of the slots.
        """
        self.start()
        self._admit(client)
        try:
            request = pickle.dumps(
                (
                    text,
                    list(default_graphs) if default_graphs is not None else None,
                    list(named_graphs) if named_graphs is not None else None,
                    union,
                    max_rows if max_rows is not None else self.max_rows,
                    dict(substitutions) if substitutions else None,
                    self.answer_bytes,
                    writer,
                ),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            return self._ask(request, time.monotonic() + self.timeout)
        finally:
            self._leave(client)

    def run_job(
        self, job: Callable[..., None], *args: object, niceness: int = JOB_NICENESS
    ) -> None:
        """Run ``job(store, *args)`` in a process of its own forked like a query process (the
        dataset shared), at ``niceness`` (by default the lowest CPU priority), and wait for
        it: work derived from the dataset that must not slow the queries answered meanwhile,
        nor hold this process's interpreter. Not a slot, no deadline.

        ``job`` and ``args`` are pickled (a module-level function and plain values).

        Raises:
            LeapsError: the job failed (its message) or its process died.
        """
        self.start()
        pool = self._pool
        assert pool is not None
        child = self._spawn(JOB_MEMORY)
        try:
            _receive(child.sock, None, 1 << 10)  # hello
            job_request = (_JOB, job, args, niceness)
            _send(child.sock, pickle.dumps(job_request, protocol=pickle.HIGHEST_PROTOCOL))
            frame = _receive(child.sock, None, 1 << 20)
        except (_Gone, _Late, OSError):
            raise LeapsError("the process of a background job stopped") from None
        finally:
            _kill(child)
        answer = _load_answer(frame[1:])
        assert isinstance(answer, tuple)
        if answer[0] != "ok":
            raise LeapsError(str(answer[2]))

    def _admit(self, client: str | None) -> None:
        with self._lock:
            if client is not None and self._clients.get(client, 0) >= self.per_client:
                raise TooManyQueries(
                    f"this client already runs {self.per_client} queries at once, as many as "
                    "one client may; try again when one has answered"
                )
            # A query waiting for a slot counts against its client already, so one client
            # cannot get past its share by queueing several.
            if client is not None:
                self._clients[client] = self._clients.get(client, 0) + 1
            try:
                if self._running >= self.slots:
                    # A short, bounded queue: a burst waits a moment instead of failing, but
                    # never so many wait that they hold the request threads documents need.
                    if self._waiting >= max(1, self.slots // 2):
                        raise Busy(f"all {self.slots} query slots are busy; try again shortly")
                    self._waiting += 1
                    try:
                        self._freed.wait_for(
                            lambda: self._running < self.slots,
                            timeout=min(QUEUE_WAIT, self.timeout),
                        )
                    finally:
                        self._waiting -= 1
                    if self._running >= self.slots:
                        raise Busy(f"all {self.slots} query slots are busy; try again shortly")
            except Busy:
                self._forget(client)
                raise
            self._running += 1

    def _leave(self, client: str | None) -> None:
        with self._lock:
            self._running -= 1
            self._freed.notify()
            self._forget(client)

    def _forget(self, client: str | None) -> None:
        """One query fewer for ``client`` (the lock held)."""
        if client is not None:
            left = self._clients.get(client, 1) - 1
            if left:
                self._clients[client] = left
            else:
                self._clients.pop(client, None)

    def _ask(self, request: bytes, deadline: float) -> QueryOutcome:
        for attempt in (1, 2):  # a child found dead before it had the query is replaced once
            child = self._take()
            sent = False
            try:
                if child.start is None:
                    hello = pickle.loads(_receive(child.sock, deadline, 1 << 10))
                    child.start = int(hello[1])
                _send(child.sock, request)
                sent = True
                frame = _receive(child.sock, deadline, self.answer_bytes + 4096)
            except _Late:
                self._drop(child)
                self._count_stop("time")
                raise QueryTimeout(
                    f"the query ran longer than {self.timeout:g} s and was stopped"
                ) from None
            except _TooLarge:
                self._drop(child)
                self._count_stop("answer")
                raise QueryOverBudget(
                    f"the answer is larger than {self.answer_bytes >> 20} MiB; the query was "
                    "stopped (ask for fewer or shorter results)",
                    budget="answer",
                ) from None
            except (_Gone, OSError):
                self._drop(child)
                if child.over == "memory" or child.peak - (child.start or 0) > self.memory // 2:
                    self._count_stop("memory")
                    raise QueryOverBudget(
                        f"the query needed more than its memory budget of {self.memory >> 20} "
                        "MiB and was stopped (LEAPSLD_QUERY_MEMORY)",
                        budget="memory",
                    ) from None
                if attempt == 1 and not sent:
                    continue
                raise LeapsError("the query process stopped while evaluating this query") from None
            break
        retire = frame[:1] == b"R"
        if retire:
            self._drop(child, replace=True)
        else:
            self._put(child)
        answer = _load_answer(frame[1:])
        assert isinstance(answer, tuple)
        if answer[0] == "ok":
            _, kind, variables, rows, triples, boolean, truncated = answer
            return QueryOutcome(kind, variables, rows, triples, boolean, truncated)
        if answer[0] == "bytes":
            _, kind, data, truncated = answer
            return QueryOutcome(kind, truncated=truncated, data=data)
        _, kind, message, line, column = answer
        if kind == "syntax":
            raise QueryError(message, line=line, column=column)
        if kind == "request":
            raise BadRequest(message)
        if kind == "not-acceptable":
            raise NotAcceptable(message, offered=list(line))
        if kind == "unsupported":
            raise UnsupportedFormat(message)
        if kind in ("memory", "answer"):
            self.stopped[kind] += 1
            raise QueryOverBudget(message, budget=kind)
        raise LeapsError(message)

    def _count_stop(self, budget: str) -> None:
        """Count a query stopped for ``budget`` here and in the server's metrics."""
        self.stopped[budget] += 1
        metrics.QUERY_KILLS.inc()

    def _take(self) -> _Child:
        pool = self._pool
        assert pool is not None
        with self._lock:
            child = pool.idle.pop() if pool.idle else None
            if child is not None:
                pool.busy.add(child)
                return child
        child = self._spawn()
        with self._lock:
            pool.busy.add(child)
        return child

    def _put(self, child: _Child) -> None:
        pool = self._pool
        with self._lock:
            if pool is None or pool.closed.is_set():
                _kill(child)
                return
            pool.busy.discard(child)
            pool.idle.append(child)

    def _drop(self, child: _Child, *, replace: bool = True) -> None:
        """Kill a child at once (its CPU and memory are given back) and fork its replacement."""
        _kill(child)
        pool = self._pool
        if pool is None:
            return
        with self._lock:
            pool.busy.discard(child)
            wanted = replace and not pool.closed.is_set() and len(pool.idle) == 0
        if wanted:
            with contextlib.suppress(OSError, LeapsError):
                self._put(self._spawn())

    def _spawn(self, memory: int | None = None) -> _Child:
        pool = self._pool
        assert pool is not None
        memory = memory if memory is not None else self.memory
        try:
            pid, sock = pool.zygote.spawn(memory)
        except OSError:
            if pool.zygote.alive():
                raise
            # the zygote died (killed from outside): make another, from this process
            with self._lock:
                pool.zygote.close()
                pool.zygote = _Zygote(self.store)
            pid, sock = pool.zygote.spawn(memory)
        return _Child(pid, sock)


def _watch(executor: weakref.ref[Executor], pool: _Pool) -> None:
    """Stop a busy query process that grows past its memory budget."""
    while not pool.closed.wait(WATCH_EVERY):
        owner = executor()
        if owner is None:
            return
        budget = owner.memory
        del owner
        for child in pool.watched():
            if child.start is None:
                continue
            resident = _resident(child.pid)
            child.peak = max(child.peak, resident)
            if resident - child.start > budget:
                child.over = "memory"
                with contextlib.suppress(OSError):
                    os.kill(child.pid, signal.SIGKILL)


class WaitingExecutor(Executor):
    """The executor for a store whose engine is elsewhere (``RemoteStore``): no query processes
    (the engine evaluates, leapsld only waits), the same slots, per-client quota, row cap and
    timeout. A query waits in one of a few kept threads; at the timeout the caller gets
    ``EngineTimeout`` and the slot is free at once; the thread still waiting for the engine
    ends when its own request times out."""

    def start(self) -> None:
        if self.started_in == os.getpid():
            return
        with self._lock:
            if self.started_in != os.getpid():
                from concurrent.futures import ThreadPoolExecutor

                # more threads than slots: a thread whose query was given up on still waits
                # for the engine a moment, and must not hold up the next query
                self._threads = ThreadPoolExecutor(
                    max_workers=2 * self.slots + 2, thread_name_prefix="leapsld-remote-query"
                )
                self._running, self._waiting, self._clients = 0, 0, {}
                self.started_in = os.getpid()

    def run_job(
        self, job: Callable[..., None], *args: object, niceness: int = JOB_NICENESS
    ) -> None:
        """Run ``job(store, *args)`` here, in the calling (background) thread: the engine
        elsewhere does the reading, so there is no dataset whose pages a process would copy."""
        try:
            job(self.store, *args)
        except LeapsError:
            raise
        except Exception as exc:  # a job's failure, reported as Executor.run_job does
            raise LeapsError(f"a background job failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            threads = getattr(self, "_threads", None)
            if threads is not None and self.started_in == os.getpid():
                threads.shutdown(wait=False, cancel_futures=True)
            self.started_in = None

    def processes(self) -> list[int]:
        return []

    def run(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
        substitutions: Mapping[str, Term] | None = None,
        max_rows: int | None = None,
        client: str | None = None,
        writer: Writer | None = None,
    ) -> QueryOutcome:
        """As ``Executor.run``, waiting for the engine in a kept thread (a ``writer`` writes the
        answer here, as a query process would).

        Raises:
            EngineTimeout: no answer within the timeout.
            EngineUnavailable: the engine failed.
        """
        from concurrent.futures import TimeoutError as Late

        from .errors import EngineTimeout

        self.start()
        self._admit(client)
        try:
            cancelled = threading.Event()
            future = self._threads.submit(
                evaluate,
                self.store,
                text,
                default_graphs,
                named_graphs,
                union,
                max_rows if max_rows is not None else self.max_rows,
                substitutions,
                cancelled,
            )
            try:
                outcome: QueryOutcome = future.result(timeout=self.timeout)
            except Late:
                cancelled.set()
                future.cancel()
                self._count_stop("time")
                raise EngineTimeout(
                    f"the SPARQL engine did not answer within {self.timeout:g} s; "
                    "leapsld stopped waiting"
                ) from None
            if writer is None:
                return outcome
            return QueryOutcome(outcome.kind, truncated=outcome.truncated, data=writer(outcome))
        finally:
            self._leave(client)
