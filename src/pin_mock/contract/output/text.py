"""A finding as text: what the summary, the JUnit failures and the pytest plugin print."""

from __future__ import annotations

from pin_mock.contract.findings import Finding


def format_finding(finding: Finding, *, width: int = 2000) -> str:
    """A finding as text: operation, check, message, status and the curl reproduction."""
    lines = [f"{finding.operation}  [{finding.check}{' ' + finding.code if finding.code else ''}]"]
    message = finding.message.strip()
    if len(message) > width:
        message = message[:width] + " ..."
    lines += ["    " + line for line in message.splitlines()]
    if finding.response is not None:
        body = finding.response.body.decode("utf-8", "replace")
        body = body if len(body) <= 300 else body[:300] + "..."
        lines.append(f"    got {finding.response.status}: {body}")
    curl = finding.curl()
    if curl:
        lines += ["    reproduce:", "      " + curl]
    return "\n".join(lines)
