"""What docs/deploy.md tells an operator about probes and metrics is what the sandbox does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from harness import Sandbox

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DEPLOY.read_text(), re.DOTALL)


def test_every_metric_the_guide_names_is_in_a_scrape(sandbox_factory) -> None:
    sb: Sandbox = sandbox_factory(metrics=True)
    assert sb.get("/v1/patients?limit=1").status_code == 200
    text = sb.http.get("/metrics").text
    served = set(re.findall(r"^# TYPE (\w+)", text, re.MULTILINE))
    served |= set(re.findall(r"^(pin_mock_\w+)", text, re.MULTILINE))
    named = set(re.findall(r"\bpin_mock_\w+", DEPLOY.read_text()))
    assert len(named) >= 10
    assert named <= served, named - served


def test_the_scrape_configuration_and_probes_are_valid_yaml_for_the_right_paths() -> None:
    documents = [yaml.safe_load(block) for block in blocks("yaml")]
    (prometheus,) = [d for d in documents if "scrape_configs" in d]
    (job,) = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert len(job["static_configs"][0]["targets"]) == 3  # three replicas, scraped each
    probes = next(d for d in documents if "readinessProbe" in d)
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "option httpchk GET /readyz" in DEPLOY.read_text()  # the HAProxy backend
