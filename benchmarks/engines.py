"""SPARQL engines leapsld can serve from, started on a free loopback port and stopped after.

Used by the tests (the store contract and the remote serving tests run against them) and by the
benchmarks (``benchmarks/remote.py``)::

    with engines.oxigraph_server(workdir) as e:      # or engines.virtuoso(workdir)
        e.load_file(Path("data.nt"))                  # bulk, into the default graph
        leapsld(..., env={**os.environ, **e.env})     # LEAPSLD_* for --store / load --to

Each engine lives in ``workdir`` (its database, its log) and is killed, with its process group,
when the block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: How long an engine may take to answer its first query.
START_TIMEOUT = 90.0
VIRTUOSO = "/usr/bin/virtuoso-t"
ISQL = "/usr/bin/isql-vt"
#: Virtuoso's administrator in a fresh database (a test database on loopback only).
VIRTUOSO_USER, VIRTUOSO_PASSWORD = "dba", "dba"
#: The graph Virtuoso's bulk loads go to: it has no separate default graph, a query without
#: FROM sees the union of all graphs.
VIRTUOSO_DEFAULT = "urn:leapsld:bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Engine:
    """A running engine: where to ask it, and how leapsld is told (``env``)."""

    name: str
    process: subprocess.Popen[bytes]
    query_url: str
    update_url: str
    gsp_url: str | None
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path = Path()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def store(self) -> str:
        """The value of leapsld's ``--store`` for this engine."""
        return "sparql+" + self.query_url

    def load_file(self, path: Path) -> None:
        """Load an N-Triples or Turtle file into the default graph, the engine's own fast way."""
        raise NotImplementedError

    def stop(self) -> None:
        _kill(self.process)


class _Oxigraph(Engine):
    def load_file(self, path: Path) -> None:
        kind = "application/n-triples" if path.suffix == ".nt" else "text/turtle"
        with path.open("rb") as body:
            request = urllib.request.Request(
                f"{self.gsp_url}?default",
                data=body,
                method="POST",
                headers={"Content-Type": kind, "Content-Length": str(path.stat().st_size)},
            )
            with urllib.request.urlopen(request, timeout=3600) as answer:
                answer.read()


class _Virtuoso(Engine):
    isql_port: int = 0

    def isql(self, *statements: str, timeout: float = 3600) -> str:
        """Run SQL statements with Virtuoso's own client; the output (raises on an error)."""
        script = "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)
        done = subprocess.run(
            [ISQL, str(self.isql_port), VIRTUOSO_USER, VIRTUOSO_PASSWORD],
            input=script.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        out = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        if done.returncode != 0 or "*** Error" in out:
            raise RuntimeError(f"isql failed: {out[-2000:]}")
        return out

    def load_file(self, path: Path) -> None:
        # Virtuoso reads only folders its ini allows: the file is linked (or copied) into one
        folder = self.workdir / "load"
        folder.mkdir(exist_ok=True)
        staged = folder / path.name
        staged.unlink(missing_ok=True)
        try:
            os.link(path, staged)
        except OSError:
            shutil.copyfile(path, staged)
        try:
            self.isql(
                f"ld_dir('{folder}', '{path.name}', '{VIRTUOSO_DEFAULT}')",
                "rdf_loader_run()",
                "checkpoint",
            )
        finally:
            staged.unlink(missing_ok=True)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)


