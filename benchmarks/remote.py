"""Benchmark: leapsld in front of a SPARQL engine (``serve --store sparql+http…``) against the
engine asked directly, on the query mix of ``benchmarks/queries``, and resource documents from
the response memo.

For each engine (Oxigraph server, Virtuoso 7; ``benchmarks/engines.py`` starts them on free
loopback ports), the generated data (``benchmarks/generate.py``, the size given) and the
project's ontology are loaded with ``leapsld load --to``, then served by ``leapsld serve
--store``. Each query is sent to leapsld's ``/sparql`` and to the engine itself with the very
dataset leapsld names (the load's materialised default graph and its named graphs), over one
kept-alive connection each, alternately; the overhead is the difference of the warm medians.
Documents: one resource's Turtle document fetched again and again (from the memo after the
first), on leapsld over the engine.

    python benchmarks/remote.py --triples 1000000            # both engines, about 15 minutes
    python benchmarks/remote.py --triples 100000 --engines oxigraph-server

Numbers are for reading, never asserted in tests. Results go to
``benchmarks/results/remote-latest.md`` (and ``.json``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in http.py: this folder's ``http.py`` must not shadow the standard library's package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime

import engines
from harness import (
    BIN,
    RESULTS,
    ROOT,
    MemorySampler,
    free_port,
    launch,
    stop,
    wait_idle,
    wait_ready,
)
from run import Query, ensure_data, load_queries

from leapsld.remote import Endpoint, Http
from leapsld.target import read_record, record_graph

BASE = "https://w3id.org/leaps/"
ACCEPT = {
    "select": "application/sparql-results+json",
    "ask": "application/sparql-results+json",
    "construct": "application/n-triples",
    "describe": "application/n-triples",
}


class Client:
    """One kept-alive HTTP connection; each request's wall time in milliseconds."""

    def __init__(self, origin: str, timeout: float = 300) -> None:
        parts = urllib.parse.urlsplit(origin)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def ask(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[float, int, bytes]:
        started = time.perf_counter()
        try:
            self.connection.request(method, target, body, headers)
            answer = self.connection.getresponse()
            data = answer.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            raise
        return (time.perf_counter() - started) * 1000, answer.status, data


def _form(fields: list[tuple[str, str]]) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def measure(
    engine: engines.Engine, origin: str, queries: list[Query], runs: int, budget: float
) -> list[dict[str, object]]:
    http = Http(Endpoint.from_store(engine.store, environ=engine.env))
    record = read_record(http, record_graph(BASE))
    assert record is not None, "nothing loaded"
    dataset = [
        ("default-graph-uri", record.layout.default),
        *(("named-graph-uri", g) for g in record.layout.graphs.values()),
    ]
    direct = Client(engine.query_url)
    leapsld = Client(origin)
    engine_path = urllib.parse.urlsplit(engine.query_url).path
    rows = []
    for query in queries:
        headers = {
            "Accept": ACCEPT[query.form],
            "Content-Type": "application/x-www-form-urlencoded",
        }
        to_engine = _form([("query", query.text), *dataset])
        to_leapsld = _form([("query", query.text)])
        times: dict[str, list[float]] = {"engine": [], "leapsld": []}
        statuses: set[int] = set()
        sizes: dict[str, int] = {}
        spent = 0.0
        for run in range(runs + 1):  # the first is the cold one, left out
            for name, client, path, body in (
                ("engine", direct, engine_path, to_engine),
                ("leapsld", leapsld, "/sparql", to_leapsld),
            ):
                ms, status, data = client.ask("POST", path, body, headers)
                statuses.add(status)
                sizes[name] = len(data)
                spent += ms / 1000
                if run:
                    times[name].append(ms)
            if spent > budget and run >= 1:
                break
        engine_ms, leapsld_ms = (statistics.median(times[k]) for k in ("engine", "leapsld"))
        rows.append(
            {
                "query": query.name,
                "runs": len(times["engine"]),
                "status": sorted(statuses),
                "engine_ms": engine_ms,
                "leapsld_ms": leapsld_ms,
                "overhead_ms": leapsld_ms - engine_ms,
                "overhead_pct": 100 * (leapsld_ms - engine_ms) / engine_ms if engine_ms else None,
                "bytes": sizes,
            }
        )
        print(
            f"  {query.name:32} engine {engine_ms:9.2f} ms  leapsld {leapsld_ms:9.2f} ms  "
            f"overhead {leapsld_ms - engine_ms:+8.2f} ms  {sorted(statuses)}",
            flush=True,
        )
    return rows


def documents(origin: str, path: str, runs: int = 2000) -> dict[str, float]:
    client = Client(origin)
    first, status, _ = client.ask("GET", path, None, {"Accept": "text/turtle"})
    assert status == 200, status
    times = sorted(client.ask("GET", path, None, {"Accept": "text/turtle"})[0] for _ in range(runs))
    return {
        "first_ms": first,
        "memo_p50_ms": times[len(times) // 2],
        "memo_p99_ms": times[int(len(times) * 0.99)],
    }


def run_engine(
    kind: str, data: Path, queries: list[Query], runs: int, budget: float, workdir: Path
) -> dict[str, object]:
    start = engines.ENGINES[kind]
    extra = {"data_dirs": (data.parent,)} if kind == "virtuoso" else {}
    with start(workdir / kind, **extra) as engine:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEAPSLD_")}
        env.update(engine.env)
        began = time.monotonic()
        loaded = subprocess.run(
            [
                str(BIN / "leapsld"),
                "load",
                "--to",
                engine.query_url,
                str(ROOT / "ontology"),
                str(data),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        load_s = time.monotonic() - began
        if loaded.returncode != 0:
            raise SystemExit(f"load into {kind} failed: {loaded.stderr[-2000:]}")
        print(f"{kind}: {loaded.stdout.strip()} in {load_s:.0f} s", flush=True)
        port = free_port()
        server = launch(
            [
                str(BIN / "leapsld"),
                "serve",
                "--port",
                str(port),
                "--store",
                engine.store,
                "--query-timeout",
                "300",
                "--max-rows",
                "100000",
                "--threads",
                "8",
                "--no-access-log",
            ],
            env=env,
        )
        origin = f"http://127.0.0.1:{port}"
        sampler = MemorySampler()
        sampler.watch(server.pid)
        sampler.watch(engine.pid)
        sampler.start()
        try:
            # /health, not /: the home page waits for the statistics, and a poll every 0.1 s
            # would keep the background work (which gives way to requests) from finishing
            wait_ready(f"{origin}/health", server, timeout=600)
            # statistics, dumps and the 404 index are made from the engine after the first
            # answer: measured after, as a harvester would meet a server that has settled
            settled = wait_idle(sampler, timeout=1800)
            print(f"{kind}: leapsld settled {settled:.0f} s after its first answer", flush=True)
            rows = measure(engine, origin, queries, runs, budget)
            docs = documents(origin, "/doc/project/project-4.ttl")
        finally:
            sampler.finish()
            stop(server)
    return {
        "engine": kind,
        "load_s": load_s,
        "load": loaded.stdout.strip(),
        "queries": rows,
        "documents": docs,
    }


def report(results: list[dict[str, object]], triples: int) -> str:
    lines = [
        f"# leapsld over SPARQL engines: {triples:,} triples",
        "",
        f"{datetime.now(UTC).isoformat(timespec='seconds')}. Warm medians in ms (the cold run "
        "left out); the engine asked directly with the same dataset leapsld names; overhead = "
        "leapsld - engine.",
        "",
    ]
    for result in results:
        lines += [
            f"## {result['engine']}",
            "",
            f"Load: {result['load']} ({result['load_s']:.0f} s).",
            "",
        ]
        lines += [
            "| query | runs | engine ms | leapsld ms | overhead ms | overhead % |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        overheads = []
        for row in result["queries"]:  # type: ignore[attr-defined]
            pct = row["overhead_pct"]
            overheads.append(row["overhead_ms"])
            lines.append(
                f"| {row['query']} | {row['runs']} | {row['engine_ms']:.2f} | {row['leapsld_ms']:.2f} "
                f"| {row['overhead_ms']:+.2f} | {'' if pct is None else f'{pct:+.1f}'} |"
            )
        lines += ["", f"Median overhead over the mix: {statistics.median(overheads):+.2f} ms.", ""]
        docs = result["documents"]
        lines += [
            f"Documents from the memo: first {docs['first_ms']:.1f} ms (built from the engine), "  # type: ignore[index]
            f"then p50 {docs['memo_p50_ms']:.3f} ms, p99 {docs['memo_p99_ms']:.3f} ms.",  # type: ignore[index]
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--engines", default="oxigraph-server,virtuoso")
    parser.add_argument("--runs", type=int, default=7, help="warm runs per query")
    parser.add_argument("--budget", type=float, default=60, help="seconds per query at most")
    parser.add_argument(
        "--no-write", action="store_true", help="print the results as JSON, write no file"
    )
    args = parser.parse_args()
    data = ensure_data(args.triples, 2026)
    queries = load_queries()
    results = []
    with tempfile.TemporaryDirectory(prefix="leapsld-remote-bench-") as folder:
        for kind in args.engines.split(","):
            results.append(run_engine(kind, data, queries, args.runs, args.budget, Path(folder)))
            if not args.no_write:  # after each engine: a long run keeps what it measured
                text = report(results, args.triples)
                RESULTS.mkdir(parents=True, exist_ok=True)
                (RESULTS / "remote-latest.md").write_text(text + "\n")
                (RESULTS / "remote-latest.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.no_write:
        print(json.dumps(results))
        return
    print(report(results, args.triples))


if __name__ == "__main__":
    main()
