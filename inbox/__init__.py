"""Receiving: verify, check origin, de-duplicate, store raw, then process in a worker."""
