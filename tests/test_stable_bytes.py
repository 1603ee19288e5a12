"""A representation never changes under the same validator: two starts, or two clones, of the
same data serve the same bytes with the same ETags; a one-line change changes only what it
touches (RFC 9110 §8.8.3)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from .conftest import ROOT
from .test_server import LEAPSLD, clean_env, free_port, spawn, wait_until_up

PATHS = [
    "/doc/org/sesame.ttl",
    "/doc/org/sesame.jsonld",
    "/doc/org/sesame.html",
    "/doc/event/light-for-ukraine-workshops.ttl",  # holds a blank node
    "/doc/event/light-for-ukraine-workshops.nt",
    "/doc/project/beats.ttl",
    "/def.ttl",
    "/.well-known/void",
    "/sparql",  # the Service Description
    "/dumps/leaps.ttl",
    "/dumps/leaps.jsonld",
    "/dumps/leaps.nt.gz",
    "/dumps/leaps.nq.gz",
    "/dumps/SHA256SUMS",
]

git = shutil.which("git")
needs_git = pytest.mark.skipif(
    git is None or not (ROOT / ".git").exists(), reason="needs git and a checkout"
)


def _serve(folder: Path, port: int) -> dict[str, tuple[str, bytes]]:
    """Start ``leapsld serve`` in ``folder``, fetch every path (ETag, bytes), stop it."""
    process = spawn(
        [LEAPSLD, "serve", "--port", str(port)], cwd=folder, env=clean_env(LEAPSLD_ROOT=str(folder))
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, origin)
        seen = {}
        for path in PATHS:
            answer = requests.get(
                origin + path,
                headers={"Accept": "text/turtle", "Accept-Encoding": "identity"},
                timeout=60,
            )
            assert answer.status_code == 200, path
            seen[path] = (answer.headers.get("ETag", ""), answer.content)
        return seen
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


@pytest.fixture(scope="module")
def clones(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("clones")
    made = []
    for name in ("one", "two"):
        target = folder / name
        subprocess.run([git, "clone", "-q", str(ROOT), str(target)], check=True)  # type: ignore[list-item]
        made.append(target)
    return made[0], made[1]


@needs_git
def test_two_starts_and_two_clones_serve_the_same_bytes(clones: tuple[Path, Path]) -> None:
    port = free_port()
    first = _serve(clones[0], port)
    again = _serve(clones[0], port)
    other = _serve(clones[1], port)
    for path in PATHS:
        assert first[path] == again[path], f"{path} changed between two starts"
        assert first[path] == other[path], f"{path} differs between two clones"
        assert first[path][0], f"{path} has no ETag"


@needs_git
def test_a_one_line_change_changes_only_what_it_touches(clones: tuple[Path, Path]) -> None:
    port = free_port()
    before = _serve(clones[1], port)
    data = clones[1] / "data" / "organisations.ttl"
    text = data.read_text()
    assert text.count('"SESAME"@en') >= 1
    data.write_text(text.replace('"SESAME"@en', '"SESAME light source"@en', 1))
    subprocess.run(  # type: ignore[misc]
        [git, "-C", str(clones[1]), "commit", "-qam", "one label", "--author", "t <t@t>"],
        check=True,
        env={**os.environ, "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"},
    )
    after = _serve(clones[1], port)
    changed = {path for path in PATHS if before[path][0] != after[path][0]}
    untouched = {
        "/doc/project/beats.ttl",
        "/doc/event/light-for-ukraine-workshops.ttl",
        "/doc/event/light-for-ukraine-workshops.nt",
        "/def.ttl",
    }
    assert changed & untouched == set()
    assert {
        "/doc/org/sesame.ttl",
        "/doc/org/sesame.jsonld",
        "/dumps/leaps.ttl",
        "/.well-known/void",
    } <= changed
    for path in PATHS:  # the bytes changed exactly where the ETag did
        assert (before[path][1] != after[path][1]) == (path in changed), path
