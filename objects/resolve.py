"""Finding a note by URI: ours, one we stored, or fetched (with origin checks) and stored."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actors.resolve import ActorResolver
from federation.errors import ValidationError
from objects.convert import parse_remote_note
from objects.models import Note
from objects.notes import get_note, store_remote_note


async def find_or_fetch_note(session: AsyncSession, resolver: ActorResolver, uri: str) -> Note:
    note = await get_note(session, uri)
    if note is not None:
        return note
    if resolver.urls.is_local(uri):
        raise ValidationError(f"there is no note {uri}", status=404)
    data = parse_remote_note(await resolver.fetch_document(uri))
    # parse_remote_note checked the note is on its author's host;
    # fetch_document checked that its id is its URL.
    author = await resolver.get_actor(data.attributed_to)
    return await store_remote_note(session, data, author)
