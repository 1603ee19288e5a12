"""Default-graph layouts for pyoxigraph 0.5: memory, build time, query speed and answers.

leapsld loads every file into a named graph of its own and answers SPARQL with the union of
all graphs as the default graph (``use_default_graph_as_union=True``). In pyoxigraph 0.5 that
union is a bag: a triple two files state comes back twice. This script measures that layout
against others that give the default graph set semantics, each in a fresh process:

- ``union``: one named graph per file; queries with the union flag (leapsld today).
- ``materialised``: the same named graphs plus every distinct triple once in the real default
  graph; queries read the store's own default graph.
- ``split``: every distinct triple once in the default graph of the memory store, which
  answers every query that names no graph; the per-file named graphs in a second store on disk
  (RocksDB), which answers the queries that mention GRAPH or FROM (with the union flag).
- ``split-mem``: as ``split``, the per-file named graphs in a second memory store.
- ``first-owner``: each distinct triple once, in the named graph of the first file that states
  it; the union flag. The triples a later file repeats are kept aside (a small second store
  that no query reads), so GRAPH of a later file misses them.
- ``union-disk``, ``materialised-disk``: the first two layouts in an on-disk store, built as
  leapsld builds one (in memory, dumped to N-Quads, bulk-loaded into RocksDB), then opened
  read-only by a fresh process that answers the queries.

The data: ``ontology/leaps.ttl``, the synthetic data of ``generate.py`` and a small third file
that repeats the types and labels of every organisation of the data (the same statement in
two files, as real data has), so the bag shows in the answers. The query mix is
``benchmarks/queries/*.rq`` plus three queries on the default graph's size and on provenance.
Each query runs once cold, then up to ``--repeat`` times warm (fewer once its warm runs took
``--budget`` seconds). Answers are compared with those of ``materialised`` (set semantics).

Memory: RSS and PSS of the process (``/proc/<pid>/smaps_rollup``) once the store is built and
settled (garbage collected, free heap trimmed, 1 s later) and again after the query mix; peak
RSS is the kernel's high-water mark (VmHWM), peak PSS the largest of samples every 0.2 s.

    python benchmarks/layout.py                         # 1M triples, every layout
    python benchmarks/layout.py --triples 100000 --layouts union,materialised --repeat 3

The tables go to ``benchmarks/results/layout-latest.md`` (and stdout). Numbers are for
reading, never asserted in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and ``http.py`` would shadow the standard
# library's ``http``: move the folder to the end of the path (as run.py does).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

import pyoxigraph as ox

from leapsld.memory import release_free_memory
from leapsld.namespaces import graph_iri

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
QUERIES = BENCH / "queries"
RESULTS = BENCH / "results"
ONTOLOGY = ROOT / "ontology" / "leaps.ttl"
BASE = "https://w3id.org/leaps/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ORG = f"{BASE}id/org/"
#: Reference for the answers: the layout whose default graph is a set of the files' triples.
REFERENCE = "materialised"


@dataclass(frozen=True)
class Layout:
    name: str
    disk: bool  # built by one process into RocksDB, queried by another
    summary: str


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("union", False, "named graph per file; union flag (today)"),
        Layout("materialised", False, "named graphs + distinct triples in the default graph"),
        Layout("split", False, "default graph in memory; named graphs in RocksDB"),
        Layout("split-mem", False, "default graph in memory; named graphs in a 2nd memory store"),
        Layout("first-owner", False, "each triple once, in the first file's graph; union flag"),
        Layout("union-disk", True, "RocksDB: named graph per file; union flag"),
        Layout("materialised-disk", True, "RocksDB: named graphs + default graph"),
    )
}

EXTRA_QUERIES = {
    "x1-count-default-graph": (
        "The default graph's size: a set, so each distinct triple counts once.",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    ),
    "x2-graph-sizes": (
        "Provenance: how many triples each file states (GRAPH ?g).",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    ),
    "x3-label-provenance": (
        "Provenance: which files state the labels of one organisation.",
        f"SELECT ?g ?label WHERE {{ GRAPH ?g {{ <{ORG}org-7> <{RDFS_LABEL}> ?label }} }} "
        "ORDER BY ?g ?label",
    ),
}

_COMMENT = re.compile(r"#[^\n]*")
_IRI = re.compile(r"<[^>]*>")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_NAMES_GRAPHS = re.compile(r"\b(GRAPH|FROM)\b", re.I)


def names_graphs(text: str) -> bool:
    """Whether a query mentions GRAPH or FROM (outside IRIs, strings and comments)."""
    return _NAMES_GRAPHS.search(_STRING.sub("", _IRI.sub("<>", _COMMENT.sub("", text)))) is not None


def load_queries(skip: set[str]) -> dict[str, tuple[str, str]]:
    """Name → (description, text): the project's query mix, then the extra queries."""
    out = {}
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text()
        first = text.splitlines()[0] if text else ""
        out[path.stem] = (first.lstrip("# ").strip(), text)
    out.update(EXTRA_QUERIES)
    return {n: q for n, q in out.items() if not any(n.startswith(s) for s in skip)}


