"""The ``leapsld`` command: parse options, call one core function, print.

Exit codes: 0 ok (data conforms), 1 the data does not conform, 2 unusable input or usage error.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import IO, Unpack

import click

from . import __version__
from .errors import EvaluationError, LeapsError, QueryError, ShapesViolation
from .formats import RDF_KINDS, by_name, of_kind, resolve
from .namespaces import jsonld_context
from .pipeline import build, validate_dataset
from .query import QueryOutcome, run_query
from .remote import Endpoint, is_remote
from .rendering import RENDER_FORMATS, render
from .serialization import RESULT_KINDS, serialize_outcome
from .settings import DEFAULT_BASE_IRI, Settings, SettingsChanges
from .store import Store
from .target import BATCH, LOAD_TIMEOUT, push
from .validation import MAX_RESULTS, SEVERITIES, ValidationReport

_PATHS = click.Path(path_type=Path)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*$")

_RELATIVE_IRIS = click.option(
    "--relative-iris",
    type=click.Choice(["file", "dataset"]),
    default="file",
    show_default=True,
    help="What a relative IRI in a file resolves against when the file declares no @base: its "
    "own file: IRI, or the dataset's base IRI plus its path under the project (as build and "
    "serve publish it).",
)


_DEFAULT_GRAPH = click.option(
    "--data",
    "data",
    multiple=True,
    type=_PATHS,
    help="RDF file or folder whose triples are the default graph (repeatable; TriG and N-Quads "
    "keep their named graphs). With --data or --named the dataset is the one declared, as "
    "SPARQL defines it; without, the project's dataset (each file its own named graph).",
)
_NAMED = click.option(
    "--named",
    "named",
    multiple=True,
    metavar="IRI=FILE",
    help="A named graph of the declared dataset: FILE's triples in graph IRI (repeatable).",
)


def _settings(**flags: Unpack[SettingsChanges]) -> Settings:
    return Settings.from_env(**flags)


def _report_text(exc: ShapesViolation) -> str:
    # errors.py cannot import validation (it sits below it), so the report is typed object there
    assert isinstance(exc.report, ValidationReport)
    return render(exc.report, "text")


class _Group(click.Group):
    """Turns every ``LeapsError`` into its message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LeapsError as exc:
            click.echo(f"leapsld: {_one_line(exc.message)}", err=True)
            ctx.exit(exc.exit_code)


def _one_line(message: str, limit: int = 600) -> str:
    """A message on one line, cut at ``limit`` characters (a parser's list of what it expected
    can run to pages of character ranges).

    >>> _one_line("line 1, column 2: expected one of\\n  a,\\n  b")
    'line 1, column 2: expected one of a, b'
    """
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leapsld")
def main() -> None:
    """Validate, query and publish an RDF dataset as Linked Data.

    Exit codes: 0 ok, 1 data does not conform, 2 unusable input.
    """


