"""What a run tests: operations by id, label, tag, path and method; checks by name."""

from __future__ import annotations

import pytest
import schemathesis.specs.openapi.checks  # noqa: F401 - registers the built-in checks
from schemathesis.checks import CHECKS

from kit_helpers import SPEC
from pin_mock.contract.runner import known_checks
from pin_mock.contract.selection import (
    OPT_IN,
    SCHEMATHESIS_CHECKS,
    CheckSelection,
    OperationSelection,
    SelectionError,
)

OPS = list(SPEC.operations)


def ids(selection: OperationSelection) -> list[str]:
    return [op.operation_id for op in selection.select(OPS)]


def test_operations_by_id_label_tag_path_and_method() -> None:
    assert ids(OperationSelection(include=("listPatients", "GET /v1/reports"))) == [
        "listPatients",
        "listReports",
    ]
    assert set(ids(OperationSelection(include_tags=("webhooks",)))) == {
        "listWebhooks", "createWebhook", "getWebhook", "deleteWebhook", "listDeliveries"}  # fmt: skip
    assert ids(
        OperationSelection(
            include_paths=("/v1/patients/*/clinical-data*",), include_methods=("post",)
        )
    ) == ["addClinicalData"]
    # Kinds combine with AND, values of one kind with OR; an exclusion always wins.
    chosen = ids(OperationSelection(include_tags=("Patients", "Reports"), include_methods=("GET",),
                                    exclude=("getReport",), exclude_paths=("*/download",)))  # fmt: skip
    assert chosen == ["listPatients", "getPatient", "listReports"]


@pytest.mark.parametrize(
    ("selection", "option"),
    [
        (OperationSelection(include=("listPets",)), "--include/--exclude 'listPets'"),
        (OperationSelection(include_tags=("Pets",)), "--include-tag 'Pets'"),
        (OperationSelection(exclude_paths=("/v2/*",)), "--include-path '/v2/*'"),
        (OperationSelection(include_methods=("PUT",)), "--include-method 'PUT'"),
    ],  # fmt: skip
)
def test_a_value_that_matches_nothing_is_named(selection: OperationSelection, option: str) -> None:
    with pytest.raises(SelectionError, match=option.replace("*", r"\*")):
        selection.select(OPS)


def test_only_an_operation_named_by_include_is_asked_for() -> None:
    selection = OperationSelection(include=("listPatients",), include_tags=("Patients",))
    assert selection.asked_for(SPEC.by_id("listPatients")) and not selection.asked_for(
        SPEC.by_id("getPatient")
    )


def test_checks_default_all_opt_in_and_exclusions() -> None:
    known = known_checks(SPEC)
    default = CheckSelection.parse(None, (), known)
    assert default.enabled("pin_paging") and not default.enabled("pin_example_messages")
    assert "opt-in" in default.why_not("pin_example_messages")
    every = CheckSelection.parse(("all",), ("pin_paging",), known)
    assert every.enabled("pin_example_messages") and not every.enabled("pin_paging")
    assert every.why_not("pin_paging") == "excluded by --exclude-checks"
    only = CheckSelection.parse(("pin_paging,not_a_server_error",), (), known)
    assert only.enabled("not_a_server_error") and not only.enabled("pin_error_envelope")
    more = CheckSelection.parse(("default", "pin_example_messages"), (), known)
    assert more.enabled("pin_example_messages") and more.enabled("pin_paging")
    with pytest.raises(SelectionError, match="unknown check pin_nonsense"):
        CheckSelection.parse(("pin_nonsense",), (), known)
    assert OPT_IN <= known


def test_the_kit_knows_schemathesis_s_own_checks() -> None:
    builtin = {name for name in CHECKS.get_all_names() if not name.startswith(("pin_", "Pin"))}
    assert builtin <= SCHEMATHESIS_CHECKS