# --- data -----------------------------------------------------------------------------------


def size_label(triples: int) -> str:
    for unit, factor in (("m", 1_000_000), ("k", 1_000)):
        if triples >= factor and triples % factor == 0:
            return f"{triples // factor}{unit}"
    return str(triples)


def ensure_files(triples: int) -> list[Path]:
    """The three files to load: ontology, generated data (made if missing), repeated triples."""
    from run import ensure_data  # benchmarks/run.py: makes the data only if missing or stale

    data = ensure_data(triples, 2026, DATA)
    repeated = data.with_name(data.stem + "-repeated.nt")
    key = repeated.with_suffix(".nt.key")
    stamp = hashlib.sha256(data.read_bytes()).hexdigest()[:16]
    if not (repeated.exists() and key.exists() and key.read_text() == stamp):
        # Every organisation's types and labels, stated again in a file of their own.
        picked = sorted(
            (t for t in ox.parse(path=str(data), format=ox.RdfFormat.TURTLE) if _repeats(t)),
            key=str,
        )
        partial = repeated.with_suffix(".partial")
        ox.serialize(picked, output=str(partial), format=ox.RdfFormat.N_TRIPLES)
        partial.replace(repeated)
        key.write_text(stamp)
    return [ONTOLOGY, data, repeated]


def _repeats(t: ox.Triple) -> bool:
    return (
        isinstance(t.subject, ox.NamedNode)
        and t.subject.value.startswith(ORG)
        and t.predicate.value in (RDF_TYPE, RDFS_LABEL)
    )


def file_format(path: Path) -> ox.RdfFormat:
    return ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE


def file_graph(path: Path) -> ox.NamedNode:
    """The graph leapsld would give the file: ``{base}graph/{path without suffix}``."""
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else Path(path.name)
    return ox.NamedNode(graph_iri(BASE, rel.as_posix()))


# --- memory ---------------------------------------------------------------------------------