@main.command()
@click.argument("paths", nargs=-1, type=_PATHS)
@click.option(
    "--shapes",
    "shapes",
    multiple=True,
    type=_PATHS,
    help="SHACL files or folders (default: shapes/).",
)
@click.option(
    "--infer",
    type=click.Choice(["none", "rdfs", "owlrl"]),
    default=None,
    help="Inference before validating (into its own graph).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RENDER_FORMATS),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.lower() for s in SEVERITIES]),
    default="violation",
    show_default=True,
    help="Lowest severity that fails.",
)
@click.option(
    "--max-results",
    type=click.IntRange(min=0),
    default=MAX_RESULTS,
    show_default=True,
    help="List at most this many results, the most severe first, and count the rest (0: all).",
)
@_RELATIVE_IRIS
def validate(
    paths: tuple[Path, ...],
    shapes: tuple[Path, ...],
    infer: str | None,
    fmt: str,
    fail_on: str,
    max_results: int,
    relative_iris: str,
) -> None:
    """Validate RDF files (default: the project's ontology and data) against SHACL shapes.

    Each result names focus node, path, value, message, severity and the file and line where
    the focus node is described.
    """
    settings = _settings(
        data=paths or None, shapes=shapes or None, infer=infer, relative_iris=relative_iris
    )
    dataset = build(settings, validate_data=False)
    report = validate_dataset(
        dataset, fail_on=fail_on.capitalize(), max_results=max_results or None
    )
    click.echo(render(report, fmt), nl=False)
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("query_file", required=False, type=click.File("r", encoding="utf-8"))
@click.option(
    "-e",
    "--expression",
    "text",
    help="The query text (instead of QUERY_FILE; QUERY_FILE '-' reads stdin).",
)
@_DEFAULT_GRAPH
@_NAMED
@click.option(
    "--format",
    "fmt",
    default=None,
    help="json, xml, csv, tsv or table for SELECT/ASK; ttl, jsonld, nt, rdfxml, nq, trig for "
    "CONSTRUCT/DESCRIBE (or any alias or media type; xml and json mean RDF/XML and JSON-LD "
    "for a graph).",
)
@click.option(
    "--infer",
    type=click.Choice(["none", "rdfs", "owlrl"]),
    default=None,
    help="Inference before querying.",
)
@click.option("--max-rows", type=int, default=None, help="Most rows returned.")
@click.option(
    "--store",
    "store",
    default=None,
    help="Query a SPARQL engine leapsld loaded (sparql+http://host/path; see `load`) instead "
    "of the files.",
)
@click.option(
    "--base",
    "base",
    default=None,
    help="Base IRI of the query text: what its relative IRIs resolve against (a BASE in the "
    "query still applies after it).",
)
@_RELATIVE_IRIS
def query(
    query_file: IO[str] | None,
    text: str | None,
    data: tuple[Path, ...],
    named: tuple[str, ...],
    fmt: str | None,
    infer: str | None,
    max_rows: int | None,
    store: str | None,
    base: str | None,
    relative_iris: str,
) -> None:
    """Run a SPARQL query (read-only) over the dataset, on pyoxigraph (or on the SPARQL engine
    --store names)."""
    if query_file is not None and text is None:
        source = query_file.read()
    elif text is not None and query_file is None:
        source = text
    else:
        raise click.UsageError("give exactly one of QUERY_FILE or -e TEXT")
    settings = _settings(
        default_graph=data or None,
        named=named or None,
        infer=infer,
        max_rows=max_rows,
        relative_iris=relative_iris,
    )
    if store is not None:
        if not is_remote(store):
            raise click.BadParameter("not sparql+http(s)://…", param_hint="--store")
        settings = settings.replace(store=store)
    dataset = build(settings, validate_data=False, load_shapes=False)
    outcome = _run(dataset.store, source, base, settings.max_rows)
    offered = of_kind(*(RDF_KINDS if outcome.kind == "graph" else RESULT_KINDS))
    if fmt:
        chosen = resolve(fmt, offered)
    else:
        chosen = by_name("turtle" if outcome.kind == "graph" else "table")
    body = serialize_outcome(
        outcome,
        chosen,
        prefixes=dataset.prefixes,
        context=jsonld_context(settings.base_iri, dataset.vocabularies),
    )
    sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
    if outcome.truncated:
        click.echo(f"leapsld: results truncated at {settings.max_rows} rows", err=True)


def _run(store: Store, source: str, base: str | None, max_rows: int) -> QueryOutcome:
    """``run_query``, with the query text's base IRI and every failure to evaluate an exit 2.

    The base goes in front of the text on its first line (a ``BASE`` of the query's own then
    resolves against it, as SPARQL says), and error positions on that line are moved back.
    """
    prologue = ""
    if base is not None:
        if not _ABSOLUTE_IRI.match(base):
            raise click.BadParameter(f"not an absolute IRI: {base!r}", param_hint="--base")
        prologue = f"BASE <{base}> "
    try:
        return run_query(store, prologue + source, max_rows=max_rows)
    except QueryError as exc:
        if not prologue or exc.line != 1 or exc.column is None:
            raise
        column = max(exc.column - len(prologue), 1)
        detail = exc.message.split(": ", 1)[-1]
        raise QueryError(f"line 1, column {column}: {detail}", line=1, column=column) from None
    except RuntimeError as exc:  # the engine's own refusals: an unsupported custom function
        raise EvaluationError(f"the query cannot be evaluated: {exc}") from None


