"""On-disk stores when the disk misbehaves: full, read-only, damaged (issue 13).

A store that cannot be written is a one-line error with exit 2 (1 means "does not conform");
a complete store is served from a read-only file system; a damaged one is rebuilt from the
files, or refused in one line, and never served by halves.
"""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from leapsld.cli import main
from leapsld.dataset import version_folder
from leapsld.errors import StorageError
from leapsld.pipeline import build
from leapsld.settings import Settings
from leapsld.store import OxigraphStore
from leapsld.web import create_app

DATA = "".join(
    f"<https://example.org/z/id/t/n{i}> <http://www.w3.org/2000/01/rdf-schema#label> "
    f'"thing {i}" .\n'
    for i in range(2_000)
)


def project(tmp_path: Path) -> Settings:
    (tmp_path / "shapes").mkdir(exist_ok=True)
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "things.nt").write_text(DATA)
    return Settings.from_env(
        {},
        root=tmp_path,
        data=(tmp_path / "data",),
        base_iri="https://example.org/z/",
        store=str(tmp_path / "store"),
    )


def fetch_status(client, path: str) -> int:  # type: ignore[no-untyped-def]
    """The status of a GET, its body closed (a dump is an open file)."""
    response = client.get(path)
    response.close()
    return int(response.status_code)


@contextlib.contextmanager
def mounted(*args: str) -> Iterator[None]:
    """Run ``mount`` (root only); skip the test where mounting is not allowed."""
    target = args[-1]
    done = subprocess.run(["mount", *args], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], check=False)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    with mounted("--bind", str(folder), str(folder)):
        done = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only: {done.stderr.decode().strip()}")
        yield


# A full disk ------------------------------------------------------------------------------


def test_a_full_disk_is_one_line_and_exit_2(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project(tmp_path)

    def full(self: OxigraphStore, path: Path, *, format: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(OxigraphStore, "bulk_load", full)
    result = runner.invoke(
        main, ["build", "--store", settings.store, str(tmp_path / "data")], catch_exceptions=False
    )
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not list(Path(settings.store).glob("*.building"))  # nothing left half-written


def test_a_really_full_tmpfs_is_one_line_and_exit_2(tmp_path: Path, runner: CliRunner) -> None:
    settings = project(tmp_path)
    store = Path(settings.store)
    store.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(store)):
        result = runner.invoke(
            main, ["build", "--store", str(store), str(tmp_path / "data")], catch_exceptions=False
        )
    assert result.exit_code == 2, result.output
    assert result.output.startswith("leapsld: cannot write the store")
    assert len(result.output.strip().splitlines()) == 1


# A read-only file system ------------------------------------------------------------------


def test_a_built_store_is_served_from_a_read_only_file_system(tmp_path: Path) -> None:
    settings = project(tmp_path)
    built = build(settings)
    app = create_app(settings, dataset=built)  # derive statistics and dumps once, writable
    assert fetch_status(app.test_client(), "/dumps/SHA256SUMS") == 200
    del app, built
    with read_only(Path(settings.store)):
        with pytest.raises(OSError):
            (Path(settings.store) / "probe").write_text("x")
        served = build(settings)
        assert (
            served.reused and len(served.store) == 2 * 2_000
        )  # each file's graph, and the default graph
        client = create_app(settings, dataset=served).test_client()
        assert client.get("/doc/t/n1.ttl").status_code == 200
        assert client.get("/void.ttl").status_code == 200
        assert fetch_status(client, "/dumps/SHA256SUMS") == 200
        del served, client


def test_serving_reads_a_built_store_without_its_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same without a mount: taking any lock (which writes) fails the test."""
    from leapsld import derived, pipeline

    settings = project(tmp_path)
    app = create_app(settings, dataset=build(settings))
    assert fetch_status(app.test_client(), "/dumps/SHA256SUMS") == 200

    def no_lock(folder: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(folder))

    monkeypatch.setattr(pipeline, "locked", no_lock)
    monkeypatch.setattr(derived, "locked", no_lock)
    served = build(settings)
    assert served.reused
    client = create_app(settings, dataset=served).test_client()
    assert client.get("/void.ttl").status_code == 200


# A damaged store ----------------------------------------------------------------------------


def _store_file(settings: Settings, version: str, suffix: str) -> Path:
    files = sorted((version_folder(settings, version) / "store").glob(f"*{suffix}"))
    assert files, suffix
    return max(files, key=lambda p: p.stat().st_size)


@pytest.mark.parametrize(
    "damage",
    ["flip a byte of a table", "truncate a table", "empty CURRENT", "garble the manifest"],
)
def test_a_damaged_store_is_rebuilt_from_the_files(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = project(tmp_path)
    built = build(settings)
    version = built.version
    del built
    folder = version_folder(settings, version)
    if damage == "flip a byte of a table":
        table = _store_file(settings, version, ".sst")
        data = bytearray(table.read_bytes())
        data[len(data) // 2] ^= 0xFF
        table.write_bytes(bytes(data))
    elif damage == "truncate a table":
        table = _store_file(settings, version, ".sst")
        table.write_bytes(table.read_bytes()[:100])
    elif damage == "empty CURRENT":
        (folder / "store" / "CURRENT").write_text("")
    else:
        (folder / "manifest.json").write_text("{not json")
    again = build(settings)
    assert not again.reused and len(again.store) == 2 * 2_000
    client = create_app(settings, dataset=again).test_client()
    assert all(client.get(f"/doc/t/n{i}.nt").status_code == 200 for i in range(0, 2_000, 97))
    if damage != "garble the manifest":
        assert "rebuilding the store" in caplog.text


def test_a_damaged_store_on_a_read_only_file_system_is_refused_in_one_line(
    tmp_path: Path, runner: CliRunner
) -> None:
    settings = project(tmp_path)
    version = build(settings).version
    table = _store_file(settings, version, ".sst")
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    with read_only(Path(settings.store)):
        with pytest.raises(StorageError, match="is damaged"):
            build(settings)
        result = runner.invoke(
            main,
            ["build", "--store", settings.store, str(tmp_path / "data")],
            catch_exceptions=False,
            env={"LEAPSLD_ROOT": str(tmp_path), "LEAPSLD_BASE_IRI": settings.base_iri},
        )
    assert result.exit_code == 2
    assert "is damaged" in result.output and len(result.output.strip().splitlines()) == 1
