"""Findings, reproductions and report files: curl, HAR, JUnit, summary, verdict."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from xml.etree import ElementTree

from pin_mock.contract.findings import (
    Finding,
    RecordedRequest,
    RecordedResponse,
    curl_command,
    dedupe,
)
from pin_mock.contract.output.junit_har import probe_suite, write_har, write_junit
from pin_mock.contract.output.summary import render, verdict
from pin_mock.contract.probes.framework import ProbeResult
from pin_mock.contract.runner import ContractResult
from pin_mock.contract.schemathesis_run import EventParser, StRunOutcome


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


def test_har_holds_the_failing_exchanges(tmp_path):
    path = tmp_path / "failures.har"
    assert write_har(path, [a_finding(), Finding("GET /x", "probe_error", "boom")]) == 1
    entry = json.loads(path.read_text())["log"]["entries"][0]
    assert entry["request"]["url"].endswith("limit=5") and entry["response"]["status"] == 200
    assert {"name": "limit", "value": "5"} in entry["request"]["queryString"]
    assert "secret-token" not in path.read_text()


def test_junit_merges_schemathesis_and_probe_suites(tmp_path):
    st = tmp_path / "st.xml"
    st.write_text('<testsuites><testsuite name="schemathesis" tests="2" failures="1" errors="0" skipped="0" time="1.0">'
                  '<testcase name="GET /v1/patients"><failure message="ST901">x</failure></testcase>'
                  '<testcase name="GET /v1/reports"/></testsuite></testsuites>')  # fmt: skip
    probes = probe_suite([("auth enforced: GET /v1/patients", 0.1, [a_finding(check="pin_auth_enforced")], None),
                          ("paging walk", 0.1, [], None), ("webhooks", 0.0, [], "operations not selected")])  # fmt: skip
    out = tmp_path / "junit.xml"
    write_junit(out, st, probes)
    root = ElementTree.parse(out).getroot()
    assert [s.get("name") for s in root] == ["schemathesis", "pin-contract-probes"]
    assert root.get("tests") == "5" and root.get("failures") == "2" and root.get("skipped") == "1"
    assert (
        "reproduce"
        in root.find(".//testcase[@name='auth enforced: GET /v1/patients']/failure").text
    )


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
