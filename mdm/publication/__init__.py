"""Publication: governed master data delivered to target systems on change and on schedule
(subscriptions, the outbox router, the dispatcher worker, the scheduler, channels)."""
