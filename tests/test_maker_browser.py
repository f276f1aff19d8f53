"""A maker's pages in headless Chromium, on two real servers: a broken upload refused on the
form, a new version started from the latest one, every error a page with the menu, and
no page that scrolls sideways on a 360 px phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from tests.browser import chromium
from tests.live import live_server, wait_for
from tests.test_design_federation import tiny_png
from tests.test_web_browser import WAIT_MS, cube_stl, publish, sign_up

PHONE = {"width": 360, "height": 740}
LONG_WORD = "https://example.org/" + "a-very-long-path-without-any-break-" * 6


async def scroll_width(page: Any, url: str) -> int:
    await page.goto(url)
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


async def refused_upload(page: Any, base: str) -> None:
    """A text file named .stl: the form says why, and nothing is published."""
    await page.goto(f"{base}/publish")
    await page.fill("input[name=name]", "Notes")
    await page.set_input_files(
        "input[name=files]",
        files=[{"name": "notes.stl", "mimeType": "model/stl", "buffer": b"just some text\n"}],
    )
    await page.click("#publish-button")
    alert = page.locator("#publish-error")
    await alert.wait_for(timeout=WAIT_MS)
    assert "notes.stl cannot be read as STL" in await alert.inner_text()
    assert page.url == f"{base}/publish"


async def new_version(page: Any, version_url: str) -> str:
    """From the version page, "Publish a new version": the form starts from version 1."""
    await page.goto(version_url)
    await page.click("a#new-version")
    await page.wait_for_url(re.compile(r".*/publish$"), timeout=WAIT_MS)
    assert "**hitch**" in await page.input_value("textarea[name=description]")
    assert await page.input_value("input[name=tags]") == "bicycle, trailer"
    assert await page.locator("input[name=keep]").is_checked()
    await page.fill("input[name=label]", "1.1")
    await page.fill("textarea[name=changelog]", "A longer drawbar.")
    await page.set_input_files(
        "input[name=previews]",
        files=[{"name": "trailer.png", "mimeType": "image/png", "buffer": tiny_png()}],
    )
    await page.click("#publish-button")
    await page.wait_for_url(re.compile(r".*/versions/2$"), timeout=WAIT_MS)
    assert "A longer drawbar." in await page.locator("#changelog").inner_text()
    assert await page.locator("table.files a", has_text="hitch.stl").count() == 1
    return str(page.url)


async def test_maker_pages_in_a_browser(new_database: Any, tmp_path: Path) -> None:
    async with (
        live_server(await new_database(), tmp_path / "a", registration_mode="open") as a,
        live_server(await new_database(), tmp_path / "b", registration_mode="open") as b,
        chromium() as browser,
    ):
        base_a, base_b = f"http://{a.domain}", f"http://{b.domain}"
        maker = await browser.new_context(viewport={"width": 1000, "height": 900})
        page = await maker.new_page()
        await sign_up(page, base_a, "alice")
        await refused_upload(page, base_a)
        first = await publish(page, base_a, "Bike trailer")
        # Someone on the second server follows the project, so version 2 travels there.
        _, bob_token = await b.user("bob")
        async with httpx.AsyncClient(base_url=base_b) as client:
            follow = await client.post(
                "/api/v1/follows",
                json={"target": f"@bike_trailer@{a.domain}"},
                headers={"Authorization": f"Bearer {bob_token}"},
            )
        assert follow.status_code == 202, follow.text
        second = await new_version(page, first)

        async def shown_on_b() -> str | None:
            async with httpx.AsyncClient(base_url=base_b) as client:
                home = await client.get("/", headers={"Accept": "text/html"})
            found = re.search(r'href="(/designs/[0-9]+)"', home.text)
            return found[1] if found and "Bike trailer" in home.text else None

        remote_design = await wait_for(shown_on_b, seconds=30)

        # A comment with a long unbroken link, to see it wrap on a phone.
        await page.fill("#comment-form textarea[name=content]", f"Fits well {LONG_WORD} #trailer")
        await page.click("#comment-form [type=submit]")
        await page.wait_for_url(re.compile(r".*#comment-\d+$"), timeout=WAIT_MS)
        link = page.locator("#comments a.hashtag")
        assert await link.inner_text() == "#trailer"
        reply = await page.locator("#comments a.reply").first.get_attribute("href") or ""
        note_url = unquote(reply.split("reply_to=", 1)[1].split("#", 1)[0])

        # An unknown address is a page in the layout, with the signed-in menu.
        missing = await page.goto(f"{base_a}/no/such/page")
        assert missing is not None and missing.status == 404
        assert await page.locator("h1").inner_text() == "Not found"
        assert "@alice" in await page.locator("header.site nav").inner_text()

        # Phones: no page scrolls sideways at 360 px, signed in and not.
        project = first.rsplit("/versions/", 1)[0]
        signed_in = [
            "/", "/search?q=trailer", "/users/alice", project, first, second,
            f"{project}/lineage", "/publish", f"{project.removeprefix(base_a)}/publish",
            f"/fork?from={first}", "/settings", "/settings/tokens", "/about", "/no/such/page",
            note_url,
        ]  # fmt: skip
        phone = await browser.new_context(viewport=PHONE, storage_state=await maker.storage_state())
        on_phone = await phone.new_page()
        for path in signed_in:
            url = path if path.startswith("http") else f"{base_a}{path}"
            assert await scroll_width(on_phone, url) <= PHONE["width"], url
        visitor = await (await browser.new_context(viewport=PHONE)).new_page()
        for url in (
            f"{base_a}/sign-in", f"{base_a}/sign-up", second, project,
            f"{base_b}/", f"{base_b}/authorize_interaction?uri={second}", f"{base_b}/sign-in",
            f"{base_b}{remote_design}",
        ):  # fmt: skip
            assert await scroll_width(visitor, url) <= PHONE["width"], url

        # On the version page the licence comes before the pictures, the digests are folded.
        await on_phone.goto(second)
        tops = await on_phone.evaluate(
            "['section.licence', 'section.gallery', 'table.files'].map("
            "s => document.querySelector(s).getBoundingClientRect().top)"
        )
        assert tops[0] < tops[1] < tops[2], tops
        verify = on_phone.locator("details.verify")
        assert await verify.get_attribute("open") is None
        assert not await on_phone.locator("details.verify code").first.is_visible()
        await on_phone.click("details.verify summary")
        assert await on_phone.locator("details.verify code").first.is_visible()
        assert await scroll_width(on_phone, second) <= PHONE["width"]
        await phone.close()
        await maker.close()


WEIGHT = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const early = resources.filter((r) => r.startTime < nav.loadEventStart);
  const sum = (list) => list.reduce((total, r) => total + r.transferSize, 0);
  return {
    before: nav.transferSize + sum(early),
    all: nav.transferSize + sum(resources),
    requests: 1 + resources.length,
    names: resources.map((r) => r.name),
  };
}"""


