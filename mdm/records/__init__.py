"""Source records and golden records: ingestion, survivorship, history, search."""
