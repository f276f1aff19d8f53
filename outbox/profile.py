"""Profile changes: what a person may change about themselves, and saving it with the
Update(Person) their followers get. Mastodon's update_credentials and the settings page
both come here.

Mastodon apps send forms (`fields_attributes[0][name]=...`), libraries often JSON; both
end up as one `ProfileChange`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.convert import actor_to_as, set_profile_fields
from actors.models import ENTITY_KINDS, Actor
from actors.proof_keys import signed_actor_document
from federation.errors import ValidationError
from federation.urls import LocalUrls
from objects.linked_text import linked_text_to_html
from outbox import activities
from outbox.publish import publish

# A profile field named like this sets the entity kind, so Mastodon apps can edit it too.
ENTITY_KIND_FIELD = "entity kind"
MAX_FIELDS = 4
MAX_NAME = 255
MAX_NOTE = 5000
MAX_FIELD_VALUE = 2048
_FORM_FIELD = re.compile(r"fields_attributes\[(\d{1,2})\]\[(name|value)\]")
_TRUE = (True, "true", "1", "on")
_FALSE = (False, "false", "0", "off", "")


@dataclass
class ProfileChange:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    entity_kind: str | None = None
    fields: list[tuple[str, str]] | None = None


def form_to_body(items: list[tuple[str, str]]) -> dict[str, Any]:
    """A form's pairs as the JSON body a library would send."""
    body: dict[str, Any] = {}
    fields: dict[str, dict[str, str]] = {}
    for key, value in items:
        if match := _FORM_FIELD.fullmatch(key):
            fields.setdefault(match[1], {})[match[2]] = value
        else:
            body[key] = value
    if fields:
        body["fields_attributes"] = fields
    return body


def parse_profile_change(body: dict[str, Any]) -> ProfileChange:
    change = ProfileChange(
        display_name=_text(body, "display_name", MAX_NAME),
        note=_text(body, "note", MAX_NOTE),
        locked=_flag(body, "locked"),
        fields=_fields(body.get("fields_attributes")),
    )
    kind = _text(body, "entity_kind", 16)
    kind_field = _take_entity_kind_field(change.fields)
    change.entity_kind = _entity_kind(kind if kind is not None else kind_field)
    return change


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name!r} must be text")
    if len(value) > limit:
        raise ValidationError(f"{name!r} is longer than {limit} characters")
    return value.strip()


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(f"{name!r} must be true or false")


def _fields(raw: Any) -> list[tuple[str, str]] | None:
    """`fields_attributes` as a list of {name, value} or Mastodon's {"0": {...}} form;
    rows with an empty name are dropped, as Mastodon does."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        raw = [raw[key] for key in sorted(raw, key=lambda k: int(k) if k.isdigit() else 99)]
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValidationError("'fields_attributes' must be a list of {name, value}")
    fields = [(_field_part(item, "name"), _field_part(item, "value")) for item in raw]
    fields = [(name, value) for name, value in fields if name]
    if len([f for f in fields if f[0].lower() != ENTITY_KIND_FIELD]) > MAX_FIELDS:
        raise ValidationError(f"a profile has at most {MAX_FIELDS} fields")
    return fields


def _field_part(item: dict[str, Any], part: str) -> str:
    value = item.get(part, "")
    limit = MAX_NAME if part == "name" else MAX_FIELD_VALUE
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(f"a field's {part} must be text of at most {limit} characters")
    return value.strip()


def _take_entity_kind_field(fields: list[tuple[str, str]] | None) -> str | None:
    """Remove the "Entity kind" field (the kind is kept in its own column) and return it."""
    if fields is None:
        return None
    found = [value for name, value in fields if name.lower() == ENTITY_KIND_FIELD]
    fields[:] = [(name, value) for name, value in fields if name.lower() != ENTITY_KIND_FIELD]
    return found[-1] if found else None


def _entity_kind(value: str | None) -> str | None:
    if value is None:
        return None
    kind = value.strip().lower()
    if kind not in ENTITY_KINDS:
        raise ValidationError(f"the entity kind must be one of: {', '.join(ENTITY_KINDS)}")
    return kind


async def save_profile_change(
    session: AsyncSession, urls: LocalUrls, actor_id: int, change: ProfileChange
) -> Actor:
    """Apply `change` to the person and queue the Update(Person) for their followers, in the
    session's transaction (the caller commits, then wakes delivery)."""
    actor = await session.get(Actor, actor_id)
    assert actor is not None
    _apply_profile_change(actor, change, urls.base_url)
    await session.flush()
    doc = await signed_actor_document(session, actor, actor_to_as(actor, urls))
    await publish(session, urls, actor, activities.update_actor(urls, actor, doc))
    return actor


def _apply_profile_change(actor: Actor, change: ProfileChange, base_url: str) -> None:
    if change.display_name is not None:
        actor.name = change.display_name
    if change.note is not None:
        # Links, @mentions and #tags become links, as the settings page promises.
        actor.summary = linked_text_to_html(change.note, base_url) if change.note else ""
    if change.locked is not None:
        actor.manually_approves_followers = change.locked
    if change.entity_kind is not None:
        actor.entity_kind = change.entity_kind
    if change.fields is not None:
        set_profile_fields(actor, change.fields)
