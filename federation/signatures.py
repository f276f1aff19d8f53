"""HTTP signatures: draft-cavage-http-signatures-12 and RFC 9421.

Pure functions over (method, url, headers, body); no I/O, no global state.
Parsing computes the exact bytes that were signed, policy checks need no key,
and verification needs only the sender's public key.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import partial
from typing import Literal
from urllib.parse import SplitResult, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item

from federation.digests import (
    check_signed_digest,
    content_digest_header,
    lower_headers,
    sha256_digest_header,
)
from federation.errors import SignatureError

Dialect = Literal["cavage", "rfc9421"]
_Added = dict[str, str]
_Fields = Mapping[str, str]

_RSA_ALGORITHMS = ("rsa-sha256", "hs2019", "rsa-v1_5-sha256")
_ED25519_ALGORITHMS = ("ed25519", "hs2019")
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*(?:,|$)')
_CAVAGE_FORMAT = 'keyId="...",algorithm="...",headers="...",signature="..."'
_BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class ParsedSignature:
    dialect: Dialect
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    signature: bytes
    signing_base: bytes
    created: int | None
    expires: int | None
    label: str | None


# --- parsing -------------------------------------------------------------------------------


def parse_signature(method: str, url: str, headers: Mapping[str, str]) -> ParsedSignature:
    """Parse the request's signature and compute the bytes it should sign.

    Uses RFC 9421 when `Signature-Input` is present (the first signature), cavage otherwise.
    """
    lowered = lower_headers(headers)
    if "signature-input" in lowered:
        return _parse_rfc9421(method, url, lowered)
    value = lowered.get("signature")
    auth = lowered.get("authorization", "")
    if value is None and auth[:10].lower() == "signature ":
        value = auth[10:]
    if value is None:
        raise SignatureError(
            "Request is not signed; sign it with an HTTP signature (draft-cavage or RFC 9421)"
        )
    return _parse_cavage(method, url, lowered, value)


def _parse_cavage(method: str, url: str, lowered: dict[str, str], value: str) -> ParsedSignature:
    params = _cavage_params(value)
    key_id, encoded = params.get("keyid"), params.get("signature")
    if not key_id or not encoded:
        raise SignatureError(f"Signature header lacks keyId or signature; send {_CAVAGE_FORMAT}")
    covered = tuple(params.get("headers", "date").lower().split())
    if not covered:
        raise SignatureError("Signature header has an empty headers list; sign at least 'date'")
    base = "\n".join(_cavage_line(name, method, url, lowered, params) for name in covered)
    # Unsigned created/expires parameters could be set by anyone who replays the request:
    # they count only when the signature covers them.
    created, expires = _cavage_time(params, "created"), _cavage_time(params, "expires")
    created = created if "(created)" in covered else None
    expires = expires if "(expires)" in covered else None
    signature = _b64decode(encoded)
    algorithm = params.get("algorithm")
    return ParsedSignature(
        "cavage", key_id, algorithm, covered, signature, base.encode(), created, expires, None
    )


def _cavage_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    value, pos = value.strip(), 0
    while pos < len(value):
        match = _CAVAGE_PARAM.match(value, pos)
        if match is None or match.end() == pos:
            raise SignatureError(
                f"Signature header is malformed near {value[pos : pos + 20]!r}; "
                f"send {_CAVAGE_FORMAT}"
            )
        name = match.group(1).lower()
        if name in params:
            raise SignatureError(f"Signature header repeats the {match.group(1)!r} parameter")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return params


def _cavage_time(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(float(params[name]))
    except (ValueError, OverflowError) as exc:
        raise SignatureError(f"Signature {name}={params[name]!r} is not a Unix time") from exc


def _cavage_line(
    name: str, method: str, url: str, lowered: Mapping[str, str], params: Mapping[str, str]
) -> str:
    if name == "(request-target)":
        return f"(request-target): {method.lower()} {_request_target(urlsplit(url))}"
    if name in ("(created)", "(expires)"):
        param = name[1:-1]
        if param not in params:
            raise SignatureError(f"Signature covers {name} but has no {param} parameter; add it")
        return f"{name}: {params[param]}"
    if name == "host":
        # The host this request was meant for is the one in `url` (for received requests,
        # our configured domain), never the Host header a replayer sends along.
        return f"host: {_authority(urlsplit(url))}"
    return f"{name}: {_header_value(name, lowered)}"


def _parse_rfc9421(method: str, url: str, lowered: dict[str, str]) -> ParsedSignature:
    inputs = _sf_dictionary(lowered["signature-input"], "Signature-Input")
    signatures = _sf_dictionary(lowered.get("signature", ""), "Signature")
    label = str(next(iter(inputs)))
    member, sig = inputs[label], signatures.get(label)
    if not isinstance(member, InnerList):
        raise SignatureError(f"Signature-Input {label!r} is not an inner list of components")
    if not (isinstance(sig, Item) and isinstance(sig.value, bytes)):
        raise SignatureError(f"Signature header has no byte sequence for label {label!r}")
    covered = _rfc9421_components(member)
    params = member.params
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError(f'Signature-Input {label!r} has no keyid parameter; add keyid="..."')
    alg = params.get("alg") if isinstance(params.get("alg"), str) else None
    base = _rfc9421_base(method, url, lowered, member)
    created, expires = _sf_int(params, "created"), _sf_int(params, "expires")
    return ParsedSignature(
        "rfc9421", key_id, alg, covered, sig.value, base, created, expires, label
    )


def _sf_dictionary(value: str, header: str) -> Dictionary:
    field = Dictionary()
    try:
        field.parse(value.encode("ascii"))
        if not field:
            raise ValueError("empty dictionary")
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(
            f"{header} header is missing or malformed; send it per RFC 9421"
        ) from exc
    return field


def _rfc9421_components(member: InnerList) -> tuple[str, ...]:
    names: list[str] = []
    for item in member:
        if not isinstance(item, Item) or type(item.value) is not str:
            raise SignatureError("Signature-Input components must be quoted strings")
        if item.params:
            raise SignatureError(f"Component {item.value!r} has parameters; they are unsupported")
        if item.value in names:
            raise SignatureError(f"Signature-Input lists component {item.value!r} twice")
        names.append(item.value)
    return tuple(names)


def _sf_int(params: Mapping[str, object], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SignatureError(f"Signature-Input {name} parameter must be an integer Unix time")
    return value


def _rfc9421_base(method: str, url: str, lowered: Mapping[str, str], member: InnerList) -> bytes:
    parts = urlsplit(url)
    lines = []
    for item in member:
        name = str(item.value)
        value = _derived(name, method, url, parts) if name.startswith("@") else None
        if value is None:
            value = _header_value(name, lowered)
        if "\n" in value or "\r" in value:
            raise SignatureError(f"Component {name!r} contains a line break")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {member}')
    return "\n".join(lines).encode("utf-8")


def _derived(name: str, method: str, url: str, parts: SplitResult) -> str:
    values = {
        "@method": method.upper(),
        "@target-uri": url,
        "@authority": _authority(parts),
        "@scheme": parts.scheme.lower(),
        "@request-target": _request_target(parts),
        "@path": parts.path or "/",
        "@query": "?" + parts.query,
    }
    if name not in values:
        raise SignatureError(f"Component {name!r} is not supported; use {', '.join(values)}")
    return values[name]


def _header_value(name: str, lowered: Mapping[str, str]) -> str:
    if name not in lowered:
        raise SignatureError(
            f"Signature covers the {name!r} header but the request has no such header; "
            "send every header you sign"
        )
    return lowered[name].strip()


def _authority(parts: SplitResult) -> str:
    host = parts.netloc.rpartition("@")[2].lower()
    default = {"http": ":80", "https": ":443"}.get(parts.scheme.lower())
    if default and host.endswith(default):
        host = host[: -len(default)]
    return host


def _request_target(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _b64decode(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("Signature value is not valid base64; encode it as base64") from exc


# --- policy --------------------------------------------------------------------------------


def check_signature_policy(
    parsed: ParsedSignature,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: float,
    window: int = 3600,
) -> None:
    """Checks that need no key: what must be covered, the body digest and the time window."""
    _check_coverage(parsed, method)
    if body or method.upper() in _BODY_METHODS:
        name = "digest" if parsed.dialect == "cavage" else "content-digest"
        check_signed_digest(parsed.covered, headers, body or b"", method.upper(), name)
    _check_times(parsed, lower_headers(headers), now, window)


def _check_coverage(parsed: ParsedSignature, method: str) -> None:
    covered = set(parsed.covered)
    if parsed.dialect == "cavage":
        if "(request-target)" not in covered:
            raise SignatureError(
                "Signature does not sign '(request-target)'; sign it to bind the method and path"
            )
        needs_host = "host" not in covered
    else:
        path = "@path" in covered or "@request-target" in covered
        if "@method" not in covered or not (
            "@target-uri" in covered or (path and "@authority" in covered)
        ):
            raise SignatureError(
                "Signature does not sign the request target; sign '@method' and '@target-uri' "
                "(or '@authority' and '@path')"
            )
        needs_host = not covered & {"@authority", "@target-uri"}
    if method.upper() in ("GET", "HEAD") and needs_host:
        name = "host" if parsed.dialect == "cavage" else "@authority"
        raise SignatureError(f"Signature does not sign {name!r}; GET requests must sign it")


def _check_times(
    parsed: ParsedSignature, lowered: Mapping[str, str], now: float, window: int
) -> None:
    if "date" not in parsed.covered and parsed.created is None:
        raise SignatureError(
            "Signature has neither a signed Date header nor a created time; sign the Date header"
        )
    if "date" in parsed.covered:
        _check_window("Date header", _parse_date(lowered.get("date", "")), now, window)
    if parsed.created is not None:
        _check_window("Signature created time", parsed.created, now, window)
    if parsed.expires is not None and now > parsed.expires:
        raise SignatureError(f"Signature expired at {parsed.expires}; sign the request again")


def _parse_date(value: str) -> float:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise SignatureError(f"Date {value!r} is not an HTTP date; use IMF-fixdate") from exc


def _check_window(what: str, stamp: float, now: float, window: int) -> None:
    if abs(now - stamp) > window:
        when = "in the future" if stamp > now else "old"
        raise SignatureError(
            f"{what} is {int(abs(now - stamp))}s {when} (allowed {window}s); sign with the "
            "current time and check your clock"
        )


# --- verification --------------------------------------------------------------------------


def verify_signature(parsed: ParsedSignature, public_key: PublicKeyTypes) -> None:
    """Verify the signature over `parsed.signing_base` with the sender's public key."""
    algorithm = (parsed.algorithm or "").lower()
    try:
        if isinstance(public_key, RSAPublicKey):
            _verify_rsa(parsed, algorithm, public_key)
        elif isinstance(public_key, Ed25519PublicKey):
            if algorithm and algorithm not in _ED25519_ALGORITHMS:
                raise _mismatch(parsed, "Ed25519")
            public_key.verify(parsed.signature, parsed.signing_base)
        else:
            raise SignatureError(
                f"Key {parsed.key_id} is neither RSA nor Ed25519; use one of those"
            )
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(
            f"Signature does not verify with key {parsed.key_id}; sign exactly the signing "
            "string for the headers you list, with the private key of that keyId"
        ) from exc