def memory_of(pid: int | str = "self") -> dict[str, float]:
    """RSS, PSS (smaps_rollup) and the RSS high-water mark (status), in MiB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                out[key.lower()] = int(rest.split()[0]) / 1024
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                out["hwm"] = int(line.split()[1]) / 1024
    return out


def settled() -> dict[str, float]:
    release_free_memory()
    time.sleep(1.0)
    return {k: round(v, 1) for k, v in memory_of().items()}


def emit(kind: str, payload: object) -> None:
    print(kind, json.dumps(payload), flush=True)


# --- the layouts, inside the worker -------------------------------------------------------


class Engine:
    """A built layout: what answers a query, and what it holds."""

    def __init__(
        self,
        main: ox.Store,
        *,
        union: bool,
        named: ox.Store | None = None,
        side: ox.Store | None = None,
    ) -> None:
        self.main, self.union, self.named, self.side = main, union, named, side

    def query(self, text: str):
        if self.named is not None and names_graphs(text):
            return self.named.query(text, use_default_graph_as_union=True)
        return self.main.query(text, use_default_graph_as_union=self.union)

    def quads(self) -> dict[str, int]:
        out = {"main": len(self.main)}
        if self.named is not None:
            out["named"] = len(self.named)
        if self.side is not None:
            out["side"] = len(self.side)
        return out


def load_named(store: ox.Store, files: list[Path]) -> None:
    for path in files:
        store.load(path=str(path), format=file_format(path), to_graph=file_graph(path))


def materialise(store: ox.Store) -> None:
    """Every distinct triple of the named graphs, once, in the default graph."""
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")


def build_memory(name: str, files: list[Path], work: Path) -> Engine:
    if name in ("union", "materialised", "union-disk", "materialised-disk"):
        store = ox.Store()
        load_named(store, files)
        if name.startswith("materialised"):
            materialise(store)
        return Engine(store, union=name.startswith("union"))
    if name in ("split", "split-mem"):
        main = ox.Store()
        for path in files:
            main.load(path=str(path), format=file_format(path))
        if name == "split-mem":
            named = ox.Store()
            load_named(named, files)
            return Engine(main, union=False, named=named)
        folder = work / "named"
        disk = ox.Store(str(folder))
        for path in files:
            disk.bulk_load(path=str(path), format=file_format(path), to_graph=file_graph(path))
        disk.flush()
        del disk
        return Engine(main, union=False, named=ox.Store.read_only(str(folder)))
    if name == "first-owner":
        main, side = ox.Store(), ox.Store()
        for path in files:
            graph = file_graph(path)
            staging = ox.Store()
            staging.load(path=str(path), format=file_format(path))
            fresh: list[ox.Quad] = []
            repeated: list[ox.Quad] = []
            for q in staging:
                held = next(main.quads_for_pattern(q.subject, q.predicate, q.object, None), None)
                quad = ox.Quad(q.subject, q.predicate, q.object, graph)
                (repeated if held is not None else fresh).append(quad)
                if len(fresh) >= 50_000:
                    main.extend(fresh)
                    fresh.clear()
            main.extend(fresh)
            side.extend(repeated)
            del staging, fresh, repeated
        return Engine(main, union=True, side=side)
    raise ValueError(name)


# --- answers --------------------------------------------------------------------------------


def term_text(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:b"  # blank node labels differ from store to store
    return str(term)


def answer(result: object) -> list[tuple[str, ...]] | bool:
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = result.variables
        return [tuple(term_text(row[v]) for v in names) for row in result]
    return [(term_text(t.subject), str(t.predicate), term_text(t.object)) for t in result]


def digest(rows: list[tuple[str, ...]] | bool) -> dict:
    """Row count and hash of the sorted rows; the rows themselves when there are few."""
    if isinstance(rows, bool):
        return {"rows": rows, "hash": str(rows)}
    ordered = sorted(rows)
    text = "\n".join("\t".join(r) for r in ordered)
    out = {"rows": len(rows), "hash": hashlib.sha256(text.encode()).hexdigest()[:16]}
    if len(rows) <= 100:
        out["sample"] = ordered
    return out


def run_mix(engine: Engine, queries: dict, repeat: int, budget: float) -> dict:
    """Each query cold, then warm; wall time and the CPU time of this thread, which evaluates
    the query (pyoxigraph evaluates in the calling thread), so other load on the machine
    counts in the first and hardly in the second."""
    out = {}
    for name, (_, text) in queries.items():
        start, cpu = time.perf_counter(), time.thread_time()
        rows = answer(engine.query(text))
        cold, cold_cpu = time.perf_counter() - start, time.thread_time() - cpu
        warm: list[float] = []
        warm_cpu: list[float] = []
        while len(warm) < repeat and sum(warm) + cold < budget:
            start, cpu = time.perf_counter(), time.thread_time()
            answer(engine.query(text))
            warm.append(time.perf_counter() - start)
            warm_cpu.append(time.thread_time() - cpu)
        out[name] = {
            "cold_ms": cold * 1000,
            "warm_ms": [w * 1000 for w in warm],
            "cold_cpu_ms": cold_cpu * 1000,
            "warm_cpu_ms": [w * 1000 for w in warm_cpu],
            **digest(rows),
        }
        print(f"  {name}: {cold * 1000:.1f} ms cold, {len(warm)} warm", file=sys.stderr)
    return out


def worker(args: argparse.Namespace) -> None:
    """One layout, one process: build (or open), settle, measure, query, measure."""
    files = [Path(f) for f in args.files]
    work = Path(args.work)
    name = args.worker
    layout = LAYOUTS[name]
    emit("PHASE", "build")
    start, cpu = time.perf_counter(), time.process_time()
    if layout.disk and args.stage == "build":
        # As leapsld builds an on-disk store: in memory, dumped to N-Quads, bulk-loaded.
        engine = build_memory(name, files, work)
        quads = engine.quads()
        dump = work / "quads.nq"
        engine.main.dump(str(dump), format=ox.RdfFormat.N_QUADS)
        del engine
        release_free_memory()
        store = ox.Store(str(work / "store"))
        store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        store.flush()
        dump.unlink()
        del store
        emit(
            "RESULT",
            {
                "build_s": time.perf_counter() - start,
                "build_cpu_s": time.process_time() - cpu,
                "quads": quads,
                "built": settled(),
            },
        )
        return
    if layout.disk:
        engine = Engine(ox.Store.read_only(str(work / "store")), union=name.startswith("union"))
        quads = None
    else:
        engine = build_memory(name, files, work)
        quads = engine.quads()
    build_s, build_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    loaded = settled()
    queries = load_queries(set(args.skip))
    emit("PHASE", "queries")
    mix = run_mix(engine, queries, args.repeat, args.budget)
    after = settled()
    emit(
        "RESULT",
        {
            "build_s": build_s,
            "build_cpu_s": build_cpu_s,
            "quads": quads,
            "loaded": loaded,
            "queried": after,
            "queries": mix,
            "load_average": os.getloadavg(),
        },
    )


# --- the parent -----------------------------------------------------------------------------


class Sampler(threading.Thread):
    """The largest RSS and PSS of one process, per phase, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = "start"
        self.peaks: dict[str, dict[str, float]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                now = memory_of(self.pid)
            except (OSError, ValueError):
                continue
            peak = self.peaks.setdefault(self.phase, {"rss": 0.0, "pss": 0.0})
            for k in ("rss", "pss"):
                peak[k] = round(max(peak[k], now.get(k, 0.0)), 1)


def spawn(name: str, files: list[Path], work: Path, args: argparse.Namespace, stage: str) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        name,
        "--stage",
        stage,
        "--work",
        str(work),
        "--repeat",
        str(args.repeat),
        "--budget",
        str(args.budget),
        "--files",
        *map(str, files),
    ]
    for s in args.skip:
        command += ["--skip", s]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    sampler = Sampler(process.pid)
    sampler.start()
    result = None
    assert process.stdout is not None
    for line in process.stdout:
        kind, _, payload = line.partition(" ")
        if kind == "PHASE":
            sampler.phase = json.loads(payload)
        elif kind == "RESULT":
            result = json.loads(payload)
    process.wait()
    sampler.done.set()
    sampler.join()
    if process.returncode != 0 or result is None:
        raise RuntimeError(f"{name} ({stage}) failed with exit status {process.returncode}")
    result["peaks"] = sampler.peaks
    return result


