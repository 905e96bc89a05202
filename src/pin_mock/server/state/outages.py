"""What a lost state engine looks like to a client: ``503 SERVICE_UNAVAILABLE``.

Only the Redis engine can be lost while serving. Every layer that may meet one
of its errors (the error handlers, the last-resort layer, the rate limiter, the
token verifier, the job queues) asks ``unavailable`` whether an exception is
such an outage, and answers 503 with ``Retry-After`` instead of a 500. Every
write is one Lua script or transaction, so nothing is ever half-written.
"""

from __future__ import annotations

from pin_mock.server.errors import ServiceUnavailable

#: Seconds a client is told to wait when the shared state is unreachable.
RETRY_AFTER = 2


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 answer for an error of the state engine (Redis lost), else ``None``."""
    try:
        from redis.exceptions import (
            ConnectionError,
            OutOfMemoryError,
            ReadOnlyError,
            TimeoutError,
        )
    except ImportError:  # pragma: no cover - redis-py is in the server extra
        return None
    # Lost, timed out, loading its data, a read-only replica, or full (``maxmemory`` with
    # ``noeviction``: Redis refuses a write script before its first write, so nothing was
    # written): wait and retry. Any other Redis error (a script bug) is ours and stays a 500.
    if isinstance(exc, OutOfMemoryError):
        return ServiceUnavailable(
            "The service's shared state is full; nothing was changed. Try again later.",
            retry_after=RETRY_AFTER,
        )
    if not isinstance(exc, ConnectionError | TimeoutError | ReadOnlyError):
        return None
    return ServiceUnavailable(
        "The service's shared state is unreachable; nothing was changed. Try again shortly.",
        retry_after=RETRY_AFTER,
    )
