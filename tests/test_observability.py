"""``/health``, ``/ready`` and Prometheus ``/metrics`` (issue 13)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from leapsld.errors import QueryTimeout

from .test_server import free_port, start, stop, wait_until_up


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return sum(
        v
        for (n, ls), v in samples(text).items()
        if n == name and all(dict(ls).get(k) == w for k, w in labels.items())
    )


def test_health_answers_while_the_process_does(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    # probes reach a server by address: no host check, no memo
    assert client.get("/health", headers={"Host": "10.1.2.3:8000"}).status_code == 200


def test_ready_once_derived_data_is_made(client: FlaskClient) -> None:
    deadline = time.monotonic() + 60
    while True:
        response = client.get("/ready")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        assert response.status_code == 503 and response.headers["Retry-After"]
        time.sleep(0.1)
    assert response.status_code == 200
    body = response.get_json()
    assert body["suggestions"] and body["statistics"] and body["dumps"]
    assert body["version"] == client.application.extensions["leapsld"].version


def test_ready_is_503_until_then(dataset, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from leapsld.derived import Derived
    from leapsld.web import create_app

    monkeypatch.setattr(Derived, "start", lambda self: None)  # nothing is ever made
    client = create_app(dataset.settings, dataset=dataset).test_client()
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["statistics"] is False


def test_metrics_count_requests_by_route_never_by_path(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        client.get("/doc/org/sesame.ttl").close()  # answered once, then replayed by the memo
    client.get("/doc/org/unknown-thing-4711").close()
    client.get("/no/such/route/4712").close()
    site = client.application.extensions["leapsld"]

    def timeout(*args: object, **kwargs: object) -> None:
        raise QueryTimeout("the query ran longer than 3 s")

    monkeypatch.setattr(site.queries, "run", timeout)
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 503
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert "4711" not in text and "4712" not in text

    def grew(name: str, **labels: str) -> float:
        return value(text, name, **labels) - value(before, name, **labels)

    assert grew("leapsld_http_requests_total", route="resources.doc", status="200") == 3
    assert grew("leapsld_http_requests_total", route="resources.doc", status="404") == 1
    assert grew("leapsld_http_requests_total", route="unmatched", status="404") == 1
    assert grew("leapsld_http_request_duration_seconds_count", route="resources.doc") == 4
    assert grew("leapsld_query_timeouts_total") == 1
    assert value(text, "leapsld_query_kills_total") >= 0
    assert "leapsld_query_kills_total" in text
    assert value(text, "leapsld_memory_pss_bytes") > 10_000_000
    version = site.version
    assert value(text, "leapsld_dataset_info", version=version) == 1
    assert value(text, "leapsld_dataset_triples") == len(site.dataset.store)
    labels = {dict(ls).get("route") for (n, ls) in samples(text) if n.startswith("leapsld_http")}
    assert labels <= {None, "unmatched"} | set(client.application.view_functions)


def test_metrics_are_summed_over_every_worker_of_a_real_server() -> None:
    port = free_port()
    process = start("--workers", "2", "--threads", "2", port=port)
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, origin)
        folders = _metrics_folders(process.pid)
        assert len(folders) == 1
        for _ in range(40):  # a connection each, spread over the workers by the kernel
            requests.get(f"{origin}/doc/org/sesame.ttl", timeout=10).close()
        pids = {p.name.split("_")[-1] for p in folders[0].glob("counter_*.db")}
        totals = set()
        for _ in range(6):  # each scrape may be answered by either worker: all say the same
            text = requests.get(f"{origin}/metrics", timeout=10).text
            totals.add(value(text, "leapsld_http_requests_total", route="resources.doc"))
            assert value(text, "leapsld_processes") >= 3  # the server and its two workers
        assert totals == {40.0}, (totals, pids)
        assert len(pids) == 2  # both workers counted (and scrapes add to theirs)
    finally:
        stop(process)
    assert not folders[0].exists()  # removed with the server


def _metrics_folders(server: int) -> list[Path]:
    """The metrics folders of the server process ``server``: in its scratch folder (named after
    its pid), removed with it."""
    import tempfile

    return sorted(Path(tempfile.gettempdir()).glob(f"leapsld-serve-{server}-*/metrics"))
