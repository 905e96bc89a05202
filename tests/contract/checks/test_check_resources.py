"""Resource identity and the Location of created resources, against crafted exchanges."""

from __future__ import annotations

import pytest

from kit_helpers import SPEC
from pin_mock.contract.checks import resources
from pin_mock.contract.exchange import ContractViolation


def test_resource_identity_wants_the_resource_asked_for(make_exchange):
    template = "/v1/patients/{patient_id}"
    resources.resource_identity(
        make_exchange(
            200, {"id": "patient_1"}, template=template, path_params={"patient_id": "patient_1"}
        ),
        SPEC,
    )
    with pytest.raises(ContractViolation, match='asked for patient_id="patient_2"'):
        resources.resource_identity(
            make_exchange(
                200, {"id": "patient_1"}, template=template, path_params={"patient_id": "patient_2"}
            ),
            SPEC,
        )


def test_resource_identity_keeps_entries_under_their_patient(make_exchange):
    template = "/v1/patients/{patient_id}/clinical-data/{entry_id}"
    params = {"patient_id": "patient_1", "entry_id": "cd_1"}
    with pytest.raises(ContractViolation, match="served under"):
        resources.resource_identity(
            make_exchange(
                200,
                {"id": "cd_1", "patient_id": "patient_9"},
                template=template,
                path_params=params,
            ),
            SPEC,
        )


@pytest.mark.parametrize(
    ("template", "body"),
    [
        ("/v1/webhooks/{webhook_id}", {"id": "wh_1", "secret": "whsec_x"}),
        ("/v1/webhooks", {"data": [{"id": "wh_1", "secret": "whsec_x"}], "pagination": {}}),
    ],
)
def test_webhook_secrets_are_never_shown_again(make_exchange, template, body):
    with pytest.raises(ContractViolation, match="secret"):
        resources.resource_identity(
            make_exchange(200, body, template=template, path_params={"webhook_id": "wh_1"}), SPEC
        )


def test_created_location_names_the_new_resource(make_exchange):
    headers = {"location": ["/v1/patients/patient_9"]}
    resources.created_location(
        make_exchange(201, {"id": "patient_9"}, method="POST", headers=headers), SPEC
    )
    with pytest.raises(ContractViolation, match="without a Location"):
        resources.created_location(
            make_exchange(201, {"id": "patient_9"}, method="POST", headers={}), SPEC
        )
    with pytest.raises(ContractViolation, match="does not point"):
        resources.created_location(
            make_exchange(201, {"id": "patient_8"}, method="POST", headers=headers), SPEC
        )
