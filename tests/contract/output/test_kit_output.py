"""Findings, reproductions and report files: curl, HAR, JUnit, summary, verdict."""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
from collections import Counter
from xml.etree import ElementTree

import pytest

from kit_helpers import SPEC
from pin_mock import __version__
from pin_mock.contract.findings import (
    SECRETS,
    Finding,
    RecordedRequest,
    RecordedResponse,
    curl_command,
    dedupe,
    group_causes,
    normalise,
)
from pin_mock.contract.output.cases import all_cases, failing_cases
from pin_mock.contract.output.har import read_har, write_har
from pin_mock.contract.output.junit import write_junit
from pin_mock.contract.output.summary import render
from pin_mock.contract.result import ContractResult, ProbeResult
from pin_mock.contract.schemathesis_run import EventParser, StRunOutcome
from pin_mock.contract.verdict import verdict


@pytest.fixture(autouse=True)
def real_credentials():
    """The run's real token and client secret, as the runner registers them."""
    SECRETS.add("secret-token", "the-client-secret")
    yield
    SECRETS.clear()


def a_finding(
    check="pin_paging",
    url="http://pin.test/v1/patients?limit=5",
    body=None,
    message="10 items on a page of limit 5",
):
    request = RecordedRequest.build(
        "GET", url, {"Authorization": "Bearer secret-token", "Accept": "*/*"}, body
    )
    response = RecordedResponse(200, {"content-type": ["application/json"]}, b'{"data": []}', 0.01)
    return Finding("GET /v1/patients", check, message, request, response)


def test_secrets_never_reach_a_recorded_request():
    request = a_finding().request
    assert request.headers["Authorization"] == "[Filtered]"


def test_a_token_that_is_no_real_credential_is_shown_as_sent():
    """The garbage or forged token a probe sent is what failed: the reproduction carries it."""
    forged = RecordedRequest.build(
        "GET",
        "http://pin.test/v1/patients",
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."},
        None,
    )
    assert forged.headers["Authorization"] == "Bearer eyJhbGciOiJub25lIn0.e30."
    assert "'Authorization: Bearer eyJhbGciOiJub25lIn0.e30.'" in curl_command(forged)
    tampered = RecordedRequest.build(
        "GET", "http://pin.test/v1/x", {"Authorization": "Bearer secret-tokenX"}, None
    )
    assert tampered.headers["Authorization"] == "Bearer [Filtered]X"
    assert '"$PIN_TOKEN"' in curl_command(tampered) and "secret-token" not in curl_command(tampered)


def test_client_secrets_are_filtered_in_basic_auth_bodies_and_token_answers():
    basic = base64.b64encode(b"sandbox-standard:the-client-secret").decode()
    request = RecordedRequest.build("POST", "http://pin.test/oauth/token", {"Authorization": f"Basic {basic}"},
                                    b"grant_type=client_credentials&client_secret=the-client-secret")  # fmt: skip
    assert request.headers["Authorization"] == "Basic [Filtered]"
    assert request.body == b"grant_type=client_credentials&client_secret=[Filtered]"
    command = curl_command(request)
    assert (
        '-u "$PIN_CLIENT_ID:$PIN_CLIENT_SECRET"' in command and "the-client-secret" not in command
    )
    assert 'client_secret=\'"$PIN_CLIENT_SECRET"' in command or '"$PIN_CLIENT_SECRET"' in command
    wrong = RecordedRequest.build(
        "POST", "http://pin.test/oauth/token", {}, b"client_secret=wrong-secret"
    )
    assert wrong.body == b"client_secret=wrong-secret"  # a wrong secret is no credential
    answer = RecordedResponse.build(
        200, {}, b'{"access_token": "eyJ.real.token", "token_type": "Bearer"}', 0.0
    )
    assert answer.body == b'{"access_token": "[Filtered]", "token_type": "Bearer"}'


def test_curl_reproduces_with_a_token_placeholder():
    command = curl_command(a_finding().request)
    assert command.startswith("curl -i -X GET") and '"Authorization: Bearer $PIN_TOKEN"' in command
    assert "secret-token" not in command and "'http://pin.test/v1/patients?limit=5'" in command


def test_curl_pipes_bytes_a_shell_string_cannot_hold():
    request = RecordedRequest.build(
        "POST", "http://pin.test/v1/patients", {"Content-Type": "application/json"}, b"\xff\x1d"
    )
    command = curl_command(request)
    assert command.startswith("printf '\\xff\\x1d' | curl") and "--data-binary @-" in command
    output = subprocess.run(
        ["bash", "-c", command.split(" | ")[0]], capture_output=True, check=True
    ).stdout
    assert output == b"\xff\x1d"


