"""What the journal never keeps (``domain/journal/redaction.py`` and ``entries.py``)."""

from __future__ import annotations

from pin_mock.server.domain.journal.entries import Exchange
from pin_mock.server.domain.journal.redaction import redact, redact_credentials, redact_headers

JWT = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYW5kYm94LXN0YW5kYXJkIn0.c2lnbmF0dXJlLWJ5dGVz"


def test_tokens_and_secrets_are_redacted_wherever_they_are() -> None:
    assert redact(b'{"access_token":"' + JWT + b'","token_type":"Bearer"}') == (
        b'{"access_token":"[redacted]","token_type":"Bearer"}'
    )
    assert redact(b'{"secret": "whsec_ab\\"cd=", "x": 1}') == b'{"secret": "[redacted]", "x": 1}'
    assert redact(b"grant_type=client_credentials&client_secret=s3cr%26t&scope=a") == (
        b"grant_type=client_credentials&client_secret=[redacted]&scope=a"
    )
    # A token anywhere else (a name a client chose, a query), whole or cut short.
    assert JWT not in redact(b'{"name":"' + JWT + b'"}')
    assert redact(b'{"note":"' + JWT[:30]) == b'{"note":"[redacted]'
    assert (
        redact(b"url=https://x.example/?k=whsec_QUJD")
        == b"url=https://x.example/?k=whsec_[redacted]"
    )
    plain = b'{"name":"John Doe","token_type":"Bearer"}'
    assert redact(plain) is plain  # nothing secret: the same bytes, no copy


def test_credentials_are_replaced_at_once_and_keep_their_scheme() -> None:
    headers = [(b"host", b"x"), (b"authorization", b"Bearer " + JWT), (b"cookie", b"a=b")]
    safe = redact_credentials(headers)
    assert safe == [
        (b"host", b"x"),
        (b"authorization", b"Bearer [redacted]"),
        (b"cookie", b"[redacted]"),
    ]
    plain = [(b"host", b"x")]
    assert redact_credentials(plain) is plain
    assert redact_headers([(b"X-Debug", b"token " + JWT)]) == [(b"x-debug", b"token [redacted]")]


def _exchange(body: bytes) -> Exchange:
    headers = [
        (b"authorization", b"Basic c2FuZGJveDpzZWNyZXQ="),
        (b"content-type", b"application/json"),
    ]
    return Exchange(
        0.0, 1.0, "POST", "/v1/x", b"t=" + JWT, None, 200, None, headers, [], body, len(body)
    )


def test_an_exchange_holds_no_credential_from_the_start_and_no_secret_once_shown() -> None:
    lazy = _exchange(b'{"name":"' + JWT + b'"}').guard(eager=False)
    assert lazy.request_headers[0] == (b"authorization", b"Basic [redacted]")  # at once
    shown = lazy.as_dict()
    assert JWT.decode() not in str(shown) and shown["request"]["body"] == '{"name":"[redacted]"}'
    eager = _exchange(b'{"client_secret":"abc"}').guard(eager=True)
    assert eager.request_body == b'{"client_secret":"[redacted]"}' and not eager.pending
    assert eager.query == b"t=[redacted]"


def test_a_body_is_cut_at_the_kept_size_after_redaction() -> None:
    body = b'{"a":"' + b"x" * 5000 + b'"}'
    exchange = _exchange(body)
    exchange.keep = 64
    shown = exchange.guard(eager=True).as_dict()["request"]
    assert shown["size"] == len(body) and shown["truncated"] is True
    assert len(shown["body"].encode()) == 64
