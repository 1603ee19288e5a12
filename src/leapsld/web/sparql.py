"""The SPARQL 1.1 Protocol endpoint at ``/sparql`` (query operation only; read-only).

GET ``?query=``, POST form, POST ``application/sparql-query``; ``default-graph-uri`` and
``named-graph-uri``; results negotiated separately for SELECT/ASK and CONSTRUCT/DESCRIBE.
Without a query it describes itself (SPARQL 1.1 Service Description) or shows the query page.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from .. import metrics
from ..errors import BadRequest, NotAcceptable, PayloadTooLarge, QueryRefused
from ..formats import Format, by_name, of_kind
from ..guard import check
from ..negotiation import Negotiated
from ..query import QueryOutcome
from ..serialization import serialize_outcome
from .http import choose, document, origin
from .pages import Labeller, Term
from .site import Body, Site, current_site
from .ui import editor

blueprint = Blueprint("sparql", __name__)

RESULT_FORMATS = (*of_kind("results"), *of_kind("page"))
GRAPH_FORMATS = (*of_kind("graph"), *of_kind("dataset"), *of_kind("page"))
DESCRIPTION_FORMATS = (*of_kind("graph"), *of_kind("dataset"), *of_kind("page"))
FORM = "application/x-www-form-urlencoded"


@blueprint.route("/sparql", methods=["GET", "POST", "HEAD"])
def endpoint() -> Response:
    """Answer one SPARQL Protocol request: from the answer memo when the same query (in normal
    form) was answered completely before in the same format, else by running it."""
    text, default_graphs, named_graphs = _read_request()
    s = current_site()
    if text is None:
        return _describe_service(s)
    if len(text.encode()) > s.settings.max_query_bytes:
        raise PayloadTooLarge(f"the query is longer than {s.settings.max_query_bytes} bytes")
    checked = check(text)
    negotiated = request.args.get("format") is None
    writer = None
    try:  # the answer's format follows from the query form, known before it runs
        offered = GRAPH_FORMATS if checked.form in GRAPH_FORMS else RESULT_FORMATS
        chosen = choose(offered, default=offered[0])
    except NotAcceptable:
        pass  # the query runs first: its own errors come before the client's Accept
    else:
        key = _answer_key(chosen, checked.normal, text, default_graphs, named_graphs)
        kept = s.kept_answer(key)
        if kept is not None:
            metrics.ANSWERS.labels("kept").inc()
            return _answer(s, kept, chosen.format, negotiated, complete=True)
        fmt = chosen.format
        if fmt.kind != "page" and not fmt.context:  # the query process writes it
            writer = s.writers.get(fmt.name)
    outcome = s.queries.run(
        text,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        client=request.remote_addr or "",
        checked=checked,
        writer=writer,
    )
    offered = GRAPH_FORMATS if outcome.kind == "graph" else RESULT_FORMATS
    chosen = choose(offered, default=offered[0])
    fmt = chosen.format
    if outcome.data is not None:
        data = outcome.data
    elif fmt.kind == "page":
        data = _results_page(s, text, outcome)
    else:
        data = serialize_outcome(
            outcome,
            fmt,
            prefixes=s.prefixes,
            context=s.context,
            context_url=f"{origin()}/context.jsonld",
            profile=chosen.params.get("profile"),
        )
    metrics.ANSWERS.labels("run").inc()
    body = Body(data, s.etag("q", hashlib.sha1(data).hexdigest()[:16]))
    complete = not outcome.truncated
    if complete:  # a cut answer is never kept: the same query may get all of it later
        s.keep_answer(_answer_key(chosen, checked.normal, text, default_graphs, named_graphs), body)
    return _answer(s, body, fmt, negotiated, complete=complete)


def _answer(s: Site, body: Body, fmt: Format, negotiated: bool, *, complete: bool) -> Response:
    """The response: validators and 304 as for documents; revalidated on every use (a reload
    changes the version); replayed by the response memo only when complete."""
    response = document(s, body, fmt, negotiated=negotiated, memoizable=complete)
    response.headers["Cache-Control"] = "no-cache"
    if not complete:
        response.headers["X-SPARQL-Truncated"] = "true"
        response.headers["X-SPARQL-MaxRows"] = str(s.settings.max_rows)
    return response


#: Query forms answered with a graph (the others with SPARQL results).
GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})


def _answer_key(
    chosen: Negotiated,
    normal: str,
    text: str,
    default_graphs: list[str] | None,
    named_graphs: list[str] | None,
) -> tuple[object, ...]:
    """All an answer depends on besides the dataset version: the query (in normal form; as
    sent for the HTML page, which shows it), the protocol dataset, the format and its profile,
    and the origin when the bytes name it."""
    fmt = chosen.format
    page = fmt.kind == "page"
    return (
        text if page else normal,
        tuple(default_graphs) if default_graphs is not None else None,
        tuple(named_graphs) if named_graphs is not None else None,
        fmt.name,
        chosen.params.get("profile"),
        origin() if page or fmt.origin_dependent else None,
    )


def _read_request() -> tuple[str | None, list[str] | None, list[str] | None]:
    """The query text and RDF dataset of a SPARQL Protocol request (SPARQL 1.1 Protocol §2.1).

    Raises:
        QueryRefused: an update operation was sent.
        BadRequest: several queries, a query in two places, a body of an unexpected type or
            charset, text that is not UTF-8, or a graph parameter that is not an absolute IRI.
    """
    url = request.args
    if "update" in url:
        raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
    if request.method != "POST":
        return _query_and_dataset(url)
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BadRequest(f"the request body must be UTF-8, not {charset}")
    if mimetype == "application/sparql-update":
        raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
    if mimetype == FORM:
        if "query" in url:
            raise BadRequest("a form POST carries the query in its body, not in the URL")
        form = _strict_form(request.get_data())
        if "update" in form:
            raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
        if "query" not in form:
            raise BadRequest("the form has no 'query' field")
        return _query_and_dataset(form)
    if mimetype == "application/sparql-query":
        if "query" in url:
            raise BadRequest("the query is in the body: it cannot also be in the URL")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the query is not valid UTF-8 at byte {exc.start}") from None
        _, default_graphs, named_graphs = _query_and_dataset(url)
        if not text.strip():
            raise BadRequest("the query is empty")
        return text, default_graphs, named_graphs
    raise BadRequest(
        f"POST body of type {mimetype or '(none)'!r}: send application/sparql-query or {FORM}"
    )


def _strict_form(body: bytes) -> MultiDict[str, str]:
    """Decode an urlencoded body, refusing anything that is not UTF-8 (werkzeug would replace)."""
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the form is not valid UTF-8: {exc.reason}") from None
    return MultiDict(pairs)


def _query_and_dataset(
    params: MultiDict[str, str],
) -> tuple[str | None, list[str] | None, list[str] | None]:
    queries = params.getlist("query")
    if len(queries) > 1:
        raise BadRequest(f"{len(queries)} query parameters: send exactly one")
    text = queries[0] if queries else None
    if text is not None and not text.strip():
        raise BadRequest("the query is empty")
    graphs: list[list[str] | None] = []
    for name in ("default-graph-uri", "named-graph-uri"):
        values = params.getlist(name)
        for value in values:
            if not _ABSOLUTE_IRI.match(value):
                raise BadRequest(f"{name}={value!r} is not an absolute IRI")
        graphs.append(values or None)
    return text, graphs[0], graphs[1]


_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]+$")


def _describe_service(s: Site) -> Response:
    """No query: a Service Description for RDF clients, the query page for browsers."""
    chosen = choose(DESCRIPTION_FORMATS, default=by_name("turtle"))
    fmt = chosen.format
    if fmt.kind == "page":
        return editor(s, s.identity.example_query, negotiated=True)  # else the Service Description
    body = s.graph_body(
        "sparql-sd",
        lambda: s.service_description(origin(), (*RESULT_FORMATS, *GRAPH_FORMATS)),
        fmt,
        origin=origin(),
        profile=chosen.params.get("profile"),
        origin_dependent=True,
    )
    return document(s, body, fmt, negotiated=True)


def _results_page(s: Site, text: str, outcome: QueryOutcome) -> bytes:
    triples = outcome.triples
    labeller = Labeller(list(triples), origin=origin(), base=s.base, prefixes=s.prefixes)
    if outcome.kind == "graph":
        header = ["subject", "predicate", "object"]
        rows = [
            [labeller.term(t.subject), labeller.term(t.predicate), labeller.term(t.object)]
            for t in triples
        ]
    elif outcome.kind == "ask":
        header, rows = ["answer"], [[Term("yes" if outcome.boolean else "no")]]
    else:
        header = outcome.variables
        rows = [
            [labeller.term(v) if v is not None else Term("") for v in row] for row in outcome.rows
        ]
    return render_template(
        "query.html",
        origin=origin(),
        example=text,
        header=header,
        rows=rows,
        truncated=outcome.truncated,
        formats=of_kind("results"),
    ).encode()
