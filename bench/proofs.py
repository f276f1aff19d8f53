"""Object integrity proofs (eddsa-jcs-2022): how many documents a second one core signs and
verifies, and what the JCS canonical form costs of it.

    .venv/bin/python bench/proofs.py [--seconds 3] [--files 5]

The document is a version Page as we serve it (`--files` files, each with its digests and
CID), so the figures are those of the Pages, activities and actor documents we sign. No
server and no database: proofs are pure functions over JSON and keys.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from federation import proofs
from federation.vocab import DESIGN_CONTEXT

KEY_ID = "https://a.example/users/trailer#ed25519-key"


def page(files: int) -> dict[str, Any]:
    digest = "4fb233f00c9e5784dfcbc2b777328d46d0ad9d28f047f2ca39d7dd74b19c0353"
    file = {
        "type": "Document",
        "mediaType": "model/stl",
        "url": f"https://a.example/files/{digest}/frame.stl",
        "name": "frame.stl",
        "size": 31,
        "sha256": digest,
        "digestMultibase": "uEiBPsjPwDJ5XhN_Lwrd3Mo1G0K2dKPBH8so51910sZwDUw",
        "cid": "bafkreicpwiz7ade6k6cn7s6cw53tfdkg2cwz2khqi7zmuoox3v2ldhadkm",
        "isPreview": False,
    }
    return {
        "@context": DESIGN_CONTEXT,
        "id": "https://a.example/users/trailer/versions/1",
        "type": "Page",
        "name": "Bike trailer",
        "summary": "A cargo trailer for bicycles, welded from steel tube. " * 4,
        "content": "<p>Cut the tubes, weld the frame, fit <strong>20 inch</strong> wheels.</p>" * 8,
        "attributedTo": ["https://a.example/users/trailer", "https://a.example/users/alice"],
        "licenseExpression": "CC-BY-SA-4.0",
        "attachment": [file] * min(files, 4),
        "files": [file] * files,
        "published": "2026-11-21T08:19:47Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


def rate(seconds: float, action: Callable[[], object]) -> tuple[float, int]:
    done, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            action()
        done += 50
    return done / (time.perf_counter() - start), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--files", type=int, default=5)
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    doc = page(args.files)
    signed = proofs.sign(doc, key, KEY_ID)
    [proof] = proofs.proofs_of(signed)
    public = key.public_key()
    print(f"load average before: {os.getloadavg()[0]:.2f}; one process, one core")
    size = len(proofs.canonical(doc))
    print(f"document: a version Page with {args.files} files, {size} bytes in JCS")
    measures = {
        "JCS canonical form alone": lambda: proofs.canonical(doc),
        "sign (JCS + SHA-256 + Ed25519)": lambda: proofs.sign(doc, key, KEY_ID),
        "verify (JCS + SHA-256 + Ed25519)": lambda: proofs.holds(signed, proof, public),
    }
    for name, action in measures.items():
        per_second, count = rate(args.seconds, action)
        print(
            f"{name:36} {per_second:10,.0f} /s  ({1e6 / per_second:7.1f} µs each, {count:,} runs)"
        )


if __name__ == "__main__":
    main()
