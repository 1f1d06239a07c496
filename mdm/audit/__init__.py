"""The audit trail: who did what, when, why, with the request id, before and after."""
