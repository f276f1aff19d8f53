"""Streaming a multipart/form-data body, part by part: fields into memory (bounded), files
straight into the blob store, every limit checked as the bytes arrive. web.uploads
reads a request with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from federation.errors import ValidationError
from objects.blobs import BlobStore, BlobTooLarge, StagedBlob, human_bytes
from objects.upload_quota import UploadQuota
from web.files import clean_media_type
from web.uploaded import Upload, UploadedFile, clean_filename, sanitise_filename

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELD_BYTES = 64 * 1024


# Room for boundaries, part headers and text fields on top of the file bytes.
MULTIPART_OVERHEAD = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    total_bytes: int
    fields: int
    files: int
    quota: UploadQuota

    @property
    def body_bytes(self) -> int:
        return self.total_bytes + MULTIPART_OVERHEAD


class MultipartReader:
    """Parser callbacks plus the state of the part being read.

    The callbacks are synchronous, so file bytes are queued in `_pending` and written
    (in a thread) after each chunk is parsed; limits are checked as bytes are queued.
    """

    def __init__(self, store: BlobStore, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        self.upload = Upload(limits.quota)
        self._body_bytes = 0
        self._file_bytes = 0
        self._field_count = 0
        self._finished = False
        self._pending: list[tuple[StagedBlob, list[bytes]]] = []
        self._start_part()

    async def read(self, boundary: bytes, stream: AsyncIterator[bytes]) -> None:
        try:
            parser = MultipartParser(boundary, self._callbacks())
            async for chunk in stream:
                self._count_body(len(chunk))
                parser.write(chunk)
                await self._flush_pending()
        except ClientDisconnect as exc:
            raise ValidationError(
                "the connection closed before the upload finished; send it again", status=400
            ) from exc
        except FormParserError as exc:
            raise malformed(f"{exc!s:.120}") from exc
        if not self._finished:
            raise malformed("it ends before the closing boundary")

    def _callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._start_part,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _count_body(self, size: int) -> None:
        # Bodies without a Content-Length (chunked) are held to the same limit.
        self._body_bytes += size
        if self._body_bytes > self.limits.body_bytes:
            raise BlobTooLarge.for_upload(self.limits.total_bytes)

    async def _flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        for staged, chunks in pending:
            await staged.awrite(b"".join(chunks))

    # Parser callbacks, in the order the parser calls them for each part.

    def _start_part(self) -> None:
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field_name = ""
        self._field_value = bytearray()
        self._file: UploadedFile | None = None
        self._raw_filename = ""
        self._part_bytes = 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise malformed('a part has no Content-Disposition header with a "name"')
        self._field_name = _decode_header_text(options[b"name"])
        if b"filename" in options:
            self._begin_file(_decode_header_text(options[b"filename"]))
        else:
            self._begin_field()

    def _begin_file(self, raw_filename: str) -> None:
        if len(self.upload.files) >= self.limits.files:
            raise ValidationError(
                f"this upload has more than {self.limits.files} files; "
                f"send at most {self.limits.files} files at a time",
                status=413,
            )
        filename = sanitise_filename(raw_filename)
        staged = self.store.stage(max_bytes=self.limits.file_bytes, name=filename)
        content_type = clean_media_type(_decode_header_text(self._headers.get(b"content-type")))
        self._file = UploadedFile(
            self._field_name, filename, content_type, staged, len(clean_filename(raw_filename))
        )
        self._raw_filename = raw_filename
        # Listed at once so that an error from here on discards it with the rest.
        self.upload.files.append(self._file)

    def _begin_field(self) -> None:
        self._field_count += 1
        if self._field_count > self.limits.fields:
            raise ValidationError(
                f"this upload has more than {self.limits.fields} text fields; "
                f"send at most {self.limits.fields}",
                status=413,
            )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        self._part_bytes += size
        if self._file is None:
            self._add_field_data(data[start:end])
        else:
            self._add_file_data(self._file, data[start:end])

    def _add_field_data(self, chunk: bytes) -> None:
        if self._part_bytes > MAX_FIELD_BYTES:
            raise ValidationError(
                f"the field {self._field_name!r:.80} is longer than "
                f"{human_bytes(MAX_FIELD_BYTES)}; send long text as a file",
                status=413,
            )
        self._field_value += chunk

    def _add_file_data(self, uploaded: UploadedFile, chunk: bytes) -> None:
        # Checked here, before the bytes are queued, so the right limit is named.
        if self._part_bytes > self.limits.file_bytes:
            raise BlobTooLarge.for_file(uploaded.filename, self.limits.file_bytes)
        self._file_bytes += len(chunk)
        if self._file_bytes > self.limits.total_bytes:
            raise BlobTooLarge.for_upload(self.limits.total_bytes)
        self.limits.quota.check(self._file_bytes)
        if self._pending and self._pending[-1][0] is uploaded.staged:
            self._pending[-1][1].append(chunk)
        else:
            self._pending.append((uploaded.staged, [chunk]))

    def _on_part_end(self) -> None:
        if self._file is None:
            self._end_field()
        elif not self._raw_filename and self._part_bytes == 0:
            # A browser sends an empty, nameless part for a file input left empty.
            self.upload.files.remove(self._file)
            self._file.staged.discard()

    def _end_field(self) -> None:
        try:
            value = self._field_value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"the field {self._field_name!r:.80} is not UTF-8 text; send text as UTF-8",
                status=400,
            ) from exc
        self.upload.fields.setdefault(self._field_name, []).append(value)

    def _on_end(self) -> None:
        self._finished = True


def _decode_header_text(raw: bytes | None) -> str:
    # Browsers send names as raw UTF-8; anything that is not UTF-8 is read as Latin-1.
    if raw is None:
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def malformed(detail: str) -> ValidationError:
    return ValidationError(
        f"the multipart/form-data body is malformed ({detail}); "
        "send a well-formed multipart/form-data body",
        status=400,
    )