def test_dedupe_keeps_one_finding_per_problem_with_the_smallest_request():
    long = a_finding(url="http://pin.test/v1/patients?limit=5&search=" + "x" * 50)
    short = a_finding()
    other = a_finding(check="pin_search_filter", message="search listed p1")
    assert dedupe([long, short, other]) == [short, other]


def test_har_holds_the_failing_exchanges_and_reads_back_as_a_cassette(tmp_path):
    path = tmp_path / "failures.har"
    probe = Finding("GET /v1/patients", "pin_auth_enforced", "answered 200", a_finding().request,
                    a_finding().response, source="probe", probe="auth enforced: GET /v1/patients")  # fmt: skip
    assert write_har(path, [a_finding(), Finding("GET /x", "probe_error", "boom"), probe]) == 2
    document = json.loads(path.read_text())
    assert document["log"]["creator"] == {"name": "pin-mock contract", "version": __version__}
    entry = document["log"]["entries"][0]
    assert entry["request"]["url"].endswith("limit=5") and entry["response"]["status"] == 200
    assert {"name": "limit", "value": "5"} in entry["request"]["queryString"]
    assert (
        entry["_pin"]["check"] == "pin_paging" and entry["_pin"]["operation"] == "GET /v1/patients"
    )
    assert "secret-token" not in path.read_text()
    first, second = read_har(path)
    assert (first.check, first.request.url, first.response.status) == (
        "pin_paging",
        a_finding().request.url,
        200,
    )
    assert second.source == "probe" and second.probe == "auth enforced: GET /v1/patients"


def test_junit_has_one_test_case_per_operation_and_check_and_the_headline_counts_them(tmp_path):
    outcomes = {("GET /v1/patients", "pin_paging"): [9, 1], ("GET /v1/patients", "not_a_server_error"): [10, 0],
                ("GET /v1/reports", "pin_paging"): [5, 0]}  # fmt: skip
    st = StRunOutcome(0, findings=[a_finding()], cases=25, operations_tested=2, outcomes=outcomes,
                      elapsed={"GET /v1/patients": 2.0, "GET /v1/reports": 0.5})  # fmt: skip
    probed = [
        dataclasses.replace(a_finding(check=c), source="probe")
        for c in ("pin_auth_enforced", "pin_challenge")
    ]
    probes = [ProbeResult("auth enforced", probed, 0.1),
              ProbeResult("paging walk", [], 0.1), ProbeResult("webhooks", [], 0.0, "operations not selected")]  # fmt: skip
    result = ContractResult(1, "", findings=[a_finding(), *probes[0].findings], schemathesis=st, probes=probes,
                            not_implemented={"GET /v1/webhooks": "answered only 404, 404"})  # fmt: skip
    out = tmp_path / "junit.xml"
    write_junit(out, all_cases(result), {"coverage.total": "50.0"}, 12.5)
    root = ElementTree.parse(out).getroot()
    assert [s.get("name") for s in root] == ["schemathesis", "pin-contract-probes", "pin-contract"]
    assert root.get("tests") == "8" and root.get("failures") == "3" and root.get("skipped") == "2"
    assert root.get("time") == "12.500000"  # the run's real duration
    assert int(root.get("failures")) == len(failing_cases(result))
    assert verdict(result)[1].startswith("3 failing test cases (junit.xml)")
    failing = root.find(".//testcase[@classname='GET /v1/patients'][@name='pin_paging']/failure")
    assert (
        failing is not None and "reproduce" in failing.text and failing.get("type") == "pin_paging"
    )
    assert (
        root.find(".//testcase[@classname='GET /v1/reports'][@name='pin_paging']/failure") is None
    )
    # Real time: the operation's requests, shared by the checks that judged them.
    times = {
        c.get("classname"): float(c.get("time"))
        for c in root.iter("testcase")
        if c.get("name") == "pin_paging"
    }
    assert times == {"GET /v1/patients": 1.0, "GET /v1/reports": 0.5}
    names = [c.get("name") for c in root.iter("testcase") if c.get("classname") == "auth enforced"]
    assert names == ["GET /v1/patients pin_auth_enforced", "GET /v1/patients pin_challenge"]
    skipped = root.find(".//testcase[@classname='GET /v1/webhooks'][@name='implemented']/skipped")
    assert skipped is not None and "not implemented" in skipped.get("message")
    assert [p.get("name") for p in root.find("testsuite").iter("property")] == ["coverage.total"]


