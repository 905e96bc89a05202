"""What the journal never keeps: tokens, client secrets and webhook secrets.

Redaction runs on the raw bytes the journal layer kept of an exchange, before
the journal holds on to them, and on a window a little longer than what is
shown, so a secret cut in two by the size limit is redacted too. It is cheap
for the many messages that hold nothing secret: a plain substring search for
each of ``MARKERS`` (far faster than one regular expression with all five), and
the patterns run only where one is found.
"""

from __future__ import annotations

import re

REDACTED = b"[redacted]"
#: Text without any of these holds no secret the patterns below would find.
MARKERS = (b"eyJ", b"whsec_", b"secret", b"token", b"password")
#: Names whose value is a secret, in JSON bodies and in form bodies.
SECRET_NAMES = rb"access_token|refresh_token|id_token|client_secret|secret|password|token"
#: A JWT, whole or cut short (its header always starts ``eyJ``, base64 of ``{"``).
_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}")
_WEBHOOK_SECRET = re.compile(rb"whsec_[A-Za-z0-9+/=]*")
# The string's body unrolled (``[^"\\]*(?:\\.[^"\\]*)*``): no alternation per character.
_JSON_SECRET = re.compile(rb'"(' + SECRET_NAMES + rb')"(\s*:\s*)"[^"\\]*(?:\\.[^"\\]*)*"?')
_FORM_SECRET = re.compile(rb"(^|&)(" + SECRET_NAMES + rb")=[^&]*")
#: Request and response headers whose value is a credential.
SECRET_HEADERS = frozenset({b"authorization", b"cookie", b"set-cookie", b"proxy-authorization"})


def _marked(raw: bytes) -> bool:
    return (
        b"eyJ" in raw
        or b"whsec_" in raw
        or b"secret" in raw
        or b"token" in raw
        or b"password" in raw
    )


def redact(raw: bytes) -> bytes:
    """``raw`` with every token and secret replaced by ``[redacted]``."""
    if not _marked(raw):
        return raw
    # Each pattern only where its own marker is: a regular expression costs far more
    # than a substring search.
    named = b"secret" in raw or b"token" in raw or b"password" in raw
    if named and (b'":' in raw or b'" :' in raw):
        raw = _JSON_SECRET.sub(_json_redacted, raw)
    if named and b"=" in raw:
        raw = _FORM_SECRET.sub(_form_redacted, raw)
    if b"eyJ" in raw:
        raw = _JWT.sub(REDACTED, raw)
    if b"whsec_" in raw:
        raw = _WEBHOOK_SECRET.sub(b"whsec_" + REDACTED, raw)
    return raw


# Replacements as functions: re's template expansion (``\\1``) costs twice as much per call.
def _json_redacted(match: re.Match[bytes]) -> bytes:
    return b'"' + match[1] + b'"' + match[2] + b'"[redacted]"'


def _form_redacted(match: re.Match[bytes]) -> bytes:
    return match[1] + match[2] + b"=[redacted]"


def redact_credentials(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers with the credential headers' values replaced; the others as they are.

    ASGI header names are lower case already; a list without credentials comes back
    as it is (no copy): this runs for every journaled request.
    """
    for name, _value in headers:
        if name in SECRET_HEADERS:
            return [(n, _credential(n, v) if n in SECRET_HEADERS else v) for n, v in headers]
    return headers


def _credential(name: bytes, value: bytes) -> bytes:
    scheme, _, rest = value.partition(b" ")
    return scheme + b" " + REDACTED if rest and name.endswith(b"authorization") else REDACTED


def redact_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers with credentials replaced (an ``Authorization`` keeps its scheme)."""
    # One search over all the values first: most lists hold no secret outside the
    # credential headers, and then no value needs a search of its own.
    marked = _marked(b"\n".join([value for _name, value in headers]))
    safe = []
    for name, value in headers:
        lower = name.lower()
        if lower in SECRET_HEADERS:
            value = _credential(lower, value) if not value.endswith(REDACTED) else value
        elif marked and _marked(value):
            value = redact(value)
        safe.append((lower, value))
    return safe
