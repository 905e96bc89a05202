"""Where the state that clients change lives: this process (``memory://``) or Redis."""
