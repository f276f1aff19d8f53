"""HTTP signatures (draft-cavage and RFC 9421) and body digests."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from federation.digests import (
    check_body_digest,
    content_digest_header,
    sha256_digest_header,
)
from federation.errors import DigestError, SignatureError
from federation.signatures import (
    CavageAuth,
    ParsedSignature,
    RFC9421Auth,
    check_signature_policy,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify_signature,
)

NOW = 1_700_000_000.0
URL = "https://remote.example/users/alice/inbox?x=1"
KEY_ID = "https://origin.example/users/bob#main-key"
BODY = b'{"type": "Follow"}'
JSON = {"Content-Type": "application/activity+json"}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def accept(
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: rsa.RSAPublicKey | Ed25519PublicKey,
    now: float = NOW,
    url: str = URL,
) -> ParsedSignature:
    """What an inbox does: parse, apply the policy, verify."""
    parsed = parse_signature(method, url, headers)
    check_signature_policy(parsed, method, headers, body, now)
    verify_signature(parsed, key)
    return parsed


def signed_cavage(
    key: rsa.RSAPrivateKey, method: str = "POST", body: bytes | None = BODY
) -> dict[str, str]:
    headers = dict(JSON) if body is not None else {}
    return {**headers, **sign_cavage(method, URL, headers, body, KEY_ID, key, now=NOW)}


def hand_signed(
    key: rsa.RSAPrivateKey, params: str, headers: dict[str, str], method: str = "POST"
) -> dict[str, str]:
    """A cavage Signature header with arbitrary params, signed over the parsed signing string."""
    placeholder = {**headers, "Signature": f'{params},signature="AAAA"'}
    base = parse_signature(method, URL, placeholder).signing_base
    signature = base64.b64encode(key.sign(base, padding.PKCS1v15(), hashes.SHA256())).decode()
    return {**headers, "Signature": f'{params},signature="{signature}"'}


# --- draft-cavage --------------------------------------------------------------------------


def test_cavage_post_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_cavage(rsa_key)
    assert headers["Host"] == "remote.example"
    assert headers["Date"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert headers["Digest"] == sha256_digest_header(BODY)
    parsed = accept("POST", headers, BODY, rsa_key.public_key())
    assert parsed.dialect == "cavage"
    assert parsed.key_id == KEY_ID
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.covered == ("(request-target)", "host", "date", "digest", "content-type")
    assert parsed.label is None
    assert (
        parsed.signing_base
        == (
            "(request-target): post /users/alice/inbox?x=1\n"
            "host: remote.example\n"
            "date: Tue, 14 Nov 2023 22:13:20 GMT\n"
            f"digest: {sha256_digest_header(BODY)}\n"
            "content-type: application/activity+json"
        ).encode()
    )


def test_cavage_get_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_cavage(rsa_key, "GET", None)
    assert "Digest" not in headers
    parsed = accept("GET", headers, None, rsa_key.public_key())
    assert parsed.covered == ("(request-target)", "host", "date")
    assert parsed.signing_base.startswith(b"(request-target): get /users/alice/inbox?x=1\n")


def test_headers_are_case_insensitive(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {k.upper(): v for k, v in signed_cavage(rsa_key).items()}
    accept("POST", headers, BODY, rsa_key.public_key())
    accept("POST", httpx.Headers(signed_cavage(rsa_key)), BODY, rsa_key.public_key())


def test_cavage_non_default_port_in_host(rsa_key: rsa.RSAPrivateKey) -> None:
    url = "http://remote.example:8080/inbox"
    headers = sign_cavage("GET", url, {}, None, KEY_ID, rsa_key, now=NOW)
    assert headers["Host"] == "remote.example:8080"
    assert sign_cavage("GET", "https://a.example:443/", {}, None, KEY_ID, rsa_key)["Host"] == (
        "a.example"
    )
    accept("GET", headers, None, rsa_key.public_key(), url=url)


def test_hs2019_with_rsa_key_and_created(rsa_key: rsa.RSAPrivateKey) -> None:
    params = (
        f'keyId="{KEY_ID}",algorithm="hs2019",created={int(NOW)},expires={int(NOW) + 300},'
        'headers="(request-target) (created) (expires) host digest"'
    )
    base = {"Host": "remote.example", "Digest": sha256_digest_header(BODY)}
    headers = hand_signed(rsa_key, params, base)
    parsed = accept("POST", headers, BODY, rsa_key.public_key())
    assert parsed.algorithm == "hs2019"
    assert parsed.created == int(NOW)
    assert parsed.expires == int(NOW) + 300
    assert b"\n(created): 1700000000\n(expires): 1700000300\n" in parsed.signing_base


def test_authorization_signature_header_is_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_cavage(rsa_key, "GET", None)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    accept("GET", headers, None, rsa_key.public_key())


def test_default_covered_header_is_date(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {"Date": "Tue, 14 Nov 2023 22:13:20 GMT", "Signature": 'keyId="k",signature="AAAA"'}
    parsed = parse_signature("GET", URL, headers)
    assert parsed.covered == ("date",)
    assert parsed.signing_base == b"date: Tue, 14 Nov 2023 22:13:20 GMT"


# --- RFC 9421 ------------------------------------------------------------------------------


def test_rfc9421_rsa_post_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_rfc9421("POST", URL, JSON, BODY, KEY_ID, rsa_key, now=NOW)
    assert added["Content-Digest"] == content_digest_header(BODY)
    assert added["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest" "content-type")'
        f';created=1700000000;keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    parsed = accept("POST", {**JSON, **added}, BODY, rsa_key.public_key())
    assert parsed.dialect == "rfc9421"
    assert parsed.label == "sig1"
    assert parsed.covered == ("@method", "@target-uri", "content-digest", "content-type")
    assert parsed.created == 1_700_000_000
    assert parsed.signing_base.decode().splitlines() == [
        '"@method": POST',
        f'"@target-uri": {URL}',
        f'"content-digest": {content_digest_header(BODY)}',
        '"content-type": application/activity+json',
        f'"@signature-params": {added["Signature-Input"].removeprefix("sig1=")}',
    ]


def test_rfc9421_ed25519_round_trip(ed_key: Ed25519PrivateKey) -> None:
    added = sign_rfc9421("POST", URL, JSON, BODY, KEY_ID, ed_key, now=NOW)
    parsed = accept("POST", {**JSON, **added}, BODY, ed_key.public_key())
    assert parsed.algorithm == "ed25519"
    get = sign_rfc9421("GET", URL, {}, None, KEY_ID, ed_key, now=NOW)
    assert "Content-Digest" not in get
    accept("GET", get, None, ed_key.public_key())


def test_rfc9421_uses_the_first_signature(ed_key: Ed25519PrivateKey) -> None:
    added = sign_rfc9421("GET", URL, {}, None, KEY_ID, ed_key, now=NOW)
    added["Signature-Input"] += ', sig2=("@method");created=1;keyid="other"'
    added["Signature"] += ", sig2=:AAAA:"
    assert accept("GET", added, None, ed_key.public_key()).label == "sig1"


def test_rfc9421_derived_components(ed_key: Ed25519PrivateKey) -> None:
    url = "HTTPS://Remote.Example:443/a%20b/c"
    names = '"@method" "@authority" "@scheme" "@path" "@query" "@request-target"'
    headers = {"Signature-Input": f'x=({names});created=5;keyid="k"', "Signature": "x=:AAAA:"}
    parsed = parse_signature("get", url, headers)
    assert parsed.signing_base.decode().splitlines()[:6] == [
        '"@method": GET',
        '"@authority": remote.example',
        '"@scheme": https',
        '"@path": /a%20b/c',
        '"@query": ?',
        '"@request-target": /a%20b/c',
    ]


# RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2.6 (Signing a Request Using ed25519).
RFC9421_ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC9421_TEST_REQUEST = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNy"
    "ealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
    "Signature-Input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"',
    "Signature": "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQ"
    "v5lIp5WPpBKRCw==:",
}
RFC9421_B26_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    b'"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def test_rfc9421_appendix_b26_known_answer() -> None:
    key = serialization.load_pem_public_key(RFC9421_ED25519_PUBLIC)
    url = "https://example.com/foo?param=Value&Pet=dog"
    parsed = parse_signature("POST", url, RFC9421_TEST_REQUEST)
    assert parsed.label == "sig-b26"
    assert parsed.key_id == "test-key-ed25519"
    assert parsed.algorithm is None
    assert parsed.signing_base == RFC9421_B26_BASE
    verify_signature(parsed, key)
    # The test-request body and its published Content-Digest (sha-512).
    check_body_digest(RFC9421_TEST_REQUEST, b'{"hello": "world"}')
    with pytest.raises(SignatureError):
        verify_signature(parse_signature("PUT", url, RFC9421_TEST_REQUEST), key)


# --- rejections ----------------------------------------------------------------------------


def test_body_changed_after_signing(rsa_key: rsa.RSAPrivateKey, ed_key: Ed25519PrivateKey) -> None:
    with pytest.raises(DigestError, match="does not match"):
        accept("POST", signed_cavage(rsa_key), b'{"type": "Block"}', rsa_key.public_key())
    added = sign_rfc9421("POST", URL, JSON, BODY, KEY_ID, ed_key, now=NOW)
    with pytest.raises(DigestError):
        accept("POST", {**JSON, **added}, BODY + b" ", ed_key.public_key())


def test_header_changed_after_signing(
    rsa_key: rsa.RSAPrivateKey, ed_key: Ed25519PrivateKey
) -> None:
    headers = {**signed_cavage(rsa_key), "Content-Type": "text/html"}
    with pytest.raises(SignatureError, match="does not verify"):
        accept("POST", headers, BODY, rsa_key.public_key())
    added = sign_rfc9421("POST", URL, JSON, BODY, KEY_ID, ed_key, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        accept("POST", {**added, "Content-Type": "text/plain"}, BODY, ed_key.public_key())
    with pytest.raises(SignatureError, match="does not verify"):
        accept("POST", {**JSON, **added}, BODY, ed_key.public_key(), url=URL + "&y=2")


def test_missing_digest_on_post(rsa_key: rsa.RSAPrivateKey) -> None:
    params = f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date"'
    headers = {"Host": "remote.example", "Date": "Tue, 14 Nov 2023 22:13:20 GMT"}
    with pytest.raises(DigestError, match="no 'digest' header"):
        accept("POST", hand_signed(rsa_key, params, headers), BODY, rsa_key.public_key())


def test_post_signature_must_cover_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    params = f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date"'
    headers = {
        "Host": "remote.example",
        "Date": "Tue, 14 Nov 2023 22:13:20 GMT",
        "Digest": sha256_digest_header(BODY),
    }
    with pytest.raises(DigestError, match="does not sign the 'digest' header"):
        accept("POST", hand_signed(rsa_key, params, headers), BODY, rsa_key.public_key())


def test_rfc9421_post_must_cover_content_digest(ed_key: Ed25519PrivateKey) -> None:
    added = sign_rfc9421("POST", URL, {}, None, KEY_ID, ed_key, now=NOW)
    headers = {**added, "Content-Digest": content_digest_header(BODY)}
    with pytest.raises(DigestError, match="'content-digest'"):
        accept("POST", headers, BODY, ed_key.public_key())


@pytest.mark.parametrize("skew", [-3601, 3601])
def test_date_outside_window(rsa_key: rsa.RSAPrivateKey, skew: int) -> None:
    headers = signed_cavage(rsa_key)
    with pytest.raises(SignatureError, match="future" if skew < 0 else "old"):
        accept("POST", headers, BODY, rsa_key.public_key(), now=NOW + skew)
    accept("POST", headers, BODY, rsa_key.public_key(), now=NOW + skew - (1 if skew > 0 else -1))


@pytest.mark.parametrize("skew", [-3601, 3601])
def test_created_outside_window(ed_key: Ed25519PrivateKey, skew: int) -> None:
    added = sign_rfc9421("GET", URL, {}, None, KEY_ID, ed_key, now=NOW)
    with pytest.raises(SignatureError, match="created"):
        accept("GET", added, None, ed_key.public_key(), now=NOW + skew)


def test_expired_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    params = (
        f'keyId="{KEY_ID}",algorithm="hs2019",created={int(NOW)},expires={int(NOW) + 60},'
        'headers="(request-target) (created) (expires) host"'
    )
    headers = hand_signed(rsa_key, params, {"Host": "remote.example"}, "GET")
    accept("GET", headers, None, rsa_key.public_key(), now=NOW + 60)
    with pytest.raises(SignatureError, match="expired"):
        accept("GET", headers, None, rsa_key.public_key(), now=NOW + 61)


def test_signature_without_date_or_created(rsa_key: rsa.RSAPrivateKey) -> None:
    params = f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host"'
    headers = hand_signed(rsa_key, params, {"Host": "remote.example"}, "GET")
    with pytest.raises(SignatureError, match="sign the Date header"):
        accept("GET", headers, None, rsa_key.public_key())


def test_get_must_cover_host(rsa_key: rsa.RSAPrivateKey, ed_key: Ed25519PrivateKey) -> None:
    params = f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) date"'
    headers = hand_signed(rsa_key, params, {"Date": "Tue, 14 Nov 2023 22:13:20 GMT"}, "GET")
    with pytest.raises(SignatureError, match="'host'"):
        accept("GET", headers, None, rsa_key.public_key())
    sig_input = 'sig1=("@method" "@path");created=1700000000;keyid="k"'
    parsed = parse_signature("GET", URL, {"Signature-Input": sig_input, "Signature": "sig1=:AA==:"})
    with pytest.raises(SignatureError, match="request target"):
        check_signature_policy(parsed, "GET", {}, None, NOW)


def test_cavage_must_cover_request_target(rsa_key: rsa.RSAPrivateKey) -> None:
    params = f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="host date"'
    headers = {"Host": "remote.example", "Date": "Tue, 14 Nov 2023 22:13:20 GMT"}
    with pytest.raises(SignatureError, match="request-target"):
        accept("GET", hand_signed(rsa_key, params, headers, "GET"), None, rsa_key.public_key())


def test_wrong_key(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey, ed_key: Ed25519PrivateKey
) -> None:
    with pytest.raises(SignatureError, match=f"does not verify with key {KEY_ID}"):
        accept("POST", signed_cavage(rsa_key), BODY, other_rsa_key.public_key())
    added = sign_rfc9421("GET", URL, {}, None, KEY_ID, ed_key, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        accept("GET", added, None, Ed25519PrivateKey.generate().public_key())


def test_algorithm_key_mismatch(rsa_key: rsa.RSAPrivateKey, ed_key: Ed25519PrivateKey) -> None:
    ed_signed = sign_rfc9421("GET", URL, {}, None, KEY_ID, ed_key, now=NOW)
    with pytest.raises(SignatureError, match="declares algorithm 'ed25519'"):
        accept("GET", ed_signed, None, rsa_key.public_key())
    rsa_signed = sign_rfc9421("GET", URL, {}, None, KEY_ID, rsa_key, now=NOW)
    with pytest.raises(SignatureError, match="declares algorithm 'rsa-v1_5-sha256'"):
        accept("GET", rsa_signed, None, ed_key.public_key())


def test_rfc9421_rsa_pss_sha512(rsa_key: rsa.RSAPrivateKey) -> None:
    sig_input = 'sig1=("@method" "@target-uri");created=1700000000;keyid="k";alg="rsa-pss-sha512"'
    headers = {"Signature-Input": sig_input, "Signature": "sig1=:AA==:"}
    base = parse_signature("GET", URL, headers).signing_base
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    signature = base64.b64encode(rsa_key.sign(base, pss, hashes.SHA512())).decode()
    accept("GET", {**headers, "Signature": f"sig1=:{signature}:"}, None, rsa_key.public_key())


DATE = {"Date": "Tue, 14 Nov 2023 22:13:20 GMT"}
SIG_OK = "sig1=:AAAA:"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "not signed"),
        ({"Signature": "garbage"}, "malformed near 'garbage'"),
        ({"Signature": 'keyId="k",signature="AAAA'}, "malformed"),
        ({"Signature": 'keyId="k"'}, "lacks keyId or signature"),
        ({"Signature": 'keyId="k",signature="not base64!"', **DATE}, "not valid base64"),
        ({"Signature": 'keyId="k",keyId="j",signature="AAAA"'}, "repeats the 'keyId'"),
        ({"Signature": 'keyId="k",headers="",signature="AAAA"'}, "empty headers list"),
        ({"Signature": 'keyId="k",headers="(created)",signature="AAAA"'}, "no created param"),
        ({"Signature": 'keyId="k",created=soon,signature="AAAA"', **DATE}, "not a Unix time"),
        ({"Signature": 'keyId="k",headers="date x-missing",signature="AAAA"', **DATE}, "x-miss"),
        ({"Signature-Input": 'sig1=("@method");keyid="k"'}, "Signature header is missing"),
        ({"Signature-Input": "sig1=(", "Signature": SIG_OK}, "Signature-Input header is"),
        ({"Signature-Input": "", "Signature": SIG_OK}, "Signature-Input header is"),
        ({"Signature-Input": 'sig1="@method";keyid="k"', "Signature": SIG_OK}, "inner list"),
        ({"Signature-Input": 'sig1=("@method")', "Signature": SIG_OK}, "no keyid"),
        ({"Signature-Input": 'sig1=("@method");keyid="k"', "Signature": "sig2=:AA==:"}, "label"),
        ({"Signature-Input": 'sig1=("@method");keyid="k"', "Signature": 'sig1="AA"'}, "byte seq"),
        ({"Signature-Input": 'sig1=(method);keyid="k"', "Signature": SIG_OK}, "quoted strings"),
        ({"Signature-Input": 'sig1=("@status");keyid="k"', "Signature": SIG_OK}, "not supported"),
        ({"Signature-Input": 'sig1=("a" "a");keyid="k"', "Signature": SIG_OK, "A": "1"}, "twice"),
        ({"Signature-Input": 'sig1=("a";sf);keyid="k"', "Signature": SIG_OK, "A": "1"}, "param"),
        ({"Signature-Input": 'sig1=();keyid="k";created="x"', "Signature": SIG_OK}, "integer"),
        ({"Signature-Input": 'sig1=("date");keyid="k"', "Signature": SIG_OK}, "no such header"),
    ],
)
def test_malformed_signatures_raise_signature_error(headers: dict[str, str], message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        parse_signature("GET", URL, headers)


def test_unsigned_request_message() -> None:
    with pytest.raises(SignatureError, match="Request is not signed") as info:
        parse_signature("GET", URL, {"Host": "a"})
    assert info.value.status == 401


def test_malformed_date_is_signature_error(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {**signed_cavage(rsa_key, "GET", None), "Date": "yesterday"}
    parsed = parse_signature("GET", URL, headers)
    with pytest.raises(SignatureError, match="not an HTTP date"):
        check_signature_policy(parsed, "GET", headers, None, NOW)


# --- digests -------------------------------------------------------------------------------


def test_digest_known_answers() -> None:
    body = b'{"hello": "world"}'
    assert sha256_digest_header(body) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    assert content_digest_header(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


@pytest.mark.parametrize(
    "headers",
    [
        {"digest": sha256_digest_header(BODY)},
        {"DIGEST": f"{sha256_digest_header(BODY)}, MD5=abc"},
        {"Digest": "unknown=abc, " + sha256_digest_header(BODY).replace("SHA-256", "sha-256")},
        {"Content-Digest": content_digest_header(BODY)},
        {"Content-Digest": f"md5=:AAAA:, {content_digest_header(BODY)}"},
    ],
)
def test_check_body_digest_accepts(headers: dict[str, str]) -> None:
    check_body_digest(headers, BODY)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "no Digest or Content-Digest"),
        ({"Digest": "MD5=abc"}, "no SHA-256 or SHA-512"),
        ({"Digest": "SHA-256=not*base64"}, "not valid base64"),
        ({"Digest": "nonsense"}, "malformed"),
        ({"Digest": sha256_digest_header(b"other")}, "does not match"),
        ({"Content-Digest": "md5=:AAAA:"}, "no SHA-256 or SHA-512"),
        ({"Content-Digest": "sha-256=abc"}, "not a byte sequence"),
        ({"Content-Digest": "sha-256=:"}, "not a valid structured field"),
        (
            {"Digest": sha256_digest_header(BODY), "Content-Digest": content_digest_header(b"x")},
            "does not match",
        ),
        ({"Digest": "MD5=abc", "Content-Digest": content_digest_header(BODY)}, "no SHA-256"),
    ],
)
def test_check_body_digest_rejects(headers: dict[str, str], message: str) -> None:
    with pytest.raises(DigestError, match=message):
        check_body_digest(headers, BODY)


# --- httpx auth ----------------------------------------------------------------------------


@pytest.mark.parametrize("make_auth", ["cavage", "rsa9421", "ed9421"])
def test_httpx_auth(make_auth: str, rsa_key: rsa.RSAPrivateKey, ed_key: Ed25519PrivateKey) -> None:
    auths: dict[str, Callable[[], httpx.Auth]] = {
        "cavage": lambda: CavageAuth(KEY_ID, rsa_key),
        "rsa9421": lambda: RFC9421Auth(KEY_ID, rsa_key),
        "ed9421": lambda: RFC9421Auth(KEY_ID, ed_key),
    }
    public = ed_key.public_key() if make_auth == "ed9421" else rsa_key.public_key()
    seen: list[ParsedSignature] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content if request.method == "POST" else None
        parsed = parse_signature(request.method, str(request.url), request.headers)
        check_signature_policy(parsed, request.method, request.headers, body, time.time())
        verify_signature(parsed, public)
        seen.append(parsed)
        return httpx.Response(202)

    with httpx.Client(auth=auths[make_auth](), transport=httpx.MockTransport(handler)) as client:
        client.post(URL, content=BODY, headers=JSON).raise_for_status()
        client.get(URL).raise_for_status()
    assert len(seen) == 2
