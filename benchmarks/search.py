"""The label search and class pages at scale: build the per-version index (``search.py``) over
the ontology and the synthetic data of ``generate.py``, then time searches and deep class pages.

The target (issue 18): a label search answers in under 200 ms at 1M triples.

    python benchmarks/search.py --triples 1000000

Writes ``benchmarks/results/search-latest.md``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.append(str(BENCH))  # after the standard library: benchmarks/http.py is not http

from run import ensure_data  # noqa: E402 - benchmarks/run.py, on the path set above

from leapsld.loading import load_files  # noqa: E402
from leapsld.search import build_index  # noqa: E402
from leapsld.store import OxigraphStore  # noqa: E402

BASE = "https://w3id.org/leaps/"
SEARCHES = (
    "participant",
    "p",
    "project 6",
    "light",
    "photon wave",
    "network 12",
    "zzz-no-such-label",
)
ORG = "http://www.w3.org/ns/org#FormalOrganization"
MEMBERSHIP = "http://www.w3.org/ns/org#Membership"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    data = ensure_data(args.triples, 2026)
    store = OxigraphStore()
    started = time.perf_counter()
    files = load_files([ROOT / "ontology" / "leaps.ttl", data], store, base_iri=BASE, root=ROOT)
    loaded = time.perf_counter() - started
    graphs = [g for f in files for g in f.all_graphs]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    index = build_index(store, graphs, prefix=f"{BASE}id/")
    built = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lines = [
        f"# Label index at {len(store):,} quads ({args.triples:,} triples generated)",
        "",
        f"- load: {loaded:.1f} s; index build: {built:.2f} s, {len(index):,} resources; "
        f"peak RSS {rss_before / 1024:.0f} → {rss_after / 1024:.0f} MiB",
        "",
        "| search | hits | median ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    worst = 0.0
    for text in SEARCHES:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            hits = index.search(text)
            times.append((time.perf_counter() - t) * 1000)
        worst = max(worst, max(times))
        lines.append(
            f"| `{text}` | {len(hits)} | {statistics.median(times):.1f} | {max(times):.1f} |"
        )
    lines += ["", "| class page | members | page | ms |", "|---|---:|---:|---:|"]
    for cls in (ORG, MEMBERSHIP):
        count = index.count(cls)
        rows = index.by_class.get(cls, [])
        for depth in (0, count // 2, max(count - 100, 0)):
            after = index.entries[rows[depth - 1]].iri if depth else None
            t = time.perf_counter()
            index.members(cls, after=after)
            took = (time.perf_counter() - t) * 1000
            lines.append(
                f"| `{cls.rsplit('#', 1)[-1]}` | {count:,} | after {depth:,} | {took:.2f} |"
            )
    lines += ["", f"Slowest search: {worst:.1f} ms (target: under 200 ms)."]
    text = "\n".join(lines) + "\n"
    print(text)
    (BENCH / "results" / "search-latest.md").write_text(text)


if __name__ == "__main__":
    main()
