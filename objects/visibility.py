"""Who may see a note or a design: the one place that decides it, for every face.

A note is public, unlisted, for its author's followers, or direct. Its author reads it;
anyone reads a public or unlisted one; a followers-only one is read by the author's
accepted followers; a followers-only or direct one is read by the people it is addressed
to (Mastodon addresses everyone a post mentions). Design versions are public.

Listings and counts filter with `readable_by` (a SQL condition); single objects are checked
with `may_read`, and lists of fetched objects with `readable`: the three say the same thing.
What anyone may read (`readable_by(None)`) is also what public collections list and count,
and what `replies_count` counts. Public timelines and searches show public notes only
(`on_public_timelines`); an unlisted note is readable by its link but not advertised.

Whether an author's content is shown at all (deleted, suspended, silenced accounts) is
`actors.moderation`'s rule, applied beside this one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    String,
    and_,
    cast,
    false,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from federation.vocab import is_public
from objects.design_models import DesignVersion
from objects.models import ANNOUNCE, SHOWN_TO_ALL, Interaction, Note

PUBLIC = "public"
UNLISTED = "unlisted"
FOLLOWERS = "followers"
DIRECT = "direct"
# SHOWN_TO_ALL: readable by anyone, signed in or not, and so listed and counted in public
# collections (public and unlisted; kept with the model, whose index names them).
# Readable by the people they are addressed to.
ADDRESSED = (FOLLOWERS, DIRECT)

Item = TypeVar("Item", bound=Note | DesignVersion)


def visibility_of(to: list[str], cc: list[str], followers_url: str | None) -> str:
    """A note's visibility from its addressing, as Mastodon reads it."""
    if is_public(to):
        return PUBLIC
    if is_public(cc):
        return UNLISTED
    if followers_url and followers_url in to + cc:
        return FOLLOWERS
    return DIRECT


# Rules on loaded notes


def shown_to_all(note: Note) -> bool:
    return note.visibility in SHOWN_TO_ALL


def addressed_to(note: Note, viewer: Actor) -> bool:
    return viewer.uri in [*note.to.get("to", []), *note.to.get("cc", [])]


def shown_to(viewer: Actor | None, note: Note, followed: Collection[int]) -> bool:
    """Whether the viewer may read the note, given the authors they follow (accepted)."""
    if shown_to_all(note):
        return True
    if viewer is None:
        return False
    if viewer.id == note.actor_id:
        return True
    if note.visibility == FOLLOWERS and note.actor_id in followed:
        return True
    return note.visibility in ADDRESSED and addressed_to(note, viewer)


def reaches_followers(note: Note) -> bool:
    """Whether every follower of the author may read it (pushed to their home streams)."""
    return note.visibility in (*SHOWN_TO_ALL, FOLLOWERS)


def on_public_timelines(note: Note) -> bool:
    """Whether it belongs on public timelines and streams (public, not unlisted)."""
    return note.visibility == PUBLIC


async def may_read(session: AsyncSession, viewer: Actor | None, item: Note | DesignVersion) -> bool:
    """Whether the viewer may see this one note or design version."""
    return bool(await readable(session, viewer, [item]))


async def readable(
    session: AsyncSession, viewer: Actor | None, items: Sequence[Item]
) -> list[Item]:
    """The items the viewer may see, in order; one query however many are followers-only."""
    notes = [item for item in items if isinstance(item, Note)]
    followed = await _followed_authors(session, viewer, notes)
    return [
        item for item in items if not isinstance(item, Note) or shown_to(viewer, item, followed)
    ]


async def readers_among(session: AsyncSession, note: Note, actor_ids: list[int]) -> list[int]:
    """Those of these actors who may read the note, in order: no query for a note anyone
    may read (the usual case), else one or two (the notes of a batch may not be written
    yet, so nothing is flushed)."""
    if shown_to_all(note) or not actor_ids:
        return actor_ids
    with session.no_autoflush:
        actors = list(await session.scalars(select(Actor).where(Actor.id.in_(actor_ids))))
        followers: set[int] = set()
        if note.visibility == FOLLOWERS:
            followers = set(
                await session.scalars(
                    select(Follow.follower_id).where(
                        Follow.followee_id == note.actor_id,
                        Follow.follower_id.in_(actor_ids),
                        Follow.state == FOLLOW_ACCEPTED,
                    )
                )
            )
    readers = {
        actor.id
        for actor in actors
        if shown_to(actor, note, {note.actor_id} if actor.id in followers else set())
    }
    return [actor_id for actor_id in actor_ids if actor_id in readers]


