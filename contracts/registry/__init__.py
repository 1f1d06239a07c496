"""The contract registry service: subjects, immutable semantically versioned contract versions,
declared consumers, and the native and Confluent-compatible HTTP APIs over them.

It runs inside a host application (the MDM Hub) that supplies the database session and the
authorization check; it never imports that host.
"""
