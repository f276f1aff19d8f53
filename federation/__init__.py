"""The protocol core: settings, storage base, signatures, JSON-LD, HTTP client, errors.

This package imports no domain model and holds no global state.
"""
