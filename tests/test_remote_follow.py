"""Remote follow is no open redirect: whatever a handle's WebFinger answer names, the
visitor sees a page of ours naming the destination and chooses to go there."""

from __future__ import annotations

from typing import Any

import httpx

from federation.webfinger import SUBSCRIBE_REL
from tests.test_web_browse import design
from tests.web_support import text_of


def _webfinger(template: str) -> Any:
    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/.well-known/webfinger":
            return None
        links = [{"rel": SUBSCRIBE_REL, "template": template}]
        return httpx.Response(200, json={"subject": "acct:x@evil.test", "links": links})

    return answer


async def test_a_hostile_subscribe_template_gets_a_confirmation_page(
    nodes: Any, network: Any
) -> None:
    a = await nodes("a.test")
    await nodes("evil.test")  # a real server, whose WebFinger answer is replaced
    alice, _ = await a.user("alice")
    await design(a, alice, "gearbox")
    for template in (
        "https://evil.test/login?next={uri}",  # the handle's own host: redirected before
        "https://phish.example/follow?uri={uri}",
        "https://evil.test@phish.example/?u={uri}",
    ):
        network.intercept["evil.test"] = _webfinger(template)
        async with a.client() as browser:
            shown = await browser.get(
                "/users/gearbox/remote-follow", params={"handle": "x@evil.test"}
            )
        assert shown.status_code == 200, shown.text[:300]
        assert "location" not in shown.headers
        host = httpx.URL(template.replace("{uri}", "u")).host
        assert f"Continue to {host}" in text_of(shown.text)
        assert "You are leaving" in text_of(shown.text)


async def test_a_template_that_is_no_web_address_is_refused(nodes: Any, network: Any) -> None:
    a = await nodes("a.test")
    await nodes("evil.test")  # a real server, whose WebFinger answer is replaced
    alice, _ = await a.user("alice")
    await design(a, alice, "gearbox")
    for template in ("javascript:alert(1)//{uri}", "//phish.example/{uri}", "data:text/html,{uri}"):
        network.intercept["evil.test"] = _webfinger(template)
        async with a.client() as browser:
            refused = await browser.get(
                "/users/gearbox/remote-follow", params={"handle": "x@evil.test"}
            )
        assert refused.status_code == 422 and "location" not in refused.headers
        assert "does not offer" in text_of(refused.text)
        assert template.split("{")[0] not in refused.text
