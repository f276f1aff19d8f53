"""Makes: admission and storage, the one decision every path that records a make crosses.

A make reaches us from the JSON API, the version page's form, or the inbox (a Create of a
Note carrying `makeOf`, from another instance). Whichever path, it is recorded only as an
`AdmittedMake`, made only by `admit_make`, which checks against the `LicencePolicy`:

- the version it is a make of is stored here and not deleted;
- the place is coarse: a town or a maker space by name, never coordinates;
- the sale rule: a make marked for sale is commercial use of the design, so its licence
  must allow it to the seller's entity kind (`LicencePolicy.check_sale`: the PPL refuses
  companies, as it refuses them forks; a non-commercial licence refuses everyone). The
  seller is the reporting actor and, when it is known here, the maker space it names.

A refusal raises `LicenceError` (or `ValidationError`) with the reason before anything is
stored; the API and the form answer 422, the inbox sends the sender a `Reject`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.errors import ValidationError
from objects.convert import first_id
from objects.design_models import DesignVersion, Project
from objects.designs import get_version, licence_of
from objects.html import plain_text
from objects.licences import LicenceError, LicencePolicy
from objects.make_models import Make
from objects.models import Note

MAX_PLACE_CHARS = 200
MAX_SETTINGS_CHARS = 5000
# "51.34, 12.37", "51°20'N": a place is named, never given as a position.
_COORDINATES = re.compile(r"-?\d{1,3}[.,]\d+\s*[,;/ ]\s*-?\d{1,3}[.,]\d+|\d\s*°")


@dataclass(frozen=True)
class MakeSpec:
    """What a make says about itself, whichever path it came by."""

    version_uri: str
    place: str = ""
    made_by_uri: str | None = None
    settings: str = ""
    for_sale: bool = False


@dataclass(frozen=True)
class AdmittedMake:
    """A make that passed `admit_make`, with the version and project it is a make of."""

    spec: MakeSpec
    version: DesignVersion
    project: Project


def is_make(obj: Any) -> TypeGuard[dict[str, Any]]:
    """A note-like object that reports building a design version."""
    return isinstance(obj, dict) and obj.get("type") == "Note" and bool(first_id(obj.get("makeOf")))


def make_spec(
    version_uri: str,
    *,
    place: Any = "",
    made_by_uri: Any = None,
    settings: Any = "",
    for_sale: Any = False,
) -> MakeSpec:
    """A checked spec from given values (API, form): a clear error for each bad one."""
    if not isinstance(place, str) or len(place) > MAX_PLACE_CHARS:
        raise ValidationError(f"'place' is a town or maker space, at most {MAX_PLACE_CHARS} chars")
    if _COORDINATES.search(place):
        raise ValidationError(
            "'place' names a town or a maker space; coordinates are never recorded"
        )
    if not isinstance(settings, str) or len(settings) > MAX_SETTINGS_CHARS:
        raise ValidationError(f"'settings' is text of at most {MAX_SETTINGS_CHARS} characters")
    if not isinstance(for_sale, bool):
        raise ValidationError("'for_sale' must be true or false")
    if made_by_uri is not None and (
        not isinstance(made_by_uri, str) or not made_by_uri.startswith(("https://", "http://"))
    ):
        raise ValidationError("'made_by' is the URL of the maker space or cooperative's actor")
    return MakeSpec(
        version_uri=version_uri.strip(),
        place=plain_text(place.strip(), MAX_PLACE_CHARS),
        made_by_uri=made_by_uri or None,
        settings=settings.strip(),
        for_sale=for_sale,
    )


def parse_remote_make(doc: dict[str, Any]) -> MakeSpec:
    """The spec of a received make; a place given as coordinates is refused, as locally."""
    location = doc.get("location")
    place = location.get("name") if isinstance(location, dict) else ""
    settings = doc.get("makeSettings")
    return make_spec(
        first_id(doc.get("makeOf")) or "",
        place=plain_text(place, MAX_PLACE_CHARS) if isinstance(place, str) else "",
        made_by_uri=first_id(doc.get("madeBy")),
        settings=plain_text(settings, MAX_SETTINGS_CHARS) if isinstance(settings, str) else "",
        for_sale=doc.get("forSale") is True,
    )


async def admit_make(
    session: AsyncSession, policy: LicencePolicy, spec: MakeSpec, maker: Actor
) -> AdmittedMake:
    """Decide whether `maker` may record this make; raise with the reason if not."""
    version = await get_version(session, spec.version_uri)
    if version is None:
        raise ValidationError(
            f"there is no design version {spec.version_uri!r:.200} here to record a make of",
            status=404,
        )
    if version.deleted_at is not None:
        raise ValidationError(
            f"the version {version.uri} was deleted; it takes no makes", status=410
        )
    if spec.for_sale:
        sellers = [maker]
        if spec.made_by_uri:
            made_by = await session.scalar(select(Actor).where(Actor.uri == spec.made_by_uri))
            sellers += [made_by] if made_by is not None else []
        for seller in sellers:
            try:
                policy.check_sale(licence_of(version), seller.entity_kind)
            except LicenceError as exc:
                raise LicenceError(
                    f"the make of {version.uri} for sale is refused: {exc.message}"
                ) from exc
    project = await session.get(Project, version.project_id)
    assert project is not None
    return AdmittedMake(spec, version, project)


def make_document(spec: MakeSpec) -> dict[str, Any]:
    """The make's own properties, kept in its note's document (`objects.convert.MAKE_KEYS`)."""
    doc: dict[str, Any] = {"makeOf": spec.version_uri, "forSale": spec.for_sale}
    if spec.place:
        doc["location"] = {"type": "Place", "name": spec.place}
    if spec.made_by_uri:
        doc["madeBy"] = spec.made_by_uri
    if spec.settings:
        doc["makeSettings"] = spec.settings
    return doc


async def record_make(
    session: AsyncSession, admitted: AdmittedMake, note: Note, maker: Actor
) -> Make:
    """Add the make's row for its (flushed) note and count it; the caller commits."""
    if not isinstance(admitted, AdmittedMake):
        raise TypeError("a make is recorded only as an AdmittedMake: call admit_make first")
    spec = admitted.spec
    note.document = {**(note.document or {}), **make_document(spec)}
    make = Make(
        note_id=note.id,
        uri=note.uri,
        version_id=admitted.version.id,
        project_id=admitted.project.id,
        maker_id=maker.id,
        local=maker.local,
        place=spec.place,
        made_by_uri=spec.made_by_uri,
        settings=spec.settings,
        for_sale=spec.for_sale,
    )
    session.add(make)
    admitted.version.makes_count += 1
    admitted.project.makes_count += 1
    return make


async def get_make(session: AsyncSession, uri: str) -> Make | None:
    return await session.scalar(select(Make).where(Make.uri == uri))


async def makes_of(
    session: AsyncSession,
    project: Project,
    *,
    version: DesignVersion | None = None,
    limit: int = 40,
) -> list[tuple[Make, Note, Actor, str]]:
    """A project's makes (of one version, if given), newest first, with their note, maker
    and version URI; makes whose note was deleted are left out."""
    query = (
        select(Make, Note, Actor, DesignVersion.uri)
        .join(Note, Note.id == Make.note_id)
        .join(Actor, Actor.id == Make.maker_id)
        .join(DesignVersion, DesignVersion.id == Make.version_id)
        .where(Make.project_id == project.id, Note.deleted_at.is_(None))
        .order_by(Make.id.desc())
        .limit(limit)
    )
    if version is not None:
        query = query.where(Make.version_id == version.id)
    return [(m, n, a, uri) for m, n, a, uri in (await session.execute(query)).all()]
