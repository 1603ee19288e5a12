"""The server never stops serving: worker deaths, crash loops, reloads, ports.

A real ``leapsld serve`` on loopback, on a copy of the project's files that the tests edit,
with a private temporary folder (``TMPDIR``) so that what it leaves there can be counted.
Liveness checks with wide ceilings, not speed targets.
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .conftest import ROOT
from .test_server import LEAPSLD, clean_env, free_port, stop, wait_until_up

DOC = "/doc/org/sesame.ttl"


def descendants(pid: int) -> list[int]:
    found = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    for child in map(int, children):
        found.append(child)
        found.extend(descendants(child))
    return found


def workers(supervisor: int) -> list[int]:
    """The worker processes: the children of the supervisor's children (its generations)."""
    return [
        int(w)
        for g in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
        for w in Path(f"/proc/{g}/task/{g}/children").read_text().split()
    ]


@dataclass
class Server:
    process: subprocess.Popen[str]
    origin: str
    root: Path
    tmp: Path
    log: Path
    port: int

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, what: str, timeout: float = 60, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what in self.text()[after:]:
                return
            assert self.process.poll() is None, self.text()[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"{what!r} not logged: {self.text()[-3000:]}")

    def generation_count(self) -> int:
        return len(
            Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        )


def launch(tmp: Path, *args: str) -> Server:
    root = tmp / "project"
    root.mkdir()
    for name in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / name, root / name)
    for name in ("dataset.ttl", "views.toml"):
        shutil.copy(ROOT / name, root / name)
    private = tmp / "tmp"
    private.mkdir()
    log = tmp / "server.log"
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [LEAPSLD, "serve", "--port", str(port), *args],
            cwd=tmp,
            env=clean_env(LEAPSLD_ROOT=str(root), TMPDIR=str(private)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", root, private, log, port)
    wait_until_up(process, server.origin)
    server.wait_for("leapsld: serving ")  # every worker is ready
    return server


@dataclass
class Load:
    """Client threads looping GETs without retries, on a fresh connection each, or on one
    kept-alive connection (``keep_alive``); or (``retrying``) kept alive and retrying a GET
    whose connection failed, as urllib3's ``Retry`` does when asked (requests' default is no
    retry)."""

    url: str
    clients: int = 2
    keep_alive: bool = False
    retrying: bool = False
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    etags: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _loop(self) -> None:
        client: Any = requests.Session() if self.keep_alive or self.retrying else requests
        if self.retrying:
            retry = Retry(total=3, connect=3, read=3, backoff_factor=0.05)
            client.mount("http://", HTTPAdapter(max_retries=retry))
        while not self._stop.is_set():
            try:
                answer = client.get(self.url, timeout=30)
                with self._lock:
                    if answer.status_code == 200:
                        self.ok += 1
                        self.etags.add(answer.headers["ETag"])
                    else:
                        self.failures.append(f"{answer.status_code}")
            except requests.RequestException as exc:
                with self._lock:
                    text = str(exc).lower()
                    refused = "refused" in text
                    unanswered = "without response" in text or "reset" in text
                    self.failures.append(
                        "refused" if refused else "unanswered" if unanswered else text
                    )

    def __enter__(self) -> Load:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._loop, daemon=True)
            thread.start()
            self._threads.append(thread)
        time.sleep(0.5)
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.5)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def replaced(server: Server, victim: int) -> bool:
    """Whether the killed worker ``victim`` is gone and both workers serve again."""
    now = workers(server.process.pid)
    return len(now) == 2 and victim not in now


def gone(server: Server, old: set[int]) -> bool:
    """Whether none of the ``old`` workers is left."""
    return not old & set(workers(server.process.pid))


# Two workers, watching their files -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("supervised")
    running = launch(tmp, "--workers", "2", "--threads", "4", "--watch")
    try:
        yield running
    finally:
        stop(running.process)
        # Stopped: nothing is left in the temporary folder.
        assert sorted(os.listdir(running.tmp)) == []


