"""HTTP benchmark: requests per second and latency of resource documents and SPARQL queries.

Starts a server on a free loopback port (``leapsld serve`` on Granian by default; gunicorn or
waitress for comparison), loads it with wrk (Debian package ``wrk``) for each target, prints a
markdown table and writes it with the raw numbers to ``benchmarks/results/``.

    python benchmarks/http.py                       # leapsld serve (Granian)
    python benchmarks/http.py --server all          # granian, gunicorn, waitress side by side

Numbers are for reading, never asserted in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its name would shadow the
# standard library's ``http`` package (which urllib needs): take that folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results"

QUERIES = {
    "cq04 BEATS participants": (ROOT / "queries" / "cq04.rq"),
    "cq02 AfLS supporters": (ROOT / "queries" / "cq02.rq"),
    "count by class": "SELECT ?c (COUNT(?s) AS ?n) { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(kind: str, port: int, threads: int) -> list[str]:
    if kind == "granian":
        return [str(BIN / "leapsld"), "serve", "--port", str(port), "--threads", str(threads)]
    if kind == "gunicorn":
        return [
            str(BIN / "gunicorn"),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "leapsld.web:create_app()",
        ]
    if kind == "waitress":
        return [
            str(BIN / "waitress-serve"),
            f"--threads={threads}",
            f"--listen=127.0.0.1:{port}",
            "--call",
            "leapsld.web:create_app",
        ]
    raise SystemExit(f"unknown server {kind}")


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise SystemExit("server did not answer in time")


WRK_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, accept: str, connections: int, duration: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"Accept: {accept}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latencies = {f"p{m.group(1)}": to_ms(m.group(2), m.group(3)) for m in WRK_LATENCY.finditer(out)}
    errors = WRK_ERRORS.search(out)
    return {
        "rps": float(WRK_RPS.search(out).group(1)),
        **latencies,
        "errors": int(errors.group(1)) if errors else 0,
    }


def targets(origin: str) -> list[tuple[str, str, str]]:
    out = [
        ("/doc/org/sesame Turtle", f"{origin}/doc/org/sesame", "text/turtle"),
        ("/doc/org/sesame JSON-LD", f"{origin}/doc/org/sesame", "application/ld+json"),
    ]
    for name, query in QUERIES.items():
        text = query.read_text() if isinstance(query, Path) else query
        out.append(
            (
                f"SPARQL {name}",
                f"{origin}/sparql?{urllib.parse.urlencode({'query': text})}",
                "application/sparql-results+json",
            )
        )
    return out


def bench(kind: str, connections: int, duration: int, threads: int) -> list[dict[str, object]]:
    port = free_port()
    env = {**os.environ, "LEAPSLD_ROOT": str(ROOT)}
    process = subprocess.Popen(
        server_command(kind, port, threads),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        startup = wait_ready(f"{origin}/doc/org/sesame.ttl", process)
        rows = []
        for name, url, accept in targets(origin):
            run_wrk(url, accept, connections, 1)  # warm up
            rows.append(
                {
                    "server": kind,
                    "target": name,
                    "startup_s": round(startup, 2),
                    **run_wrk(url, accept, connections, duration),
                }
            )
        return rows
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| server | target | req/s | p50 ms | p90 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['server']} | {r['target']} | {r['rps']:.0f} | {r.get('p50', 0):.2f} | {r.get('p90', 0):.2f} | {r.get('p99', 0):.2f} | {r['errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server", default="granian", choices=["granian", "gunicorn", "waitress", "all"]
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    kinds = ["granian", "gunicorn", "waitress"] if args.server == "all" else [args.server]
    rows = [
        row for kind in kinds for row in bench(kind, args.connections, args.duration, args.threads)
    ]
    text = table(rows)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"http-{stamp}.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "http-latest.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
