"""Publishing from the browser: a project and its versions, the Markdown preview, forks
with their live licence check, and comments.

Each form applies the JSON API's rules by calling the same functions
(`web.api.designs`, `web.api.shapes`, `outbox`), so a form and the API never disagree. A
refused form is shown again with the reason in `role="alert"`, the status the API would
give, and nothing changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from actors.models import Actor
from actors.service import ConflictError
from federation.errors import FederationError, ValidationError
from objects.design_models import Project
from objects.designs import (
    check_free_handle,
    create_project,
    is_maintainer,
    project_or_404,
)
from objects.licences import LicenceError, LicencePolicy, LicenceTerms
from objects.markdown import render_markdown
from objects.upload_quota import upload_quota
from web import form_guard
from web.browser import (
    FORM_EXPIRED,
    checked_form,
    is_local_path,
    local_path_or_home,
    sign_in_redirect,
    signed_in,
)
from web.design_actions import (
    add_published_version,
    fork_refusal,
    fork_request,
    fork_upstream,
    post_comment,
    store_fork,
)
from web.design_upload import (
    check_file_parts,
    check_upload,
    declared_needs,
    upload_licence,
    version_spec,
)
from web.instance import Instance, instance_of
from web.okh_import import okh_fields
from web.pages.version_rights import EntityRights, licence_view
from web.templating import render_page
from web.uploaded import Upload
from web.uploads import read_upload
from web.version_form import keep_values, kept_from_upload, prefilled, previous_version

PUBLISH = "publish"
FORK = "fork"
COMMENT = "comment"
OTHER = "other"
COMMON_LICENCES = (
    "PPL",
    "CC-BY-SA-4.0",
    "CC-BY-4.0",
    "CERN-OHL-S-2.0",
    "CERN-OHL-W-2.0",
    "CERN-OHL-P-2.0",
    "GPL-3.0-or-later",
    "MIT",
    "CC0-1.0",
)
TEXT_FIELDS = ("name", "slug", "label", "summary", "description", "changelog", "tags", "licence")
FETCH_HEADER = "x-requested-with"
_NOT_SLUG = re.compile(r"[^a-z0-9_]+")


# Signed-in people and where to send them


def _this_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


# The licence chooser


@dataclass(frozen=True)
class LicenceChoice:
    value: str
    title: str
    commercial_use: str
    who_may_fork: str
    rights: list[EntityRights]


def licence_choices(policy: LicencePolicy, keep: LicenceTerms | None = None) -> list[LicenceChoice]:
    """The common licences this instance's rules know, under the instance's default on
    top, or under `keep` (an upstream's licence) for a fork."""
    top: list[tuple[str, LicenceTerms]] = []
    if keep is not None:
        top.append((keep.expression or "", keep))
    choices = [describe(policy, value, terms) for value, terms in top]
    for value in dict.fromkeys([policy.default, *COMMON_LICENCES]):
        try:
            terms = policy.terms(value)
        except LicenceError:
            continue  # a licence this instance does not know is not offered
        if terms != keep:
            choices.append(describe(policy, value, terms))
    return choices


def describe(policy: LicencePolicy, value: str, terms: LicenceTerms) -> LicenceChoice:
    view = licence_view(policy, terms)
    return LicenceChoice(
        value=value,
        title=view.words if value else f"Keep the upstream's licences: {view.words}",
        commercial_use=view.commercial_use,
        who_may_fork=view.who_may_fork,
        rights=view.rights,
    )


def chosen_licence(values: Mapping[str, str]) -> str:
    """The expression the form chose: a listed licence, or the one typed under "other"."""
    choice = values.get("licence", "").strip()
    if choice != OTHER:
        return choice
    typed = values.get("licence_other", "").strip()
    if not typed:
        raise LicenceError(
            "you chose another licence but typed none: type an SPDX expression, such as "
            "'CERN-OHL-S-2.0 OR CC-BY-SA-4.0', or pick a licence from the list"
        )
    return typed


@dataclass(frozen=True)
class Chooser:
    """The chooser as a form shows it: the choices, the one picked, the typed expression."""

    choices: list[LicenceChoice]
    picked: str
    other: str


def _chooser(
    policy: LicencePolicy, values: Mapping[str, str], keep: LicenceTerms | None = None
) -> Chooser:
    choices = licence_choices(policy, keep)
    known = {choice.value for choice in choices}
    picked = values.get("licence")
    other = values.get("licence_other", "")
    if picked is None or (picked == "" and "" not in known):
        picked = choices[0].value
    elif picked not in known and picked != OTHER:
        picked, other = OTHER, picked
    return Chooser(choices, picked, other)


# Publishing a project and its versions


async def publish_page(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is None:
        return sign_in_redirect(_this_path(request))
    if request.method == "GET":
        return await _publish_form(request, project=None)
    return await _publish_post(request, viewer, project=None)


async def version_page(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is None:
        return sign_in_redirect(_this_path(request))
    instance = instance_of(request)
    try:
        project = await _maintained_project(instance, request.path_params["slug"], viewer)
    except FederationError as error:
        return await _refusal(request, "publish.html", error)
    if request.method == "GET":
        return await _publish_form(request, project=project, prefill=True)
    return await _publish_post(request, viewer, project=project)


async def _maintained_project(
    instance: Instance, slug: str, viewer: Actor
) -> tuple[Project, Actor]:
    async with instance.sessions() as session:
        project, project_actor = await project_or_404(session, slug)
        if not await is_maintainer(session, project, viewer):
            raise FederationError(
                f"only the maintainers of {project_actor.handle} may publish versions; "
                "fork it instead to publish your own",
                status=403,
            )
    return project, project_actor


async def _refusal(request: Request, template: str, error: FederationError) -> HTMLResponse:
    return await render_page(request, template, error.status, refusal=error.message)


async def _publish_form(
    request: Request,
    *,
    project: tuple[Project, Actor] | None,
    values: Mapping[str, str] | None = None,
    error: FederationError | None = None,
    keep: list[str] | None = None,
    prefill: bool = False,
) -> HTMLResponse:
    """The form; a new version's form starts (`prefill`) from the latest version: its texts,
    and every one of its files kept."""
    instance = instance_of(request)
    previous = None
    if project is not None:
        async with instance.sessions() as session:
            previous = await previous_version(session, project[0])
    if prefill and previous is not None:
        values, keep = prefilled(previous), [file.sha256 for file in previous.files]
    values = dict(values or {})
    policy = instance.policy
    return await render_page(
        request,
        "publish.html",
        error.status if error else 200,
        project_actor=project[1] if project else None,
        action=request.url.path,
        values=values,
        licences=_chooser(policy, values),
        error=error.message if error else None,
        previous=previous,
        keep=set(keep or []),
    )


async def _publish_post(
    request: Request, viewer: Actor, *, project: tuple[Project, Actor] | None
) -> Response:
    instance = instance_of(request)
    values: dict[str, str] = {}
    keep: list[str] = []
    try:
        upload = await _read_publish_upload(request, instance, viewer)
        async with upload:  # anything raised before commit() discards the staged files
            values = _typed_values(upload)
            keep = keep_values(upload.fields)
            _check_form_field(request, upload, PUBLISH)
            version_path = await _publish_upload(instance, viewer, project, upload, values)
    except FederationError as error:
        return await _publish_form(request, project=project, values=values, error=error, keep=keep)
    return RedirectResponse(version_path, status_code=303)


async def _read_publish_upload(request: Request, instance: Instance, viewer: Actor) -> Upload:
    """The multipart body, read as the API reads it (same limits and messages)."""
    settings = instance.settings
    return await read_upload(
        request,
        instance.blobs,
        quota=await upload_quota(instance.sessions, viewer, settings.default_upload_quota_bytes),
        max_file_bytes=settings.max_file_bytes,
        max_total_bytes=settings.max_version_bytes,
    )


def _typed_values(upload: Upload) -> dict[str, str]:
    return {name: upload.value(name) or "" for name in (*TEXT_FIELDS, "licence_other")}


def _check_form_field(request: Request, upload: Upload, purpose: str) -> None:
    # checked_form cannot be used here: it would read the body the upload streams.
    field = upload.value(form_guard.FIELD) or ""
    if not form_guard.is_valid(request, field, purpose):
        raise FederationError(FORM_EXPIRED, status=403)


async def _publish_upload(
    instance: Instance,
    viewer: Actor,
    project: tuple[Project, Actor] | None,
    upload: Upload,
    values: Mapping[str, str],
) -> str:
    """Check everything, then store the files, the project (if new) and the version."""
    upload.fields["licence"] = [chosen_licence(values)]
    okh = okh_fields(upload)  # an uploaded okh.toml fills what was left blank
    needs = declared_needs(upload, okh)
    licence = upload_licence(instance.policy, upload, okh)
    check_file_parts(upload)
    kept = [] if project is None else await kept_from_upload(instance.sessions, project[0], upload)
    await check_upload(instance.sandbox, upload, kept)
    slug = await _free_slug(instance, values) if project is None else ""
    stored = await upload.commit()
    spec = version_spec(upload, licence, viewer, stored, kept, okh, needs)
    try:
        async with instance.sessions() as session:
            if project is None:
                name = values["name"].strip() or slug
                summary = values["summary"]
                found = await create_project(
                    session, instance.urls, viewer, slug=slug, name=name, summary=summary
                )
            else:
                row = await session.get(Project, project[0].id)
                assert row is not None
                found = (row, project[1])
            version, _ = await add_published_version(session, instance, *found, spec)
            await session.commit()
    except IntegrityError as exc:
        raise ConflictError("another version or project was published just now; retry") from exc
    instance.wake_delivery()
    return urlsplit(version.uri).path


def slug_from(name: str) -> str:
    return _NOT_SLUG.sub("_", name.strip().lower()).strip("_")[:30].strip("_")


async def _free_slug(instance: Instance, values: Mapping[str, str]) -> str:
    """The handle asked for (or made from the name), refused before any file is stored."""
    slug = values["slug"].strip() or slug_from(values["name"])
    if not slug:
        raise ValidationError("give the project a name or a handle (letters, digits and '_')")
    async with instance.sessions() as session:
        await check_free_handle(session, slug)
    return slug


# The Markdown preview


async def preview(request: Request) -> Response:
    """The description as the version page will show it: a fragment for the page's script
    (which sends `X-Requested-With: fetch`), a whole page for the form's Preview button."""
    viewer = await signed_in(request)
    if viewer is None:
        raise FederationError("sign in first: the preview is for signed-in people", status=401)
    markdown = await _preview_markdown(request, viewer)
    html = render_markdown(markdown)
    if request.headers.get(FETCH_HEADER, "").lower() == "fetch":
        return HTMLResponse(html)
    return await render_page(request, "preview.html", html=html, markdown=markdown)


async def _preview_markdown(request: Request, viewer: Actor) -> str:
    """`markdown`, or the publish form's `description` when its Preview button sent it all."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = await _read_publish_upload(request, instance_of(request), viewer)
        async with upload:  # the files came along with the form: nothing is kept
            _check_form_field(request, upload, PUBLISH)
            fields = {name: upload.value(name) or "" for name in ("markdown", "description")}
    else:
        form = await checked_form(request, PUBLISH)
        fields = {name: str(form.get(name, "")) for name in ("markdown", "description")}
    return fields["markdown"] or fields["description"]


# Forks


@dataclass(frozen=True)
class Upstream:
    """The version a fork starts from, as the fork form shows it."""

    uri: str
    name: str
    terms: LicenceTerms
    licence: LicenceChoice
    own_refusal: str | None  # why the viewer may not fork it even keeping its licence


async def _upstream(request: Request, viewer: Actor, uri: str) -> Upstream:
    instance = instance_of(request)
    if not uri:
        raise ValidationError(
            "say which version to fork: open /fork?from=<version URI>", status=400
        )
    instance.blocks.check(uri)
    name, terms = await fork_upstream(instance, uri)
    return Upstream(
        uri=uri,
        name=name,
        terms=terms,
        licence=describe(instance.policy, terms.expression or "", terms),
        own_refusal=fork_refusal(instance, viewer, terms, terms),
    )


async def fork_page(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is None:
        return sign_in_redirect(_this_path(request))
    if request.method == "POST":
        return await _fork_post(request, viewer)
    uri = request.query_params.get("from", "").strip()
    try:
        upstream = await _upstream(request, viewer, uri)
    except FederationError as error:
        return await _refusal(request, "fork.html", error)
    return await _fork_form(request, viewer, upstream, {"name": upstream.name})


async def _fork_form(
    request: Request,
    viewer: Actor,
    upstream: Upstream,
    values: Mapping[str, str],
    error: FederationError | None = None,
) -> HTMLResponse:
    instance = instance_of(request)
    chooser = _chooser(instance.policy, values, upstream.terms)
    verdicts = {
        choice.value: _choice_verdict(instance, viewer, upstream.terms, choice.value)
        for choice in chooser.choices
    }
    return await render_page(
        request,
        "fork.html",
        error.status if error else 200,
        upstream=upstream,
        values=values,
        licences=chooser,
        verdicts=verdicts,
        error=error.message if error else None,
    )


def _choice_verdict(instance: Instance, viewer: Actor, upstream: LicenceTerms, value: str) -> str:
    chosen = instance.policy.terms(value) if value else upstream
    reason = fork_refusal(instance, viewer, upstream, chosen)
    return "Compatible with the upstream's licence." if reason is None else f"Not allowed: {reason}"


async def _fork_post(request: Request, viewer: Actor) -> Response:
    instance = instance_of(request)
    form = await checked_form(request, FORK)
    names = ("from", "slug", "name", "licence", "licence_other")
    values = {name: str(form.get(name, "")) for name in names}
    try:
        path = await _publish_fork(instance, viewer, values)
    except FederationError as error:
        try:
            upstream = await _upstream(request, viewer, values["from"].strip())
        except FederationError as lookup_error:
            return await _refusal(request, "fork.html", lookup_error)
        return await _fork_form(request, viewer, upstream, values, error)
    return RedirectResponse(path, status_code=303)


async def _publish_fork(instance: Instance, viewer: Actor, values: Mapping[str, str]) -> str:
    """The API's fork: the same checks in the same order, then the version page's path."""
    upstream_uri = values["from"].strip()
    if not upstream_uri:
        raise ValidationError(
            "say which version to fork: open /fork?from=<version URI>", status=400
        )
    instance.blocks.check(upstream_uri)
    expression = chosen_licence(values)
    licence = instance.policy.terms(expression) if expression else None
    if not values["slug"].strip():
        raise ValidationError(
            "give the fork a handle (lower-case letters, digits and '_')", status=400
        )
    wanted = await fork_request(
        instance, viewer, upstream_uri, values["slug"], values["name"], licence
    )
    _, _, version, _ = await store_fork(instance, wanted)
    return urlsplit(version.uri).path


async def fork_check(request: Request) -> Response:
    """Would this fork be allowed? `check_fork` answers, as for the API's dry run."""
    viewer = await signed_in(request)
    if viewer is None:
        return JSONResponse({"ok": False, "reason": "sign in to fork designs"}, status_code=401)
    instance = instance_of(request)
    uri = request.query_params.get("from", "").strip()
    expression = request.query_params.get("licence", "").strip()
    try:
        instance.blocks.check(uri)
        licence = instance.policy.terms(expression) if expression else None
        _, upstream = await fork_upstream(instance, uri)
    except LicenceError as error:
        return JSONResponse({"ok": False, "reason": error.message})
    except FederationError as error:
        return JSONResponse({"ok": False, "reason": error.message}, status_code=error.status)
    reason = fork_refusal(instance, viewer, upstream, licence or upstream)
    return JSONResponse({"ok": reason is None, "reason": reason or "compatible"})


# Comments


async def comment(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is None:
        return_to = str((await request.form()).get("return_to", ""))
        return sign_in_redirect(local_path_or_home(return_to))
    form = await checked_form(request, COMMENT)
    values = {name: str(form.get(name, "")) for name in ("in_reply_to", "return_to", "content")}
    return_to = values["return_to"].strip()
    try:
        if not is_local_path(return_to):
            raise ValidationError(
                "'return_to' must be a path on this site, such as /users/lamp/versions/1",
                status=400,
            )
        if not values["in_reply_to"].strip():
            raise ValidationError("the form does not say what the comment replies to", status=400)
        note = await post_comment(
            instance_of(request), viewer, values["in_reply_to"].strip(), values["content"], None
        )
    except FederationError as error:
        return await _comment_error(request, values, error)
    page = urlsplit(return_to)._replace(fragment="").geturl()
    return RedirectResponse(f"{page}#comment-{note.id}", status_code=303)


async def _comment_error(
    request: Request, values: Mapping[str, str], error: FederationError
) -> HTMLResponse:
    return_to = values["return_to"].strip()
    return await render_page(
        request,
        "comment_form.html",
        error.status,
        comment_page=True,
        comment_target=values["in_reply_to"],
        return_to=local_path_or_home(return_to),
        content=values["content"],
        error=error.message,
    )


routes = [
    Route("/publish", publish_page, methods=["GET", "POST"]),
    Route("/users/{slug}/publish", version_page, methods=["GET", "POST"]),
    Route("/preview", preview, methods=["POST"]),
    Route("/fork", fork_page, methods=["GET", "POST"]),
    Route("/fork/check", fork_check, methods=["GET"]),
    Route("/comments", comment, methods=["POST"]),
]
