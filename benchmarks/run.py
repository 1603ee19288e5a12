"""Side-by-side benchmark: leapsld against Oxigraph server and rdflib-endpoint on the same data.

One system at a time on loopback: ``leapsld serve`` with the memory store, ``leapsld serve`` with
an on-disk store (its first start, which builds, and a restart, which must reuse the store),
Oxigraph server (``oxigraph load`` then ``oxigraph serve-read-only``) and rdflib-endpoint. Each
loads the same two files, ``ontology/leaps.ttl`` and the synthetic data of ``generate.py``, then
answers the query mix of ``benchmarks/queries/*.rq`` once cold and ``--repeat`` times warm;
the answers are compared across systems; then wrk loads resource documents (leapsld's
``/doc/…``, the peers' CONSTRUCT of the same resource). Start to first answer and the peak
memory of each system's process tree are recorded. The tables go to
``benchmarks/results/run-latest.md`` (and stdout), every raw number to
``benchmarks/results/run-<stamp>.json``.

    python benchmarks/run.py                                   # 1M triples, every system
    python benchmarks/run.py --triples 100000 --systems leapsld-memory,oxigraph

Numbers are for reading, never asserted in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and ``http.py`` would shadow the standard
# library's ``http`` (which urllib needs): move the folder to the end of the path.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.append(str(Path(__file__).resolve().parent))

import argparse
import contextlib
import dataclasses
import hashlib
import http.client
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation
from importlib import metadata
from typing import Any

import rdflib
from harness import (
    BIN,
    RESULTS,
    ROOT,
    MemorySampler,
    StartError,
    free_port,
    launch,
    run_wrk,
    stop,
    wait_idle,
    wait_ready,
)
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

BENCH = ROOT / "benchmarks"
QUERIES = BENCH / "queries"
DATA = BENCH / "data"
ONTOLOGY = ROOT / "ontology" / "leaps.ttl"
SYSTEMS = (
    "leapsld-memory",
    "leapsld-disk",
    "oxigraph",
    "virtuoso",
    "naive-flask",
    "rdflib-endpoint",
)
#: Whose answer wins a tie when the systems disagree (a mature engine first).
PREFERENCE = (
    "oxigraph",
    "leapsld-memory",
    "leapsld-disk",
    "naive-flask",
    "virtuoso",
    "rdflib-endpoint",
)
BASE = "https://w3id.org/leaps/"
#: The resource whose document (and CONSTRUCT) wrk asks for; every generated size has it.
RESOURCE = f"{BASE}id/org/org-7"
#: The first answer a system gives: any one triple, so it measures loading, not querying.
PROBE = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
#: Resources the rotating document load spreads over: every kind that has a page of its own.
RESOURCE_QUERY = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <https://schema.org/>
PREFIX leaps: <https://w3id.org/leaps/def#>
SELECT ?s WHERE {
  VALUES ?type { org:FormalOrganization schema:ResearchProject schema:MonetaryGrant leaps:Beamline }
  ?s a ?type .
} ORDER BY ?s"""
ACCEPT = {
    "select": "application/sparql-results+json",
    "ask": "application/sparql-results+json",
    "construct": "application/n-triples",
    "describe": "application/n-triples",
}
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = f"{XSD}string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
NUMERIC = {
    f"{XSD}{t}"
    for t in [
        "integer",
        "decimal",
        "float",
        "double",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    ]
}
#: Numbers compare to 12 significant digits: engines carry decimals and doubles differently
#: (Oxigraph's AVG has 18 fraction digits, rdflib's Decimal 28), and that is not a wrong answer.
NUMBER_CONTEXT = Context(prec=12)


@dataclass
class Config:
    triples: int = 1_000_000
    seed: int = 2026
    systems: tuple[str, ...] = SYSTEMS
    repeat: int = 20
    repeat_rdflib: int = 3
    warm_seconds: float = 10.0
    timeout: float = 120.0
    start_timeout: float = 900.0
    connections: int = 8
    duration: int = 10
    warmup: int = 1
    wrk_threads: int = 2
    rotate: int = 500
    workers: int = 1
    threads: int = 8
    rdflib_budget: float = 600.0
    leapsld_no_validate: bool = False
    wrk: bool = True
    #: Runs of each query as a text the server has not seen (0: none).
    first_seen: int = 20
    #: Seconds of first-seen CONSTRUCTs right after the first answer (0: not measured).
    first_minute: float = 0.0
    data_dir: Path = DATA
    results: Path = RESULTS
    queries: Path = QUERIES


# --- data -----------------------------------------------------------------------------------


def size_label(triples: int) -> str:
    """``1000000`` → ``1m``, ``100000`` → ``100k``, as in ``leaps-1m.ttl``."""
    for unit, factor in (("m", 1_000_000), ("k", 1_000)):
        if triples >= factor and triples % factor == 0:
            return f"{triples // factor}{unit}"
    return str(triples)


def ensure_data(triples: int, seed: int, folder: Path = DATA) -> Path:
    """The generated file for this size and seed, written only if missing or made otherwise.

    A sidecar ``.key`` records size, seed and a hash of ``generate.py``: a file made by another
    version of the generator, or cut short, is made again rather than measured.
    """
    name = f"leaps-{size_label(triples)}" + ("" if seed == 2026 else f"-seed{seed}")
    path = folder / f"{name}.ttl"
    key_path = folder / f"{name}.ttl.key"
    generator = BENCH / "generate.py"
    key = {
        "triples": triples,
        "seed": seed,
        "generator": hashlib.sha256(generator.read_bytes()).hexdigest()[:16],
    }
    with contextlib.suppress(OSError, ValueError):
        if path.exists() and json.loads(key_path.read_text()) == key:
            return path
    import generate  # benchmarks/generate.py, on the path set above

    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
    partial = path.with_suffix(".ttl.partial")
    with partial.open("w") as out:
        generate.generate(triples, seed, out)
    partial.replace(path)
    key_path.write_text(json.dumps(key))
    return path


# --- queries and answers --------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    description: str
    form: str  # select | ask | construct | describe
    ordered: bool


_COMMENT = re.compile(r"#[^\n]*")
#: Where a no-op filter can go: the first group of the WHERE clause (or ASK's group).
_WHERE_GROUP = re.compile(r"\b(?:WHERE|ASK)\s*\{", re.I)


def first_seen_text(text: str, n: int) -> str | None:
    """``text`` as a query no server has seen: ``FILTER(n > 0)`` (true, so the same answer)
    added to its WHERE group, so that a cache keyed by the query text or its normal form
    misses. None when the text has no WHERE group to put it in."""
    masked = _IRI.sub(lambda m: "<" + "x" * (len(m.group()) - 2) + ">", text)
    masked = _COMMENT.sub(lambda m: " " * len(m.group()), masked)
    match = _WHERE_GROUP.search(masked)
    if match is None:
        return None
    return f"{text[: match.end()]} FILTER({n} > 0) {text[match.end() :]}"


_IRI = re.compile(r"<[^>]*>")
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I)


