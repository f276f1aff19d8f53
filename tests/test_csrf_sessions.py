"""The CSRF token is bound to the browser session, not only to the form cookie.

An attacker who can plant a cookie in the victim's browser (a sibling subdomain, a
man-in-the-middle on plain http) plants their own form nonce and posts the token that goes
with it, taken from a page they opened in their own session: that token fails in the
victim's session, and nothing changes.
"""

from __future__ import annotations

from typing import Any

from actors.models import Follow
from tests.support import count
from tests.test_web_browse import design
from tests.web_support import csrf_for, signed_in_browser
from web.form_guard import COOKIE


async def test_a_token_from_another_session_is_refused(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    await design(a, alice, "gearbox")
    victim = await signed_in_browser(a, "carol")
    mallory = await signed_in_browser(a, "mallory")

    stolen = await csrf_for(mallory, "/users/gearbox", "/follow")
    planted = mallory.cookies.get(COOKIE)
    assert planted
    victim.cookies.set(COOKIE, planted, domain="a.test")
    forged = await victim.post("/follow", data=stolen)
    assert forged.status_code == 403 and "reload the page" in forged.text
    assert await count(a, Follow) == 0

    # The same token still works in the session it was made for ...
    done = await mallory.post("/follow", data=stolen)
    assert done.status_code == 303
    assert await count(a, Follow) == 1
    # ... and the victim's own page gives the victim a token that works for them.
    fields = await csrf_for(victim, "/users/gearbox", "/follow")
    assert (await victim.post("/follow", data=fields)).status_code == 303
    assert await count(a, Follow) == 2