async def test_the_version_page_is_light_and_loads_only_its_loader(
    new_database: Any, tmp_path: Path
) -> None:
    async with (
        live_server(await new_database(), tmp_path / "a") as a,
        chromium() as browser,
    ):
        _, token = await a.user("alice")
        async with httpx.AsyncClient(base_url=f"http://{a.domain}") as client:
            auth = {"Authorization": f"Bearer {token}"}
            made = await client.post("/api/v1/designs", json={"slug": "hitch"}, headers=auth)
            assert made.status_code == 201, made.text
            published = await client.post(
                "/api/v1/designs/hitch/versions",
                data={"licence": "CERN-OHL-S-2.0", "description": "A hitch. " * 200},
                files=[
                    ("files", ("hitch.stl", cube_stl(), "model/stl")),
                    ("previews", ("hitch.png", tiny_png(), "image/png")),
                ],
                headers=auth,
            )
            assert published.status_code == 201, published.text
        context = await browser.new_context(viewport={"width": 1000, "height": 900})
        page = await context.new_page()
        await page.goto(published.json()["id"])
        await page.locator("#viewer[data-rendered=yes]").wait_for(state="attached", timeout=WAIT_MS)
        weight = await page.evaluate(WEIGHT)
        print(f"version page: {weight['before']} bytes before the viewer starts,"
              f" {weight['all']} bytes in {weight['requests']} requests with it")  # fmt: skip
        assert weight["before"] < 1_000_000, weight
        loaders = [name.rsplit("/", 1)[-1].split(".")[0] for name in weight["names"]]
        assert "STLLoader" in loaders and "three" in loaders
        assert "GLTFLoader" not in loaders and "OBJLoader" not in loaders
        # Loaded again, everything hashed comes from the cache: only the page travels.
        await page.reload()
        await page.locator("#viewer[data-rendered=yes]").wait_for(state="attached", timeout=WAIT_MS)
        again = await page.evaluate(WEIGHT)
        print(f"version page again: {again['all']} bytes")
        assert again["all"] < weight["all"] / 5, again
        await context.close()
