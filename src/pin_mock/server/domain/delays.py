"""Delay distributions: how long the sandbox waits before it answers.

Three shapes, as Microcks and WireMock offer them, each bounded by the
sandbox's ``--max-prefer-delay-ms``:

- ``fixed``: always ``ms``;
- ``uniform``: anywhere from ``min_ms`` to ``max_ms``;
- ``lognormal``: a long tail, as real latencies have: ``median_ms`` times
  ``exp(sigma * z)`` for a standard normal ``z``, never more than ``max_ms``.

A delay is drawn from a number ``u`` in [0, 1) that the caller supplies, so a
seeded chaos setting (``domain/chaos.py``) gets the same delays in the same
order on every run and every worker; a per-request ``Prefer: delay=`` draws
``u`` at random.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

from pin_mock.server.errors import InvalidParameter

DISTRIBUTIONS = ("fixed", "uniform", "lognormal")
#: The largest spread a log-normal delay may have (exp(4) is a 55x factor per sigma).
MAX_SIGMA = 4.0
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Delay:
    """One delay distribution, in whole milliseconds."""

    distribution: str = "fixed"
    ms: int = 0
    min_ms: int = 0
    max_ms: int = 0
    median_ms: int = 0
    sigma: float = 0.5

    def sample(self, u: float) -> int:
        """The delay for ``u`` in [0, 1): the same ``u`` always gives the same delay."""
        if self.distribution == "fixed":
            return self.ms
        if self.distribution == "uniform":
            return self.min_ms + int(u * (self.max_ms - self.min_ms + 1))
        # The inverse of the normal CDF, on an open interval (its ends are infinite).
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return min(self.max_ms, round(self.median_ms * math.exp(self.sigma * z)))

    def as_dict(self) -> dict[str, Any]:
        """The fields this distribution uses, as the API shows them."""
        used = {
            "fixed": ("ms",),
            "uniform": ("min_ms", "max_ms"),
            "lognormal": ("median_ms", "sigma", "max_ms"),
        }[self.distribution]
        values = asdict(self)
        return {"distribution": self.distribution, **{name: values[name] for name in used}}


def parse_delay(raw: Mapping[str, Any], limit_ms: int, where: str) -> Delay:
    """A ``Delay`` from its fields (a chaos body's ``delay``, or ``Prefer`` parameters).

    ``where`` names the parameter in errors (``delay`` in a body, ``Prefer``
    in a header). Every bound is checked: 400 naming the field otherwise.
    """
    distribution = str(raw.get("distribution", "fixed"))
    if distribution not in DISTRIBUTIONS:
        raise InvalidParameter(
            where,
            distribution,
            f"A delay's distribution is one of {', '.join(DISTRIBUTIONS)}.",
        )
    fields = {
        "fixed": {"ms"},
        "uniform": {"min_ms", "max_ms"},
        "lognormal": {"median_ms", "max_ms", "sigma"},
    }[distribution]
    unknown = sorted(set(raw) - fields - {"distribution"})
    if unknown:
        raise InvalidParameter(
            where,
            unknown[0],
            f"A {distribution} delay takes {', '.join(sorted(fields))}, not {unknown[0]}.",
        )
    values: dict[str, Any] = {}
    for name in sorted(fields - {"sigma"}):
        if name not in raw:
            raise InvalidParameter(where, None, f"A {distribution} delay needs {name}.")
        values[name] = _milliseconds(raw[name], limit_ms, where, name)
    if "sigma" in fields:
        sigma = raw.get("sigma", 0.5)
        if (
            isinstance(sigma, bool)
            or not isinstance(sigma, int | float)
            or not (0 < sigma <= MAX_SIGMA)
        ):
            raise InvalidParameter(
                where,
                sigma,
                f"A log-normal delay's sigma is a number above 0, at most {MAX_SIGMA}.",
            )
        values["sigma"] = float(sigma)
    if distribution == "uniform" and values["min_ms"] > values["max_ms"]:
        raise InvalidParameter(where, values["min_ms"], "A uniform delay's min_ms is above max_ms.")
    if distribution == "lognormal" and values["median_ms"] > values["max_ms"]:
        raise InvalidParameter(
            where, values["median_ms"], "A log-normal delay's median_ms is above its max_ms."
        )
    return Delay(distribution, **values)


def _milliseconds(value: Any, limit_ms: int, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit_ms:
        raise InvalidParameter(
            where,
            value,
            f"{name} must be a whole number of milliseconds from 0 to {limit_ms}.",
        )
    return value
