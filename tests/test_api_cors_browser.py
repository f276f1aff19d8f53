"""A browser app on another origin calls the API of a real server on loopback, in Debian's
Chromium: the browser itself sends the preflights and enforces what CORS allows."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.browser import chromium
from tests.live import live_server


class AppPage(BaseHTTPRequestHandler):
    """The browser app's own page, on another origin: another port on loopback (a page
    from a public address would meet Chromium's local network checks instead)."""

    def do_GET(self) -> None:
        body = b"<!doctype html><p>a browser app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def app_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AppPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CALL_THE_API = """
async ([base, token]) => {
  const auth = { Authorization: `Bearer ${token}` };
  const posted = await fetch(`${base}/api/v1/statuses`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": "k-1" },
    body: JSON.stringify({ status: "from a browser app" }),
  });
  const home = await fetch(`${base}/api/v1/timelines/home?limit=1`, { headers: auth });
  const missing = await fetch(`${base}/api/v1/nothing_here`, { headers: auth });
  const wrong = await fetch(`${base}/api/v1/instance`, { method: "DELETE", headers: auth });
  return {
    posted: posted.status,
    postedId: (await posted.json()).id,
    home: home.status,
    homeIds: (await home.json()).map((status) => status.id),
    link: home.headers.get("Link"),
    missing: [missing.status, await missing.json()],
    wrong: [wrong.status, await wrong.json()],
  };
}
"""

# Pages and ActivityPub documents stay same-origin: the browser must refuse to read them.
READ_A_PAGE = """
async (url) => {
  try {
    await fetch(url, { headers: { Accept: "application/activity+json" } });
    return "read";
  } catch (error) {
    return "refused";
  }
}
"""


async def test_a_browser_app_on_another_origin_uses_the_api(
    new_database: Any, tmp_path: Path
) -> None:
    with app_origin() as app_page:
        async with live_server(await new_database(), tmp_path / "a") as node:
            _, token = await node.user("alice")
            base = f"http://{node.domain}"
            async with chromium() as browser:
                page = await browser.new_page()  # type: ignore[attr-defined]
                await page.goto(app_page)
                found = await page.evaluate(CALL_THE_API, [base, token])
                refused = await page.evaluate(READ_A_PAGE, f"{base}/users/alice")
    assert found["posted"] == 200 and found["home"] == 200
    assert found["homeIds"] == [found["postedId"]]
    assert found["link"] and "max_id=" in found["link"]  # readable: Link is exposed
    assert found["missing"] == [404, {"error": "Not Found"}]
    assert found["wrong"] == [405, {"error": "Method Not Allowed"}]
    assert refused == "refused"
