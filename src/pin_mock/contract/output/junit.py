"""``junit.xml``: the run's test cases (``cases.py``) and its coverage as suite properties."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from pathlib import Path
from xml.etree import ElementTree

from pin_mock.contract.output.cases import Case
from pin_mock.contract.output.text import format_finding


def _case(suite: ElementTree.Element, case: Case) -> None:
    element = ElementTree.SubElement(
        suite,
        "testcase",
        {"classname": case.classname, "name": case.name, "time": f"{case.seconds:.6f}"},
    )
    if case.findings:
        first = case.findings[0]
        failure = ElementTree.SubElement(
            element,
            "failure",
            {"type": first.check, "message": first.message.strip().split("\n")[0][:300]},
        )
        failure.text = "\n\n".join(format_finding(f) for f in case.findings)
    elif case.failure is not None:
        ElementTree.SubElement(element, "failure", {"type": "coverage", "message": case.failure})
    elif case.skipped is not None:
        ElementTree.SubElement(element, "skipped", {"message": case.skipped})


def suite(
    name: str, cases: list[Case], properties: Mapping[str, str] | None = None
) -> ElementTree.Element:
    """One ``<testsuite>`` with its totals."""
    element = ElementTree.Element("testsuite", {"name": name, "hostname": platform.node()})
    if properties:
        props = ElementTree.SubElement(element, "properties")
        for key, value in properties.items():
            ElementTree.SubElement(props, "property", {"name": key, "value": value})
    for case in cases:
        _case(element, case)
    element.attrib.update(
        {
            "tests": str(len(cases)),
            "failures": str(sum(1 for c in cases if c.failed)),
            "errors": "0",
            "skipped": str(sum(1 for c in cases if c.skipped is not None and not c.failed)),
            "time": f"{sum(c.seconds for c in cases):.6f}",
        }
    )
    return element


def write_junit(
    path: Path,
    suites: Mapping[str, list[Case]],
    properties: Mapping[str, str] | None = None,
    seconds: float | None = None,
) -> None:
    """One JUnit file: every suite, each carrying ``properties`` (the coverage totals)."""
    root = ElementTree.Element("testsuites")
    root.extend(suite(name, cases, properties) for name, cases in suites.items())
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    for element in root:
        for key in totals:
            totals[key] += int(element.get(key, "0"))
    time = seconds if seconds is not None else sum(float(s.get("time", "0")) for s in root)
    root.attrib.update({k: str(v) for k, v in totals.items()} | {"time": f"{time:.6f}"})
    ElementTree.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
