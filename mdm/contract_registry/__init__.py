"""The hub's wiring of the contract registry (`contracts.registry`): its blueprints behind the
hub's API keys and session, its errors in the hub's error format, and the dogfooding bootstrap
that registers the hub's own contracts."""
