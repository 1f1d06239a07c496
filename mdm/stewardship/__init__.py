"""Stewardship: the review queue, merge/unmerge, not-a-match, overrides, four-eyes approval."""
