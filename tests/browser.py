"""Debian's Chromium, driven by Playwright, for tests of the pages as people use them.

Playwright never downloads a browser here: it starts /usr/bin/chromium (`.ci/run`
installs it). Without it the browser tests are skipped, except under CI=true, where a
missing browser fails the run as a missing PostgreSQL does.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import AsyncIterator

import pytest
from PIL import Image

# The flags a sandboxed, offline machine needs: no GPU, no calls home that the closed
# network would refuse, a fresh profile each time (Playwright makes one).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is missing: install Debian's chromium (.ci/run does)")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    """A headless browser; each test opens its own contexts (cookie jars) in it."""
    from playwright.async_api import async_playwright

    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


def share_unlike(png: bytes) -> float:
    """The share of a screenshot's pixels that differ clearly from the colour of its top-left
    corner (the background): 0 for a blank picture."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    raw = image.tobytes()
    reference = raw[:3]
    differ = sum(
        1
        for at in range(0, len(raw), 3)
        if sum(abs(raw[at + n] - reference[n]) for n in range(3)) > 30
    )
    return differ / (len(raw) // 3)
