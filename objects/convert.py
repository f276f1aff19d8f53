"""Converters between note rows and ActivityStreams JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from federation.errors import ValidationError
from federation.urls import host_of, web_url_or_none
from federation.vocab import AS_CONTEXT, MAKE_CONTEXT
from objects.hashtags import hashtags_of
from objects.html import plain_text, sanitize_html
from objects.media_models import MediaAttachment
from objects.models import Note

NOTE_TYPES = frozenset({"Note", "Article", "Question", "Page"})
# Uploaded media types and the file extension their URLs end with (apps guess from it).
MEDIA_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}
# Kept from a received note: Mastodon sends at most 4, a few more costs nothing.
MAX_REMOTE_ATTACHMENTS = 8
MAX_DESCRIPTION_CHARS = 1500
# Parts of a note's stored document that go out as they are (see `note_to_as`).
DOCUMENT_KEYS = ("attachment", "tag")
# A make's own properties (`objects.makes`), kept in its note's document and sent as they are.
MAKE_KEYS = ("makeOf", "location", "madeBy", "forSale", "makeSettings")


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: dt.datetime) -> str:
    """With milliseconds, as Mastodon's client API writes times (`…T21:33:01.123Z`)."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond // 1000:03d}Z"


def note_to_as(note: Note, actor_uri: str, *, with_context: bool = True) -> dict[str, Any]:
    if note.deleted_at is not None:
        return tombstone_as(note.uri, note.deleted_at, with_context=with_context)
    doc: dict[str, Any] = {
        "id": note.uri,
        "type": "Note",
        "attributedTo": actor_uri,
        "content": note.content,
        "published": iso(note.published),
        "to": note.to.get("to", []),
        "cc": note.to.get("cc", []),
        "url": note.url or note.uri,
        "sensitive": note.sensitive,
        "replies": f"{note.uri}/replies",
    }
    if note.summary:
        doc["summary"] = note.summary
    if note.language:  # as Mastodon sends it, which reads the language from the key
        doc["contentMap"] = {note.language: note.content}
    if note.in_reply_to:
        doc["inReplyTo"] = note.in_reply_to
    if note.edited_at:
        doc["updated"] = iso(note.edited_at)
    if note.language:
        doc["contentMap"] = {note.language: note.content}
    for key in DOCUMENT_KEYS:
        if (note.document or {}).get(key):
            doc[key] = note.document[key]  # type: ignore[index]
    question = (note.document or {}).get("question")
    if isinstance(question, dict):  # our poll (`objects.polls`): sent as Mastodon sends one
        doc["type"] = "Question"
        doc.update(question)
        ends = question.get("endTime")
        if isinstance(ends, str) and parse_time(ends) <= dt.datetime.now(dt.UTC):
            doc["closed"] = ends  # ended since its fields were last written
    stored = note.document or {}
    is_make = bool(stored.get("makeOf"))
    if is_make:  # a make's own properties (objects.makes)
        doc |= {key: stored[key] for key in MAKE_KEYS if key in stored}
    if with_context:
        doc["@context"] = MAKE_CONTEXT if is_make else AS_CONTEXT
    return doc


def media_url(base_url: str, media: MediaAttachment) -> str:
    """Named by the file's digest, so the URL always means the same bytes."""
    extension = MEDIA_EXTENSIONS.get(media.media_type, "bin")
    return f"{base_url}/media/{media.sha256}.{extension}"


def media_to_as(base_url: str, media: MediaAttachment) -> dict[str, Any]:
    """An uploaded file as a note's attachment, in the shape Mastodon sends and reads."""
    doc: dict[str, Any] = {
        "type": "Document",
        "mediaType": media.media_type,
        "url": media_url(base_url, media),
        "name": media.description or None,
        "focalPoint": [media.focus_x, media.focus_y],
    }
    if media.blurhash:
        doc["blurhash"] = media.blurhash
    if media.width and media.height:
        doc |= {"width": media.width, "height": media.height}
    return doc


def tombstone_as(uri: str, deleted: dt.datetime, *, with_context: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": uri, "type": "Tombstone", "deleted": iso(deleted)}
    if with_context:
        doc["@context"] = AS_CONTEXT
    return doc


@dataclass(frozen=True)
class RemoteNoteData:
    uri: str
    attributed_to: str
    content: str
    summary: str | None
    in_reply_to: str | None
    url: str | None
    sensitive: bool
    language: str | None
    published: dt.datetime
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


def parse_remote_note(doc: dict[str, Any]) -> RemoteNoteData:
    """Validate a note-like object; its id must be on its author's host."""
    uri = doc.get("id")
    if not isinstance(uri, str):
        raise ValidationError("the object has no id")
    if doc.get("type") not in NOTE_TYPES:
        raise ValidationError(f"{uri} is a {doc.get('type')!r}, not a Note")
    author = first_id(doc.get("attributedTo"))
    if author is None:
        raise ValidationError(f"the note {uri} has no attributedTo")
    if host_of(author) != host_of(uri):
        raise ValidationError(f"the note {uri} is attributed to an actor on another host")
    content, language = _content(doc)
    return RemoteNoteData(
        uri=uri,
        attributed_to=author,
        content=sanitize_html(content),
        summary=plain_text(doc["summary"]) if isinstance(doc.get("summary"), str) else None,
        in_reply_to=first_id(doc.get("inReplyTo")),
        url=web_url_or_none(first_id(doc.get("url"))),
        sensitive=doc.get("sensitive") is True,
        language=language,
        published=parse_time(doc.get("published")),
        to=id_list(doc.get("to")),
        cc=id_list(doc.get("cc")),
        attachments=remote_attachments(doc.get("attachment")),
        hashtags=hashtags_of(doc.get("tag")),
    )


def remote_attachments(value: Any) -> list[dict[str, Any]]:
    """A received note's attachments that link to a file, reduced to what we show."""
    items = value if isinstance(value, list) else [value]
    found = [_remote_attachment(item) for item in items[:MAX_REMOTE_ATTACHMENTS]]
    return [attachment for attachment in found if attachment is not None]


def _remote_attachment(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    url = first_id(item.get("url"))
    if not url or not url.startswith(("https://", "http://")):
        return None
    kept: dict[str, Any] = {"type": str(item.get("type") or "Document")[:32], "url": url}
    media_type, name, blurhash = item.get("mediaType"), item.get("name"), item.get("blurhash")
    if isinstance(media_type, str):
        kept["mediaType"] = media_type[:255]
    if isinstance(name, str):
        kept["name"] = plain_text(name, MAX_DESCRIPTION_CHARS)
    if isinstance(blurhash, str):
        kept["blurhash"] = blurhash[:100]
    for size in ("width", "height"):
        if isinstance(item.get(size), int) and not isinstance(item.get(size), bool):
            kept[size] = item[size]
    return kept


def _content(doc: dict[str, Any]) -> tuple[str, str | None]:
    content = doc.get("content")
    content_map = doc.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        language, mapped = next(iter(content_map.items()))
        if not isinstance(content, str):
            content = mapped
        return (content if isinstance(content, str) else ""), str(language)[:16]
    return (content if isinstance(content, str) else ""), None


def first_id(value: Any) -> str | None:
    """The id of a link-or-object value, or of the first of a list of them."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id") or value.get("href")
        return found if isinstance(found, str) else None
    if isinstance(value, list) and value:
        return first_id(value[0])
    return None


def id_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [found for item in items if (found := first_id(item)) is not None]


def parse_time(value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)
