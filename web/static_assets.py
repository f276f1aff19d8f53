"""Static files under names that change with their content, cached for a year, compressed.

`StaticAssets.build` (called by the app factory, never at import) reads `web/static/` once:
each file gets a name with a digest of what is served (`site.css` → `site.3f2a9c1e7b4d.css`),
and a script's relative imports are rewritten to the hashed names of what they import, so
a script's digest changes when anything it imports changes. Pages name files through
`url("site.css")`. A hashed name is served with `Cache-Control: public, max-age=31536000,
immutable`; the plain name still works (bookmarks, tools), revalidated with its ETag.

Compression: brotli or gzip, by `Accept-Encoding`. `make` precompresses every file at the
highest levels (`python -m web.static_assets precompress`, into `web/static/compressed/`, by
digest so a stale copy is never used); others are compressed on first request, and kept.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

COMPRESSED_DIR = "compressed"
DIGEST_CHARS = 12
YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Text compresses; pictures and fonts already are.
COMPRESSIBLE = frozenset({".js", ".mjs", ".css", ".svg", ".json", ".txt", ".html", ".map"})
MIN_COMPRESS_BYTES = 512
# `from './x.js'`, `import './x.js'` and `import('./x.js')`: relative specifiers only.
_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}/[^'"\s]+)\2""")
ENCODINGS = ("br", "gzip")
SUFFIXES = {"br": ".br", "gzip": ".gz"}


@dataclass
class Asset:
    name: str  # path under the static root, with '/'
    hashed: str  # the same path with the digest before the extension
    body: bytes
    media_type: str
    etag: str
    compressed: dict[str, bytes] = field(default_factory=dict)

    @property
    def compressible(self) -> bool:
        return Path(self.name).suffix in COMPRESSIBLE and len(self.body) >= MIN_COMPRESS_BYTES


@functools.lru_cache(maxsize=4)
def _built(root: Path, mount: str, files: tuple[tuple[str, int, int], ...]) -> StaticAssets:
    """Keyed by every file's path, time and size, so a changed file is read again."""
    return StaticAssets._read(root, mount)


def hashed_name(name: str, digest: str) -> str:
    path = Path(name)
    return str(path.with_name(f"{path.stem}.{digest[:DIGEST_CHARS]}{path.suffix}"))


class StaticAssets:
    """The ASGI app mounted at /static, and the names pages use (`url`)."""

    def __init__(self, root: Path, assets: dict[str, Asset], mount: str = "/static") -> None:
        self.root = root
        self.mount = mount
        self.assets = assets
        self.by_path = {a.hashed: a for a in assets.values()} | assets

    @classmethod
    def build(cls, root: Path, mount: str = "/static") -> StaticAssets:
        """The assets of `root`; built once per process for the same files (each app of a
        process asks, and reading three.js for each would cost a fifth of a second)."""
        files = tuple(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size)
            for path in sorted(root.rglob("*"))
            if path.is_file()
        )
        return _built(root, mount, files)

    @classmethod
    def _read(cls, root: Path, mount: str) -> StaticAssets:
        sources = {
            path.relative_to(root).as_posix(): path
            for path in sorted(root.rglob("*"))
            if path.is_file() and COMPRESSED_DIR not in path.relative_to(root).parts
        }
        assets: dict[str, Asset] = {}
        for name in sources:
            _asset(name, sources, assets, set())
        built = cls(root, assets, mount)
        built._load_precompressed()
        return built

    def url(self, name: str) -> str:
        asset = self.assets.get(name)
        return f"{self.mount}/{asset.hashed if asset else name}"

    def _load_precompressed(self) -> None:
        folder = self.root / COMPRESSED_DIR
        if not folder.is_dir():
            return
        for asset in self.assets.values():
            for encoding in ENCODINGS:
                copy = folder / f"{asset.hashed}{SUFFIXES[encoding]}"
                if copy.is_file():
                    asset.compressed[encoding] = copy.read_bytes()

    def precompress(self) -> int:
        """Write the best compression of every compressible asset (the build step), in place
        of what an earlier build wrote."""
        shutil.rmtree(self.root / COMPRESSED_DIR, ignore_errors=True)
        written = 0
        for asset in self.assets.values():
            if not asset.compressible:
                continue
            for encoding in ENCODINGS:
                target = self.root / COMPRESSED_DIR / f"{asset.hashed}{SUFFIXES[encoding]}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(compress(asset.body, encoding, best=True))
                written += 1
        return written

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        name = scope["path"].removeprefix(self.mount).lstrip("/")
        asset = self.by_path.get(name)
        if asset is None:
            raise HTTPException(404)
        response = answer(asset, Headers(scope=scope), immutable=name == asset.hashed)
        await response(scope, receive, send)


