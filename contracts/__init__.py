"""Data-contract registry: contract versions, the compatibility engine and the `contracts` CLI."""
