"""A local person's make: its note (text, photos), its row, and its Create, in one commit.

The make is admitted first (`objects.makes.admit_make`, in the caller's session: it needs
no network); a refusal raises before anything is added. It is public, copied to the
maker's followers and to the design's project actor, whose inbox gets it whatever its
host, so the project lists it and Mastodon followers see a post with photos and a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import ValidationError
from federation.vocab import PUBLIC
from objects.designs import project_of
from objects.html import sanitize_html, text_to_html
from objects.licences import LicencePolicy
from objects.make_models import Make
from objects.makes import MakeSpec, admit_make, record_make
from objects.models import Note
from objects.notes import add_local_note
from objects.visibility import visibility_of
from outbox import activities
from outbox.c2s import attach_media
from outbox.publish import publish

MAX_MAKE_CHARS = 20_000


async def add_make(
    session: AsyncSession,
    resolver: ActorResolver,
    policy: LicencePolicy,
    maker: Actor,
    spec: MakeSpec,
    text: str,
    media_ids: Sequence[int] = (),
) -> tuple[Make, Note]:
    """Admit and add the make, publish its Create; the caller commits (or abandons the
    session when this raises: nothing was kept)."""
    if not isinstance(text, str) or len(text) > MAX_MAKE_CHARS:
        raise ValidationError(f"a make's notes ('content') are text of at most {MAX_MAKE_CHARS}")
    if not text.strip() and not media_ids:
        raise ValidationError("a make needs notes ('content') or photos ('media_ids')")
    admitted = await admit_make(session, policy, spec, maker)
    _, project_actor = await project_of(session, admitted.version)
    urls = resolver.urls
    cc = [a for a in dict.fromkeys((maker.followers_url, project_actor.uri)) if a]
    note = Note(
        uri=urls.new_note(),
        actor_id=maker.id,
        local=True,
        content=sanitize_html(_content_html(text, spec, admitted.version.name, project_actor)),
        visibility=visibility_of([PUBLIC], cc, maker.followers_url),
        to={"to": [PUBLIC], "cc": cc},
    )
    note.url = note.uri
    await add_local_note(session, note)
    await session.flush()
    await attach_media(session, resolver, maker, note, media_ids)
    make = await record_make(session, admitted, note, maker)
    inboxes = (project_actor.delivery_inbox,) if project_actor.delivery_inbox else ()
    await publish(
        session, urls, maker, activities.create_note(urls, maker, note), also_inboxes=inboxes
    )
    return make, note


def _content_html(text: str, spec: MakeSpec, version_name: str, project_actor: Actor) -> str:
    """What any client shows: the notes, the place and settings, and a link to the version."""
    parts = [text_to_html(text.strip())] if text.strip() else []
    facts = [f"Made in {escape(spec.place)}"] if spec.place else []
    if spec.for_sale:
        facts.append("for sale")
    if facts:
        parts.append(f"<p>{' · '.join(facts)}</p>")
    if spec.settings:
        parts.append(f"<p>Settings and changes: {escape(spec.settings)}</p>")
    link = f'<a href="{escape(spec.version_uri)}">{escape(version_name)}</a>'
    parts.append(f"<p>A make of {link} (@{escape(project_actor.handle)})</p>")
    return "".join(parts)