def outcome(**fields):
    base = {"exit_code": 0, "cases": 100, "operations_tested": 18, "statuses": Counter({200: 100})}
    return StRunOutcome(**(base | fields))


def test_verdict_passes_a_clean_run():
    code, reason = verdict(
        ContractResult(0, "", schemathesis=outcome(), probes=[ProbeResult("p", [])]), 0.5
    )
    assert code == 0 and "honours the contract" in reason and "100 generated cases" in reason


def test_verdict_fails_on_findings_and_names_the_checks():
    result = ContractResult(
        0, "", findings=[a_finding(), a_finding(check="pin_retry_after")], schemathesis=outcome()
    )
    code, reason = verdict(result, 0.5)
    assert code == 1 and "pin_paging" in reason and "pin_retry_after" in reason


def test_verdict_fails_a_run_dominated_by_429():
    result = ContractResult(0, "", schemathesis=outcome(statuses=Counter({429: 80, 200: 20})))
    code, reason = verdict(result, 0.5)
    assert code == 1 and "429" in reason
    result = ContractResult(
        0, "", schemathesis=outcome(warnings={"rate_limited": ["GET /v1/patients"]})
    )
    code, reason = verdict(result, 0.5)
    assert code == 1
    assert (
        reason.startswith("1 operations were answered mostly with 429")
        and "GET /v1/patients" in reason
    )


def test_verdict_reports_a_schemathesis_that_could_not_run_as_usage():
    result = ContractResult(
        0, "", schemathesis=outcome(cases=0, exit_code=2, fatal="Schema Loading Error")
    )
    assert verdict(result, 0.5) == (2, "Schemathesis could not run: Schema Loading Error")


def test_summary_names_operation_check_and_reproduction():
    result = ContractResult(
        1,
        "1 failures",
        findings=[a_finding()],
        token_url="http://pin.test/oauth/token",
        client_id="c",
        base_url="http://pin.test",
    )
    text = render(result)
    assert "FAILED against http://pin.test" in text and "GET /v1/patients  [pin_paging]" in text
    assert "curl -i -X GET" in text and "export PIN_TOKEN=" in text and "secret-token" not in text


def test_one_root_cause_is_one_line_with_its_count_and_operations():
    same = [a_finding(check="pin_rate_limit_headers", url=f"http://pin.test/v1/{name}", message=f"X-RateLimit-Remaining must be a non-negative integer, got '{n}'")
            for n, name in enumerate(["patients", "reports", "webhooks"] * 40)]  # fmt: skip
    same = [
        Finding(
            f"GET /v1/{f.request.url.rsplit('/', 1)[1]}", f.check, f.message, f.request, f.response
        )
        for f in same
    ]
    other = a_finding()
    causes = group_causes([*same, other])
    assert [(c.check, len(c.findings)) for c in causes] == [
        ("pin_rate_limit_headers", 120),
        ("pin_paging", 1),
    ]
    assert causes[0].operations == ["GET /v1/patients", "GET /v1/reports", "GET /v1/webhooks"]
    result = ContractResult(1, "", findings=dedupe([*same, other]), base_url="http://pin.test")
    text = render(result)
    assert "Failures: 0 failing test cases from 2 causes (121 distinct failing exchanges)" in text
    assert "  1. pin_rate_limit_headers: X-RateLimit-Remaining must be" in text
    assert "120 exchanges on GET /v1/patients, GET /v1/reports, GET /v1/webhooks" in text
    assert text.count("reproduce:") == 2
    code, reason = verdict(result, 0.5)
    assert "from 2 causes in 3 operations" in reason


def test_the_summary_never_cuts_causes_off_and_lists_skips():
    many = [a_finding(check=f"pin_check_{n}", message=f"broken in way {n}") for n in range(45)]
    skipped = ProbeResult("tenancy", [], skipped="no second client")
    result = ContractResult(
        1, "", findings=many, probes=[ProbeResult("p", []), skipped], base_url="http://t"
    )
    text = render(result)
    assert " 45. " in text and "more causes" not in text
    assert "probes: 2 (1 run, 0 failing, 1 skipped" in text
    assert "Skipped probes (1):\n  - tenancy: no second client" in text


def test_summary_and_messages_carry_no_python_reprs():
    from pin_mock.contract.exchange import shown

    assert (
        shown(None) == "null"
        and shown("a") == '"a"'
        and shown({"client": None}) == '{"client": null}'
    )
    result = ContractResult(0, "ok", notes=["x"], base_url="http://t")
    assert "None" not in render(result)


