"""Body digests: the legacy `Digest` header (RFC 3230) and `Content-Digest` (RFC 9530).

Pure functions over headers and body; no I/O, no global state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Collection, Mapping

from http_sfv.dictionary import Dictionary
from http_sfv.item import Item

from federation.errors import DigestError

_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}

_HOW_TO = "send 'Digest: SHA-256=<base64 of the body's SHA-256>' (or an RFC 9530 Content-Digest)"


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased; values of names that differ only in case are joined by ', '."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def sha256_digest_header(body: bytes) -> str:
    """The legacy `Digest` header value: `SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` header value: `sha-256=:<base64>:`."""
    field = Dictionary()
    field["sha-256"] = hashlib.sha256(body).digest()
    return str(field)


def check_body_digest(headers: Mapping[str, str], body: bytes) -> None:
    """Check every known digest in `Digest` and `Content-Digest` against the body.

    Each digest header present must carry at least one SHA-256 or SHA-512 value, and
    all of them must match. Raises DigestError otherwise.
    """
    lowered = lower_headers(headers)
    if "digest" not in lowered and "content-digest" not in lowered:
        raise DigestError(f"Request has no Digest or Content-Digest header; {_HOW_TO} and sign it")
    if "digest" in lowered:
        _check_all("Digest", _parse_legacy(lowered["digest"]), body)
    if "content-digest" in lowered:
        _check_all("Content-Digest", _parse_content_digest(lowered["content-digest"]), body)


def check_signed_digest(
    covered: Collection[str], headers: Mapping[str, str], body: bytes, method: str, name: str
) -> None:
    """A request with a body must carry a digest header, sign it, and the digests must match.

    `covered` holds the signed header names; `name` is the digest header the sender should use.
    """
    lowered = lower_headers(headers)
    present: dict[str, str] = {h: lowered[h] for h in ("digest", "content-digest") if h in lowered}
    if not present:
        raise DigestError(f"{method} request has no {name!r} header; send the body digest, sign it")
    if not any(h in covered for h in present):
        raise DigestError(
            f"Signature does not sign the {name!r} header; {method} requests must sign it"
        )
    check_body_digest(present, body)


def _check_all(header: str, digests: list[tuple[str, bytes]], body: bytes) -> None:
    known = [(alg, value) for alg, value in digests if alg in _HASHES]
    if not known:
        raise DigestError(
            f"{header} header has no SHA-256 or SHA-512 value; {_HOW_TO}",
        )
    for alg, value in known:
        if not hmac.compare_digest(_HASHES[alg](body), value):
            raise DigestError(
                f"{header} {alg} value does not match the request body; compute the digest "
                "over the exact bytes you send, after any encoding"
            )


def _parse_legacy(value: str) -> list[tuple[str, bytes]]:
    digests: list[tuple[str, bytes]] = []
    for entry in value.split(","):
        alg, sep, encoded = entry.strip().partition("=")
        if not sep:
            raise DigestError(f"Digest header entry {entry.strip()!r} is malformed; {_HOW_TO}")
        alg = alg.strip().lower()
        if alg in _HASHES:
            digests.append((alg, _b64decode(encoded.strip(), "Digest")))
        else:
            digests.append((alg, b""))
    return digests


def _parse_content_digest(value: str) -> list[tuple[str, bytes]]:
    field = Dictionary()
    try:
        field.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise DigestError(
            "Content-Digest header is not a valid structured field; send 'sha-256=:<base64>:'"
        ) from exc
    digests: list[tuple[str, bytes]] = []
    for alg, member in field.items():
        if alg in _HASHES and not (isinstance(member, Item) and isinstance(member.value, bytes)):
            raise DigestError(
                f"Content-Digest {alg} value is not a byte sequence; send '{alg}=:<base64>:'"
            )
        value_bytes = member.value if isinstance(member, Item) else None
        digests.append((str(alg), value_bytes if isinstance(value_bytes, bytes) else b""))
    return digests


def _b64decode(encoded: str, header: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DigestError(f"{header} header value is not valid base64; {_HOW_TO}") from exc
