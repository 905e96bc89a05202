"""``redis://``: the engine that keeps what clients change in Redis, shared by workers."""
