"""Reading an uploaded image: what it really is, its size and its blurhash.

Runs only in the limited child process of `objects.sandbox` (task `probe_file`, called by
`objects.media_files.read_image`): decoding is where a hostile image costs memory, so the
server never imports Pillow.
"""

from __future__ import annotations

from typing import Any

import blurhash
from PIL import Image, UnidentifiedImageError

from federation.errors import ValidationError
from objects.image_limits import ACCEPTED, MAX_PIXELS

# What Pillow calls the formats we accept, and the media type each is served as.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# The blurhash is computed from a thumbnail: a few colours of a blur need no more.
BLURHASH_SIDE = 64


def probe_file(path: str) -> dict[str, Any]:
    """{"media_type", "width", "height", "blurhash"} of the image at `path`; ValidationError
    saying why when it is not an image we accept."""
    try:
        with Image.open(path) as image:
            media_type = IMAGE_FORMATS.get(image.format or "")
            if media_type is None:
                raise ValidationError(f"this kind of file cannot be attached; {ACCEPTED}")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    f"the image is {width}x{height} pixels, more than {MAX_PIXELS} in all; "
                    "send a smaller image"
                )
            return {
                "media_type": media_type,
                "width": width,
                "height": height,
                "blurhash": _blurhash(image),
            }
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ValidationError(f"the file is not an image that can be read; {ACCEPTED}") from exc
    except OSError as exc:  # truncated or damaged image data
        raise ValidationError(f"the image cannot be read ({exc!s:.80}); {ACCEPTED}") from exc


def _blurhash(image: Image.Image) -> str:
    image.draft("RGB", (BLURHASH_SIDE, BLURHASH_SIDE))  # JPEG decodes at a lower scale
    small = image.convert("RGB")
    small.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE))
    hashed: str = blurhash.encode(small, x_components=4, y_components=3)
    return hashed
