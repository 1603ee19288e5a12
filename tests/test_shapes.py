"""The shapes catch real mistakes: each broken variant of the data fails for its one reason."""

from __future__ import annotations

import tomllib

import pytest

from leapsld.pipeline import build, validate_dataset
from leapsld.settings import Settings
from leapsld.validation import ValidationResult

from .conftest import ROOT

CASES_DIR = ROOT / "tests" / "shapes_cases"
CASES = tomllib.loads((CASES_DIR / "cases.toml").read_text())


def test_the_shipped_data_has_no_result_of_any_severity(dataset) -> None:  # type: ignore[no-untyped-def]
    assert dataset.report.results == []


def test_every_case_file_is_in_the_manifest() -> None:
    assert {p.stem for p in CASES_DIR.glob("*.ttl")} == set(CASES)


def _results(name: str) -> list[ValidationResult]:
    case_file = CASES_DIR / f"{name}.ttl"
    settings = Settings.from_env({}, root=ROOT, data=(ROOT / "ontology", ROOT / "data", case_file))
    return validate_dataset(build(settings, validate_data=False), fail_on="Warning").results


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n].get("conforms")))
def test_kept_variant_passes(name: str) -> None:
    """The passing twin of a broken case: the distinction drawn right gives no result."""
    results = _results(name)
    assert results == [], "\n".join(
        f"{r.severity} {r.focus} {r.path}: {r.message}" for r in results
    )


@pytest.mark.parametrize("name", sorted(n for n in CASES if not CASES[n].get("conforms")))
def test_broken_variant_is_caught_with_its_message(name: str) -> None:
    case = CASES[name]
    results = _results(name)
    assert len(results) == 1, "\n".join(
        f"{r.severity} {r.focus} {r.path}: {r.message}" for r in results
    )
    (result,) = results
    assert result.focus == f"<{case['focus']}>"
    inverse = "^" if case.get("inverse") else ""
    assert result.path == (f"{inverse}<{case['path']}>" if "path" in case else None)
    assert result.severity == case["severity"]
    assert case["message"] in result.message
    where = ROOT / case.get("file", f"tests/shapes_cases/{name}.ttl")
    subject_line = next(
        n
        for n, line in enumerate(where.read_text().splitlines(), start=1)
        if line and not line.startswith(("@prefix", "#", " ")) and case.get("subject", "") in line
    )
    assert (result.file, result.line) == (where.relative_to(ROOT).as_posix(), subject_line)
