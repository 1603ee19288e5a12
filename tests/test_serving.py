"""How the server process hands the built dataset to its workers."""

from __future__ import annotations

import os

from leapsld import serving
from leapsld.pipeline import build
from leapsld.settings import Settings
from leapsld.web import create_app

from .conftest import ROOT


def test_the_memory_store_is_kept_for_the_workers_to_inherit() -> None:
    """The generation keeps the dataset it built: a worker that dies is forked again with it,
    with nothing to parse or validate."""
    settings = Settings.from_env({}, root=ROOT, workers=1)
    prepared = serving.prepare(settings)
    assert prepared.dataset is not None and prepared.validated
    assert prepared.dataset.version == prepared.version


def test_an_on_disk_store_is_closed_and_its_version_reopened_by_the_workers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The generation keeps the dataset without its RocksDB store (closed before the fork); a
    worker reopens that version's store, read-only, and nothing else."""
    settings = Settings.from_env({}, root=ROOT, store=str(tmp_path / "store"))
    prepared = serving.prepare(settings)
    assert prepared.validated and prepared.quads > 0
    assert prepared.store_path is not None and prepared.version in str(prepared.store_path)
    assert len(prepared.dataset.store) == 0  # the on-disk store is let go
    dataset = serving.reopen(prepared)
    assert len(dataset.store) == prepared.quads and dataset.version == prepared.version


def test_the_site_starts_no_thread_before_its_first_request(dataset) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataset.settings, dataset=build(dataset.settings))
    site = app.extensions["leapsld"]
    assert site.derived.background is None
    assert app.test_client().get("/doc/org/sesame.ttl").status_code == 200
    assert site.derived.background is not None
    assert site.stats.triples > 0 and site.dumps
    site.derived.background.join(timeout=30)
    assert not site.derived.background.is_alive()  # done, and gone
    assert app.test_client().get("/doc/project/beats.ttl").status_code == 200
    assert not site.derived.background.is_alive()  # started once per process


def test_the_site_knows_when_requests_are_being_answered(dataset) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataset.settings, dataset=dataset)
    site = app.extensions["leapsld"]
    app.add_url_rule("/busy", "busy", lambda: str(site.derived.activity.busy()))
    client = app.test_client()
    assert client.get("/busy").text == "True"
    assert not site.derived.activity.busy()
    assert client.get("/no/such/thing").status_code == 404
    assert not site.derived.activity.busy()  # counted out even when the request fails


def test_an_application_that_builds_its_own_dataset_is_ready_before_its_first_client(
    settings,  # type: ignore[no-untyped-def]
) -> None:
    site = create_app(settings).extensions["leapsld"]
    assert site.queries.executor.started_in == os.getpid()  # its query processes run
    assert site.derived.background is not None  # and its statistics and dumps are on their way
    site.derived.background.join(timeout=30)
    assert not site.derived.activity.busy()
