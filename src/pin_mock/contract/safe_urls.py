"""Every URL the kit asks the target to call is the kit's receiver or an ``.invalid`` host.

A webhook ``url`` that Schemathesis generates (``https://your-app.com/...`` from
the spec's example, ``0.com`` from fuzzing) would be registered on the target,
which then delivers events to it: harmless against a sandbox without network,
not against a staging server. The hooks below rewrite every ``url`` (and
``*_url``) field of a request body before it is sent: to the receiver URL the
user configured (``PIN_CONTRACT_RECEIVER_URL``), or to a host under the RFC 2606
``.invalid`` top-level domain, which can never resolve.

A negative case keeps what makes it invalid: the scheme, the length (a URL over
``maxLength`` stays over it) and values that are no URL at all (``""``, ``42``);
only the host changes. This module imports no Schemathesis: ``install()``
registers the hooks (``map_case`` for the generated cases of every phase,
``before_call`` as the last word before any request leaves).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: The receiver URL the target may call (set by the runner; empty: none).
ENV_RECEIVER_URL = "PIN_CONTRACT_RECEIVER_URL"
#: The host every other URL is sent to: RFC 2606 reserves ``.invalid``, it never resolves.
INVALID_HOST = "pin-contract-receiver.invalid"
INVALID_URL = f"https://{INVALID_HOST}/webhook"


def receiver_url() -> str | None:
    return os.environ.get(ENV_RECEIVER_URL) or None


def is_url_field(name: Any) -> bool:
    return isinstance(name, str) and (name.lower() == "url" or name.lower().endswith("_url"))


def host_of(value: str) -> str | None:
    """The host a target would resolve for ``value`` (``None``: no host at all)."""
    text = value.strip()
    if not text:
        return None
    try:
        parts = urlsplit(text if "://" in text else "//" + text)
        return parts.hostname
    except ValueError:
        return None


def is_safe(value: Any, receiver: str | None = None) -> bool:
    """Whether a ``url`` value can only reach the receiver or an ``.invalid`` host."""
    if not isinstance(value, str):
        return True
    host = host_of(value)
    if host is None:
        return True
    if host == "invalid" or host.endswith(".invalid"):
        return True
    if receiver:
        try:
            given, ours = urlsplit(value.strip()), urlsplit(receiver)
        except ValueError:
            return False
        return (given.scheme, given.netloc) == (ours.scheme, ours.netloc)
    return False


def safe_url(value: Any, negative: bool, receiver: str | None = None) -> Any:
    """``value`` unchanged if safe; else the receiver (positive case) or an ``.invalid`` twin."""
    if is_safe(value, receiver):
        return value
    if not negative:
        return receiver or INVALID_URL
    text = str(value)
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
        scheme = parts.scheme or "https"
    except ValueError:
        scheme = "https"
    twin = urlunsplit((scheme, INVALID_HOST, "/", "", ""))
    if len(twin) < len(text):  # keep a too-long URL too long
        twin += "a" * (len(text) - len(twin))
    return twin


def rewrite(body: Any, negative: bool, receiver: str | None = None) -> Any:
    """``body`` with every URL field made safe (dicts and lists, at any depth)."""
    if isinstance(body, dict):
        return {
            key: safe_url(value, negative, receiver)
            if is_url_field(key) and not isinstance(value, dict | list)
            else rewrite(value, negative, receiver)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [rewrite(item, negative, receiver) for item in body]
    return body


def _negative_body(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    try:
        from schemathesis.core.parameters import ParameterLocation

        return bool(meta is not None and meta.is_negative_at(ParameterLocation.BODY))
    except (ImportError, AttributeError):
        return False


def make_safe(case: Any) -> Any:
    """The Schemathesis case with a safe body (changed in place only when it must)."""
    body = getattr(case, "body", None)
    if isinstance(body, dict | list):
        safe = rewrite(body, _negative_body(case), receiver_url())
        if safe != body:
            case.body = safe
    return case


def map_case(context: Any, case: Any) -> Any:
    """Schemathesis ``map_case`` hook (coverage, fuzzing, examples)."""
    return make_safe(case)


def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """Schemathesis ``before_call`` hook: every request of every phase, stateful too."""
    make_safe(case)


_installed = False


def install() -> None:
    """Register the hooks with Schemathesis, once per process."""
    global _installed
    if _installed:
        return
    import schemathesis

    schemathesis.hook("map_case")(map_case)
    schemathesis.hook("before_call")(before_call)
    _installed = True
