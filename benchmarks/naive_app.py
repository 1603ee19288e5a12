"""The naive peer: a SPARQL endpoint in a few lines of Flask on pyoxigraph, as one would write
it without leapsld. The same engine, no limits, no memo; the engine's own serializers.

    python benchmarks/naive_app.py --port 8080 ontology/leaps.ttl data.ttl

GET or POST ``/sparql?query=``; SELECT/ASK answered as SPARQL JSON (or XML, CSV, TSV by
Accept), CONSTRUCT/DESCRIBE as Turtle (or N-Triples, RDF/XML). Served by werkzeug's threaded
server, as ``flask run`` would.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, benchmarks/ comes first on sys.path and its ``http.py`` would shadow the
# standard library's ``http`` (which werkzeug needs).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse

import pyoxigraph
from flask import Flask, Response, request

RESULTS = {
    "application/sparql-results+json": pyoxigraph.QueryResultsFormat.JSON,
    "application/sparql-results+xml": pyoxigraph.QueryResultsFormat.XML,
    "text/csv": pyoxigraph.QueryResultsFormat.CSV,
    "text/tab-separated-values": pyoxigraph.QueryResultsFormat.TSV,
}
GRAPHS = {
    "text/turtle": pyoxigraph.RdfFormat.TURTLE,
    "application/n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
    "application/rdf+xml": pyoxigraph.RdfFormat.RDF_XML,
}


def make_app(files: list[Path]) -> Flask:
    store = pyoxigraph.Store()
    for path in files:
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.from_extension(path.suffix[1:]))
    app = Flask(__name__)

    @app.route("/sparql", methods=["GET", "POST"])
    def sparql() -> Response:
        text = request.values.get("query", "")
        try:
            result = store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            return Response(str(exc), status=400, content_type="text/plain")
        accept = request.headers.get("Accept", "")
        if isinstance(result, pyoxigraph.QueryTriples):
            media = next((m for m in GRAPHS if m in accept), "text/turtle")
            data = pyoxigraph.serialize(result, format=GRAPHS[media])
        else:
            media = next((m for m in RESULTS if m in accept), "application/sparql-results+json")
            data = result.serialize(format=RESULTS[media])
        return Response(data, content_type=media)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    make_app(args.files).run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