@main.command(name="build")
@click.argument("paths", nargs=-1, type=_PATHS)
@click.option(
    "--store",
    "store",
    default=None,
    help="Folder for the on-disk store (default: memory, a dry run).",
)
@click.option("--infer", type=click.Choice(["none", "rdfs", "owlrl"]), default=None)
@click.option("--no-validate", is_flag=True, help="Build even if the data does not conform.")
def build_command(
    paths: tuple[Path, ...], store: str | None, infer: str | None, no_validate: bool
) -> None:
    """Build the dataset (parse, infer, validate, store) and say what was built."""
    settings = _settings(
        data=paths or None, store=store, infer=infer, validate=False if no_validate else None
    )
    try:
        dataset = build(settings)
    except ShapesViolation as exc:
        click.echo(_report_text(exc), nl=False, err=True)
        raise
    where = "memory" if settings.store == "memory" else str(Path(settings.store) / dataset.version)
    verdict = {True: "conforms", False: "does not conform", None: "not validated"}[dataset.conforms]
    click.echo(
        f"built {len(dataset.store)} quads in {len(dataset.data_files)} files "
        f"(version {dataset.version}, {dataset.inferred} inferred, {verdict}) "
        f"{'reused' if dataset.reused else 'into'} {where}"
    )


@main.command()
@click.argument("paths", nargs=-1, type=_PATHS)
@click.option(
    "--to",
    "to",
    required=True,
    help="The SPARQL engine's query URL (http://host/sparql, or sparql+http://…); its update "
    "and Graph Store Protocol URLs and credentials come from LEAPSLD_UPDATE_URL, "
    "LEAPSLD_GSP_URL, LEAPSLD_REMOTE_USER and LEAPSLD_REMOTE_PASSWORD.",
)
@click.option(
    "--graph",
    "graph",
    default=None,
    help="The graph of the version record (default {base}.well-known/leapsld/record); the "
    "load's graphs are named under it.",
)
@click.option(
    "--replace", is_flag=True, help="Load again even when the engine serves this very version."
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=BATCH,
    show_default=True,
    help="Triples per request to the engine.",
)
@click.option("--infer", type=click.Choice(["none", "rdfs", "owlrl"]), default=None)
@click.option(
    "--base-iri", default=None, help=f"Base IRI of the data (default {DEFAULT_BASE_IRI})."
)
def load(
    paths: tuple[Path, ...],
    to: str,
    graph: str | None,
    replace: bool,
    batch: int,
    infer: str | None,
    base_iri: str | None,
) -> None:
    """Validate the dataset, then load it into a SPARQL engine as a new version.

    Nothing is sent unless the data conforms (exit 1 with the report). The triples go in
    batches under graph names of this load; once the engine's counts match, one small update
    makes it the served version (`serve --store sparql+URL` follows within seconds), and the
    graphs of older loads are dropped. Interrupted at any point, the engine keeps serving the
    version it served; loading the same version again sends nothing.
    """
    if graph is not None and not _ABSOLUTE_IRI.match(graph):
        raise click.BadParameter(f"not an absolute IRI: {graph!r}", param_hint="--graph")
    settings = _settings(data=paths or None, infer=infer, base_iri=base_iri, store="memory")
    endpoint = Endpoint.from_store(to, timeout=max(LOAD_TIMEOUT, settings.query_timeout))
    try:
        dataset = build(settings)
    except ShapesViolation as exc:
        click.echo(_report_text(exc), nl=False, err=True)
        raise
    total = 2 * len(dataset.store)  # each graph's triples, then the default graph's (at most)
    with click.progressbar(length=total, label="loading", file=sys.stderr, show_pos=True) as bar:
        loaded = push(
            dataset, endpoint, graph=graph, replace=replace, progress=bar.update, batch=batch
        )
        bar.update(total)
    if loaded.sent:
        click.echo(
            f"loaded version {loaded.version}: {loaded.triples} triples in {loaded.graphs} "
            f"graphs; served now (dropped {loaded.dropped} old graphs)"
        )
    else:
        click.echo(
            f"version {loaded.version} is already served ({loaded.triples} triples in "
            f"{loaded.graphs} graphs); nothing sent"
        )