def test_normalised_messages_drop_values_not_meaning():
    assert normalise("Remaining went up from 5 to 7 for 'patient_0a1b2c3d'\nmore") == normalise(
        "Remaining went up from 90 to 91 for 'x'"
    )
    assert normalise("search listed p1") != normalise("page repeated p1")
    # One cause across operations: the operation, path and parameter names are blanked too.
    assert normalise(
        "with a forged JWT, GET /v1/patients answered 200 instead of 401"
    ) == normalise(
        "with a forged JWT, DELETE /v1/webhooks/{webhook_id} answered 204 instead of 401"
    )
    assert normalise("asked for report_id='r1' and got 'p1'") == normalise(
        "asked for webhook_id='w1' and got 'p1'"
    )


def test_a_stateful_failure_is_labelled_with_the_request_that_failed():
    """A step that followed a wrong Location is not labelled with the operation it never reached."""
    parser = EventParser(spec=SPEC)
    request = {"method": "GET", "uri": "http://pin.test/v1/patients/p1/entries/e1"}
    # A path outside the spec keeps its shape, never a concrete id (JUnit names stay stable).
    assert (
        parser.label("GET /v1/patients/{patient_id}", request) == "GET /v1/patients/p1/entries/e1"
    )
    unknown = {"method": "TRACE", "uri": "http://pin.test/v1/patients/patient_b75b269fe99e"}
    assert (
        parser.label("TRACE /v1/patients/{patient_id}", unknown)
        == "TRACE /v1/patients/{patient_id}"
    )
    odd = {"method": "GET", "uri": "http://pin.test/v2/things/thing_0a1b2c3d4e"}
    assert parser.label("GET /v2/x", odd) == "GET /v2/things/{id}"
    right = {"method": "GET", "uri": "http://pin.test/v1/patients/p1"}
    assert parser.label("GET /v1/patients/{patient_id}", right) == "GET /v1/patients/{patient_id}"
    elsewhere = {"method": "GET", "uri": "http://pin.test/v1/reports/r1"}
    assert parser.label("GET /v1/patients/{patient_id}", elsewhere) == "GET /v1/reports/{report_id}"


def test_event_parser_reads_failures_and_statuses_from_ndjson_chunks():
    interaction = {"request": {"method": "GET", "uri": "http://pin.test/v1/patients", "headers": {"Authorization": ["[Filtered]"]}, "body": None},
                   "response": {"status_code": 429, "headers": {}, "content": {"$base64": "e30="}, "elapsed": 0.1}}  # fmt: skip
    event = {"ScenarioFinished": {"recorder": {
        "label": "GET /v1/patients",
        "checks": {"c1": [{"name": "pin_retry_after", "status": "failure",
                           "failure_info": {"failure": {"operation": "GET /v1/patients", "code": "ST901", "message": "429 without a Retry-After header"}}},
                          {"name": "not_a_server_error", "status": "success"}]},
        "interactions": {"c1": interaction},
    }}}  # fmt: skip
    seen = []
    parser = EventParser(lambda name, payload, new: seen.append((name, len(new))))
    line = json.dumps(event) + "\n"
    parser.feed(line[:40])
    parser.feed(line[40:])
    assert seen == [("ScenarioFinished", 1)]
    (found,) = parser.findings
    assert (
        found.check == "pin_retry_after"
        and found.response.status == 429
        and found.response.body == b"{}"
    )
    assert parser.statuses == Counter({429: 1})


def test_event_parser_counts_each_operation_and_check_for_junit():
    interaction = {
        "request": {"method": "GET", "uri": "http://pin.test/v1/reports/r1"},
        "response": {"status_code": 200, "headers": {}},
    }
    event = {"ScenarioFinished": {"recorder": {
        "label": "Stateful tests",
        "cases": {"c1": {"value": {"method": "GET", "path": "/v1/patients/{patient_id}"}}},
        "checks": {"c1": [{"name": "not_a_server_error", "status": "success"},
                          {"name": "pin_resource_identity", "status": "failure",
                           "failure_info": {"failure": {"operation": "GET /v1/patients/{patient_id}", "message": "wrong id"}}}]},
        "interactions": {"c1": interaction},
    }}}  # fmt: skip
    parser = EventParser(spec=SPEC)
    parser.feed(json.dumps(event) + "\n")
    (found,) = parser.findings
    # The request went to a report (a wrong Location), not to the patient it was meant for.
    assert found.operation == "GET /v1/reports/{report_id}"
    assert parser.outcomes == {
        ("GET /v1/reports/{report_id}", "not_a_server_error"): [1, 0],
        ("GET /v1/reports/{report_id}", "pin_resource_identity"): [0, 1],
    }
