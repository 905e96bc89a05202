"""The first pass: operations that answer only 404/405/501 are not implemented, not failures."""

from __future__ import annotations

from kit_mutants import Mutant, Proxy, Request, Response
from kit_servers import reset_sandbox, serve
from pin_mock.contract.discovery import missing_only_unimplemented
from pin_mock.contract.output.summary import render


async def no_reports(proxy: Proxy, request: Request) -> Response | None:
    """An implementation without reports yet: its routes are not there."""
    if request.path.startswith("/v1/reports"):
        return Response(404, [("content-type", "text/plain")], b"Not Found")
    return None


def test_operations_not_there_are_reported_apart_unless_asked_for(sandbox_url, run_kit) -> None:
    reset_sandbox(sandbox_url)
    with serve(
        Proxy(sandbox_url, Mutant("no-reports", "", frozenset(), {}, on_request=no_reports))
    ) as url:
        focus = {"include_tag": ("Reports", "Patients"), "phases": ("examples", "probes")}
        result = run_kit(url, **focus)
        asked = run_kit(url, include=("listReports",), phases=("examples",))
    assert result.exit_code == 0, render(result)
    assert set(result.not_implemented) == {"GET /v1/reports", "POST /v1/reports", "GET /v1/reports/{report_id}",
                                           "GET /v1/reports/{report_id}/download"}  # fmt: skip
    assert "not implemented (4, not tested" in render(result)
    rows = {row.label: row.state for row in result.coverage.rows}
    assert rows["GET /v1/reports"] == "not implemented" and rows["GET /v1/patients"] == "tested"
    # Named by --include, it is tested: its 404s are the team's to see.
    assert asked.exit_code == 1 and not asked.not_implemented


def test_an_allow_header_missing_only_unimplemented_methods_is_no_failure() -> None:
    message = "`Allow: GET` does not match the schema. Missing documented methods: POST"
    assert missing_only_unimplemented(
        message, "OPTIONS /v1/patients", {"POST /v1/patients": "404"}
    ) == ["POST"]
    assert missing_only_unimplemented(message, "OPTIONS /v1/patients", {}) == []
