"""The competency questions: each shipped query gives exactly the answer the source text states."""

from __future__ import annotations

import pytest

from leapsld.query import run_query

from .conftest import ROOT

ID = "https://w3id.org/leaps/id/"


@pytest.fixture(scope="module")
def answer(dataset):  # type: ignore[no-untyped-def]
    """Run ``queries/cqNN.rq`` and return its rows as dicts of plain values."""

    def run(number: int) -> list[dict[str, str]]:
        outcome = run_query(dataset.store, (ROOT / "queries" / f"cq{number:02d}.rq").read_text())
        return [
            {
                var: term.value
                for var, term in zip(outcome.variables, row, strict=True)
                if term is not None
            }
            for row in outcome.rows
        ]

    return run


def test_cq01_every_organisation_named_with_its_kind(answer) -> None:  # type: ignore[no-untyped-def]
    rows = answer(1)
    assert {r["name"]: r["kinds"] for r in rows} == {
        "African Light Source Foundation": "foundation",
        "ALBA": "light-source facility",
        "CERN": "research organisation",
        "DESY": "light-source facility",
        "Diamond": "light-source facility",
        "Elettra": "light-source facility",
        "ESRF": "light-source facility",
        "European XFEL": "light-source facility",
        "Helmholtz": "funder",
        "HZB": "research organisation",
        "HZDR": "research organisation",
        "INFN": "research organisation",
        "LEAPS": "network",
        "LEAPS General Assembly": "governing body",
        "MAX IV": "light-source facility",
        "National Academy of Sciences of Ukraine": "academy of sciences",
        "PSI": "light-source facility",
        "SESAME": "synchrotron light source",
        "SOLARIS": "synchrotron light source",
        "SOLEIL": "light-source facility",
        "Ukraine Scientific Society": "society",
        "Ukrainian Society of synchrotron radiation users": "society",
    }
    assert len(rows) == 22  # one row each: no organisation twice
    # the bodies only: no project, programme or funding programme among them
    assert not {"LAAAMP", "BEATS", "Light for Ukraine", "Horizon 2020"} & {r["name"] for r in rows}


def test_cq02_leaps_facilities_supporting_afls(answer) -> None:  # type: ignore[no-untyped-def]
    assert [r["name"] for r in answer(2)] == [
        "DESY",
        "Diamond",
        "Elettra",
        "ESRF",
        "European XFEL",
        "MAX IV",
        "PSI",
        "SOLEIL",
    ]


def test_cq03_horizon_2020_projects_with_years(answer) -> None:  # type: ignore[no-untyped-def]
    assert [(r["name"], r["start"], r["end"]) for r in answer(3)] == [
        ("OPEN SESAME", "2017", "2019"),
        ("BEATS", "2019", "2023"),
    ]


def test_cq04_beats_participants(answer) -> None:  # type: ignore[no-untyped-def]
    assert [r["name"] for r in answer(4)] == [
        "ALBA",
        "DESY",
        "Elettra",
        "ESRF",
        "INFN",
        "PSI",
        "SESAME",
        "SOLARIS",
    ]


def test_cq05_sesame_associate_member_since_2018_and_the_first(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer(5) == [
        {"since": "2018", "first": "true", "firstOf": "associate members of LEAPS"}
    ]


def test_cq06_projects_running_in_2020(answer) -> None:  # type: ignore[no-untyped-def]
    assert [r["name"] for r in answer(6)] == ["BEATS", "HESEB"]


def test_cq07_open_sesame_in_numbers_tells_bounds_from_counts(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer(7) == [
        {
            "metric": "hours of training",
            "lowerBound": "20000",
            "boundExcluded": "true",
            "unit": "hours",
        },
        {"metric": "people mobilised", "value": "200", "unit": "people"},
    ]


def test_cq08_beamlines_at_sesame(answer) -> None:  # type: ignore[no-untyped-def]
    assert [
        (r["projectName"], r["technique"], r.get("ordinal"), r.get("ordinalScope"), r["status"])
        for r in answer(8)
    ] == [
        ("BEATS", "X-ray tomography", "1", "X-ray tomography beamlines at SESAME", "existing"),
        ("HESEB", "soft X-ray", None, None, "existing"),
    ]
    panet = "http://purl.org/pan-science/PaNET/"
    assert [r["panet"] for r in answer(8)] == [f"{panet}PaNET01207", f"{panet}PaNET01015"]


def test_cq09_light_for_ukraine_coordination_owner_location(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer(9) == [
        {
            "coordinator": "SOLARIS",
            "entrustedBy": "LEAPS General Assembly",
            "year": "2022",
            "status": "planned",
            "owner": "Ukraine Scientific Society",
            "location": "SOLARIS",
        }
    ]


def test_cq10_laaamp_regions(answer) -> None:  # type: ignore[no-untyped-def]
    assert {r["region"].removeprefix(f"{ID}concept/region/") for r in answer(10)} == {
        "africa",
        "americas",
        "asia",
        "middle-east",
        "pacific",
    }
    assert sorted(r["name"] for r in answer(10)) == [
        "Africa",
        "Asia",
        "the Americas",
        "the Middle East",
        "the Pacific",
    ]


def test_cq11_programme_of_each_sesame_collaboration_project(answer) -> None:  # type: ignore[no-untyped-def]
    assert {r["name"]: r["programme"] for r in answer(11)} == {
        "OPEN SESAME": "Horizon 2020",
        "BEATS": "Horizon 2020",
        "HESEB": "Helmholtz",
        "SUNSTONE": "Horizon Europe",
    }
    assert len(answer(11)) == 4


def test_cq12_workshop_participants_lower_bound_and_partner(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer(12) == [
        {
            "workshops": "Light for Ukraine workshops",
            "lowerBound": "500",
            "boundExcluded": "true",
            "organiser": "SOLARIS",
            "inCollaborationWith": "National Academy of Sciences of Ukraine",
        }
    ]


def test_every_query_file_has_a_test() -> None:
    tested = {f"cq{n:02d}.rq" for n in range(1, 13)}
    assert {p.name for p in (ROOT / "queries").glob("*.rq")} == tested
