"""The SPARQL 1.1 Protocol endpoint at ``/sparql`` (query operation only; read-only).

GET ``?query=``, POST form, POST ``application/sparql-query``; ``default-graph-uri`` and
``named-graph-uri``; results negotiated separately for SELECT/ASK and CONSTRUCT/DESCRIBE.
Without a query it describes itself (SPARQL 1.1 Service Description) or shows the query page.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, render_template, request

from ..errors import BadRequest, PayloadTooLarge, QueryRefused
from ..formats import by_name, of_kind
from ..query import QueryOutcome, run_query
from ..serialization import serialize_graph, serialize_results
from .http import alternates, choose, document, origin
from .pages import Labeller, Term
from .site import Body, Site

blueprint = Blueprint("sparql", __name__)

RESULT_FORMATS = (*of_kind("results"), *of_kind("page"))
GRAPH_FORMATS = (*of_kind("graph"), *of_kind("dataset"), *of_kind("page"))
DESCRIPTION_FORMATS = (*of_kind("graph"), *of_kind("dataset"), *of_kind("page"))
FORM = "application/x-www-form-urlencoded"


def site() -> Site:
    return current_app.extensions["leapsld"]


@blueprint.route("/sparql", methods=["GET", "POST", "HEAD"])
def endpoint() -> Response:
    """Answer one SPARQL Protocol request."""
    text, default_graphs, named_graphs = _read_request()
    s = site()
    if text is None:
        return _describe_service(s)
    if len(text.encode()) > s.settings.max_query_bytes:
        raise PayloadTooLarge(f"the query is longer than {s.settings.max_query_bytes} bytes")
    outcome = run_query(
        s.dataset.store,
        text,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        max_rows=s.settings.max_rows,
        timeout=s.settings.query_timeout,
    )
    offered = GRAPH_FORMATS if outcome.kind == "graph" else RESULT_FORMATS
    chosen = choose(offered, default=offered[0])
    fmt = chosen.format
    if fmt.kind == "page":
        data = _results_page(s, text, outcome)
    elif outcome.kind == "graph":
        data = serialize_graph(
            outcome.triples,
            fmt,
            prefixes=s.prefixes,
            context=s.context,
            context_url=f"{origin()}/context.jsonld",
            profile=chosen.params.get("profile"),
        )
    else:
        data = serialize_results(outcome, fmt)
    key = "\0".join(
        [text, *(default_graphs or ["*"]), "|", *(named_graphs or ["*"]), fmt.name, origin()]
    )
    body = Body(data, s.etag("q", hashlib.sha1(key.encode()).hexdigest()[:16]))
    response = document(
        s, body, fmt, negotiated=request.args.get("format") is None, memoizable=False
    )
    response.headers["Cache-Control"] = "no-cache"
    if outcome.truncated:
        response.headers["X-SPARQL-Truncated"] = "true"
        response.headers["X-SPARQL-MaxRows"] = str(s.settings.max_rows)
    return response


def _read_request() -> tuple[str | None, list[str] | None, list[str] | None]:
    """The query text and RDF dataset of a SPARQL Protocol request.

    Raises:
        QueryRefused: an update operation was sent.
        BadRequest: several queries, or a body of an unexpected type.
    """
    params = request.args
    text: str | None = None
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == FORM:
            params = request.form
            if "update" in params:
                raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
        elif mimetype == "application/sparql-query":
            text = request.get_data(as_text=True)
        elif mimetype == "application/sparql-update":
            raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
        else:
            raise BadRequest(
                f"POST body of type {mimetype or '(none)'!r}: send application/sparql-query "
                f"or {FORM}"
            )
    queries = params.getlist("query")
    if len(queries) > 1:
        raise BadRequest(f"{len(queries)} query parameters: send exactly one")
    if text is None and queries:
        text = queries[0]
    if text is not None and not text.strip():
        raise BadRequest("the query is empty")
    default_graphs = params.getlist("default-graph-uri") or None
    named_graphs = params.getlist("named-graph-uri") or None
    return text, default_graphs, named_graphs


def _describe_service(s: Site) -> Response:
    """No query: a Service Description for RDF clients, the query page for browsers."""
    chosen = choose(DESCRIPTION_FORMATS, default=by_name("turtle"))
    fmt = chosen.format
    if fmt.kind == "page":
        html = render_template(
            "query.html", origin=origin(), example=EXAMPLE_QUERY, formats=of_kind("results")
        )
        body = Body(html.encode(), s.etag("query-page", origin()))
    else:
        body = s.graph_body(
            "sparql-sd",
            lambda: s.service_description(origin()),
            fmt,
            origin=origin(),
            profile=chosen.params.get("profile"),
            origin_dependent=True,
        )
    return document(s, body, fmt, negotiated=True, links=alternates("/sparql", ()))


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


EXAMPLE_QUERY = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?organisation ?label WHERE {
  ?organisation a org:FormalOrganization ; rdfs:label ?label .
} ORDER BY ?label"""
