"""A bounded load test: documents and SPARQL queries mixed, many connections, a real server.

Starts ``leapsld serve`` (memory store, the project's data) on a loopback port, loads it with
wrk for ``--seconds`` at ``--connections`` (documents in Turtle, JSON-LD and HTML, 303s from
``/id/``, VoID, and SPARQL SELECT, ASK and CONSTRUCT by GET), then checks the server still
answers. Prints the figures (requests, errors, p50/p99) and writes
``benchmarks/results/load-latest.md``; exits 1 when any request failed or the server died.

    python benchmarks/load.py                       # 60 s, 64 connections (make bench)
    python benchmarks/load.py --seconds 10          # the form make test runs
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this folder's http.py would shadow the standard library's
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import json
import tempfile
import urllib.parse
import urllib.request

from harness import BIN, RESULTS, free_port, launch, run_wrk, stop, wait_ready

QUERIES = [
    (
        "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } "
        "LIMIT 50",
        "application/sparql-results+json",
    ),
    (
        "ASK { ?s a <http://www.w3.org/ns/org#FormalOrganization> }",
        "application/sparql-results+xml",
    ),
    (
        "CONSTRUCT { <https://w3id.org/leaps/id/org/sesame> ?p ?o } "
        "WHERE { <https://w3id.org/leaps/id/org/sesame> ?p ?o }",
        "text/turtle",
    ),
    (
        "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type ORDER BY DESC(?n)",
        "text/csv",
    ),
]
PATHS = [
    ("/doc/org/sesame", "text/turtle"),
    ("/doc/project/beats", "application/ld+json"),
    ("/doc/org/leaps", "text/html"),
    ("/id/org/sesame", "text/turtle"),
    ("/doc/event/light-for-ukraine-workshops.nt", "*/*"),
    ("/.well-known/void", "text/turtle"),
    ("/def", "text/turtle"),
    *(("/sparql?query=" + urllib.parse.quote(q), accept) for q, accept in QUERIES),
]


def lua(paths: list[tuple[str, str]], clients: int) -> str:
    """A wrk script sending the paths in turn, each with its Accept header, as ``clients``
    different clients behind a trusted proxy (``X-Forwarded-For``), and counting answers:
    ``ok`` (2xx, 3xx), ``refused`` (429 or 503 with ``Retry-After``: the server's bounds at
    work), ``failed`` (anything else)."""
    entries = ",\n".join(f'  {{"{p}", "{a}"}}' for p, a in paths)
    return f"""local paths = {{
{entries}
}}
local threads = {{}}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  ok, refused, failed, i = 0, 0, 0, id
end
request = function()
  i = i + 1
  local entry = paths[(i % #paths) + 1]
  local client = "10.0." .. (i % {clients}) .. ".1"
  return wrk.format("GET", entry[1], {{["Accept"] = entry[2], ["X-Forwarded-For"] = client}})
end
response = function(status, headers, body)
  if status < 400 then
    ok = ok + 1
  elseif (status == 429 or status == 503) and (headers["Retry-After"] or headers["retry-after"]) then
    refused = refused + 1
  else
    failed = failed + 1
  end
end
done = function(summary, latency, requests)
  local o, r, f = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    r = r + t:get("refused")
    f = f + t:get("failed")
  end
  io.write(string.format("answers: ok %d refused %d failed %d\\n", o, r, f))
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server = launch(
        [str(BIN / "leapsld"), "serve", "--port", str(port), "--trust-proxy", "--no-access-log"]
    )
    try:
        wait_ready(f"{origin}/", server, timeout=120)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(lua(PATHS, args.connections))
        figures = run_wrk(
            f"{origin}/",
            connections=args.connections,
            duration=args.seconds,
            threads=2,
            script=Path(script.name),
        )
        Path(script.name).unlink()
        with urllib.request.urlopen(f"{origin}/doc/org/sesame.ttl", timeout=10) as answer:
            alive = answer.status == 200 and server.poll() is None
    finally:
        stop(server)
    figures.update(alive=alive, seconds=args.seconds, connections=args.connections)
    # Refusals (429/503 with Retry-After) are the bounds at work, not failures.
    figures["errors"] = figures.get("failed", figures["errors"]) + figures["socket_errors"]
    print(json.dumps(figures))
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "load-latest.md").write_text(
            f"# Load test: {args.seconds} s, {args.connections} connections, mixed documents "
            "and SPARQL\n\n| requests | req/s | refused (429/503, Retry-After) | errors "
            "| p50 ms | p99 ms | alive after |\n|---:|---:|---:|---:|---:|---:|---|\n"
            f"| {figures['requests']:,} | {figures['rps']:,.0f} | {figures.get('refused', 0):,} "
            f"| {figures['errors']} "
            f"| {figures.get('p50', 0):.2f} | {figures.get('p99', 0):.2f} | {alive} |\n"
        )
    return 0 if alive and figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
