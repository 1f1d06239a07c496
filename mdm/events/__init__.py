"""Change events: the transactional outbox every golden-record change writes to."""
