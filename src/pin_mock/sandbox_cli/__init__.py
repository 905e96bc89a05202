"""The sandbox's own command-line verbs (``logs``, ``clock``, ``trigger``, ``listen``, ``chaos``).

Each verb is an HTTP client of a running sandbox's ``/_sandbox`` operations, in
a module of its own, registered in ``pin_mock.cli``. Like the kit, nothing here
imports ``pin_mock.server``: the verbs work against a sandbox started anywhere
(another process, another machine, a container), with the caller's token.
"""
