"""Source systems: the ERPs, procurement suites, CRMs and banks that send master data."""
