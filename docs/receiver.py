"""A webhook receiver for trying the sandbox: verifies each delivery, prints it.

    WEBHOOK_SECRET=whsec_... python docs/receiver.py [PORT]

Answers 204 to a delivery whose Standard Webhooks signature verifies and 400
to one that does not, so the sandbox's delivery log shows both outcomes.
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            # Verify the raw bytes, before parsing: re-serialised JSON would not match.
            event = WEBHOOK.verify(body, dict(self.headers))
        except WebhookVerificationError as exc:
            print("rejected:", exc, flush=True)
            self.send_response(400)
        else:
            print("verified", self.headers["webhook-id"], event["type"], event["data"], flush=True)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass  # one line per delivery is enough


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
