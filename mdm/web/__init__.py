"""HTTP plumbing shared by every blueprint: errors, security, request ids, metrics, docs."""
