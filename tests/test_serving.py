"""How the server process hands the built dataset to its workers."""

from __future__ import annotations

import gc
import os
import weakref
from typing import ClassVar

import pytest

from leapsld import serving
from leapsld.pipeline import build
from leapsld.settings import Settings
from leapsld.web import create_app

from .conftest import ROOT


class ForkingGranian:
    """Stands in for Granian: forks ``forks`` workers the way it does, one after another, and
    records what each worker's loader returned."""

    forks = 2
    outcomes: ClassVar[list[int]] = []

    def __init__(self, *args: object, **kw: object) -> None:
        self.workers = kw["workers"]

    def serve(self, target_loader=None) -> None:  # type: ignore[no-untyped-def]
        for _ in range(self.forks):
            pid = os.fork()
            if pid == 0:  # the worker: load the application and report whether it got one
                try:
                    app = target_loader("leapsld.web:create_app")
                    code = 0 if app.extensions["leapsld"].dataset.version else 3
                except BaseException:  # noqa: BLE001 - reported through the exit code
                    code = 4
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            ForkingGranian.outcomes.append(os.waitstatus_to_exitcode(status))


def test_the_server_process_lets_the_dataset_go_once_the_workers_hold_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import granian

    monkeypatch.setattr(granian, "Granian", ForkingGranian)
    ForkingGranian.outcomes = []
    settings = Settings.from_env({}, root=ROOT, workers=1)
    prepared = serving.prepare(settings)
    assert prepared.dataset is not None and prepared.validated
    held = weakref.ref(prepared.dataset)
    store = weakref.ref(prepared.dataset.store)
    try:
        serving.serve(settings, prepared)
    finally:
        gc.unfreeze()
    gc.collect()
    # The first worker got the prepared application; the second (a respawn) built its own.
    assert ForkingGranian.outcomes == [0, 0]
    assert prepared.dataset is None
    assert held() is None and store() is None


class ForkingWorker(ForkingGranian):
    """A worker that forks in turn (as a worker running a subprocess might) and reports
    whether the server process's after-fork hook left it alone (its frozen objects frozen)."""

    forks = 1

    def serve(self, target_loader=None) -> None:  # type: ignore[no-untyped-def]
        pid = os.fork()
        if pid == 0:
            code = 4
            try:
                target_loader("leapsld.web:create_app")
                child = os.fork()
                if child == 0:
                    os._exit(0)
                os.waitpid(child, 0)
                code = 0 if gc.get_freeze_count() > 0 else 5
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        ForkingGranian.outcomes.append(os.waitstatus_to_exitcode(status))


def test_the_after_fork_hook_does_nothing_in_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import granian

    monkeypatch.setattr(granian, "Granian", ForkingWorker)
    ForkingGranian.outcomes = []
    settings = Settings.from_env({}, root=ROOT, workers=1)
    try:
        serving.serve(settings, serving.prepare(settings))
    finally:
        gc.unfreeze()
    assert ForkingGranian.outcomes == [0]


def test_an_on_disk_store_is_not_kept_for_the_workers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_env({}, root=ROOT, store=str(tmp_path / "store"))
    prepared = serving.prepare(settings)
    assert prepared.dataset is None and prepared.validated and prepared.quads > 0


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
