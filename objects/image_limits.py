"""What uploaded images may be: shared by the server and the reading child (objects.image_read),
which imports nothing else of ours so that it starts fast."""

from __future__ import annotations

# Mastodon's own limit (7680 x 4320): bigger images cost too much memory to decode.
MAX_PIXELS = 33_177_600
ACCEPTED = "send a JPEG, PNG, GIF or WebP image"