def _verify_rsa(parsed: ParsedSignature, algorithm: str, key: RSAPublicKey) -> None:
    if not algorithm or algorithm in _RSA_ALGORITHMS:
        key.verify(parsed.signature, parsed.signing_base, padding.PKCS1v15(), hashes.SHA256())
    elif algorithm == "rsa-pss-sha512" and parsed.dialect == "rfc9421":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
        key.verify(parsed.signature, parsed.signing_base, pss, hashes.SHA512())
    else:
        raise _mismatch(parsed, "RSA")


def _mismatch(parsed: ParsedSignature, kind: str) -> SignatureError:
    return SignatureError(
        f"Signature declares algorithm {parsed.algorithm!r} but key {parsed.key_id} is an "
        f"{kind} key; declare an algorithm that fits the key"
    )


# --- signing -------------------------------------------------------------------------------


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: float | None = None,
) -> dict[str, str]:
    """Headers to add to the request: Host, Date, Digest (with a body) and Signature."""
    _check_key_id(key_id)
    added = {"Host": _authority(urlsplit(url)), "Date": formatdate(now, usegmt=True)}
    if body is not None:
        added["Digest"] = sha256_digest_header(body)
    covered = ["(request-target)", "host", "date"] + (["digest"] if body is not None else [])
    if "content-type" in lower_headers(headers):
        covered.append("content-type")
    merged = {**lower_headers(headers), **lower_headers(added)}
    lines = [_cavage_line(name, method, url, merged, {}) for name in covered]
    signature = private_key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return added


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey | Ed25519PrivateKey,
    now: float | None = None,
) -> dict[str, str]:
    """Headers to add to the request: Content-Digest (with a body), Signature-Input, Signature."""
    _check_key_id(key_id)
    added: dict[str, str] = {}
    covered = ["@method", "@target-uri"]
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
        covered.append("content-digest")
        if "content-type" in lower_headers(headers):
            covered.append("content-type")
    member = InnerList(list(covered))
    member.params["created"] = int(time.time() if now is None else now)
    member.params["keyid"] = key_id
    rsa = isinstance(private_key, RSAPrivateKey)
    member.params["alg"] = "rsa-v1_5-sha256" if rsa else "ed25519"
    base = _rfc9421_base(method, url, {**lower_headers(headers), **lower_headers(added)}, member)
    if isinstance(private_key, RSAPrivateKey):
        signature = private_key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = private_key.sign(base)
    inputs, signatures = Dictionary(), Dictionary()
    inputs["sig1"] = member
    signatures["sig1"] = signature
    added["Signature-Input"] = str(inputs)
    added["Signature"] = str(signatures)
    return added


def _check_key_id(key_id: str) -> None:
    if not key_id or '"' in key_id or "\\" in key_id:
        raise ValueError(f"key id {key_id!r} cannot be put in a signature header")


# --- httpx integration ---------------------------------------------------------------------


class _SigningAuth(httpx.Auth):
    requires_request_body = True
    _sign: Callable[[str, str, _Fields, bytes | None], _Added]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body: bytes | None = request.content
        if request.method.upper() in ("GET", "HEAD") and not body:
            body = None
        request.headers.update(self._sign(request.method, str(request.url), request.headers, body))
        yield request


class CavageAuth(_SigningAuth):
    """Signs each request with a draft-cavage signature (rsa-sha256)."""

    def __init__(self, key_id: str, private_key: RSAPrivateKey) -> None:
        self._sign = partial(sign_cavage, key_id=key_id, private_key=private_key)


class RFC9421Auth(_SigningAuth):
    """Signs each request with an RFC 9421 signature (rsa-v1_5-sha256 or ed25519)."""

    def __init__(self, key_id: str, private_key: RSAPrivateKey | Ed25519PrivateKey) -> None:
        self._sign = partial(sign_rfc9421, key_id=key_id, private_key=private_key)
