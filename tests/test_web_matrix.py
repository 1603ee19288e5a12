"""Every RDF endpoint by every format it offers, generated from the registry, parsed back."""

from __future__ import annotations

import json

import pyoxigraph
import pytest
from rdflib.compare import isomorphic

from leapsld.bridge import graph_from_quads
from leapsld.formats import of_kind

GRAPH = of_kind("graph")
ENDPOINTS = {
    "/doc/org/sesame": GRAPH,
    "/doc/project/beats": GRAPH,
    "/def": GRAPH,
    "/shapes": GRAPH,
    "/.well-known/void": GRAPH,
    "/sparql": (*GRAPH, *of_kind("dataset")),
}
CASES = [(path, fmt) for path, formats in ENDPOINTS.items() for fmt in formats]


def parsed(client, response, fmt):  # type: ignore[no-untyped-def]
    data = response.get_data()
    if fmt.name == "jsonld":
        body = json.loads(data)
        body["@context"] = json.loads(client.get("/context.jsonld").get_data())["@context"]
        data = json.dumps(body).encode()
    return graph_from_quads(pyoxigraph.parse(data, format=fmt.rdf_format))


@pytest.mark.parametrize(("path", "fmt"), CASES, ids=[f"{p}-{f.name}" for p, f in CASES])
def test_endpoint_format(client, path: str, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept": fmt.media_type})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == fmt.media_type
    assert response.headers["ETag"]
    graph = parsed(client, response, fmt)
    assert len(graph) > 0
    turtle = parsed(client, client.get(path, headers={"Accept": "text/turtle"}), GRAPH[0])
    assert isomorphic(graph, turtle), f"{path} as {fmt.name} differs from its Turtle"
