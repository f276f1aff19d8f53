"""The web interface as people use it: headless Chromium against real servers on loopback.

One maker signs up, publishes a design with an STL file, sees it in 3D and as a
thumbnail, forks it (first with a licence the rules refuse, then with one they allow),
comments, and looks at the lineage; someone on a second instance follows the project
from there.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from tests.browser import chromium, share_unlike
from tests.live import live_server, wait_for

WAIT_MS = 15_000
PASSWORD = "a long enough password"


def cube_stl(size: float = 20.0) -> bytes:
    """A binary STL of a cube: 12 triangles."""
    s = size
    corners = [(x, y, z) for x in (0, s) for y in (0, s) for z in (0, s)]
    faces = [
        (0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
        (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3),
    ]  # fmt: skip
    body = b"".join(
        struct.pack("<3f", 0, 0, 0)
        + b"".join(struct.pack("<3f", *corners[i]) for i in face)
        + b"\0\0"
        for face in faces
    )
    return b"solid cube".ljust(80, b" ") + struct.pack("<I", len(faces)) + body


async def sign_up(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/sign-up")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=email]", f"{username}@example.org")
    await page.fill("input[name=password]", PASSWORD)
    await page.check("input[name=agreement]")
    await page.click("form[action='/sign-up'] [type=submit]")
    await page.wait_for_url(f"{base}/", timeout=WAIT_MS)
    assert await page.locator("form[action='/sign-out']").count() == 1


async def choose_licence(page, licence: str) -> None:  # type: ignore[no-untyped-def]
    """Pick `licence` in the chooser: a listed choice, else the free SPDX field."""
    listed = page.locator(f"input[name=licence][value='{licence}']")
    if await listed.count():
        await listed.check()
    else:
        await page.check("input[name=licence][value=other]")
        await page.fill("input[name=licence_other]", licence)


async def publish(page, base: str, name: str) -> str:  # type: ignore[no-untyped-def]
    """Publish a design with an STL file through the form; the version page's URL."""
    await page.goto(f"{base}/publish")
    await page.fill("input[name=name]", name)
    await page.fill("textarea[name=description]", "A **hitch** for a bicycle trailer.")
    await page.fill("input[name=tags]", "bicycle, trailer")
    await page.set_input_files(
        "input[name=files]",
        files=[{"name": "hitch.stl", "mimeType": "model/stl", "buffer": cube_stl()}],
    )
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.resource_type)
            if request.method == "POST" and request.url.endswith("/publish")
            else None
        ),
    )
    await page.click("#publish-button")
    await page.wait_for_url(re.compile(r".*/versions/1$"), timeout=WAIT_MS)
    assert sent == ["xhr"], "the files go up through the script that shows the progress"
    return str(page.url)


async def test_make_fork_comment_and_follow_in_a_browser(new_database, tmp_path: Path) -> None:
    async with (
        live_server(await new_database(), tmp_path / "a", registration_mode="open") as a,
        live_server(await new_database(), tmp_path / "b", registration_mode="open") as b,
        chromium() as browser,
    ):
        base_a, base_b = f"http://{a.domain}", f"http://{b.domain}"
        maker = await browser.new_context(viewport={"width": 1000, "height": 900})
        page = await maker.new_page()
        await sign_up(page, base_a, "alice")

        version_url = await publish(page, base_a, "Bike trailer")
        assert await page.locator("span.badge").count() >= 1
        assert await page.locator("table.files").inner_text() != ""

        # The 3D viewer draws the model: its canvas is not blank.
        canvas = page.locator("#viewer canvas")
        await canvas.wait_for(timeout=WAIT_MS)
        # A locator, not wait_for_function: the viewer starts after the page has loaded, and
        # the function's polling would evaluate a string, which the page's CSP forbids.
        await page.locator("#viewer[data-rendered=yes]").wait_for(state="attached", timeout=WAIT_MS)
        assert share_unlike(await canvas.screenshot()) > 0.02

        # The worker makes the thumbnail; the page shows it once made.
        async def thumbnail_shown() -> bool:
            await page.goto(version_url)
            image = page.locator("img.thumbnail")
            if not await image.count():
                return False
            return bool(await image.evaluate("img => img.complete && img.naturalWidth > 0"))

        await wait_for(thumbnail_shown, seconds=30)

        # Fork: a licence the rules refuse is explained, live and on submitting.
        await page.click("a#fork")
        await page.fill("input[name=slug]", "bike_trailer_light")
        await page.fill("input[name=name]", "Bike trailer, light")
        await choose_licence(page, "MIT")
        check = page.locator("#fork-check.refused")
        await check.wait_for(timeout=WAIT_MS)
        reason = "PPL requires forks to stay PPL"
        assert reason in await check.inner_text()
        await page.click("#fork-form [type=submit]")
        alert = page.locator("[role=alert]")
        await alert.wait_for(timeout=WAIT_MS)
        assert reason in await alert.inner_text()
        # ... then one they allow: the live check says so before the form is sent.
        await choose_licence(page, "PPL")
        await page.locator("#fork-check.ok").wait_for(timeout=WAIT_MS)
        await page.click("#fork-form [type=submit]")
        await page.wait_for_url(re.compile(r".*/users/bike_trailer_light/versions/1$"))

        # Comment on the upstream version.
        await page.goto(version_url)
        await page.fill("#comment-form textarea[name=content]", "Printed it: works well.")
        await page.click("#comment-form [type=submit]")
        await page.wait_for_url(re.compile(r".*#comment-\d+$"), timeout=WAIT_MS)
        assert "Printed it: works well." in await page.locator("#comments").inner_text()

        # The lineage picture shows both designs.
        await page.click("a#lineage")
        picture = page.locator("figure.lineage svg")
        await picture.wait_for(timeout=WAIT_MS)
        drawn = await picture.text_content() or ""
        assert "Bike trailer" in drawn and "bike_trailer_light" in await picture.inner_html()

        # Someone on the second instance follows the project from there.
        project_url = version_url.rsplit("/versions/", 1)[0]
        follower = await browser.new_context()
        other = await follower.new_page()
        await sign_up(other, base_b, "bob")
        await other.goto(project_url)
        await other.fill("input[name=handle]", f"bob@{b.domain}")
        await other.click("form[action$='/remote-follow'] [type=submit]")
        await other.click("a.button:has-text('Continue to')")
        await other.wait_for_url(re.compile(rf"{re.escape(base_b)}/authorize_interaction.*"))
        await other.click("form[action='/follow'] [type=submit]")

        async def followed() -> bool:
            await other.goto(project_url)
            return (await other.locator("#followers-count").inner_text()).strip() == "1"

        await wait_for(followed, seconds=30)
        await maker.close()
        await follower.close()
    assert base_b