def load_queries(folder: Path = QUERIES) -> list[Query]:
    """The query mix: one ``.rq`` file each, its first comment line saying what it exercises."""
    out = []
    for path in sorted(folder.glob("*.rq")):
        text = path.read_text()
        first = text.splitlines()[0] if text else ""
        code = _IRI.sub("<>", _COMMENT.sub("", text))
        form = _FORM.search(code)
        if form is None:
            raise ValueError(f"{path}: no SELECT, ASK, CONSTRUCT or DESCRIBE")
        out.append(
            Query(
                name=path.stem,
                text=text,
                description=first.lstrip("# ").strip() if first.startswith("#") else "",
                form=form.group(1).lower(),
                ordered=re.search(r"\bORDER\s+BY\b", code, re.I) is not None,
            )
        )
    return out


Term = tuple  # ("uri", iri) | ("literal", lexical, datatype, language) | ("bnode",)


def normalize_number(lexical: str) -> str:
    """A numeric literal's value to 12 significant digits: ``1.50`` and ``1.5E0`` are ``1.5``."""
    try:
        value = Decimal(lexical.strip())
    except InvalidOperation:
        return lexical
    if not value.is_finite():
        return str(value)
    return str(value.normalize(NUMBER_CONTEXT)) if value else "0"


def term_key(binding: Mapping[str, str] | None) -> Term | None:
    """A SPARQL JSON term, comparable across engines.

    Literals compare by (lexical form, datatype, language): a plain literal is an
    ``xsd:string``, a language tag is case-insensitive, numbers by value. Blank nodes compare
    equal to each other (their labels are the engine's own).
    """
    if binding is None:
        return None
    kind = binding["type"]
    if kind == "uri":
        return ("uri", binding["value"])
    if kind == "bnode":
        return ("bnode",)
    language = binding.get("xml:lang")
    if language:
        return ("literal", binding["value"], LANG_STRING, language.lower())
    datatype = binding.get("datatype") or XSD_STRING
    value = binding["value"]
    if datatype in NUMERIC:
        value = normalize_number(value)
    return ("literal", value, datatype, None)


@dataclass
class Answer:
    form: str  # select | ask | graph
    variables: tuple[str, ...] = ()
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph: rdflib.Graph | None = None

    @property
    def size(self) -> int | bool | None:
        if self.form == "ask":
            return self.boolean
        if self.form == "graph":
            return len(self.graph) if self.graph is not None else 0
        return len(self.rows)


def parse_answer(query: Query, body: bytes) -> Answer:
    """The answer of a SELECT or ASK (SPARQL JSON) or a CONSTRUCT or DESCRIBE (N-Triples)."""
    if query.form in ("construct", "describe"):
        graph = rdflib.Graph()
        graph.parse(data=body.decode("utf-8"), format="nt")
        return Answer("graph", graph=_plain_strings(graph))
    data = json.loads(body)
    if "boolean" in data:
        return Answer("ask", boolean=bool(data["boolean"]))
    variables = tuple(sorted(data["head"].get("vars", [])))
    rows = [
        tuple(term_key(solution.get(v)) for v in variables)
        for solution in data["results"]["bindings"]
    ]
    return Answer("select", variables=variables, rows=rows)


def _plain_strings(graph: rdflib.Graph) -> rdflib.Graph:
    """``"x"^^xsd:string`` and ``"x"`` are one term in RDF 1.1 but not to rdflib: make them one."""
    out = rdflib.Graph()
    string = rdflib.URIRef(XSD_STRING)
    for s, p, o in graph:
        if isinstance(o, rdflib.Literal) and o.datatype == string:
            o = rdflib.Literal(str(o))
        out.add((s, p, o))
    return out


def same_answer(a: Answer, b: Answer, ordered: bool) -> bool:
    """Equal answers: SELECT rows in order when the query orders them, else as multisets;
    CONSTRUCT graphs up to blank-node renaming."""
    if a.form != b.form:
        return False
    if a.form == "ask":
        return a.boolean == b.boolean
    if a.form == "graph":
        return isomorphic(a.graph, b.graph)
    if a.variables != b.variables:
        return False
    return a.rows == b.rows if ordered else Counter(a.rows) == Counter(b.rows)


def show_term(term: Term | None) -> str:
    if term is None:
        return "-"
    if term[0] == "uri":
        return f"<{term[1]}>"
    if term[0] == "bnode":
        return "_:b"
    _, value, datatype, language = term
    if language:
        return f'"{value}"@{language}'
    return f'"{value}"' if datatype == XSD_STRING else f'"{value}"^^<{datatype}>'


def describe_difference(reference: Answer, other: Answer, ordered: bool) -> str:
    """What differs, in one line: counts and an example or two."""
    if reference.form != other.form:
        return f"a {other.form} answer where the reference has a {reference.form}"
    if reference.form == "ask":
        return f"ASK {other.boolean} where the reference says {reference.boolean}"
    if reference.form == "graph":
        _, only_ref, only_other = graph_diff(
            to_isomorphic(reference.graph), to_isomorphic(other.graph)
        )
        example = next(iter(sorted(only_other, key=str)), None) or next(
            iter(sorted(only_ref, key=str)), None
        )
        return (
            f"{len(other.graph)} triples vs {len(reference.graph)}: {len(only_other)} only here, "
            f"{len(only_ref)} missing"
            + (f"; e.g. {' '.join(t.n3() for t in example)}" if example else "")
        )
    if reference.variables != other.variables:
        return f"variables {list(other.variables)} vs {list(reference.variables)}"
    extra = Counter(other.rows) - Counter(reference.rows)
    missing = Counter(reference.rows) - Counter(other.rows)
    if not extra and not missing and ordered:
        at = next(
            i for i, (x, y) in enumerate(zip(reference.rows, other.rows, strict=True)) if x != y
        )
        return f"same {len(other.rows)} rows in another order (first difference at row {at + 1})"

    def rows(counter: Counter) -> str:
        return "; ".join(
            "(" + ", ".join(show_term(t) for t in row) + ")" for row in list(counter)[:2]
        )

    parts = [f"{len(other.rows)} rows vs {len(reference.rows)}"]
    if extra:
        parts.append(f"{sum(extra.values())} only here, e.g. {rows(extra)}")
    if missing:
        parts.append(f"{sum(missing.values())} missing, e.g. {rows(missing)}")
    return ": ".join(parts[:1]) + (": " + " | ".join(parts[1:]) if parts[1:] else "")


def compare(
    queries: Iterable[Query], answers: Mapping[str, Mapping[str, Answer | None]]
) -> dict[str, dict]:
    """Per query, which systems agree. The largest group of equal answers is the reference (on
    a tie, the group of the system first in ``PREFERENCE``); systems outside it differ."""
    order = [s for s in PREFERENCE if s in answers] + [s for s in answers if s not in PREFERENCE]
    out = {}
    for query in queries:
        groups: list[list[str]] = []
        missing = []
        for system in order:
            answer = answers[system].get(query.name)
            if answer is None:
                missing.append(system)
                continue
            for group in groups:
                if same_answer(answers[group[0]][query.name], answer, query.ordered):
                    group.append(system)
                    break
            else:
                groups.append([system])
        if not groups:
            out[query.name] = {"reference": None, "same": {s: None for s in order}, "diffs": {}}
            continue
        agreeing = max(groups, key=len)
        reference = answers[agreeing[0]][query.name]
        same = {s: (s in agreeing) if s not in missing else None for s in order}
        diffs = {
            s: describe_difference(reference, answers[s][query.name], query.ordered)
            for s in order
            if same[s] is False
        }
        out[query.name] = {
            "reference": agreeing[0],
            "size": reference.size,
            "same": same,
            "diffs": diffs,
        }
    return out


