"""CSRF protection for our HTML forms: a signed hidden field bound to a cookie and to the
browser session.

The page sets a random nonce in a cookie and puts `nonce.time.mac` in a hidden field, the
MAC being an HMAC over the nonce, the time, what the form is about and the browser's
session (a hash of its session cookie, empty when signed out). Another site can neither
read the cookies nor forge the MAC, so a POST it makes carries no matching pair; and a
token taken from one session (say, the attacker's own, planted with a forged nonce
cookie) fails in any other.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "ourdesign_form"
# The browser session's cookie (web.browser signs people in with it).
SESSION_COOKIE = "ourdesign_session"
FIELD = "csrf_token"
LIFETIME_SECONDS = 3600
_SECRET_FILE = "form-secret.key"


@cache
def _secret(data_dir: Path) -> bytes:
    """The instance's secret, made on first use; shared by every process using data_dir.

    The secret is written whole to a file of this process's own and then linked into place,
    so another process never reads a half-written (empty) file; the first link wins.
    """
    directory = data_dir.resolve()
    path = directory / _SECRET_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        draft = directory / f".{_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(8)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    secret = path.read_bytes()
    if not secret:  # never sign with an empty key (left by a crash of an older version)
        raise RuntimeError(f"{path} is empty; delete it so that a new secret is made")
    return secret


def _mac(request: Request, nonce: str, issued: str, purpose: str) -> str:
    secret = _secret(request.app.state.instance.settings.data_dir)
    message = "\n".join((nonce, issued, purpose, _session_of(request))).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _session_of(request: Request) -> str:
    """What ties a token to this browser's session: its session cookie's hash ("" signed
    out). Hashed so that the secret itself never goes into another MAC input."""
    session = request.cookies.get(SESSION_COOKIE, "")
    return hashlib.sha256(session.encode()).hexdigest() if session else ""


def issue(request: Request, purpose: str) -> tuple[str, str]:
    """A (cookie nonce, hidden field value) pair for a form about `purpose`."""
    # All forms of one page share a new nonce: the page can set only one cookie.
    nonce = request.cookies.get(COOKIE) or request.scope.setdefault(
        "ourdesign.form_nonce", secrets.token_urlsafe(24)
    )
    issued = str(int(time.time()))
    return nonce, f"{nonce}.{issued}.{_mac(request, nonce, issued, purpose)}"


def set_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.instance.settings.scheme == "https",
    )


def is_valid(request: Request, field_value: str, purpose: str) -> bool:
    """Whether the posted field matches the cookie, the purpose and is recent."""
    nonce, _, rest = field_value.partition(".")
    issued, _, mac = rest.partition(".")
    cookie = request.cookies.get(COOKIE, "")
    if not (nonce and issued.isdigit() and mac and cookie):
        return False
    if not hmac.compare_digest(nonce, cookie):
        return False
    if time.time() - int(issued) > LIFETIME_SECONDS:
        return False
    return hmac.compare_digest(mac, _mac(request, nonce, issued, purpose))
