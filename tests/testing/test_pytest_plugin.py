"""The ``pin_sandbox`` plugin inside a pytest run (pytester): one server, a reset per test."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_one_sandbox_per_session_reset_before_each_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        SEEN = []

        def test_first(pin_sandbox):
            SEEN.append(pin_sandbox.base_url)
            body = {"name": "Only In First", "date_of_birth": "1990-01-01"}
            assert pin_sandbox.client.post("/v1/patients", json=body).status_code == 201

        def test_second(pin_sandbox, pin_sandbox_session):
            assert pin_sandbox is pin_sandbox_session
            SEEN.append(pin_sandbox.base_url)
            found = pin_sandbox.client.get("/v1/patients", params={"search": "only in first"})
            assert found.json()["pagination"]["total"] == 0
            assert SEEN[0] == SEEN[1]  # the same server
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_settings_come_from_an_overridable_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def pin_sandbox_settings():
            return {"patients": 12, "seed": 7}
        """
    )
    pytester.makepyfile(
        """
        def test_size(pin_sandbox):
            total = pin_sandbox.client.get("/v1/patients").json()["pagination"]["total"]
            assert total < 20  # the default sandbox has 150
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
