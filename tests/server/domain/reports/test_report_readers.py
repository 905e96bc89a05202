"""Reports for their readers, over many seeds and ranges: every row inside the stated range,
human names for every measure, no near-empty page, and CSV files that load as tables.

For each seed a small sandbox makes outcomes (monthly and weekly), population
health and patient summary reports (with and without a range) as JSON; each
document is then rendered as the sandbox renders its CSV and PDF, and those
are read back as their readers would (``csv.DictReader`` and pandas, pypdf).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from pin_mock.server import Settings, create_app
from pin_mock.server.domain.reports.files import render
from report_helpers import csv_table, page_fill, pdf_text
from tokens import fetch_token

SEEDS = (1, 7, 42, 1234, 99991)
RANGES = (
    {},
    {"start_date": "2024-03-15", "end_date": "2024-09-10"},
    {"start_date": "2024-06-01"},
    {"end_date": "2024-05-20"},
    {"start_date": "2024-11-02", "end_date": "2024-12-31"},
)
#: A machine name: snake_case words (heart_rate, lower_back).
MACHINE_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def _documents(seed: int) -> list[dict[str, Any]]:
    found = []
    settings = Settings(report_delay=0.0, seed=seed, patients=40)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {fetch_token(client, 'sandbox-enterprise')}"}
        patients = client.get("/v1/patients?limit=4", headers=headers).json()["data"]
        asks: list[tuple[str, dict[str, Any]]] = [("population_health", {})]
        for number, params in enumerate(RANGES):
            asks.append(("outcomes", {**params, "interval": "week" if number % 2 else "month"}))
            patient = patients[number % len(patients)]["id"]
            asks.append(("patient_summary", {**params, "patient_id": patient}))
        for kind, params in asks:
            body = {"type": kind, "format": "json", "parameters": params}
            report = client.post("/v1/reports", json=body, headers=headers).json()
            deadline = time.monotonic() + 30
            while client.get(report["links"]["self"], headers=headers).json()["status"] != "completed":  # fmt: skip
                assert time.monotonic() < deadline
                time.sleep(0.01)
            found.append(client.get(report["links"]["download"], headers=headers).json())
    return found


@pytest.fixture(scope="module")
def documents() -> Iterator[list[dict[str, Any]]]:
    yield [document for seed in SEEDS for document in _documents(seed)]


def _stated_range(pages: list[str]) -> tuple[str, str]:
    found = re.search(r"Date range: (\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", pages[0])
    assert found, pages[0][:400]
    return found.group(1), found.group(2)


def test_every_row_lies_in_the_range_the_header_states(documents: list[dict[str, Any]]) -> None:
    checked = 0
    for document in documents:
        if document["type"] == "population_health":
            continue  # groups of patients: no dates
        pages = pdf_text(render("pdf", document))
        rows = csv_table(render("csv", document))
        if not rows:  # nothing in the range: the header says the range, or that nothing is in it
            assert "Date range: " in pages[0]
            continue
        start, end = _stated_range(pages)
        for row in rows:
            if document["type"] == "outcomes":
                assert start <= row["From"] <= row["To"] <= end, (document["parameters"], row)
            else:
                assert start <= row["Recorded (UTC)"][:10] <= end, (document["parameters"], row)
            checked += 1
    assert checked > 500, checked


def test_no_page_after_the_first_is_near_empty(documents: list[dict[str, Any]]) -> None:
    several = 0
    for document in documents:
        fills = page_fill(render("pdf", document))
        several += len(fills) > 1
        for number, fill in enumerate(fills[1:], start=2):
            assert fill >= 0.25, (document["type"], document["parameters"], number, fills)
    assert several >= 10, "the sample must hold reports of several pages"


def test_every_measure_has_a_human_name(documents: list[dict[str, Any]]) -> None:
    vitals = set()
    for document in documents:
        if document["type"] != "patient_summary":
            continue
        for row in csv_table(render("csv", document)):
            assert not MACHINE_NAME.match(row["Name"]), row
            for part in row["Details"].split("; "):
                assert not MACHINE_NAME.match(part), row
            if row["Type"] == "Vital sign":
                vitals.add(row["Name"])
    assert {"Heart rate", "Body weight", "Body mass index (BMI)"} <= vitals, vitals


def test_every_csv_is_one_table_that_loads_as_it_is(documents: list[dict[str, Any]]) -> None:
    for document in documents:
        content = render("csv", document)
        rows = csv_table(content)  # DictReader and pandas.read_csv agree on it
        assert len(rows) == len(document["rows"])
        assert content.count(b"\r\n") == len(rows) + 1  # a header row, a line per row, nothing else
