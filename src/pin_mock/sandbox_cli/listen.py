"""``pin-mock listen --forward-to URL``: the sandbox's webhooks, forwarded to a local app.

Like ``stripe listen``: it runs a small receiver on loopback, registers a
webhook on the sandbox pointing at it (``POST /v1/webhooks``, the events of
``--events``, default every type PIN documents), prints the webhook's signing
secret once (configure your app with it), and forwards each delivery, with
the same headers and the same bytes, to ``--forward-to``. For each it prints
the event, whether its Standard Webhooks signature verified (the
``standardwebhooks`` package, with that secret) and what the app answered;
the app's status goes back to the sandbox, so a failing app sees the
sandbox's retries. On Ctrl-C or SIGTERM the webhook is removed.

The receiver's address must be one the sandbox may deliver to: its target
policy (``--webhook-targets``) must allow loopback (``local``, the default),
and the sandbox must be able to reach this machine (give ``--host`` and
``--public-url`` when it runs elsewhere). The receiver and forwarder are
``forwarding.py``, imported when the verb runs.
"""

from __future__ import annotations

import signal
import threading

import click

from pin_mock.sandbox_cli.verb_options import Refused, connection_options


@click.command()
@click.option("--forward-to", required=True, metavar="URL", help="Your app's webhook URL.")
@click.option(
    "--events",
    "events",
    multiple=True,
    metavar="TYPE[,TYPE]",
    help="Event types to listen to (repeat or comma-separate; default: all).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the receiver binds.")
@click.option("--port", default=0, type=int, help="The receiver's port (default: a free one).")
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL the sandbox delivers to (default: http://HOST:PORT/).",
)
@click.option(
    "--timeout", default=10.0, type=float, show_default=True, help="Seconds to wait for the app."
)
@connection_options
def listen(
    forward_to: str,
    events: tuple[str, ...],
    host: str,
    port: int,
    public_url: str | None,
    timeout: float,
    base_url: str,
    client_id: str,
    client_secret: str,
    token: str | None,
) -> None:
    """Forward the sandbox's signed webhook deliveries to a local app (Ctrl-C to stop)."""
    from standardwebhooks import Webhook

    from pin_mock.sandbox_cli.connection import open_client, problem, send
    from pin_mock.sandbox_cli.forwarding import Forwarder, documented_events, receiver, remove

    wanted = [e.strip() for given in events for e in given.split(",") if e.strip()]
    wanted = list(dict.fromkeys(wanted)) or documented_events()
    forwarder = Forwarder(forward_to, timeout)
    server = receiver(forwarder, host, port)
    bound = server.server_address[1]
    url = public_url or f"http://{host}:{bound}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    client = open_client(base_url, client_id, client_secret, token)
    webhook_id = None
    try:
        description = f"pin-mock listen (forwards to {forward_to})"[:500]
        body = {"url": url, "events": wanted, "description": description}
        response = send(client, "POST", "/v1/webhooks", json=body)
        if response.status_code != 201:
            raise Refused(f"the webhook was not registered: {problem(response)}")
        webhook = response.json()
        webhook_id = webhook["id"]
        forwarder.verifier = Webhook(webhook["secret"])
        click.echo(f"Ready! Your webhook signing secret is {webhook['secret']} (^C to quit)")
        click.echo(
            f"  webhook {webhook_id} on {base_url} -> {url} -> {forward_to}; "
            f"events: {', '.join(wanted)}"
        )
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if webhook_id is not None:
            remove(client, webhook_id)
        client.close()
        server.shutdown()
        server.server_close()
        forwarder.http.close()