async def _followed_authors(
    session: AsyncSession, viewer: Actor | None, notes: Sequence[Note]
) -> set[int]:
    """Which authors of the followers-only notes the viewer follows (accepted)."""
    if viewer is None:
        return set()
    authors = {note.actor_id for note in notes if note.visibility == FOLLOWERS} - {viewer.id}
    if not authors:
        return set()
    followed = await session.scalars(
        select(Follow.followee_id).where(
            Follow.follower_id == viewer.id,
            Follow.followee_id.in_(authors),
            Follow.state == FOLLOW_ACCEPTED,
        )
    )
    return set(followed)


# The same rules as SQL conditions, for listings and counts (`note`: Note or an alias).


def readable_by(viewer: Actor | None, note: Any = Note) -> ColumnElement[bool]:
    """The notes the viewer may read."""
    anyone = shown_to_all_sql(note)
    if viewer is None:
        return anyone
    followed = select(Follow.followee_id).where(
        Follow.follower_id == viewer.id, Follow.state == FOLLOW_ACCEPTED
    )
    return or_(
        anyone,
        note.actor_id == viewer.id,
        and_(note.visibility == FOLLOWERS, note.actor_id.in_(followed)),
        and_(note.visibility.in_(ADDRESSED), _addressed_in_sql(note, viewer)),
    )


def shown_to_all_sql(note: Any = Note) -> ColumnElement[bool]:
    """What anyone may read, with the values written out rather than bound, so that the
    partial index on such notes (`ix_notes_shown_actor_id`) serves the queries using it."""
    shown: ColumnElement[bool] = note.visibility.in_(
        [literal_column(repr(v)) for v in SHOWN_TO_ALL]
    )
    return shown


def readable_by_followers(viewer: Actor, note: Any = Note) -> ColumnElement[bool]:
    """`readable_by(viewer)` for notes of authors the viewer follows (accepted): all but
    the direct ones not addressed to them (cheaper: no look-up of whom the viewer follows)."""
    return or_(
        note.visibility.in_((*SHOWN_TO_ALL, FOLLOWERS)),
        note.actor_id == viewer.id,
        and_(note.visibility == DIRECT, _addressed_in_sql(note, viewer)),
    )


def _addressed_in_sql(note: Any, viewer: Actor) -> ColumnElement[bool]:
    """The viewer's URI is one of the note's to/cc addresses: the quoted URI is found in
    the JSON text, which reads the same on SQLite and PostgreSQL (our actors' URIs hold no
    character JSON escapes)."""
    if '"' in viewer.uri or "\\" in viewer.uri:
        return false()
    return _HoldsText(cast(note.to, String), literal(f'"{viewer.uri}"'))


class _HoldsText(FunctionElement[bool]):
    """Whether a text holds another, case-sensitively on both databases (SQLite's LIKE is
    not), with no pattern characters to escape."""

    type = Boolean()
    inherit_cache = True


@compiles(_HoldsText)
def _holds_text_sqlite(element: _HoldsText, compiler: Any, **kw: Any) -> str:
    haystack, needle = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"instr({haystack}, {needle}) > 0"


@compiles(_HoldsText, "postgresql")
def _holds_text_postgresql(element: _HoldsText, compiler: Any, **kw: Any) -> str:
    haystack, needle = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"strpos({haystack}, {needle}) > 0"


def listed_publicly(note: Any = Note) -> ColumnElement[bool]:
    """The notes public timelines and searches show (`on_public_timelines` as SQL)."""
    shown: ColumnElement[bool] = note.visibility == PUBLIC
    return shown


def boost_shown(boost: Any = Interaction) -> ColumnElement[bool]:
    """The Announces timelines show as reblogs: of a live note anyone may read (Mastodon
    boosts only those) or of a live design version. Each is an index lookup by URI."""
    note = select(Note.id).where(
        Note.uri == boost.object_uri, Note.deleted_at.is_(None), shown_to_all_sql()
    )
    version = select(DesignVersion.id).where(
        DesignVersion.uri == boost.object_uri, DesignVersion.deleted_at.is_(None)
    )
    shown: ColumnElement[bool] = (boost.kind == ANNOUNCE) & or_(note.exists(), version.exists())
    return shown
