"""What the journal never keeps: tokens, client secrets and webhook secrets.

Redaction runs on text before it is stored, and on a window a little longer
than what is kept, so a secret cut in two by the size limit is redacted too.
It is cheap for the many bodies that hold nothing secret: the patterns run
only on text carrying one of ``MARKERS``.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"
#: Text without any of these holds no secret the patterns below would find.
MARKERS = ("eyJ", "whsec_", "secret", "token", "password")
#: Names whose value is a secret, in JSON bodies and in form bodies.
SECRET_NAMES = "access_token|refresh_token|id_token|client_secret|secret|password|token"
#: A JWT, whole or cut short (its header always starts ``eyJ``, base64 of ``{"``).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}")
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]*")
_JSON_SECRET = re.compile(rf'("(?:{SECRET_NAMES})"\s*:\s*)"(?:[^"\\]|\\.)*("?)')
_FORM_SECRET = re.compile(rf"(?:(?<=^)|(?<=&))((?:{SECRET_NAMES})=)[^&]*")
#: Request and response headers whose value is a credential.
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


def redact(text: str) -> str:
    """``text`` with every token and secret replaced by ``[redacted]``."""
    if not any(marker in text for marker in MARKERS):
        return text
    text = _JSON_SECRET.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    text = _FORM_SECRET.sub(rf"\1{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _WEBHOOK_SECRET.sub(f"whsec_{REDACTED}", text)


def redact_header(name: str, value: str) -> str:
    """A header as the journal shows it: credentials replaced, the scheme kept."""
    if name in SECRET_HEADERS:
        scheme, _, rest = value.partition(" ")
        return f"{scheme} {REDACTED}" if rest and name.endswith("authorization") else REDACTED
    return redact(value)
