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
# standard library's ``http`` package (which urllib needs): move that folder to the end, where
# ``harness`` is still found but the standard library wins.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import json
import os
import shutil
import time
import urllib.parse

from harness import BIN, RESULTS, ROOT, free_port, launch, run_wrk, stop, wait_ready

QUERIES = {
    "cq04 BEATS participants": (ROOT / "queries" / "cq04.rq"),
    "cq02 AfLS supporters": (ROOT / "queries" / "cq02.rq"),
    "count by class": "SELECT ?c (COUNT(?s) AS ?n) { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)",
}


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
    process = launch(server_command(kind, port, threads), env=env)
    origin = f"http://127.0.0.1:{port}"
    try:
        startup = wait_ready(f"{origin}/doc/org/sesame.ttl", process)
        rows = []
        for name, url, accept in targets(origin):
            headers = {"Accept": accept}
            run_wrk(url, headers=headers, connections=connections, duration=1)  # warm up
            load = run_wrk(url, headers=headers, connections=connections, duration=duration)
            rows.append({"server": kind, "target": name, "startup_s": round(startup, 2), **load})
        return rows
    finally:
        stop(process)


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