def test_a_killed_worker_costs_only_the_connections_it_held(server: Server) -> None:
    """kill -9 of one of two workers under load. What is guaranteed: every connection the
    killed process had not accepted is answered (the socket stays open, the other worker and
    then the respawned one take them); a connection it had accepted is closed by the kernel
    unanswered (no process can answer for one that was just killed), so a client sees at most
    the requests it had in flight there fail, as a closed connection, never an error status;
    and a client that retries a GET on a closed connection (urllib3's ``Retry``, RFC 9110
    §9.2.2: GET is idempotent) sees no failed request at all."""
    with (
        Load(server.origin + DOC, clients=2) as plain,
        Load(server.origin + DOC, clients=2, retrying=True) as retrying,
    ):
        for _ in range(3):
            victim = workers(server.process.pid)[0]
            os.kill(victim, signal.SIGKILL)
            until(functools.partial(replaced, server, victim), 30, "the killed worker is replaced")
            time.sleep(1)
    print(
        f"kill -9 of one of two workers, 3 times: without retries {plain.ok} ok, "
        f"{len(plain.failures)} failed {plain.failures}; retrying a GET on a closed "
        f"connection {retrying.ok} ok, {len(retrying.failures)} failed"
    )
    assert plain.ok > 20 and retrying.ok > 20
    assert retrying.failures == []
    # at most the request each client had in flight, at each kill, and only as closed
    # connections (never refused: the socket is the supervisor's)
    assert set(plain.failures) <= {"unanswered"}, plain.failures
    assert len(plain.failures) <= 3 * plain.clients


def test_a_crash_loop_never_stops_the_server(server: Server) -> None:
    """Granian exits when a worker dies within 5.5 s of its respawn; leapsld backs off and the
    other worker serves throughout."""
    with Load(server.origin + DOC, clients=1) as load:
        killed = set()
        for _ in range(5):
            before = set(workers(server.process.pid)) - killed
            fresh = max(before)  # the newest worker: the respawned one after the first round
            os.kill(fresh, signal.SIGKILL)
            killed.add(fresh)
            until(
                lambda: len(set(workers(server.process.pid)) - killed) == 2,
                30,
                "the killed worker is respawned",
            )
            time.sleep(0.3)
        assert server.process.poll() is None
    print(f"crash loop (5 kills): {load.ok} ok, {len(load.failures)} failed")
    assert "quick deaths in a row" in server.text()
    assert server.process.poll() is None
    assert requests.get(server.origin + DOC, timeout=10).status_code == 200
    assert len(load.failures) <= 5  # at most the request in flight at each kill


def test_sighup_swaps_every_worker_without_a_failed_request(server: Server) -> None:
    """Three swaps under clients on fresh connections and on kept-alive ones, none retrying."""
    with Load(server.origin + DOC) as load, Load(server.origin + DOC, keep_alive=True) as kept:
        for _ in range(3):
            before = set(workers(server.process.pid))
            mark = len(server.text())
            os.kill(server.process.pid, signal.SIGHUP)
            server.wait_for("reloaded: serving", after=mark)
            until(functools.partial(gone, server, before), 60, "old workers gone")
    print(
        f"3 SIGHUPs under load: fresh connections {load.ok} ok, {len(load.failures)} failed "
        f"{load.failures}; kept-alive {kept.ok} ok, {len(kept.failures)} failed {kept.failures}"
    )
    assert load.ok > 20 and kept.ok > 20
    assert kept.failures == []
    # No failed request: new connections go to the new workers' socket from the swap on; the
    # old workers are stopped only once their socket's queue is empty and every connection
    # they accepted has sent its request (hyper's graceful stop closes a connection that has
    # sent nothing: 3 in 13,399 requests over 6 swaps, when old and new shared one socket).
    assert load.failures == []
    assert len(workers(server.process.pid)) == 2


