"""Error types shared by every layer.

Each error carries an HTTP status and a message meant for the sender: what was
wrong and what to do about it.
"""

from __future__ import annotations


class FederationError(Exception):
    """Base error; `status` is the HTTP status a request handler should answer with."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries with the status (none unless a subclass says)."""
        return {}


class SignatureError(FederationError):
    """An HTTP signature is missing, malformed, stale or does not verify."""

    status = 401


class DigestError(SignatureError):
    """A body digest is missing, unsigned or does not match the body."""


class FetchError(FederationError):
    """A remote document could not be fetched or is not acceptable."""

    status = 502


class UnsafeURLError(FetchError):
    """A URL points at an address we refuse to contact (SSRF guard)."""

    status = 422


class OriginError(FederationError):
    """An id, actor and key do not belong to the same origin."""

    status = 403


class ValidationError(FederationError):
    """A document is malformed or lacks something required."""

    status = 422
