"""What an upload holds: its text fields and its staged files, kept or discarded together."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from objects.blobs import StagedBlob, StoredBlob
from objects.upload_quota import UploadQuota

MAX_FILENAME_CHARS = 255
DEFAULT_FILENAME = "file"
_PATH_SEPARATORS = re.compile(r"[/\\]")


@dataclass
class UploadedFile:
    """One file part: its form field, sanitised filename, client-declared type and bytes."""

    field_name: str
    filename: str
    content_type: str
    staged: StagedBlob
    # The sanitised name's length before it was shortened: publishing refuses a long name
    # rather than store it cut (objects.upload_checks); other uploads keep the short one.
    name_chars: int = 0

    @property
    def size(self) -> int:
        return self.staged.size


@dataclass
class Upload:
    """A parsed upload whose files are staged; `commit` stores them, `discard` drops them."""

    quota: UploadQuota
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def value(self, name: str, default: str | None = None) -> str | None:
        """The first value of the text field `name`."""
        values = self.fields.get(name)
        return values[0] if values else default

    async def commit(self) -> list[tuple[UploadedFile, StoredBlob]]:
        """Store every file and count them against the uploader's quota; if one fails, the
        rest are discarded and the error raised.

        Files committed before the failure stay in the store: another design may share them.
        """
        stored: list[tuple[UploadedFile, StoredBlob]] = []
        try:
            for uploaded in self.files:
                stored.append((uploaded, await uploaded.staged.acommit()))
        except BaseException:
            self._discard_staged()
            raise
        finally:
            await self.quota.record([blob for _, blob in stored])
        return stored

    async def discard(self) -> None:
        self._discard_staged()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._discard_staged()

    def _discard_staged(self) -> None:
        # Synchronous on purpose (closing and unlinking is quick): cleanup that awaits
        # could itself be cancelled, and a cancelled request is when cleanup matters most.
        for uploaded in self.files:
            uploaded.staged.discard()


def sanitise_filename(raw: str) -> str:
    """A client's filename reduced to a safe base name: no directories, no control or
    invisible format characters, at most 255 characters (keeping a short extension)."""
    name = clean_filename(raw)
    if len(name) > MAX_FILENAME_CHARS:
        name = _shorten_keeping_extension(name)
    return name or DEFAULT_FILENAME


def clean_filename(raw: str) -> str:
    """The base name without control characters or trailing dots, not yet shortened."""
    name = _PATH_SEPARATORS.split(unicodedata.normalize("NFC", raw))[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith(("C", "Zl", "Zp")))
    # Trailing dots and spaces vanish on some filesystems; this also turns "." and ".." into "".
    return name.strip().rstrip(". ")


def _shorten_keeping_extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16:
        return name[:MAX_FILENAME_CHARS]
    return stem[: MAX_FILENAME_CHARS - len(extension) - 1] + "." + extension
