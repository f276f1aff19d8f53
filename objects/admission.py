"""Admission of remote design versions: the one decision every path that stores one crosses.

A design version from another instance may reach us by a Create or Update in the inbox, an
Announce of its URL, a search that resolves it, a comment on it or a fork of it made here.
Whichever path it takes, it is stored only as an `AdmittedVersion`, and only
`admit_remote_version` makes one: the storing functions of `objects.designs` refuse anything
else (mypy sees the type; a forged value raises TypeError when it is made). The admission
checks, against the instance's `LicencePolicy`:

- a licence expression that parses, with only registered LicenseRef- references;
- irrevocability: an Update keeps the licence the version was published under;
- the fork rule: a fork (its own forkedFrom, or its project's upstream for a later version)
  is allowed by its upstream's licence, for its project actor's entity kind; an upstream we
  do not have is fetched (origin-checked) to read its licence, and is not stored;
- a forkedFrom that would close a cycle through the versions we store is refused.

A refusal raises `LicenceError` (or another `ValidationError`) with the reason, before
anything of the design is stored; the caller answers 422, or sends the sender a `Reject`.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import FederationError, ValidationError
from objects.design_convert import design_project_uri, is_design, parse_remote_version
from objects.design_models import DesignVersion
from objects.designs import (
    VersionSpec,
    add_version,
    ensure_project,
    get_version,
    licence_of,
    project_for_actor,
    record_fork,
)
from objects.licences import LicenceError, LicencePolicy, LicenceTerms
from objects.lineage import upstream_chain

# Set only while `admit_remote_version` makes its answer: an AdmittedVersion made anywhere
# else (directly, or by dataclasses.replace on an admitted one) raises TypeError.
_ADMITTING: ContextVar[bool] = ContextVar("_ADMITTING", default=False)


class UpstreamUnavailable(LicenceError):
    """The upstream's licence could not be read now: a refusal for now, worth a retry."""


@dataclass(frozen=True)
class AdmittedVersion:
    """A remote version that passed `admit_remote_version`; nothing else can make one."""

    spec: VersionSpec
    project_actor_id: int
    project_actor_uri: str

    def __post_init__(self) -> None:
        if not _ADMITTING.get():
            raise TypeError("an AdmittedVersion is made only by objects.admission")

    @property
    def uri(self) -> str:
        assert self.spec.uri is not None  # parse_remote_version always sets it
        return self.spec.uri


@dataclass(frozen=True)
class _Stored:
    """What we already store that the decision depends on (read in one short session)."""

    existing_licence: LicenceTerms | None
    existing_label: str
    upstream_uri: str | None
    upstream_licence: LicenceTerms | None
    closes_cycle: bool


async def admit_remote_version(
    sessions: async_sessionmaker[AsyncSession],
    resolver: ActorResolver,
    policy: LicencePolicy,
    doc: dict[str, Any],
    *,
    update: bool = False,
    project_actor: Actor | None = None,
) -> AdmittedVersion:
    """Decide whether the design version `doc` may be stored; raise with the reason if not.

    `project_actor` is the version's project actor when the caller has it (the signer of an
    inbox activity); otherwise it is resolved (fetched, origin-checked) from the document.
    Nothing is held open while fetching: the stored facts are read in a short session."""
    if not is_design(doc):
        raise ValidationError(f"{doc.get('id')} is not a design version (a Page with a licence)")
    spec = parse_remote_version(doc, policy)
    actor = await _project_actor(resolver, doc, project_actor)
    async with sessions() as session:
        stored = await _stored_facts(session, spec, actor)
    if update and stored.existing_licence is not None:
        policy.check_irrevocable(
            stored.existing_licence, spec.licence, version=stored.existing_label
        )
    if stored.closes_cycle:
        raise ValidationError(
            f"the design {spec.uri} names {stored.upstream_uri} as its upstream, which already"
            " descends from it: a lineage cannot be a cycle"
        )
    if stored.upstream_uri is not None:
        upstream_licence = stored.upstream_licence or await _fetched_licence(
            resolver, policy, stored.upstream_uri
        )
        _check_fork(policy, stored.upstream_uri, upstream_licence, spec, actor)
    return _admitted(spec, actor)


def _admitted(spec: VersionSpec, actor: Actor) -> AdmittedVersion:
    token = _ADMITTING.set(True)
    try:
        return AdmittedVersion(spec, actor.id, actor.uri)
    finally:
        _ADMITTING.reset(token)


