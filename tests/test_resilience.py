"""A public endpoint no one can take down: tried against a real server, as an attacker would.

These are liveness checks with wide ceilings, not speed targets.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from leapsld.serving import HEADER_TIMEOUT

from .test_guard import BOMBS
from .test_server import children, free_port, start, stop, wait_until_up


def _workers(server_pid: int) -> list[int]:
    """The server's worker processes (the children of its generations)."""
    return sorted(children(server_pid))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    port = free_port()
    process = start("--workers", "2", "--threads", "4", port=port)
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, origin)
        yield origin, process.pid
    finally:
        stop(process)


def test_query_bombs_are_refused_and_the_server_keeps_answering(server) -> None:  # type: ignore[no-untyped-def]
    origin, _ = server
    for name, text in BOMBS.items():
        answer = requests.post(f"{origin}/sparql", data={"query": text}, timeout=60)
        assert answer.status_code == 400, name
        problem = answer.json()
        assert problem["status"] == 400 and "line 1, column" in problem["detail"], name
    assert requests.get(f"{origin}/doc/org/sesame.ttl", timeout=10).status_code == 200


def test_a_killed_worker_is_replaced(server) -> None:  # type: ignore[no-untyped-def]
    origin, pid = server
    before = _workers(pid)
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = _workers(pid)
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.2)
    assert len(_workers(pid)) == 2 and before[0] not in _workers(pid)
    answers = [requests.get(f"{origin}/doc/org/sesame.ttl", timeout=10) for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    query = requests.get(f"{origin}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
    assert query.json()["boolean"] is True


def test_def_versions_are_bound_not_spliced(server) -> None:  # type: ignore[no-untyped-def]
    origin, _ = server
    for version in ("zzz> ", "0.1.0> } ASK { ?s ?p ?o", "x%3E%20", "%00", "a b"):
        answer = requests.get(f"{origin}/def/{version}", timeout=10)
        assert answer.status_code == 404, version
        assert "Malformed" not in answer.text and "column" not in answer.text


def test_slow_header_connections_do_not_stall_other_clients(server) -> None:  # type: ignore[no-untyped-def]
    """1,100 connections trickling their headers a byte at a time: other clients are answered
    meanwhile (Granian's default of 512 connections a worker made them wait the 30 s of the
    header timeout), and the slow ones are closed once ``HEADER_TIMEOUT`` has passed."""
    origin, _ = server
    host, port = origin.removeprefix("http://").split(":")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    slow: list[socket.socket] = []
    closed: dict[int, float] = {}
    try:
        opened = time.monotonic()
        for _ in range(1100):
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(b"GET /doc/org/sesame.ttl HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(connection)
        waits = []
        while len(closed) < len(slow) and time.monotonic() - opened < HEADER_TIMEOUT + 30:
            started = time.monotonic()
            answer = requests.get(f"{origin}/doc/org/sesame.ttl", timeout=60)
            waits.append(time.monotonic() - started)
            assert answer.status_code == 200
            for i, connection in enumerate(slow):
                if i not in closed:
                    try:
                        connection.send(b"X")  # one more byte of a header line
                    except OSError:
                        closed[i] = time.monotonic() - opened
            time.sleep(0.3)
        print(
            f"1,100 slow-header connections: {len(waits)} requests meanwhile, slowest "
            f"{max(waits) * 1000:.0f} ms; slow ones closed after {min(closed.values()):.1f}"
            f"-{max(closed.values()):.1f} s"
        )
        assert len(closed) == len(slow)  # every slow connection was closed by the server
        assert min(closed.values()) >= HEADER_TIMEOUT - 1  # by the timeout, not earlier
        assert max(closed.values()) <= HEADER_TIMEOUT + 15  # (it was 30 s, and 1,024 at once)
        assert max(waits) < 5, waits  # nobody waited for the slow ones (it was 30 s)
    finally:
        for connection in slow:
            connection.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_connections_that_send_nothing_are_closed_after_the_header_timeout(server) -> None:  # type: ignore[no-untyped-def]
    """A connection that sends no byte is closed once ``HEADER_TIMEOUT`` has passed (hyper's
    timer starts at a request's first byte: such connections were held for ever), as is one
    kept alive after an answer and idle as long (hyper's timer, waiting for the next request);
    neither is closed before."""
    origin, _ = server
    host, port = origin.removeprefix("http://").split(":")
    silent = [socket.create_connection((host, int(port)), timeout=60) for _ in range(50)]
    kept = socket.create_connection((host, int(port)), timeout=60)
    try:
        opened = time.monotonic()
        kept.sendall(b"GET /doc/org/sesame.ttl HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert kept.recv(65536).startswith(b"HTTP/1.1 200")
        closed = []
        for connection in [*silent, kept]:
            assert connection.recv(65536) == b""  # the server's end of the connection
            closed.append(time.monotonic() - opened)
        print(
            f"50 silent connections and a kept-alive one closed after {min(closed):.1f}-{max(closed):.1f} s"
        )
        assert min(closed) >= HEADER_TIMEOUT - 1
        assert max(closed) <= HEADER_TIMEOUT + 30
        assert requests.get(f"{origin}/doc/org/sesame.ttl", timeout=30).status_code == 200
    finally:
        for connection in [*silent, kept]:
            connection.close()
