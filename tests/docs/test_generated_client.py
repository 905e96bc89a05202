"""A client generated from the served spec works: openapi-python-client, no warnings, every operation.

The sandbox runs on loopback; its ``/openapi.json`` is fed to openapi-python-client
(pinned in the ``test`` extra) in a temporary directory, and the generated,
typed client then drives every operation against the same sandbox: a token,
patients, clinical data, analytics, reports of each format to completion and
their downloads, and webhooks. Every answer must parse into its named model.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from loopback import serving
from pin_mock.server import Settings, create_app

PACKAGE = "pin_generated_client"
#: No post-generation hooks: the generated code is imported, not linted.
CONFIG = "post_hooks: []\n"


def _generator() -> str:
    beside = Path(sys.executable).parent / "openapi-python-client"
    found = str(beside) if beside.exists() else shutil.which("openapi-python-client")
    if found is None:
        pytest.fail("openapi-python-client is not installed (it is in the test extra)")
    return found


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    app = create_app(Settings(report_delay=0.0))
    with serving(app, name="generated-client-sandbox") as url:
        yield url


@pytest.fixture(scope="module")
def generated(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generate the client from the served spec; the package, its models and the output."""
    work = tmp_path_factory.mktemp("generated-client")
    served = httpx.get(f"{sandbox_url}/openapi.json", timeout=30)
    assert served.status_code == 200
    (work / "openapi.json").write_bytes(served.content)
    (work / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            _generator(),
            "generate",
            "--path",
            str(work / "openapi.json"),
            "--config",
            str(work / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(work / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(work))
    try:
        package = importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))
    models = sorted(
        p.stem for p in (work / PACKAGE / "models").glob("*.py") if p.stem != "__init__"
    )
    return {"package": package, "models": models, "output": output, "url": sandbox_url}