def measure(name: str, files: list[Path], args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"layout-{name}-", dir=DATA) as tmp:
        work = Path(tmp)
        print(f"{name}: ...", file=sys.stderr, flush=True)
        if not LAYOUTS[name].disk:
            record = spawn(name, files, work, args, "all")
            record["disk_mib"] = folder_mib(work)
            return record
        built = spawn(name, files, work, args, "build")
        served = spawn(name, files, work, args, "serve")
        served["open_s"] = served.pop("build_s")
        served["open_cpu_s"] = served.pop("build_cpu_s")
        served["build_s"] = built["build_s"]
        served["build_cpu_s"] = built["build_cpu_s"]
        served["quads"] = built["quads"]
        served["build"] = built
        served["disk_mib"] = folder_mib(work / "store")
        return served


def folder_mib(folder: Path) -> float | None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1) if files else None


# --- the bag, on a tiny example ------------------------------------------------------------


def bag_demo() -> list[tuple[str, str, str, str, str]]:
    """One triple in two named graphs, one in one: what each way of reading them answers."""
    ex = "http://example.org/"
    g1, g2 = ox.NamedNode(f"{ex}g1"), ox.NamedNode(f"{ex}g2")
    a, b, p = ox.NamedNode(f"{ex}a"), ox.NamedNode(f"{ex}b"), ox.NamedNode(f"{ex}p")
    store = ox.Store()
    store.extend(
        [
            ox.Quad(a, p, ox.Literal("x"), g1),
            ox.Quad(a, p, ox.Literal("x"), g2),
            ox.Quad(b, p, ox.Literal("y"), g1),
        ]
    )
    materialised = ox.Store()
    materialised.extend(store)
    materialised.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    queries = [
        "SELECT * WHERE { ?s ?p ?o }",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "SELECT DISTINCT * WHERE { ?s ?p ?o }",
        "CONSTRUCT WHERE { ?s ?p ?o }",
    ]

    def shown(result: object) -> str:
        rows = answer(result)
        if isinstance(rows, bool):
            return str(rows)
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0].split("^^")[0]
        return f"{len(rows)} rows"

    out = []
    for q in queries:
        out.append(
            (
                q,
                shown(store.query(q, use_default_graph_as_union=True)),
                shown(store.query(q, default_graph=[g1, g2])),
                shown(
                    store.query(q.replace("WHERE", f"FROM <{g1.value}> FROM <{g2.value}> WHERE"))
                ),
                shown(materialised.query(q)),
            )
        )
    return out


