"""Offline JSON-LD: the well-known contexts are bundled, nothing is ever fetched.

pyld's `set_document_loader` is process-wide state, so it is never called: every operation
passes `document_loader` in its options instead. Fetching contexts named by remote documents
would let any sender make us issue requests (and stall on slow hosts), so unknown contexts
are an error; the terms Mastodon and friends add are inlined in their documents anyway.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from pyld import jsonld

from federation.errors import ValidationError

# Context URL (without scheme, trailing slash or extension) -> file in federation/contexts/.
BUNDLED_CONTEXTS = {
    "www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "w3id.org/security/v1": "security-v1.jsonld",
    "w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "w3id.org/security/multikey/v1": "multikey-v1.jsonld",
}


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader that serves the bundled contexts and refuses everything else."""
    name = BUNDLED_CONTEXTS.get(_context_key(url))
    if name is None:
        raise jsonld.JsonLdError(
            f"refusing to load the JSON-LD document {url}: only bundled contexts are used",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # Parsed afresh on each call so that no caller can alter the cached copy.
        "document": json.loads(_context_text(name)),
    }


def _context_key(url: str) -> str:
    """`http(s)://host/path[/|.jsonld]` -> `host/path`, or '' for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
        return ""
    path = parts.path.rstrip("/").removesuffix(".jsonld")
    return f"{parts.netloc.lower()}{path}"


@functools.cache
def _context_text(name: str) -> str:
    # Immutable package data, read on first use: caching it is not per-instance state.
    return resources.files("federation.contexts").joinpath(name).read_text(encoding="utf-8")


def expand(document: dict[str, Any]) -> list[Any]:
    """JSON-LD expansion with the offline loader; bad or unknown contexts -> ValidationError."""
    try:
        result = jsonld.expand(document, {"documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        raise ValidationError(f"cannot expand the JSON-LD document: {_describe(exc)}") from exc
    return list(result)


def compact(document: dict[str, Any], context: Any) -> dict[str, Any]:
    """JSON-LD compaction with the offline loader; bad or unknown contexts -> ValidationError."""
    try:
        result = jsonld.compact(document, context, {"documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        raise ValidationError(f"cannot compact the JSON-LD document: {_describe(exc)}") from exc
    return dict(result)


def _describe(error: BaseException) -> str:
    """The innermost message: pyld wraps the loader's refusal in a generic one."""
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error.args[0]) if error.args else type(error).__name__
