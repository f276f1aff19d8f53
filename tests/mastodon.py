"""What a Mastodon server sends: the payloads in tests/fixtures/mastodon/, which follow
Mastodon's serializers, with `__NAME__` placeholders for what each test fills in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"


def mastodon_fixture(name: str, **values: str) -> dict[str, Any]:
    """The payload `name`, each `__NAME__` placeholder replaced by the value given as `name=`."""
    text = (FIXTURES / f"{name}.json").read_text()
    for placeholder, value in values.items():
        text = text.replace(f"__{placeholder.upper()}__", value)
    doc: dict[str, Any] = json.loads(text)
    return doc
