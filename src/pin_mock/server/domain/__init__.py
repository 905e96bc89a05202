"""What the sandbox knows and decides, over the state ports: clients and tokens, limits,
quotas, the store, analytics, seeded data, reports and webhooks."""