# --- the report -----------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ms(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


_LOCAL = re.compile(r"<[^>]*[/#]([^/#>]*)>")
_TYPED = re.compile(r'"([^"]*)"\^\^[^ ]*')


def short(row: list[str] | tuple[str, ...]) -> str:
    """A row with IRIs cut to their last segment and numbers without their datatype."""
    return "(" + ", ".join(_TYPED.sub(r"\1", _LOCAL.sub(r"\1", t)) for t in row) + ")"


def difference(ref: dict, other: dict) -> str:
    """How an answer differs from the reference: row counts, else the first unequal row."""
    if ref["rows"] != other["rows"]:
        return f"{other['rows']} rows, not {ref['rows']}"
    if "sample" in ref and "sample" in other:
        for a, b in zip(ref["sample"], other["sample"], strict=True):
            if a != b:
                return f"{short(b)} not {short(a)}"
    return "other rows"


def markdown(results: dict, files: list[Path], args: argparse.Namespace, took: float) -> str:
    names = list(results)
    with files[-1].open() as f:
        repeated = sum(1 for line in f if line.strip())
    lines = [
        f"# Default-graph layouts: {args.triples:,} triples, {os.cpu_count()} cores",
        "",
        f"{datetime.now(UTC).isoformat(timespec='seconds')}, {took:.0f} s; pyoxigraph "
        f"{metadata.version('pyoxigraph')}, Python {platform.python_version()}, "
        f"{platform.machine()}. Made by `python benchmarks/layout.py "
        f"--triples {args.triples} --repeat {args.repeat}`.",
        "",
        "Files, each its own named graph: "
        + ", ".join(f"`{p.name}` ({p.stat().st_size / 2**20:.1f} MiB)" for p in files)
        + f". The last one repeats the types and labels of every organisation of the data: "
        f"{repeated:,} triples. Triples per graph: see x2-graph-sizes below.",
        "",
        "## Memory and build",
        "",
        "Quads: main store (+ second store). Build: parse and lay out (disk: and bulk-load; the "
        "query process then only opens the store), wall seconds and CPU seconds of all the "
        "process's threads. RSS/PSS MiB: settled after the build, then "
        "after the query mix; peak RSS is the process's high-water mark, peak PSS the largest "
        "sample (every 0.2 s).",
        "",
        "| layout | what | quads | build s (CPU s) | RSS loaded | PSS loaded | RSS after queries "
        "| PSS after queries | peak RSS | peak PSS | disk MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        r = results[name]
        quads = " + ".join(f"{v:,}" for v in r["quads"].values())
        peaks = [r["peaks"]]
        hwm = r["queried"]["hwm"]
        if "build" in r:
            peaks.append(r["build"]["peaks"])
            hwm = max(hwm, r["build"]["built"]["hwm"])
        peak_pss = max(p["pss"] for ph in peaks for p in ph.values())
        build = f"{r['build_s']:.1f} ({r['build_cpu_s']:.1f})"
        if "open_s" in r:
            build += f", open {r['open_s']:.2f}"
        lines.append(
            f"| {name} | {LAYOUTS[name].summary} | {quads} | {build} | "
            f"{fmt(r['loaded']['rss'])} | {fmt(r['loaded']['pss'])} | "
            f"{fmt(r['queried']['rss'])} | {fmt(r['queried']['pss'])} | {fmt(hwm)} | "
            f"{fmt(peak_pss)} | {fmt(r.get('disk_mib'), 0)} |"
        )
    queries = load_queries(set(args.skip))
    reference = REFERENCE if REFERENCE in results else names[0]
    loads = ", ".join(f"{n} {results[n]['load_average'][0]:.1f}" for n in names)
    lines += [
        "",
        "## Queries",
        "",
        f"CPU ms of the thread that evaluates the query: median of the warm runs (up to "
        f"{args.repeat}; fewer once a query's runs took {args.budget:g} s: n; none: the cold "
        "run, in italics). Other work on the machine slows the wall clock much more than this "
        f"(1-minute load average at the end of each layout's queries: {loads}; 2 cores). "
        f"Results: rows of `{reference}`. Answers: each layout's rows compared with "
        f"`{reference}`'s (sorted, blank nodes blanked).",
        "",
        "| query | results | " + " | ".join(names) + " | answers |",
        "|---|---:|" + "---:|" * len(names) + "---|",
    ]
    for q in queries:
        ref = results[reference]["queries"][q]
        cells = []
        differ = []
        for name in names:
            m = results[name]["queries"][q]
            if m["warm_cpu_ms"]:
                cell = ms(statistics.median(m["warm_cpu_ms"]))
                if len(m["warm_cpu_ms"]) < args.repeat:
                    cell += f" (n={len(m['warm_cpu_ms'])})"
            else:
                cell = f"_{ms(m['cold_cpu_ms'])}_"
            cells.append(cell)
            if m["hash"] != ref["hash"]:
                differ.append(f"{name}: {difference(ref, m)}")
        verdict = "same" if not differ else "**differ**: " + "; ".join(differ)
        lines.append(f"| {q} | {ref['rows']} | " + " | ".join(cells) + f" | {verdict} |")
    lines += [
        "",
        "Wall ms: cold / warm median.",
        "",
        "| query | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for q in queries:
        cells = []
        for name in names:
            m = results[name]["queries"][q]
            cell = ms(m["cold_ms"])
            if m["warm_ms"]:
                cell += f" / {ms(statistics.median(m['warm_ms']))}"
            cells.append(cell)
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## The union is a bag (pyoxigraph 0.5)",
        "",
        'Triples `:a :p "x"` in graphs g1 and g2, `:b :p "y"` in g1. What each way of making '
        "the union of g1 and g2 the default graph answers (a set has 2 triples):",
        "",
        "| query | union flag | `default_graph=[g1, g2]` | `FROM g1 FROM g2` | materialised |",
        "|---|---|---|---|---|",
    ]
    for row in bag_demo():
        lines.append("| `" + row[0] + "` | " + " | ".join(row[1:]) + " |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument(
        "--layouts", default=",".join(LAYOUTS), help=f"comma-separated, of: {', '.join(LAYOUTS)}"
    )
    parser.add_argument("--repeat", type=int, default=7, help="warm runs per query (at most)")
    parser.add_argument("--budget", type=float, default=15.0, help="seconds of runs per query")
    parser.add_argument(
        "--skip", action="append", default=[], help="skip queries named so (prefix, repeatable)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "layout-latest.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--stage", default="all", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    layouts = [n.strip() for n in args.layouts.split(",") if n.strip()]
    unknown = [n for n in layouts if n not in LAYOUTS]
    if unknown:
        parser.error(f"unknown layouts: {', '.join(unknown)}")
    started = time.monotonic()
    files = ensure_files(args.triples)
    results = {}
    for name in layouts:
        results[name] = measure(name, files, args)
        release_free_memory()
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = markdown(results, files, args, time.monotonic() - started)
    print(text)
    args.output.write_text(text)
    raw = args.output.with_suffix(".json")
    raw.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
