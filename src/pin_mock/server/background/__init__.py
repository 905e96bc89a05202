"""Work done outside a request: report jobs, webhook deliveries, idle-sandbox expiry."""
