"""Schemathesis hooks module: PIN's checks and OAuth provider for plain ``st run``.

Usage (this is also what ``pin-mock contract`` runs)::

    export PIN_CLIENT_ID=sandbox-enterprise PIN_CLIENT_SECRET=sandbox-enterprise-secret
    SCHEMATHESIS_HOOKS=pin_mock.contract.hooks \\
        st run openapi/pin.yaml --url http://127.0.0.1:8080 --checks all

Importing the module registers the checks and the auth provider globally in
Schemathesis; the provider only applies to operations that require the spec's
OAuth scheme. Every ``url`` in a request body is rewritten to the receiver
(``PIN_CONTRACT_RECEIVER_URL``) or an ``.invalid`` host (``safe_urls.py``). The kit's own probes (auth enforcement, statefulness) are not
Schemathesis checks: run them with ``pin-mock contract`` or the pytest plugin.
"""

from __future__ import annotations

import schemathesis

from pin_mock.contract import safe_urls
from pin_mock.contract.checks import schemathesis_checks  # noqa: F401 - registers the PIN checks
from pin_mock.contract.schemathesis_auth import PinOAuthProvider, requires_oauth

# Every webhook URL the target is asked to call: the receiver or an .invalid host.
safe_urls.install()

# refresh_interval=None: the provider caches by the token's own expires_in (see
# TokenSource), and no automatic re-login on 401 that would hide a broken target.
schemathesis.auth(refresh_interval=None).apply_to(requires_oauth)(PinOAuthProvider)