def _module(generated: dict[str, Any], name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generation_is_clean(generated: dict[str, Any]) -> None:
    output = generated["output"]
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    models = generated["models"]
    # Every named schema is a model of its own name: no Type0..N or duplicates.
    assert not [m for m in models if "_type_" in m or m.endswith(("_type_0", "_type_1"))], models
    for name in ("pain_score_create", "lab_result_flag", "trend_point", "report_error"):
        assert name in models
    assert len(models) >= 90, len(models)


def test_every_answer_and_body_parses_into_its_model(generated: dict[str, Any]) -> None:
    """Every documented answer, the request examples and the guide's bodies, by their model."""
    from generated_types import answers, guide_bodies, request_examples

    m = _module(generated, "models")
    values = answers() + request_examples() + guide_bodies()
    assert len(values) >= 150
    refused = []
    for typed in values:
        model = getattr(m, typed.schema, None)
        if model is None:  # a oneOf/anyOf of models: the generator makes a Union, not a class
            continue
        try:
            model.from_dict(typed.value)
        except Exception as exc:  # noqa: BLE001 - any failure is a finding, reported below
            refused.append(f"{typed.label}: {exc!r}")
    assert not refused, "\n".join(refused)


def test_the_generated_client_drives_every_operation(generated: dict[str, Any]) -> None:
    m = _module(generated, "models")
    api = "api"
    client_module = _module(generated, "client")
    issue_token = _module(generated, f"{api}.authentication.issue_token")
    base = generated["url"]

    token = issue_token.sync_detailed(
        client=client_module.Client(base_url=base),
        body=m.TokenRequest(
            grant_type=m.TokenRequestGrantType.CLIENT_CREDENTIALS,
            client_id="sandbox-standard",
            client_secret="sandbox-standard-secret",
        ),
    )
    assert token.status_code == 200 and isinstance(token.parsed, m.TokenResponse)
    bad = issue_token.sync_detailed(
        client=client_module.Client(base_url=base),
        body=m.TokenRequest(
            grant_type=m.TokenRequestGrantType.CLIENT_CREDENTIALS,
            client_id="sandbox-standard",
            client_secret="wrong",
        ),
    )
    assert bad.status_code == 401 and bad.parsed.error == m.OAuthErrorCode.INVALID_CLIENT
    client = client_module.AuthenticatedClient(base_url=base, token=token.parsed.access_token)

    def call(path: str, code: int, model: type, /, **kwargs: Any) -> Any:
        answer = _module(generated, f"{api}.{path}").sync_detailed(client=client, **kwargs)
        assert answer.status_code == code, (path, answer.content[:300])
        assert isinstance(answer.parsed, model), (path, type(answer.parsed))
        return answer.parsed

    _patients(call, m)
    _clinical_data(call, m)
    _analytics(call, m)
    _reports(call, m, client)
    _webhooks(call, m)


def _patients(call: Any, m: Any) -> None:
    listed = call("patients.list_patients", 200, m.PatientList, search="John", limit=10)
    assert "patient_123" in [p.id for p in listed.data]
    john = call("patients.get_patient", 200, m.Patient, patient_id="patient_123")
    assert john.gender == m.Gender.MALE and isinstance(
        john.medical_history[0], m.MedicalHistoryItem
    )
    missing = call("patients.get_patient", 404, m.Error, patient_id="patient_999999")
    assert missing.error.code == m.ErrorCode.NOT_FOUND
    new = call(
        "patients.create_patient",
        201,
        m.Patient,
        body=m.PatientCreate(
            name="Jane Smith",
            date_of_birth=date(1985, 5, 20),
            gender=m.Gender.FEMALE,
            contact=m.Contact(email="jane.smith@example.com"),
        ),
    )
    assert new.name == "Jane Smith"


def _clinical_data(call: Any, m: Any) -> None:
    listed = call(
        "clinical_data.list_clinical_data",
        200,
        m.ClinicalDataList,
        patient_id="patient_123",
        limit=100,
    )
    kinds = {type(entry).__name__ for entry in listed.data}
    assert {"PainScoreEntry", "VitalEntry", "LabResultEntry"} <= kinds, kinds
    flags = {e.value.flag for e in listed.data if isinstance(e, m.LabResultEntry)}
    assert flags <= {None, *m.LabResultFlag}
    bodies = [
        m.PainScoreCreate(
            data_type=m.PainScoresDataType.PAIN_SCORES, value=m.PainScoreValue(score=6)
        ),
        m.LabResultCreate(
            data_type=m.LabResultsDataType.LAB_RESULTS,
            value=m.LabResultValue(name="C-reactive protein", value=4.2, unit="mg/L", flag=None),
        ),
        m.MedicationCreate(
            data_type=m.MedicationsDataType.MEDICATIONS,
            value=m.MedicationValue(
                name="Ibuprofen 200 MG Oral Tablet", dose="400 mg", frequency="every 8 hours"
            ),
        ),
    ]
    for body in bodies:
        entry = call(
            "clinical_data.add_clinical_data", 201, object, patient_id="patient_123", body=body
        )
        assert type(entry).__name__ == type(body).__name__.replace("Create", "Entry")
        again = call(
            "clinical_data.get_clinical_data_entry",
            200,
            type(entry),
            patient_id="patient_123",
            entry_id=entry.id,
        )
        assert again.id == entry.id
    score = call(
        "clinical_data.add_clinical_data",
        201,
        m.PainScoreEntry,
        patient_id="patient_123",
        body=bodies[0],
    )
    assert score.value.scale == m.PainScoreValueScale.NRS  # the documented default, filled in


def _analytics(call: Any, m: Any) -> None:
    outcomes = call(
        "analytics.get_outcomes",
        200,
        m.Outcomes,
        start_date=date(2024, 1, 1),
        end_date=date(2024, 6, 30),
    )
    assert len(outcomes.trend) == 6 and isinstance(outcomes.trend[0], m.TrendPoint)
    assert isinstance(outcomes.improvement, m.Improvement)
    population = call("analytics.get_population_health", 200, m.PopulationHealth)
    assert population.total_patients >= 150 and isinstance(population.by_gender, m.GenderCounts)


def _reports(call: Any, m: Any, client: Any) -> None:
    parameters = m.ReportParameters(start_date=date(2024, 1, 1), end_date=date(2024, 6, 30))
    for report_format in m.ReportFormat:
        report = call(
            "reports.create_report",
            202,
            m.Report,
            body=m.ReportCreate(
                type_=m.ReportType.OUTCOMES, format_=report_format, parameters=parameters
            ),
        )
        report = _until_done(call, m, report.id)
        assert report.status == m.ReportStatus.COMPLETED and report.error is None
        file = call("reports.download_report", 200, object, report_id=report.id)
        content = file.payload.read()
        if report_format == m.ReportFormat.PDF:
            assert content.startswith(b"%PDF-")
        elif report_format == m.ReportFormat.CSV:
            assert content.decode("utf-8").startswith("From,To,Mean pain score (NRS 0-10),")
        else:
            document = m.ReportDocument.from_dict(json.loads(content))
            assert document.report_id == report.id
    failed = call(
        "reports.create_report",
        202,
        m.Report,
        body=m.ReportCreate(
            type_=m.ReportType.PATIENT_SUMMARY,
            format_=m.ReportFormat.CSV,
            parameters=m.ReportParameters(patient_id="patient_report_fails"),
        ),
    )
    failed = _until_done(call, m, failed.id)
    assert failed.status == m.ReportStatus.FAILED and isinstance(failed.error, m.ReportError)
    not_ready = call("reports.download_report", 409, m.Error, report_id=failed.id)
    assert not_ready.error.code == m.ErrorCode.REPORT_NOT_READY
    listed = call("reports.list_reports", 200, m.ReportList, status=m.ReportStatus.COMPLETED)
    assert len(listed.data) == 3


def _until_done(call: Any, m: Any, report_id: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        report = call("reports.get_report", 200, m.Report, report_id=report_id)
        if report.status in (m.ReportStatus.COMPLETED, m.ReportStatus.FAILED):
            return report
        assert time.monotonic() < deadline, f"report {report_id} still {report.status}"
        time.sleep(0.05)


def _webhooks(call: Any, m: Any) -> None:
    created = call(
        "webhooks.create_webhook",
        201,
        m.WebhookWithSecret,
        body=m.WebhookCreate(
            url="http://127.0.0.1:9/pin-webhook", events=[m.EventType.PATIENT_CREATED]
        ),
    )
    assert created.secret.startswith("whsec_")
    listed = call("webhooks.list_webhooks", 200, m.WebhookList)
    assert created.id in [w.id for w in listed.data]
    assert call("webhooks.get_webhook", 200, m.Webhook, webhook_id=created.id).id == created.id
    deliveries = call("webhooks.list_deliveries", 200, m.DeliveryList, webhook_id=created.id)
    assert all(isinstance(d, m.Delivery) for d in deliveries.data)
    call("webhooks.delete_webhook", 204, type(None), webhook_id=created.id)
    call("webhooks.get_webhook", 404, m.Error, webhook_id=created.id)
