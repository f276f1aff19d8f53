"""Copy the parts of the npm package `three` the 3D viewer uses into web/static/vendor/three/.

Browsers resolve only relative or absolute module specifiers, and an import map would need
an inline script that our Content-Security-Policy refuses. So the files are copied flat into
one folder and their bare `from 'three'` (and `../utils/`) imports rewritten as relative ones.
Run by `make` after `npm ci`; the copies are not kept in git.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "three"
TARGET = ROOT / "web" / "static" / "vendor" / "three"
FILES = [
    "build/three.module.js",
    "build/three.core.js",
    "examples/jsm/controls/OrbitControls.js",
    "examples/jsm/loaders/STLLoader.js",
    "examples/jsm/loaders/OBJLoader.js",
    "examples/jsm/loaders/GLTFLoader.js",
    "examples/jsm/utils/BufferGeometryUtils.js",
    "examples/jsm/utils/SkeletonUtils.js",
]
# Only the specifiers the flat folder breaks: the bare 'three' and '../utils/X.js'.
IMPORT = re.compile(r"""(\bfrom\s*)(['"])(three|\.\./[^'"]+)\2""")


def relative(specifier: str) -> str:
    """'three' and '../utils/X.js' as the flat folder's './three.module.js' and './X.js'."""
    if specifier == "three":
        return "./three.module.js"
    return "./" + specifier.rsplit("/", 1)[-1]


def main() -> int:
    if not SOURCE.is_dir():
        print("node_modules/three is missing: run `npm ci` first", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        text = (SOURCE / name).read_text(encoding="utf-8")
        text = IMPORT.sub(lambda m: f"{m[1]}{m[2]}{relative(m[3])}{m[2]}", text)
        (TARGET / Path(name).name).write_text(text, encoding="utf-8")
    print(f"copied {len(FILES)} files of three into {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
