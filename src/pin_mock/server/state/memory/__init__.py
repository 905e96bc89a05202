"""``memory://``: the engine that keeps what clients change in this process."""
