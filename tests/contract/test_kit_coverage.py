"""Coverage per operation and its floors: computed from what a run observed; --min-coverage both ways."""

from __future__ import annotations

import json

import pytest

from kit_helpers import SPEC
from kit_servers import reset_sandbox
from pin_mock.contract.coverage import Observations, measure, parse_floors
from pin_mock.contract.output.summary import render


def test_dimensions_count_what_was_sent_seen_and_skipped() -> None:
    seen = Observations(SPEC)
    assert seen.exchange("GET", "http://t/v1/patients?limit=5&page=2", 200) == "GET /v1/patients"
    seen.exchange("GET", "http://t/v1/patients?search=x", 400)
    seen.exchange("GET", "http://t/nowhere", 404)  # not an operation of the spec: not counted
    seen.check("GET /v1/patients", "pin_paging", True)
    seen.example("GET /v1/patients", "200 first_page")
    listing = SPEC.by_id("listPatients")
    coverage = measure(SPEC, seen, selected=[listing, SPEC.by_id("getPatient")],
                       not_implemented={"GET /v1/patients/{patient_id}": "answered only 404, 404"},
                       skipped_checks={"pin_example_messages": "opt-in"},
                       skipped_probe_checks=[(("listPatients",), ("pin_paging_walk",), "no second client")],
                       examples={"GET /v1/patients": {"200 first_page": "not replayed", "400 bad": "needs setup"}},
                       floors={"statuses": 50})  # fmt: skip
    rows = {row.label: row for row in coverage.rows}
    patients = rows["GET /v1/patients"]
    assert patients.state == "tested" and patients.statuses["200"] and patients.statuses["400"]
    assert patients.parameters == {"query.page": True, "query.limit": True, "query.search": True}
    assert patients.checks_skipped == {
        "pin_example_messages": "opt-in",
        "pin_paging_walk": "probe skipped: no second client",
    }
    assert patients.examples == {"200 first_page": "", "400 bad": "needs setup"}
    assert rows["GET /v1/patients/{patient_id}"].state == "not implemented"
    assert rows["POST /v1/patients"].state == "not selected"
    assert coverage.counts("operations") == (1, len(SPEC.operations))
    assert coverage.counts("parameters") == (3, 3) and coverage.counts("examples") == (1, 2)
    assert coverage.percent("statuses") == pytest.approx(100 * 2 / len(patients.statuses))
    assert coverage.percent("statuses") < 50 and coverage.below() == [
        ("statuses", 50, coverage.percent("statuses"))
    ]
    assert coverage.properties()["coverage.parameters"] == "100.0"


def test_floors_are_read_from_the_option() -> None:
    assert parse_floors(("70", "statuses=60", "examples=12.5%")) == {
        "total": 70,
        "statuses": 60,
        "examples": 12.5,
    }
    for bad in ("speed=50", "statuses=lots", "120"):
        with pytest.raises(ValueError, match="--min-coverage"):
            parse_floors((bad,))


def test_min_coverage_fails_below_the_floor_and_passes_above_it(
    sandbox_url, run_kit, tmp_path
) -> None:
    reset_sandbox(sandbox_url)
    focus = {"include": ("listPatients", "getPatient"), "phases": ("examples", "probes")}
    low = run_kit(sandbox_url, min_coverage=("10", "parameters=50"), **focus)
    assert low.exit_code == 0, render(low)
    high = run_kit(sandbox_url, min_coverage=("statuses=100",), **focus)
    assert high.exit_code == 1 and high.reason.startswith("coverage below the floor: statuses"), (
        high.reason
    )
    report = tmp_path / "report"
    assert "| statuses |" in (report / "coverage.md").read_text()
    totals = json.loads((report / "coverage.json").read_text())["totals"]
    assert totals["operations"]["covered"] == 2 and totals["operations"]["total"] == len(
        SPEC.operations
    )
    junit = (report / "junit.xml").read_text()
    assert 'name="coverage.statuses"' in junit and 'name="statuses &gt;= 100%"' in junit