@main.command()
@click.argument("paths", nargs=-1, type=_PATHS)
@_DEFAULT_GRAPH
@_NAMED
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
@click.option("--threads", type=int, default=None, help="Threads per worker (default 8).")
@click.option(
    "--store",
    default=None,
    help="'memory' (default), a folder for an on-disk store, or sparql+http(s)://host/path: "
    "a SPARQL engine leapsld loaded (see `load`).",
)
@click.option(
    "--base-iri", default=None, help=f"Base IRI of the data (default {DEFAULT_BASE_IRI})."
)
@click.option(
    "--description-file",
    type=_PATHS,
    default=None,
    help="The dataset's description (default: dataset.ttl in the project folder).",
)
@click.option("--title", default=None, help="Title of the dataset, instead of its description's.")
@click.option(
    "--license", "license_", default=None, help="Licence IRI, instead of its description's."
)
@click.option("--infer", type=click.Choice(["none", "rdfs", "owlrl"]), default=None)
@click.option(
    "--relative-iris",
    type=click.Choice(["file", "dataset"]),
    default=None,
    help="What a relative IRI in a file resolves against when the file declares no @base: the "
    "base IRI plus its path under the project (default), or its own file: IRI (as the W3C "
    "test suites read their files).",
)
@click.option(
    "--query-timeout", type=float, default=None, help="Seconds a query may run (default 10)."
)
@click.option(
    "--max-rows", type=int, default=None, help="Most results one query returns (default 10000)."
)
@click.option(
    "--trust-proxy", is_flag=True, default=None, help="Honour X-Forwarded-Proto/Host/Prefix."
)
@click.option("--no-validate", is_flag=True, help="Serve even if the data does not conform.")
@click.option(
    "--watch",
    is_flag=True,
    default=None,
    help="Reload when a file of the data, ontology, shapes or description changes.",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log each request to stderr (default: on).",
)
@click.option(
    "--reuse-port",
    is_flag=True,
    default=None,
    help="Share the port with another server started with --reuse-port.",
)
def serve(
    paths: tuple[Path, ...],
    data: tuple[Path, ...],
    named: tuple[str, ...],
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    store: str | None,
    base_iri: str | None,
    description_file: Path | None,
    title: str | None,
    license_: str | None,
    infer: str | None,
    relative_iris: str | None,
    query_timeout: float | None,
    max_rows: int | None,
    trust_proxy: bool | None,
    no_validate: bool,
    watch: bool | None,
    access_log: bool | None,
    reuse_port: bool | None,
) -> None:
    """Serve the dataset as Linked Data with a SPARQL endpoint (Granian, WSGI).

    The data is built and validated first: if it does not conform the report is printed and
    the command exits with 2, serving nothing. A dead worker is replaced; SIGHUP (or a changed
    file, with --watch) builds and validates the next version beside the one in service and
    swaps only when it is ready. Any failure to serve exits 2 with one line.
    """
    from .supervisor import serve as run

    if paths and (data or named):
        raise click.UsageError("give PATHS (one graph per file) or --data/--named, not both")
    settings = _settings(
        data=paths or None,
        default_graph=data or None,
        named=named or None,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        store=store,
        base_iri=base_iri,
        description_file=description_file,
        title=title,
        license=license_,
        infer=infer,
        relative_iris=relative_iris,
        query_timeout=query_timeout,
        max_rows=max_rows,
        trust_proxy=trust_proxy or None,
        validate=False if no_validate else None,
        watch=watch,
        access_log=access_log,
        reuse_port=reuse_port,
    )
    sys.exit(run(settings))
