"""The client the kit uses when given no credentials: the sandbox's enterprise client.

The one place the kit names a sandbox fact: the runner, the command's help and
the pytest plugin read it from here (the plugin is loaded into every pytest
run, so this module imports nothing).
"""

#: 100,000 requests/hour and every scope: enough for a default run against the sandbox.
DEFAULT_CLIENT_ID = "sandbox-enterprise"
DEFAULT_CLIENT_SECRET = f"{DEFAULT_CLIENT_ID}-secret"