def answer(asset: Asset, headers: Headers, *, immutable: bool) -> Response:
    common = {
        "cache-control": YEAR if immutable else REVALIDATE,
        "etag": asset.etag,
        "vary": "Accept-Encoding",
    }
    if asset.etag in headers.get("if-none-match", ""):
        return Response(status_code=304, headers=common)
    encoding = chosen_encoding(headers.get("accept-encoding", "")) if asset.compressible else None
    body = asset.body
    if encoding is not None:
        if encoding not in asset.compressed:
            asset.compressed[encoding] = compress(asset.body, encoding, best=False)
        body = asset.compressed[encoding]
        common["content-encoding"] = encoding
    return Response(body, media_type=asset.media_type, headers=common)


def chosen_encoding(accept: str) -> str | None:
    """br, then gzip, among what the client accepts (`q=0` refuses one)."""
    accepted = set()
    for part in accept.lower().split(","):
        token, _, params = part.strip().partition(";")
        quality = params.strip()
        if quality.startswith("q=") and quality[2:].strip(" .0") == "":
            continue
        accepted.add(token.strip())
    return next((e for e in ENCODINGS if e in accepted or "*" in accepted), None)


def compress(body: bytes, encoding: str, *, best: bool) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=11 if best else 5))
    return gzip.compress(body, compresslevel=9 if best else 6, mtime=0)


def _asset(name: str, sources: dict[str, Path], assets: dict[str, Asset], seen: set[str]) -> str:
    """The hashed name of `name`, building it (and what it imports) first."""
    if name in assets:
        return assets[name].hashed
    body = sources[name].read_bytes()
    if Path(name).suffix in (".js", ".mjs") and name not in seen:
        seen.add(name)
        body = _rewrite_imports(name, body, sources, assets, seen)
    digest = hashlib.sha256(body).hexdigest()
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    assets[name] = Asset(name, hashed_name(name, digest), body, media_type, f'"{digest[:32]}"')
    return assets[name].hashed


def _rewrite_imports(
    name: str, body: bytes, sources: dict[str, Path], assets: dict[str, Asset], seen: set[str]
) -> bytes:
    text = body.decode("utf-8")
    folder = Path(name).parent

    def hashed(match: re.Match[str]) -> str:
        target = (folder / match[3]).as_posix()
        target = str(Path(target)).replace("\\", "/")
        resolved = _normalise(target)
        if resolved not in sources or (resolved in seen and resolved not in assets):
            return match[0]  # not ours, or an import cycle: left as written
        target_hashed = _asset(resolved, sources, assets, seen)
        relative = _relative(folder.as_posix(), target_hashed)
        return f"{match[1]}{match[2]}{relative}{match[2]}"

    return _IMPORT.sub(hashed, text).encode("utf-8")


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _relative(folder: str, target: str) -> str:
    here = [p for p in folder.split("/") if p and p != "."]
    there = target.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    ups = len(here) - common
    return ("../" * ups or "./") + "/".join(there[common:])


def main() -> int:
    """`python -m web.static_assets precompress`: the build step `make` runs."""
    if sys.argv[1:] != ["precompress"]:
        print("usage: python -m web.static_assets precompress", file=sys.stderr)
        return 2
    root = Path(__file__).parent / "static"
    written = StaticAssets.build(root).precompress()
    print(f"precompressed {written} files into {root / COMPRESSED_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
