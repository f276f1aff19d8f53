"""What an uploaded image is, as read by a limited child process (objects.image_read).

The child's answer is checked like any input: a reader that was made to misbehave cannot
hand the server a media type we do not serve, an absurd size or a blurhash that is not one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from federation.errors import ValidationError
from objects.image_limits import ACCEPTED, MAX_PIXELS
from objects.sandbox import Sandbox, Task

__all__ = ["ACCEPTED", "MAX_PIXELS", "PROBE", "ImageFacts", "read_image"]

PROBE = Task("objects.image_read", "probe_file")
SERVED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
BLURHASH = re.compile(r"[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,100}")


@dataclass(frozen=True)
class ImageFacts:
    media_type: str
    width: int
    height: int
    blurhash: str | None


async def read_image(sandbox: Sandbox, path: str) -> ImageFacts:
    """The facts of the image stored at `path`; ValidationError (what to send instead) when
    it is not an image we accept, or reading it goes over the sandbox's limits."""
    answer = await sandbox.run(PROBE, path, label="the image", error=ValidationError)
    facts = answer.value if isinstance(answer.value, dict) else {}
    media_type, width, height = facts.get("media_type"), facts.get("width"), facts.get("height")
    hashed = facts.get("blurhash")
    if (
        media_type not in SERVED_TYPES
        or not isinstance(width, int)
        or not isinstance(height, int)
        or not (width > 0 and height > 0 and width * height <= MAX_PIXELS)
        or not (hashed is None or (isinstance(hashed, str) and BLURHASH.fullmatch(hashed)))
    ):
        raise ValidationError(f"the image could not be read; {ACCEPTED}")
    return ImageFacts(str(media_type), width, height, hashed)