async def _project_actor(
    resolver: ActorResolver, doc: dict[str, Any], given: Actor | None
) -> Actor:
    project_uri = design_project_uri(doc)
    assert project_uri is not None  # parse_remote_version checked it
    if given is not None and given.uri == project_uri:
        return given
    return await resolver.get_actor(project_uri)


async def _stored_facts(session: AsyncSession, spec: VersionSpec, actor: Actor) -> _Stored:
    assert spec.uri is not None
    existing = await get_version(session, spec.uri)
    project = await project_for_actor(session, actor)
    # A later version of a fork is still a fork: its project's upstream applies.
    upstream_uri = spec.upstream_uri or (project.upstream_uri if project else None)
    upstream = await get_version(session, upstream_uri) if upstream_uri else None
    return _Stored(
        existing_licence=licence_of(existing) if existing is not None else None,
        existing_label=existing.label if existing is not None else "",
        upstream_uri=upstream_uri,
        upstream_licence=licence_of(upstream) if upstream is not None else None,
        # Cheap to see: the upstream already descends, through stored links, from this
        # version. (Versions judged together, before either is stored, are not seen: the
        # lineage queries are bounded for that.)
        closes_cycle=upstream_uri is not None
        and spec.uri in await upstream_chain(session, upstream_uri),
    )


async def _fetched_licence(
    resolver: ActorResolver, policy: LicencePolicy, upstream_uri: str
) -> LicenceTerms:
    """The licence of an upstream we do not store, read from its origin (not stored)."""
    if resolver.urls.is_local(upstream_uri):
        raise LicenceError(f"the upstream design {upstream_uri} does not exist here")
    try:
        doc = await resolver.fetch_document(upstream_uri)
        if not is_design(doc):
            raise ValidationError(f"{upstream_uri} is not a design version")
        return parse_remote_version(doc, policy).licence
    except LicenceError:
        raise
    except FederationError as exc:
        raise UpstreamUnavailable(
            f"the upstream design {upstream_uri} could not be fetched to check the fork's"
            f" licence ({exc.message}); try again later"
        ) from exc


def _check_fork(
    policy: LicencePolicy,
    upstream_uri: str,
    upstream: LicenceTerms,
    spec: VersionSpec,
    actor: Actor,
) -> None:
    try:
        policy.check_fork(upstream, spec.licence, actor.entity_kind)
    except LicenceError as exc:
        raise LicenceError(f"the fork of {upstream_uri} is refused: {exc.message}") from exc


# --- storing: only what was admitted ------------------------------------------------------


async def store_remote_version(
    session: AsyncSession, project_actor: Actor, admitted: AdmittedVersion
) -> DesignVersion:
    """Insert an admitted version (or return the one we have); the caller commits."""
    existing = await get_version(session, _checked(admitted, project_actor).uri)
    if existing is not None:
        return existing
    return await insert_remote_version(session, project_actor, admitted)


async def insert_remote_version(
    session: AsyncSession, project_actor: Actor, admitted: AdmittedVersion
) -> DesignVersion:
    """Insert an admitted version we know we do not have yet, and record its fork link."""
    spec = _checked(admitted, project_actor).spec
    project = await ensure_project(session, project_actor)
    version = await add_version(
        session, project, project_actor, spec, uri=admitted.uri, local=False
    )
    if spec.upstream_uri:
        if project.upstream_uri is None and project.versions_count == 1:
            project.upstream_uri = spec.upstream_uri
        await record_fork(
            session,
            upstream_uri=spec.upstream_uri,
            upstream=await get_version(session, spec.upstream_uri),
            fork_uri=version.uri,
            fork_project_uri=project_actor.uri,
            forked_by=project_actor,
        )
    return version


def _checked(admitted: AdmittedVersion, project_actor: Actor) -> AdmittedVersion:
    """The admission's own value, for the project actor it judged (the entity kind and the
    project's upstream it checked are that actor's)."""
    if not isinstance(admitted, AdmittedVersion):
        raise TypeError(
            f"remote versions are stored only as an AdmittedVersion, not {type(admitted)!r}:"
            " call objects.admission.admit_remote_version first"
        )
    if admitted.project_actor_id != project_actor.id:
        raise TypeError(f"{admitted.uri} was admitted for another project actor")
    return admitted