# --- talking to a server --------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


class Client:
    """One keep-alive HTTP connection to a server, as close to the wire as the standard library
    goes: requests costs about 1.5 ms a call here, as much as a whole small query on Oxigraph.

    A connection the server closed while idle is reopened once and the request sent again (all
    are GETs); the timer restarts with it.
    """

    def __init__(self, origin: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(origin)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def get(self, target: str, accept: str) -> Reply:
        """GET ``target`` (path and query); raises TimeoutError or OSError/HTTPException."""
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            start = time.perf_counter()
            try:
                self.connection.request("GET", target, headers={"Accept": accept})
                response = self.connection.getresponse()
                body = response.read()
            except TimeoutError:
                self.close()
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - start
            headers = {k.lower(): v for k, v in response.getheaders()}
            if headers.get("connection", "").lower() == "close":
                self.close()
            return Reply(response.status, headers, body, seconds)
        raise AssertionError("unreachable")


def query_target(server: Server, text: str) -> str:
    return f"{server.path}?{urllib.parse.urlencode([('query', text), *server.params])}"


@dataclass
class Outcome:
    status: str  # ok | timeout | error | truncated
    seconds: float | None = None
    body: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def execute(client: Client, server: Server, query: Query) -> Outcome:
    """One SPARQL Protocol GET, timed from sending to the last byte of the answer."""
    try:
        reply = client.get(query_target(server, query.text), ACCEPT[query.form])
    except TimeoutError:
        return Outcome("timeout", error=f"no answer within {client.timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome("error", error=f"{type(exc).__name__}: {exc}"[:300])
    if reply.status != 200:
        return Outcome("error", reply.seconds, error=f"HTTP {reply.status}: {reply.body[:200]!r}")
    if reply.headers.get("x-sparql-truncated", "").lower() == "true":
        return Outcome("truncated", reply.seconds, reply.body, error="X-SPARQL-Truncated: cut")
    return Outcome("ok", reply.seconds, reply.body)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (of 3 values, the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


# --- the systems ----------------------------------------------------------------------------


@dataclass
class Server:
    """A running system: the process groups it started and where its SPARQL endpoint is."""

    name: str
    origin: str
    path: str  # of the SPARQL endpoint
    processes: list[subprocess.Popen]
    log: Path
    stopped: bool = False
    #: Stops what ``benchmarks/engines.py`` started (Virtuoso), when it started the system.
    closer: contextlib.ExitStack | None = None
    #: Protocol parameters every query carries (Virtuoso: the graph the data was loaded in,
    #: so that its own system graphs are not part of the default graph).
    params: tuple[tuple[str, str], ...] = ()

    def stop(self) -> None:
        """Stop its process groups, once (a second stop must not signal a recycled group id)."""
        if not self.stopped:
            self.stopped = True
            for process in reversed(self.processes):
                stop(process)
            if self.closer is not None:
                self.closer.close()


def _leapsld_env() -> dict[str, str]:
    """The caller's environment without its LEAPSLD_* settings, with the project as root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAPSLD_")}
    env["LEAPSLD_ROOT"] = str(ROOT)
    return env


def _engines() -> object | None:
    """``benchmarks/engines.py`` (the remote-engine issue's launchers), or None without it."""
    try:
        import engines  # type: ignore[import-not-found]  # benchmarks/, on the path set above
    except ImportError:
        return None
    return engines


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise StartError(f"{name} is not installed: pip install -e '.[bench]'")
    return str(path)


def start_system(
    system: str,
    cfg: Config,
    files: list[Path],
    work: Path,
    sampler: MemorySampler,
    live: list[Server],
    *,
    store: Path | None = None,
) -> tuple[Server, dict]:
    """Start ``system`` on a free loopback port and wait for its first answer to ``PROBE``.

    The server joins ``live`` as soon as it is launched, so whoever started it stops it even if
    this fails. Returns the server and the start record: seconds from launch to first answer
    (including, for Oxigraph, the ``oxigraph load`` that must run first) and the part loading.
    """
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log = work / f"{system}.log"
    processes: list[subprocess.Popen] = []
    start = time.perf_counter()
    load_s = None
    closer = None
    params: tuple[tuple[str, str], ...] = ()
    if system.startswith("leapsld"):
        env = _leapsld_env()
        # The benchmark is one client on cfg.connections connections: it may use as many query
        # slots as it has connections (by default a client holds half of a worker's four).
        env["LEAPSLD_QUERY_SLOTS"] = str(cfg.connections)
        env["LEAPSLD_CLIENT_SLOTS"] = str(cfg.connections)
        env["LEAPSLD_ACCESS_LOG"] = "false"
        command = [
            _tool("leapsld"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--store",
            str(store) if store is not None else "memory",
            "--workers",
            str(cfg.workers),
            "--threads",
            str(cfg.threads),
            "--query-timeout",
            str(cfg.timeout),
            "--max-rows",
            "100000000",
            *(["--no-validate"] if cfg.leapsld_no_validate else []),
            *map(str, files),
        ]
        processes.append(launch(command, env=env, log=log))
        path = "/sparql"
    elif system == "naive-flask":
        command = [sys.executable, str(BENCH / "naive_app.py"), "--port", str(port)]
        processes.append(launch([*command, *map(str, files)], log=log))
        path = "/sparql"
    elif system == "virtuoso":
        engines: Any = _engines()
        if engines is None:
            raise StartError("benchmarks/engines.py is missing: Virtuoso is skipped")
        closer = contextlib.ExitStack()
        try:
            engine = closer.enter_context(
                engines.virtuoso(
                    work / "virtuoso",
                    data_dirs=tuple({f.parent for f in files}),
                    memory_mib=2048,
                )
            )
            sampler.watch(engine.pid)
            for f in files:
                engine.load_file(f)
        except BaseException as exc:
            closer.close()
            if isinstance(exc, Exception):
                raise StartError(f"virtuoso: {exc}") from None
            raise
        load_s = time.perf_counter() - start
        graph = getattr(engines, "VIRTUOSO_DEFAULT", None)
        params = (("default-graph-uri", graph),) if graph else ()
        parts = urllib.parse.urlsplit(engine.query_url)
        origin, path = f"{parts.scheme}://{parts.netloc}", parts.path
    elif system == "oxigraph":
        location = work / "oxigraph-store"
        shutil.rmtree(location, ignore_errors=True)
        loader = launch(
            [_tool("oxigraph"), "load", "--location", str(location), "--file", *map(str, files)],
            log=log,
        )
        sampler.watch(loader.pid)
        try:
            code = loader.wait(timeout=cfg.start_timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:  # also on Ctrl-C: the loader must not outlive the run
            if loader.returncode is None:
                stop(loader)
        if code is None:
            raise StartError("oxigraph load did not finish in time")
        if code != 0:
            raise StartError(f"oxigraph load exited with {code}")
        load_s = time.perf_counter() - start
        command = [
            _tool("oxigraph"),
            "serve-read-only",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
        ]
        # No --timeout-s: with it Oxigraph 0.5.13 starts a thread per query, and under wrk it
        # fails with "Resource temporarily unavailable", then panics and exits. The client
        # timeout bounds a query instead.
        processes.append(launch(command, log=log))
        path = "/query"
    elif system == "rdflib-endpoint":
        command = [
            _tool("rdflib-endpoint"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *map(str, files),
        ]
        processes.append(launch(command, log=log))
        path = "/"
    else:
        raise StartError(f"unknown system {system}")
    server = Server(system, origin, path, processes, log, closer=closer, params=params)
    live.append(server)
    if processes:
        sampler.watch(processes[-1].pid)
    probe = origin + query_target(server, PROBE)
    try:
        first = wait_ready(
            probe,
            processes[-1] if processes else None,
            cfg.start_timeout,
            headers={"Accept": ACCEPT["select"]},
            since=start,
        )
    except StartError:
        server.stop()
        raise
    record = {"first_answer_s": round(first, 3)}
    if load_s is not None:
        record["load_s"] = round(load_s, 3)
    return server, record


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- the query mix --------------------------------------------------------------------------


def run_mix(
    server: Server,
    queries: list[Query],
    cfg: Config,
    *,
    repeat: int,
    budget: float | None,
    restart: Callable[[], Server],
) -> tuple[dict[str, dict], dict[str, Answer | None], Server | None, list[dict]]:
    """Each query once cold (the first time this server runs it), then ``repeat`` times warm.

    Warm runs of one query stop early once they have taken ``cfg.warm_seconds`` together: at
    1M triples a few queries take seconds on every engine, and twenty runs of each would
    double the benchmark's time for no better median. A query past the client timeout is
    recorded as such. A server still busy with it afterwards (rdflib-endpoint runs queries on
    its event loop, one at a time) is restarted, so the next query is not charged for the last
    one. With a ``budget`` (seconds), a guard against a system slower than expected, warm runs
    stop and later queries are skipped once it is spent.
    """
    records: dict[str, dict] = {}
    answers: dict[str, Answer | None] = {}
    restarts: list[dict] = []
    began = time.perf_counter()
    client = Client(server.origin, cfg.timeout)

    def left() -> float:
        return math.inf if budget is None else budget - (time.perf_counter() - began)

    server_or_none: Server | None = server
    for query in queries:
        if server_or_none is None or left() <= 0:
            reason = "time budget spent" if server_or_none else "the server did not come back"
            records[query.name] = {"status": "skipped", "error": reason}
            answers[query.name] = None
            continue
        server = server_or_none
        outcome = execute(client, server, query)
        record: dict = {"status": outcome.status, "cold_ms": ms(outcome.seconds)}
        if outcome.error:
            record["error"] = outcome.error
        answer = None
        if outcome.status == "ok":
            try:
                answer = parse_answer(query, outcome.body)
            except Exception as exc:  # noqa: BLE001 - any unreadable answer is reported, not fatal
                record["status"] = "error"
                record["error"] = f"unreadable answer: {type(exc).__name__}: {exc}"[:300]
            else:
                record["results"] = answer.size
                record["bytes"] = len(outcome.body)
        answers[query.name] = answer
        records[query.name] = record
        shown = f"{outcome.seconds * 1000:,.1f} ms" if outcome.seconds is not None else "-"
        print(f"    {query.name}: cold {shown}" + ("" if outcome.ok else f" {outcome.status}"))
        if outcome.status == "timeout" and not _answers(server):
            client.close()
            server.stop()
            t = time.perf_counter()
            try:
                server_or_none = restart()
            except StartError as exc:
                server_or_none = None
                restarts.append({"after": query.name, "error": str(exc)})
            else:
                seconds = round(time.perf_counter() - t, 3)
                restarts.append({"after": query.name, "seconds": seconds})
                client = Client(server_or_none.origin, cfg.timeout)
    for query in queries:
        record = records[query.name]
        if record["status"] != "ok" or server_or_none is None:
            continue
        server = server_or_none
        warm: list[float] = []
        failures = 0
        for _ in range(repeat):
            if warm and sum(warm) >= cfg.warm_seconds:
                record["warm_note"] = f"{len(warm)} of {repeat}: {cfg.warm_seconds:g} s reached"
                break
            if left() < (warm[-1] if warm else record["cold_ms"] / 1000):
                record["warm_note"] = f"{len(warm)} of {repeat}: time budget spent"
                break
            outcome = execute(client, server, query)
            if outcome.status == "ok":
                warm.append(outcome.seconds)
            else:
                failures += 1
                record.setdefault("warm_error", outcome.error)
                if outcome.status == "timeout":
                    break
        record["warm_ms"] = [ms(s) for s in warm]
        record["warm_median_ms"] = ms(statistics.median(warm)) if warm else None
        record["warm_p95_ms"] = ms(p95(warm)) if warm else None
        record["warm_failures"] = failures
        if cfg.first_seen > 0 and left() > 0:
            _first_seen(client, server, query, cfg, record, answers.get(query.name))
    client.close()
    return records, answers, server_or_none, restarts


def _first_seen(
    client: Client,
    server: Server,
    query: Query,
    cfg: Config,
    record: dict,
    reference: Answer | None,
) -> None:
    """``cfg.first_seen`` runs of ``query``, each a text the server has not seen
    (``first_seen_text``), checked against the answer of the plain text."""
    times: list[float] = []
    wrong = 0
    for n in range(1, cfg.first_seen + 1):
        if times and sum(times) >= cfg.warm_seconds:
            record["first_seen_note"] = f"{len(times)} of {cfg.first_seen}: time reached"
            break
        text = first_seen_text(query.text, n)
        if text is None:
            record["first_seen_note"] = "no WHERE group to vary"
            return
        outcome = execute(client, server, dataclasses.replace(query, text=text))
        if outcome.status != "ok":
            record.setdefault("first_seen_error", outcome.error)
            if outcome.status == "timeout":
                break
            continue
        times.append(outcome.seconds or 0.0)
        if reference is not None:
            try:
                same = same_answer(reference, parse_answer(query, outcome.body), query.ordered)
            except Exception:  # noqa: BLE001 - an unreadable answer is a wrong one
                same = False
            wrong += not same
    record["first_seen_ms"] = [ms(s) for s in times]
    record["first_seen_median_ms"] = ms(statistics.median(times)) if times else None
    record["first_seen_wrong"] = wrong


def _answers(server: Server, timeout: float = 5) -> bool:
    """Whether the server answers the probe promptly (it is not stuck on an abandoned query)."""
    client = Client(server.origin, timeout)
    try:
        return client.get(query_target(server, PROBE), ACCEPT["select"]).status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        client.close()


# --- resource documents under load ----------------------------------------------------------


def pick_resources(server: Server, count: int, timeout: float) -> list[str]:
    """``count`` resources spread evenly over every organisation, project, grant and beamline."""
    client = Client(server.origin, timeout)
    try:
        reply = client.get(query_target(server, RESOURCE_QUERY), ACCEPT["select"])
    finally:
        client.close()
    if reply.status != 200:
        raise StartError(f"the resource list failed: HTTP {reply.status}")
    iris = [b["s"]["value"] for b in json.loads(reply.body)["results"]["bindings"]]
    if len(iris) <= count:
        return iris
    step = len(iris) / count
    return [iris[int(i * step)] for i in range(count)]


def construct_of(iri: str) -> str:
    return f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}"


def document_targets(server: Server, resources: list[str]) -> list[dict]:
    """What wrk loads: leapsld's documents; for the peers, a CONSTRUCT of the same resource."""

    def query_path(iri: str) -> str:
        return query_target(server, construct_of(iri))

    queries = [
        {"target": "CONSTRUCT Turtle", "paths": [query_path(RESOURCE)], "accept": "text/turtle"},
        {
            "target": f"CONSTRUCT Turtle, {len(resources)} resources",
            "paths": [query_path(iri) for iri in resources],
            "accept": "text/turtle",
        },
        {
            "target": f"CONSTRUCT Turtle, first-seen, {len(resources)} resources",
            "paths": [query_target(server, first_seen_construct(iri, 0)) for iri in resources],
            "accept": "text/turtle",
            "first_seen": True,
        },
    ]
    if not resources:
        queries = queries[:1]
    if server.name.startswith("leapsld"):

        def path(iri: str) -> str:
            return "/doc/" + iri.removeprefix(f"{BASE}id/")

        targets = [
            {"target": "doc Turtle", "paths": [path(RESOURCE)], "accept": "text/turtle"},
            {"target": "doc JSON-LD", "paths": [path(RESOURCE)], "accept": "application/ld+json"},
            {
                "target": f"doc Turtle, {len(resources)} resources",
                "paths": [path(iri) for iri in resources],
                "accept": "text/turtle",
            },
        ]
        return (targets if resources else targets[:2]) + queries
    return queries


def first_seen_construct(iri: str, n: int) -> str:
    """The CONSTRUCT of one resource as a text never sent before (``n`` differs each time)."""
    return f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o FILTER({n} > 0) }}"


def first_seen_script(server: Server, iris: list[str], accept: str, folder: Path) -> Path:
    """A wrk Lua script sending the CONSTRUCT of the next of ``iris``, each request with a
    constant no request had before (``first_seen_construct``): a cache cannot answer it."""
    digest = hashlib.sha1("\n".join([server.path, accept, *iris]).encode()).hexdigest()[:12]
    script = folder / f"first-seen-{digest}.lua"
    marker = "987654321"
    pairs = []
    for iri in iris:
        head, tail = query_target(server, first_seen_construct(iri, int(marker))).split(marker)
        pairs.append(f"  {{ {json.dumps(head)}, {json.dumps(tail)} }}")
    listed = ",\n".join(pairs)
    script.write_text(
        f"local parts = {{\n{listed}\n}}\n"
        f"local accept = {json.dumps(accept)}\n"
        "local threads = 0\n"
        "function setup(thread)\n"
        "  thread:set('first', threads * 100000000 + 1000)\n"
        "  threads = threads + 1\n"
        "end\n"
        "function init(args)\n"
        "  counter = first or 1000\n"
        "end\n"
        "function request()\n"
        "  counter = counter + 1\n"
        "  local part = parts[(counter % #parts) + 1]\n"
        "  return wrk.format('GET', part[1] .. counter .. part[2], { ['Accept'] = accept })\n"
        "end\n"
    )
    return script


def rotation_script(paths: list[str], accept: str, folder: Path) -> Path:
    """A wrk Lua script that sends each request to the next of ``paths`` (each thread starting
    elsewhere), so a cache in front of the server sees many resources, not one."""
    digest = hashlib.sha1("\n".join([accept, *paths]).encode()).hexdigest()[:12]
    script = folder / f"rotate-{digest}.lua"
    listed = ",\n".join(f"  {json.dumps(p)}" for p in paths)
    script.write_text(
        f"local paths = {{\n{listed}\n}}\n"
        f"local accept = {json.dumps(accept)}\n"
        "local threads = 0\n"
        "function setup(thread)\n"
        "  thread:set('first', threads * 7919)\n"
        "  threads = threads + 1\n"
        "end\n"
        "function init(args)\n"
        "  counter = first or 0\n"
        "end\n"
        "function request()\n"
        "  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1], { ['Accept'] = accept })\n"
        "end\n"
    )
    return script


def run_documents(server: Server, cfg: Config, resources: list[str], work: Path) -> list[dict]:
    """Each target under wrk (``--connections``, ``--duration``) after a ``--warmup`` run."""
    rows = []
    for target in document_targets(server, resources):
        row = {"target": target["target"], "accept": target["accept"]}
        url = server.origin + target["paths"][0]
        client = Client(server.origin, cfg.timeout)
        try:
            check = client.get(target["paths"][0], target["accept"])
        except (OSError, http.client.HTTPException) as exc:
            rows.append({**row, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        finally:
            client.close()
        row["bytes"] = len(check.body)
        row["content_type"] = check.headers.get("content-type", "")
        if check.status != 200:
            rows.append({**row, "error": f"HTTP {check.status}"})
            continue
        script = None
        if target.get("first_seen"):
            script = first_seen_script(server, resources, target["accept"], work)
        elif len(target["paths"]) > 1:
            script = rotation_script(target["paths"], target["accept"], work)
        options = {
            "headers": {"Accept": target["accept"]},
            "connections": cfg.connections,
            "threads": cfg.wrk_threads,
            "script": script,
        }
        try:
            if cfg.warmup > 0:
                run_wrk(url, duration=cfg.warmup, **options)
            row.update(run_wrk(url, duration=cfg.duration, **options))
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError) as exc:
            row["error"] = f"wrk: {exc}"[:300]
        rows.append(row)
    return rows


# --- the first minute ------------------------------------------------------------------------


def sample_latency(server: Server, cfg: Config, seconds: float) -> list[tuple[float, float]]:
    """First-seen one-resource CONSTRUCTs, one at a time, for ``seconds``: (seconds since the
    sampling began, latency in ms) of each answered one."""
    client = Client(server.origin, cfg.timeout)
    iris = [RESOURCE]
    with contextlib.suppress(StartError, OSError, http.client.HTTPException, ValueError):
        iris = pick_resources(server, max(1, cfg.rotate), cfg.timeout) or iris
    samples: list[tuple[float, float]] = []
    began = time.perf_counter()
    n = int(began * 1000) % 1_000_000_000  # never the same constants as another sampling
    try:
        while (now := time.perf_counter() - began) < seconds:
            n += 1
            text = first_seen_construct(iris[n % len(iris)], n)
            try:
                reply = client.get(query_target(server, text), "text/turtle")
            except (OSError, http.client.HTTPException):
                continue
            if reply.status == 200:
                samples.append((round(now, 3), round(reply.seconds * 1000, 3)))
    finally:
        client.close()
    return samples


def first_minute_summary(record: dict) -> dict:
    """Median latency per 10-second window of the first minute, against the median later."""
    later = [ms for _, ms in record.get("later", [])]
    windows: dict[int, list[float]] = {}
    for t, ms_ in record.get("early", []):
        windows.setdefault(int(t // 10) * 10, []).append(ms_)
    medians = {str(w): round(statistics.median(v), 3) for w, v in sorted(windows.items())}
    later_median = round(statistics.median(later), 3) if later else None
    worst = max(medians.values(), default=None)
    return {
        "window_median_ms": medians,
        "later_median_ms": later_median,
        "worst_ratio": round(worst / later_median, 2) if worst and later_median else None,
    }


# --- one system from start to stop ----------------------------------------------------------


@dataclass
class Run:
    """One benchmark run: the JSON-able results and, apart, the parsed answers compared."""

    results: dict
    answers: dict[str, dict[str, Answer | None]] = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)


def bench_system(
    system: str, cfg: Config, files: list[Path], queries: list[Query], work: Path, run: Run
) -> dict:
    """Start, query, load and stop one system; everything it measured, errors included."""
    result: dict = {"phases": [], "queries": {}, "documents": [], "restarts": []}
    store = work / "leapsld-store" if system == "leapsld-disk" else None
    phases = ["first start (build)", "restart (reuse)"] if store is not None else ["start"]
    for index, phase in enumerate(phases):
        measured = index == len(phases) - 1
        sampler = MemorySampler()
        sampler.start()
        record: dict = {"phase": phase}
        live: list[Server] = []
        try:
            print(f"  {system}: {phase} …", flush=True)
            server, started = start_system(system, cfg, files, work, sampler, live, store=store)
            record.update(started)
            early = measured and cfg.first_minute > 0 and system.startswith("leapsld")
            if early:
                print(f"  {system}: first {cfg.first_minute:g} s after the first answer …")
                record["first_minute"] = {"early": sample_latency(server, cfg, cfg.first_minute)}
            record["settle_s"] = round(wait_idle(sampler), 3)
            print(f"  {system}: first answer after {started['first_answer_s']:.2f} s", flush=True)
            if measured:
                _measure(server, cfg, files, queries, work, run, result, sampler, live, store)
            if early and live and not live[-1].stopped:
                later = sample_latency(live[-1], cfg, min(15.0, cfg.first_minute))
                record["first_minute"]["later"] = later
                record["first_minute"].update(first_minute_summary(record["first_minute"]))
        except (StartError, OSError, http.client.HTTPException) as exc:
            record["error"] = str(exc)
            result["error"] = f"{phase}: {exc}"
            tail = log_tail(work / f"{system}.log")
            if tail:
                record["log"] = tail
            print(f"  {system}: {phase} failed: {exc}", flush=True)
        finally:
            for server in live:
                server.stop()
            record["memory"] = sampler.finish()
            result["phases"].append(record)
        if "error" in record:
            break
    return result


def _measure(
    server: Server,
    cfg: Config,
    files: list[Path],
    queries: list[Query],
    work: Path,
    run: Run,
    result: dict,
    sampler: MemorySampler,
    live: list[Server],
    store: Path | None,
) -> None:
    """The query mix, then the documents under wrk, on a started server."""
    system = server.name
    slow = system == "rdflib-endpoint"

    def restart() -> Server:
        again, _ = start_system(system, cfg, files, work, sampler, live, store=store)
        wait_idle(sampler)
        return again

    print(f"  {system}: {len(queries)} queries …", flush=True)
    records, answers, server, restarts = run_mix(
        server,
        queries,
        cfg,
        repeat=cfg.repeat_rdflib if slow else cfg.repeat,
        budget=cfg.rdflib_budget if slow else None,
        restart=restart,
    )
    result["queries"] = records
    result["restarts"] = restarts
    run.answers[system] = answers
    if server is not None and cfg.wrk and shutil.which("wrk"):
        if not run.resources and cfg.rotate > 0:
            try:
                run.resources = pick_resources(server, cfg.rotate, cfg.timeout)
            except (StartError, OSError, http.client.HTTPException, ValueError) as exc:
                result["resources_error"] = f"no resources to rotate over: {exc}"[:300]
        print(f"  {system}: documents under wrk …", flush=True)
        result["documents"] = run_documents(server, cfg, run.resources, work)


# --- report ---------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cell(record: dict | None, timeout: float) -> str:
    """``cold / warm median / warm p95`` in ms, with the number of warm runs when cut short."""
    if not record:
        return "-"
    status = record.get("status")
    if status == "timeout":
        return f"timeout (> {timeout:g} s)"
    if status != "ok":
        return status if status in ("skipped", "truncated") else "error"
    digits = 1 if (record.get("cold_ms") or 0) >= 10 else 2
    cell = " / ".join(
        _fmt(record.get(k), digits) for k in ("cold_ms", "warm_median_ms", "warm_p95_ms")
    )
    return cell + (f" (n={len(record['warm_ms'])})" if record.get("warm_note") else "")


def markdown(results: dict, queries: list[Query]) -> str:
    systems = list(results["systems"])
    cfg = results["config"]
    lines = [
        f"# Benchmark: {cfg['triples']:,} triples, {results['machine']['cpus']} cores",
        "",
        f"{results['started']}, {results['wall_s']:.0f} s. Query mix: ms, cold / warm median / "
        f"warm p95 ({cfg['repeat']} warm runs, {cfg['repeat_rdflib']} for rdflib-endpoint, "
        f"fewer (n) once a query's warm runs took {cfg['warm_seconds']:g} s); same answers: "
        "every system's answer equals the reference (the largest group of equal answers).",
        "",
        "| query | results | " + " | ".join(systems) + " | same answers |",
        "|---|---:|" + "---:|" * len(systems) + "---|",
    ]
    comparison = results["comparison"]
    for query in queries:
        c = comparison.get(query.name, {})
        differ = [s for s, same in c.get("same", {}).items() if same is False]
        unknown = [s for s, same in c.get("same", {}).items() if same is None]
        if c.get("reference") is None:
            verdict = "no answers"
        elif differ:
            verdict = "differs: " + ", ".join(differ)
        else:
            verdict = "yes" + (f" (no answer: {', '.join(unknown)})" if unknown else "")
        cells = [
            _cell(results["systems"][s].get("queries", {}).get(query.name), cfg["timeout"])
            for s in systems
        ]
        size = c.get("size")
        lines.append(
            f"| {query.name} | {'-' if size is None else size} | "
            + " | ".join(cells)
            + f" | {verdict} |"
        )
    lines += [
        "",
        f"First-seen: ms, median of {cfg.get('first_seen', 0)} runs of each query, each a text "
        "the server had not seen (`FILTER(n > 0)` in its WHERE group, n different each time; "
        "the answer checked against the plain text's: wrong answers in brackets). Warm above "
        "is the same text repeated.",
        "",
        "| query | " + " | ".join(systems) + " |",
        "|---|" + "---:|" * len(systems),
    ]
    for query in queries:
        cells = []
        for s in systems:
            record = results["systems"][s].get("queries", {}).get(query.name) or {}
            value = _fmt(record.get("first_seen_median_ms"), 1)
            wrong = record.get("first_seen_wrong")
            cells.append(value + (f" ({wrong} wrong)" if wrong else ""))
        lines.append(f"| {query.name} | " + " | ".join(cells) + " |")
    for system in systems:
        for phase in results["systems"][system].get("phases", []):
            early = phase.get("first_minute")
            if early and "window_median_ms" in early:
                windows = ", ".join(f"{w} s: {v}" for w, v in early["window_median_ms"].items())
                lines += [
                    "",
                    f"First minute ({system}): first-seen CONSTRUCT median ms per 10 s after "
                    f"the first answer: {windows}; later: {early['later_median_ms']} "
                    f"(worst window {early['worst_ratio']}x later).",
                ]
    lines += [
        "",
        f"Resource documents: wrk, {cfg['wrk_threads']} threads, {cfg['connections']} connections, "
        f"{cfg['duration']:g} s (after {cfg['warmup']:g} s of warm-up).",
        "",
        "| system | target | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for system in systems:
        for row in results["systems"][system].get("documents", []):
            if "error" in row and "rps" not in row:
                lines.append(f"| {system} | {row['target']} | - | - | - | {row['error']} |")
                continue
            lines.append(
                f"| {system} | {row['target']} | {_fmt(row.get('rps'), 0)} | "
                f"{_fmt(row.get('p50'), 2)} | {_fmt(row.get('p99'), 2)} | {row.get('errors', 0)} |"
            )
    lines += [
        "",
        "Start: seconds from launch to the first answer (Oxigraph: `oxigraph load` included), "
        "then until the processes went idle (work a server does in the background after its first answer, such as leapsld writing its statistics and dumps); peak memory of the "
        "whole process tree over the phase.",
        "",
        "| system | phase | start → first answer s | of which loading s | then busy s "
        "| peak RSS MiB | peak PSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for system in systems:
        for phase in results["systems"][system].get("phases", []):
            memory = phase.get("memory", {})
            first = _fmt(phase.get("first_answer_s"), 2) if "error" not in phase else "failed"
            lines.append(
                f"| {system} | {phase['phase']} | {first} | {_fmt(phase.get('load_s'), 2)} | "
                f"{_fmt(phase.get('settle_s'), 1)} | {_fmt(memory.get('peak_rss_mib'), 0)} | "
                f"{_fmt(memory.get('peak_pss_mib'), 0)} |"
            )
    restarts = [(s, r) for s in systems for r in results["systems"][s].get("restarts", [])]
    for system, r in restarts:
        again = f"{r['seconds']:.0f} s to answer again" if "seconds" in r else r["error"]
        lines += ["", f"{system} was restarted after {r['after']} timed out ({again})."]
    lines += ["", "Targets (at 1,000,000 triples):", ""]
    for target in results["targets"]:
        mark = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
        lines.append(f"- **{mark}**: {target['target']} — {target['detail']}")
    diffs = [
        (name, system, text)
        for name, c in comparison.items()
        for system, text in c.get("diffs", {}).items()
    ]
    if diffs:
        lines += ["", "Different answers:", ""]
        lines += [f"- {name}, {system}: {text}" for name, system, text in diffs]
    errors = [
        (s, name, r.get("error") or r.get("warm_error"))
        for s in systems
        for name, r in results["systems"][s].get("queries", {}).items()
        if r.get("status") not in ("ok", "timeout", "skipped") or r.get("warm_failures")
    ]
    errors += [
        (s, "start", results["systems"][s]["error"])
        for s in systems
        if results["systems"][s].get("error")
    ]
    if errors:
        lines += ["", "Errors:", ""]
        lines += [f"- {s}, {name}: {text}" for s, name, text in errors]
    return "\n".join(lines) + "\n"


def evaluate_targets(results: dict, queries: list[Query]) -> list[dict]:
    """The issue's targets, each met, not met, or not measured, with the numbers behind it."""
    systems = results["systems"]
    cfg = results["config"]
    out = []

    def cold(system: str, name: str) -> float | None:
        record = systems.get(system, {}).get("queries", {}).get(name, {})
        return record.get("cold_ms") if record.get("status") == "ok" else None

    leapslds = [s for s in ("leapsld-memory", "leapsld-disk") if s in systems]
    for mine in leapslds:
        if "oxigraph" in systems:
            slower, missing = [], []
            for q in queries:
                a, b = cold(mine, q.name), cold("oxigraph", q.name)
                if a is None:
                    missing.append(q.name)
                elif b is not None and a > b:
                    slower.append(f"{q.name} {a:.1f} vs {b:.1f} ms")
            out.append(
                {
                    "target": f"query mix cold: {mine} no slower than Oxigraph on any query",
                    "met": not slower and not missing,
                    "detail": "; ".join(slower + [f"{n}: no answer" for n in missing])
                    or f"all {len(queries)} queries",
                }
            )
        if "rdflib-endpoint" in systems:
            short, ratios = [], []
            for q in queries:
                a = cold(mine, q.name)
                record = systems["rdflib-endpoint"].get("queries", {}).get(q.name, {})
                if record.get("status") == "timeout":
                    b = cfg["timeout"] * 1000  # at least
                else:
                    b = cold("rdflib-endpoint", q.name)
                if a is None or b is None:
                    continue
                ratio = b / max(a, 1e-3)
                ratios.append(ratio)
                if ratio < 10:
                    short.append(f"{q.name} {ratio:.1f}x")
            out.append(
                {
                    "target": f"query mix cold: {mine} ≥ 10x faster than rdflib-endpoint",
                    "met": (not short) if ratios else None,
                    "detail": ("below 10x: " + "; ".join(short))
                    if short
                    else (
                        f"smallest ratio {min(ratios):.0f}x over {len(ratios)} queries"
                        if ratios
                        else "no pairs"
                    ),
                }
            )
    for mine in leapslds:
        rows = [
            r
            for r in systems[mine].get("documents", [])
            if r["target"] in ("doc Turtle", "doc JSON-LD")
        ]
        rates = {r["target"]: r.get("rps") for r in rows}
        measured = [v for v in rates.values() if v is not None]
        out.append(
            {
                "target": f"resource documents: {mine} ≥ 8,000 req/s at 8 connections",
                "met": (len(measured) == 2 and min(measured) >= 8000 and cfg["connections"] == 8)
                if measured
                else None,
                "detail": ", ".join(f"{k} {_fmt(v, 0)} req/s" for k, v in rates.items())
                + ("" if cfg["connections"] == 8 else f" (at {cfg['connections']} connections)"),
            }
        )

    def phase(system: str, name: str) -> dict | None:
        return next(
            (p for p in systems.get(system, {}).get("phases", []) if p["phase"] == name), None
        )

    for system, name, limit, what in (
        (
            "leapsld-memory",
            "start",
            10,
            "start to first answer (memory store, validation included)",
        ),
        (
            "leapsld-disk",
            "first start (build)",
            10,
            "start to first answer (on-disk store, build and validation)",
        ),
        (
            "leapsld-disk",
            "restart (reuse)",
            2,
            "restart with unchanged data (on-disk store reused)",
        ),
    ):
        p = phase(system, name) if system in systems else None
        seconds = p.get("first_answer_s") if p else None
        out.append(
            {
                "target": f"{what} ≤ {limit} s",
                "met": None if seconds is None else seconds <= limit,
                "detail": "not run"
                if p is None
                else (f"{seconds:.2f} s" if seconds is not None else p.get("error", "failed"))
                + (
                    " (validation skipped: --leapsld-no-validate)"
                    if cfg["leapsld_no_validate"] and name != "restart (reuse)"
                    else ""
                ),
            }
        )
    for system, name, limit in (
        ("leapsld-memory", "start", 500),
        ("leapsld-disk", "restart (reuse)", 150),
    ):
        p = phase(system, name) if system in systems else None
        peak = (p or {}).get("memory", {}).get("peak_rss_mib")
        pss = (p or {}).get("memory", {}).get("peak_pss_mib")
        detail = "not measured" if peak is None else f"peak RSS {peak:.0f} MiB, PSS {pss:.0f} MiB"
        if system == "leapsld-disk":
            build = phase(system, "first start (build)")
            build_peak = (build or {}).get("memory", {}).get("peak_rss_mib")
            if build_peak is not None:
                detail += f" (first start, building: peak RSS {build_peak:.0f} MiB)"
        out.append(
            {
                "target": f"peak RSS ≤ {limit} MiB: {system}"
                + (" while serving" if system == "leapsld-disk" else ""),
                "met": None if peak is None else peak <= limit,
                "detail": detail,
            }
        )
    return out


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("leapsld", "pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "granian"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[package] = metadata.version(package)
    if shutil.which("wrk"):
        first = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        out["wrk"] = first.splitlines()[0] if first else "?"
    return out


def machine() -> dict:
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    return {"cpus": os.cpu_count(), "memory_mib": memory, "platform": platform.platform()}


# --- the whole run --------------------------------------------------------------------------


def run(cfg: Config) -> Run:
    """Every system of ``cfg`` in turn; writes the JSON and markdown and returns the run."""
    began = time.perf_counter()
    started = datetime.now(UTC).replace(microsecond=0)
    data = ensure_data(cfg.triples, cfg.seed, cfg.data_dir)
    files = [ONTOLOGY, data]
    queries = load_queries(cfg.queries)
    if not cfg.wrk or shutil.which("wrk") is None:
        print("wrk is not installed: no document load (apt-get install wrk)", flush=True)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(cfg).items()}
    the_run = Run(
        {
            "started": started.isoformat(),
            "config": config,
            "machine": machine(),
            "versions": versions(),
            "data": {"files": [str(f) for f in files], "bytes": data.stat().st_size},
            "queries": [
                {"name": q.name, "description": q.description, "form": q.form, "ordered": q.ordered}
                for q in queries
            ],
            "systems": {},
        }
    )
    with tempfile.TemporaryDirectory(prefix="leapsld-bench-") as tmp:
        work = Path(tmp)
        for system in cfg.systems:
            print(f"{system}", flush=True)
            the_run.results["systems"][system] = bench_system(
                system, cfg, files, queries, work, the_run
            )
            _remove_stores(work)
    results = the_run.results
    results["comparison"] = compare(queries, the_run.answers)
    results["resources"] = the_run.resources
    results["wall_s"] = round(time.perf_counter() - began, 1)
    results["targets"] = evaluate_targets(results, queries)
    cfg.results.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    json_path = cfg.results / f"run-{stamp}.json"
    json_path.write_text(json.dumps(results, indent=2))
    text = markdown(results, queries)
    (cfg.results / "run-latest.md").write_text(text)
    results["json_path"] = str(json_path)
    return the_run


def _remove_stores(work: Path) -> None:
    """Each system's stores go once it is measured: 1M triples on disk, several times over."""
    for name in ("leapsld-store", "oxigraph-store"):
        shutil.rmtree(work / name, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="size of the data (1M)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help=f"comma list of {', '.join(SYSTEMS)}"
    )
    parser.add_argument("--repeat", type=int, default=20, help="warm runs of each query (20)")
    parser.add_argument("--repeat-rdflib", type=int, default=3, help="warm runs on rdflib-endpoint")
    parser.add_argument(
        "--warm-seconds",
        type=float,
        default=10,
        help="stop a query's warm runs once they took this long together (10)",
    )
    parser.add_argument("--timeout", type=float, default=120, help="client timeout per query, s")
    parser.add_argument("--start-timeout", type=float, default=900, help="seconds to first answer")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per target")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--rotate", type=int, default=500, help="resources the rotating load visits"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="leapsld serve --workers (1, its default)"
    )
    parser.add_argument("--threads", type=int, default=8, help="leapsld serve --threads (8)")
    parser.add_argument(
        "--rdflib-budget",
        type=float,
        default=600,
        help="seconds rdflib-endpoint's query mix may take before the rest is skipped",
    )
    parser.add_argument(
        "--leapsld-no-validate",
        action="store_true",
        help="start leapsld with --no-validate (start times then exclude validation)",
    )
    parser.add_argument("--no-wrk", action="store_true", help="skip the document load")
    parser.add_argument(
        "--first-seen",
        type=int,
        default=20,
        help="runs of each query as a text never sent before (a different constant; 20)",
    )
    parser.add_argument(
        "--first-minute",
        type=float,
        default=0,
        help="seconds of first-seen CONSTRUCTs sampled right after leapsld's first answer, "
        "compared with 15 s sampled after the benchmark (0: not measured; 60 for the minute)",
    )
    args = parser.parse_args(argv)
    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}: choose from {', '.join(SYSTEMS)}")
    cfg = Config(
        triples=args.triples,
        seed=args.seed,
        systems=systems,
        repeat=args.repeat,
        repeat_rdflib=args.repeat_rdflib,
        warm_seconds=args.warm_seconds,
        timeout=args.timeout,
        start_timeout=args.start_timeout,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        rotate=args.rotate,
        workers=args.workers,
        threads=args.threads,
        rdflib_budget=args.rdflib_budget,
        leapsld_no_validate=args.leapsld_no_validate,
        wrk=not args.no_wrk,
        first_seen=args.first_seen,
        first_minute=args.first_minute,
    )
    the_run = run(cfg)
    print()
    print((cfg.results / "run-latest.md").read_text(), end="")
    print(f"\nraw numbers: {the_run.results['json_path']}")


if __name__ == "__main__":
    main()