def _wait_until_answers(engine: Engine, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    probe = engine.query_url + "?" + urllib.parse.urlencode({"query": "ASK {}"})
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise RuntimeError(
                f"{engine.name} exited with {engine.process.returncode}: "
                + log.read_text(errors="replace")[-2000:]
            )
        try:
            request = urllib.request.Request(
                probe, headers={"Accept": "application/sparql-results+json"}
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{engine.name} did not answer within {START_TIMEOUT:.0f} s")


def _spawn(command: list[str], workdir: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def oxigraph_binary() -> str:
    """The ``oxigraph`` server the PyPI package ships, beside this interpreter."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if found is None:
        raise RuntimeError("no oxigraph binary: pip install oxigraph")
    return found


@contextlib.contextmanager
def oxigraph_server(workdir: Path, *, timeout_s: int | None = None) -> Iterator[Engine]:
    """Oxigraph server with an on-disk store in ``workdir``, read-write, no union default graph
    (leapsld names the default graph it wants)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "oxigraph.log"
    command = [
        oxigraph_binary(),
        "serve",
        "--location",
        str(workdir / "oxigraph"),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if timeout_s is not None:
        command += ["--timeout-s", str(timeout_s)]
    origin = f"http://127.0.0.1:{port}"
    engine = _Oxigraph(
        "oxigraph-server",
        _spawn(command, workdir, log),
        f"{origin}/query",
        f"{origin}/update",
        f"{origin}/store",
        workdir=workdir,
    )
    engine.env = {
        "LEAPSLD_UPDATE_URL": engine.update_url,
        "LEAPSLD_GSP_URL": engine.gsp_url or "",
    }
    try:
        _wait_until_answers(engine, log)
        yield engine
    finally:
        engine.stop()


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
ServerThreads = 64
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {dir}, {data_dirs}
Collation = 0
UnremoveableFilesOk = 1

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 64
MaxKeepAlives = 64
KeepAliveTimeout = 10
MaxCachedProxyConnections = 0
EnabledDavVSP = 0
HTTPProxyEnabled = 0

[SPARQL]
ResultSetMaxRows = 10000000
MaxSortedTopRows = 10000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
DefaultQuery = ASK {{}}
DeferInferenceRulesInit = 1
MaxConstructTriples = 10000000
MaxDescribeTriples = 10000000
"""


@contextlib.contextmanager
def virtuoso(
    workdir: Path, *, data_dirs: tuple[Path, ...] = (), memory_mib: int = 512
) -> Iterator[Engine]:
    """Virtuoso 7 (Debian's ``virtuoso-opensource-7-bin``) with a fresh database in ``workdir``.

    Queries go to ``/sparql`` (anonymous, read-only); updates and the Graph Store Protocol to
    ``/sparql-auth`` and ``/sparql-graph-crud-auth`` with HTTP digest authentication as the
    database's administrator (``env`` carries the credentials, as a deployment would).
    ``data_dirs`` are folders ``load_file`` may read (Virtuoso's ``DirsAllowed``).
    """
    if not Path(VIRTUOSO).exists():
        raise RuntimeError(f"{VIRTUOSO} is missing: apt-get install virtuoso-opensource-7-bin")
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    isql_port, http_port = free_port(), free_port()
    while http_port == isql_port:
        http_port = free_port()
    buffers = max(2000, memory_mib * 1024 // 8 * 2 // 3 // 8 * 8)  # 8 KiB pages, 2/3 of it
    ini = workdir / "virtuoso.ini"
    ini.write_text(
        _VIRTUOSO_INI.format(
            dir=workdir,
            isql_port=isql_port,
            http_port=http_port,
            buffers=buffers,
            dirty=buffers * 3 // 4,
            data_dirs=", ".join([str(workdir / "load"), *(str(d.resolve()) for d in data_dirs)]),
        )
    )
    log = workdir / "virtuoso.out"
    origin = f"http://127.0.0.1:{http_port}"
    engine = _Virtuoso(
        "virtuoso",
        _spawn([VIRTUOSO, "+foreground", "+configfile", str(ini)], workdir, log),
        f"{origin}/sparql",
        f"{origin}/sparql-auth",
        f"{origin}/sparql-graph-crud-auth",
        workdir=workdir,
    )
    engine.isql_port = isql_port
    engine.env = {
        "LEAPSLD_UPDATE_URL": engine.update_url,
        "LEAPSLD_GSP_URL": engine.gsp_url or "",
        "LEAPSLD_REMOTE_USER": VIRTUOSO_USER,
        "LEAPSLD_REMOTE_PASSWORD": VIRTUOSO_PASSWORD,
    }
    try:
        _wait_until_answers(engine, log)
        yield engine
    finally:
        engine.stop()


ENGINES = {"oxigraph-server": oxigraph_server, "virtuoso": virtuoso}