def test_a_swapped_out_worker_closes_kept_alive_connections_after_an_answer(
    server: Server,
) -> None:
    """After a swap, a request on a connection kept alive to an old worker is answered, with
    ``Connection: close``; a new connection reaches the new workers and is kept alive."""
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    kept.request("GET", DOC)
    first = kept.getresponse()
    first.read()
    assert first.status == 200 and first.getheader("Connection") is None
    old = set(workers(server.process.pid))
    mark = len(server.text())
    os.kill(server.process.pid, signal.SIGHUP)
    server.wait_for("reloaded: serving", after=mark)
    time.sleep(0.5)  # the old generation has had the signal (it waits for this connection)
    kept.request("GET", DOC)
    last = kept.getresponse()
    last.read()
    assert last.status == 200 and last.getheader("Connection") == "close"
    kept.close()
    fresh = requests.get(server.origin + DOC, timeout=30)
    assert fresh.status_code == 200 and "Connection" not in fresh.headers
    until(functools.partial(gone, server, old), 60, "old workers gone")


def _edit_under_load(server: Server, edit: Callable[[], None], expected: str) -> tuple[Load, str]:
    mark = len(server.text())
    etag = requests.get(server.origin + DOC, timeout=10).headers["ETag"]
    with Load(server.origin + DOC) as load:
        edit()  # --watch sees it
        server.wait_for(expected, after=mark)
        server.wait_for("still serving version", after=mark)
        time.sleep(1)
    return load, etag


def test_a_reload_with_a_syntax_error_keeps_the_old_version(server: Server) -> None:
    broken = server.root / "data" / "zz-broken.ttl"
    load, etag = _edit_under_load(
        server,
        lambda: broken.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b \n"),
        "data/zz-broken.ttl:3",
    )
    broken.unlink()
    print(f"reload with a syntax error: {load.ok} ok, {len(load.failures)} failed")
    assert load.failures == [] and load.ok > 20
    assert load.etags == {etag}  # the old version, all along
    assert requests.get(server.origin + DOC, timeout=10).headers["ETag"] == etag


def test_a_reload_with_data_that_does_not_conform_keeps_the_old_version(server: Server) -> None:
    beamlines = server.root / "data" / "beamlines.ttl"
    original = beamlines.read_text()
    labelled = '    rdfs:label "BEATS beamline"@en ;\n'
    assert labelled in original
    load, etag = _edit_under_load(
        server,
        lambda: beamlines.write_text(original.replace(labelled, "")),
        "Every resource needs a label",
    )
    text = server.text()
    assert "data/beamlines.ttl:" in text and "reload refused" in text
    refused = text.count("reload refused")
    time.sleep(7)  # the broken version is not rebuilt over and over (it was, every 5 s)
    assert server.text().count("reload refused") == refused
    print(f"reload with data that does not conform: {load.ok} ok, {len(load.failures)} failed")
    assert load.failures == [] and load.ok > 20
    assert load.etags == {etag}
    # Then a good change is picked up by --watch and served, without a failed request.
    mark = len(server.text())
    old = set(workers(server.process.pid))
    with Load(server.origin + DOC) as load, Load(server.origin + DOC, keep_alive=True) as kept:
        beamlines.write_text(original.replace('"BEATS beamline"@en', '"BEATS beamline (new)"@en'))
        server.wait_for("reloaded: serving", after=mark)
        until(functools.partial(gone, server, old), 60, "old workers gone")
    print(f"--watch reload under load: {load.ok + kept.ok} ok, {load.failures + kept.failures}")
    assert load.failures == [] and kept.failures == [] and load.ok > 20
    page = requests.get(server.origin + "/doc/beamline/beats.ttl", timeout=10)
    assert "BEATS beamline (new)" in page.text
    assert requests.get(server.origin + DOC, timeout=10).headers["ETag"] != etag


def test_reloads_leave_nothing_in_the_temporary_folder(server: Server) -> None:
    for _ in range(3):
        mark = len(server.text())
        os.kill(server.process.pid, signal.SIGHUP)
        server.wait_for("reloaded: serving", after=mark)
    until(lambda: server.generation_count() == 1, 60, "old generations gone")
    # One folder of this server, holding only the generation in service.
    (own,) = os.listdir(server.tmp)
    assert own.startswith("leapsld-serve-")
    until(
        lambda: len([n for n in os.listdir(server.tmp / own) if n != "metrics"]) == 1,
        30,
        "old generations' files gone",
    )


