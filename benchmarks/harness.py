"""What the benchmark scripts share: free ports, servers in their own process groups, readiness,
wrk and its report, and the memory of a process tree.

``http.py`` and ``run.py`` both start servers and load them with wrk; keeping that here means a
fix to how a server is stopped or how wrk's output is read applies to both.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results"


class StartError(RuntimeError):
    """A server exited or never answered: the run reports it instead of measuring nothing."""


def free_port() -> int:
    """A loopback port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    log: Path | None = None,
) -> subprocess.Popen:
    """Start a server in a session of its own, so that stopping it stops all its workers.

    Its output goes to ``log`` (kept for the report when it fails) or nowhere: a pipe nobody
    reads would fill and block the server.
    """
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            list(command),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """Stop the process group ``launch`` started (and only it): TERM, then KILL what lingers.

    The leader is waited for without being reaped (``WNOWAIT``): while it is a zombie its
    process-group id cannot be given to anybody else, so the final KILL reaches only workers of
    this server that outlived it.
    """
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    break
            except ChildProcessError:
                break
            time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_ready(
    url: str,
    process: subprocess.Popen | None,
    timeout: float = 60,
    *,
    headers: Mapping[str, str] | None = None,
    since: float | None = None,
) -> float:
    """Seconds from ``since`` (default: now) until ``url`` first answers 200.

    Raises:
        StartError: the process exited, or nothing answered within ``timeout``.
    """
    start = time.perf_counter() if since is None else since
    request = urllib.request.Request(url, headers=dict(headers or {}))
    while time.perf_counter() - start < timeout:
        if process is not None and process.poll() is not None:
            raise StartError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
                if response.status == 200:
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise StartError(f"no answer from {url.split('?')[0]} within {timeout:.0f} s")


WRK_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_REQUESTS = re.compile(r"(\d+) requests in ")
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
#: What a counting script (``benchmarks/load.py``) writes at the end.
WRK_ANSWERS = re.compile(r"answers: ok (\d+) refused (\d+) failed (\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    """wrk's report (with ``--latency``) as numbers: req/s, percentiles in ms, and errors.

    Socket errors (a refused connection, a timed-out request) are counted with the non-2xx
    answers, so a server that fails fast cannot pass for a fast one.
    """
    rps = WRK_RPS.search(out)
    if rps is None:
        raise ValueError(f"not a wrk report: {out[:200]!r}")
    latencies = {f"p{m.group(1)}": to_ms(m.group(2), m.group(3)) for m in WRK_LATENCY.finditer(out)}
    requests = WRK_REQUESTS.search(out)
    non_2xx = WRK_ERRORS.search(out)
    sockets = WRK_SOCKET.search(out)
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    answers = WRK_ANSWERS.search(out)
    counted = (
        {k: int(v) for k, v in zip(("ok", "refused", "failed"), answers.groups(), strict=True)}
        if answers
        else {}
    )
    return {
        **counted,
        "rps": float(rps.group(1)),
        "requests": int(requests.group(1)) if requests else 0,
        **latencies,
        "errors": (int(non_2xx.group(1)) if non_2xx else 0) + socket_errors,
        "socket_errors": socket_errors,
    }


def run_wrk(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    connections: int = 8,
    duration: int = 10,
    threads: int = 2,
    script: Path | None = None,
) -> dict[str, float]:
    """Load ``url`` with wrk for ``duration`` seconds; ``script`` is a Lua file that may choose
    each request's path (requests then go to the paths it returns, on the origin of ``url``)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    return parse_wrk(out)


class MemorySampler(threading.Thread):
    """Peak resident memory of process trees, sampled every ``interval`` seconds in a thread.

    Each sample sums RSS over every watched process and all its descendants (a server's
    workers, a loader that ran before it), and PSS every ``pss_interval`` seconds. PSS shares
    each page among the processes mapping it, so forked workers sharing memory are not counted
    twice; RSS counts shared pages in every process. PSS is read less often because it walks
    every mapping (``smaps_rollup``: tens of ms for a large process, CPU the measured server
    would otherwise have). Without psutil (not in the ``dev`` extra) the peaks stay None.
    """

    def __init__(self, interval: float = 0.2, pss_interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.pss_interval = pss_interval
        self._last_pss = -math.inf
        self.roots: list[int] = []
        self.peak_rss: float | None = None
        self.peak_pss: float | None = None
        self.samples = 0
        self._halt = threading.Event()
        try:
            import psutil
        except ImportError:
            self._psutil = None
        else:
            self._psutil = psutil

    @property
    def available(self) -> bool:
        return self._psutil is not None

    def watch(self, pid: int) -> None:
        self.roots.append(pid)

    def run(self) -> None:
        if self._psutil is None:
            return
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self, *, pss: bool = False) -> None:
        """Add one sample of the watched trees (MiB): RSS always; PSS when due, when RSS is at a
        new peak (at most twice a second), or when ``pss`` asks for it."""
        psutil = self._psutil
        if psutil is None:
            return
        errors = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
        processes = self._tree()
        rss_total = 0
        for process in processes:
            with contextlib.suppress(*errors):
                rss_total += process.memory_info().rss
        if not rss_total:
            return
        mib = 1024 * 1024
        now = time.monotonic()
        since = now - self._last_pss
        peak = rss_total / mib > (self.peak_rss or 0) * 1.02
        self.peak_rss = max(self.peak_rss or 0, rss_total / mib)
        self.samples += 1
        if pss or since >= self.pss_interval or (peak and since >= 0.5):
            pss_total = 0
            for process in processes:
                with contextlib.suppress(*errors):
                    info = process.memory_full_info()
                    pss_total += getattr(info, "pss", info.rss)
            self._last_pss = now
            self.peak_pss = max(self.peak_pss or 0, pss_total / mib)

    def _tree(self) -> list:
        psutil = self._psutil
        found = []
        for pid in list(self.roots):
            try:
                root = psutil.Process(pid)
                found += [root, *root.children(recursive=True)]
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the watched trees have used so far."""
        psutil = self._psutil
        total = 0.0
        for process in self._tree():
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            total += times.user + times.system
        return total

    def finish(self) -> dict[str, float | None]:
        """Stop sampling; the peaks in MiB."""
        self._halt.set()
        if self.is_alive():
            self.join()
        self.sample(pss=True)
        return {
            "peak_rss_mib": None if self.peak_rss is None else round(self.peak_rss, 1),
            "peak_pss_mib": None if self.peak_pss is None else round(self.peak_pss, 1),
            "samples": self.samples,
        }


def wait_idle(
    sampler: MemorySampler,
    *,
    busy: float = 0.1,
    window: float = 0.5,
    timeout: float = 60,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Wait until the watched processes use less than ``busy`` of a core over ``window`` seconds
    (workers still loading, a store compacting after a load), at most ``timeout``; the seconds
    waited. Measuring while a server still loads would charge its start-up to the first queries.
    """
    start = time.perf_counter()
    if not sampler.available:
        return 0.0
    before = sampler.cpu_seconds()
    while time.perf_counter() - start < timeout:
        sleep(window)
        after = sampler.cpu_seconds()
        if after - before < busy * window:
            break
        before = after
    return time.perf_counter() - start
