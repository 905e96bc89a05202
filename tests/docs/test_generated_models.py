"""Pydantic models generated with datamodel-code-generator's defaults take every real answer.

The contract, as the sandbox serves it at ``/openapi.json``, goes to
``datamodel-codegen`` with no option but input and output (the version the
``test`` extra pins). It must say nothing about the document, and every
documented answer (each one replayed against the sandbox by
``test_examples_replay.py``) must validate against the model of its schema:
a generator's defaults must read "required, may be null" the way the spec
means it (nullable values are ``anyOf`` with ``NullValue``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from generated_types import CONTRACT, answers, guide_bodies, request_examples

#: The one thing the generator prints on every run, about its own future defaults
#: (code formatting), whatever the input: not a finding about the spec.
OWN_NOTICE = re.compile(
    r"^.*FutureWarning: Default formatters will change.*\n\s*warnings\.warn\(.*\)\n?", re.M
)


def _generator() -> str:
    beside = Path(sys.executable).parent / "datamodel-codegen"
    found = str(beside) if beside.exists() else shutil.which("datamodel-codegen")
    if found is None:
        pytest.fail("datamodel-codegen is not installed (it is in the test extra)")
    return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, str, str]:
    work = tmp_path_factory.mktemp("datamodel")
    (work / "openapi.json").write_text(json.dumps(CONTRACT, default=str))
    done = subprocess.run(
        [_generator(), "--input", str(work / "openapi.json"), "--input-file-type", "openapi",
         "--output", str(work / "pin_models.py")],
        capture_output=True, text=True, timeout=300, check=False, cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    spec = importlib.util.spec_from_file_location("pin_models", work / "pin_models.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["pin_models"] = module  # pydantic resolves the models' forward references here
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["pin_models"]
    source = (work / "pin_models.py").read_text()
    return module, source, done.stdout + done.stderr


def test_generation_says_nothing_about_the_spec(generated: tuple[ModuleType, str, str]) -> None:
    _, _, output = generated
    assert OWN_NOTICE.sub("", output).strip() == ""


def test_every_named_schema_is_a_model_and_no_enum_is_dead(
    generated: tuple[ModuleType, str, str],
) -> None:
    module, source, _ = generated
    missing = [name for name in CONTRACT["components"]["schemas"] if not hasattr(module, name)]
    assert not missing, missing
    assert not re.findall(r"^class \w+\d+\(", source, re.M), "numbered names (DataType1...)"
    enums = re.findall(r"^class (\w+)\(Enum\):", source, re.M)
    dead = [name for name in enums if len(re.findall(rf"\b{name}\b", source)) == 1]
    assert not dead, f"enums nothing uses: {dead}"


ANSWERS = answers()


@pytest.mark.parametrize(
    "typed", ANSWERS + guide_bodies() + request_examples(), ids=lambda t: t.label
)
def test_every_answer_and_body_validates_against_its_model(
    generated: tuple[ModuleType, str, str], typed: Any
) -> None:
    module, _, _ = generated
    getattr(module, typed.schema).model_validate(typed.value)


def test_the_models_refuse_what_the_spec_refuses(generated: tuple[ModuleType, str, str]) -> None:
    """A control: the check above can fail."""
    module, _, _ = generated
    report = next(t for t in ANSWERS if t.schema == "Report").value
    with pytest.raises(ValueError):
        module.Report.model_validate({**report, "status": "exploded"})
    with pytest.raises(ValueError):
        module.Webhook.model_validate({"id": "wh_1"})
    assert len(ANSWERS) >= 150
