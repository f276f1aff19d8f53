"""Conditions on notes that account timelines filter by (Mastodon's `only_media`,
`tagged`), on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, cast, exists, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH

from objects.design_models import DesignVersion, VersionFile
from objects.models import Note
from objects.tag_models import NoteTag


def note_has_media(*, postgres: bool, note: Any = Note) -> ColumnElement[bool]:
    """Notes with at least one attachment: local uploads and received files alike are kept
    in the note's `document.attachment` list."""
    if postgres:
        path = cast(literal("$.attachment[0]"), JSONPATH)
        found: ColumnElement[bool] = type_coerce(note.document, JSONB).op("@?")(path)
        return found
    return func.json_type(note.document, "$.attachment[0]").is_not(None)


def version_has_files() -> ColumnElement[bool]:
    """Design versions with files, which apps show as media."""
    return exists(select(VersionFile.id).where(VersionFile.version_id == DesignVersion.id))


def note_tagged(name: str, note: Any = Note) -> ColumnElement[bool]:
    """Notes carrying the hashtag `name` (lower case, without `#`)."""
    return exists(
        select(NoteTag.note_uri).where(NoteTag.note_uri == note.uri, NoteTag.name == name)
    )