# The on-disk store ------------------------------------------------------------------------------


def test_a_respawned_worker_of_an_on_disk_store_serves_its_generations_version(
    tmp_path: Path,
) -> None:
    """A worker respawned after an edit of data/ that was not reloaded serves the version its
    generation built (same ETag, old text) and builds nothing: it reopens that version's store
    and reads no source file (it used to build, and serve, the edited files)."""
    store = tmp_path / "store"
    running = launch(tmp_path, "--workers", "2", "--threads", "4", "--store", str(store))
    try:
        page = "/doc/beamline/beats.ttl"
        before = requests.get(running.origin + page, timeout=10)
        assert before.status_code == 200 and '"BEATS beamline"@en' in before.text
        (version,) = [p.name for p in store.iterdir() if p.is_dir()]
        beamlines = running.root / "data" / "beamlines.ttl"
        beamlines.write_text(
            beamlines.read_text().replace('"BEATS beamline"@en', '"BEATS beamline (edited)"@en')
        )
        for victim in workers(running.process.pid):
            os.kill(victim, signal.SIGKILL)
            until(functools.partial(replaced, running, victim), 60, "the worker is respawned")
        until(
            lambda: requests.get(running.origin + page, timeout=10).status_code == 200,
            60,
            "the respawned workers answer",
        )
        answers = [requests.get(running.origin + page, timeout=10) for _ in range(20)]
        assert {a.status_code for a in answers} == {200}
        assert {a.headers["ETag"] for a in answers} == {before.headers["ETag"]}
        assert all("(edited)" not in a.text for a in answers)
        assert [p.name for p in store.iterdir() if p.is_dir()] == [version]  # nothing built
        assert "respawning" in running.text() and "Traceback" not in running.text()
    finally:
        stop(running.process)


# One worker, and the ports --------------------------------------------------------------------


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("single")
    running = launch(tmp, "--workers", "1", "--threads", "4")
    try:
        yield running
    finally:
        stop(running.process)
        assert sorted(os.listdir(running.tmp)) == []


def test_one_killed_worker_is_back_within_ten_seconds(single: Server) -> None:
    with Load(single.origin + DOC, clients=2) as load:
        (victim,) = workers(single.process.pid)
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        back = until(
            lambda: (
                requests.get(single.origin + DOC, timeout=10).status_code == 200
                and victim not in workers(single.process.pid)
            ),
            10,
            "service back",
        )
        time.sleep(1)
    print(
        f"kill -9 of the only worker: back in {time.monotonic() - killed - 1:.2f} s "
        f"(checked {back:.2f} s); {load.ok} ok, {len(load.failures)} failed"
    )
    assert single.process.poll() is None
    assert len(load.failures) <= load.clients  # connections wait in the socket's queue


def test_a_port_held_by_another_program_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [LEAPSLD, "serve", "--port", str(port)],
            cwd=ROOT,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"leapsld: port {port} on 127.0.0.1 is in use (by another program); "
        "choose another with --port or LEAPSLD_PORT\n"
    )
    assert "Traceback" not in result.stdout


def test_a_second_leapsld_on_the_same_port_is_refused(single: Server) -> None:
    result = subprocess.run(
        [LEAPSLD, "serve"],
        cwd=ROOT,
        env=clean_env(LEAPSLD_PORT=str(single.port)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"leapsld: port {single.port} on 127.0.0.1 is in use (by another leapsld, pid "
        f"{single.process.pid}); choose another with --port or LEAPSLD_PORT\n"
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [(["PORT=8080"], {}), ([], {"LEAPSLD_PORT": "8080"})],
)
def test_make_serve_takes_the_port_from_port_or_leapsld_port(
    args: list[str], env: dict[str, str]
) -> None:
    result = subprocess.run(
        ["make", "-n", "serve", *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "leapsld serve" in line]
    assert "--port 8080" in line
