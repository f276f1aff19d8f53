"""Static files: hashed names cached for a year, brotli or gzip as accepted (precompressed
by the build, else compressed once), imports rewritten to hashed names."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path
from typing import Any

import brotli
import pytest

from web.static_assets import COMPRESSED_DIR, YEAR, StaticAssets, chosen_encoding
from web.templating import STATIC_DIR

HASHED = re.compile(r"/static/site\.[0-9a-f]{12}\.css")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("", None),
    ],
)
def test_the_encoding_follows_accept_encoding(accept: str, chosen: str | None) -> None:
    assert chosen_encoding(accept) == chosen


def test_imports_are_rewritten_to_hashed_names_and_digests_follow_them(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "dep.js").write_text("export const x = 1;\n")
    (tmp_path / "main.js").write_text(
        "import { x } from './lib/dep.js';\nconst later = () => import('./lib/dep.js');\n"
    )
    first = StaticAssets.build(tmp_path)
    dep = first.assets["lib/dep.js"].hashed
    main = first.assets["main.js"]
    assert re.fullmatch(r"lib/dep\.[0-9a-f]{12}\.js", dep)
    assert main.body.decode().count(f"'./{dep}'") == 2
    (tmp_path / "lib" / "dep.js").write_text("export const x = 2;\n")
    second = StaticAssets.build(tmp_path)
    assert second.assets["main.js"].hashed != main.hashed  # a changed import changes it too


def test_the_build_precompresses_and_a_start_uses_it(tmp_path: Path) -> None:
    root = tmp_path / "static"
    shutil.copytree(STATIC_DIR, root, ignore=shutil.ignore_patterns("vendor", COMPRESSED_DIR))
    assert StaticAssets.build(root).precompress() >= 4
    css = StaticAssets.build(root).assets["site.css"]
    assert brotli.decompress(css.compressed["br"]) == css.body
    assert gzip.decompress(css.compressed["gzip"]) == css.body
    assert (root / COMPRESSED_DIR / f"{css.hashed}.br").read_bytes() == css.compressed["br"]


async def test_pages_name_hashed_files_served_compressed_and_cached(nodes: Any) -> None:
    node = await nodes("a.test")
    client = node.client()
    home = await client.get("/", headers={"Accept": "text/html"})
    found = HASHED.search(home.text)
    assert found is not None
    url = found[0]
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.headers["cache-control"] == YEAR
    assert plain.headers["content-type"].startswith("text/css")
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    for encoding in ("br", "gzip"):
        packed = await client.get(url, headers={"Accept-Encoding": encoding})
        assert packed.headers["content-encoding"] == encoding
        assert packed.content == plain.content  # httpx undoes the encoding
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
    unhashed = await client.get("/static/site.css")
    assert unhashed.headers["cache-control"] == "no-cache" and unhashed.content == plain.content
    again = await client.get(
        "/static/site.css", headers={"If-None-Match": unhashed.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    missing = await client.get("/static/site.0123456789ab.css", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
    wrong = await client.post(url)
    assert wrong.status_code == 405
