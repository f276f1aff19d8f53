"""HTML pages for browsing: the home page's latest designs, search, following (here or
from one's own instance) and the page a "follow from your instance" link lands on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from actors.lookup import SearchRequest, actor_by_ref, find_accounts, is_url
from actors.models import Actor
from federation.errors import FederationError
from objects.designs import clean_tags
from objects.licence_rules import TITLES
from objects.licences import LicenceError, LicencePolicy
from objects.search import versions_matching
from web.browser import checked_form, local_path_or_home, sign_in_redirect, signed_in
from web.design_actions import follow_actor
from web.instance import instance_of
from web.pages.actors import actor_page, follow_state
from web.pages.design_cards import CardFilters, DesignCard, cards_for_versions, latest_designs
from web.pages.follow import subscribe_url
from web.request_input import local_actor_or_404
from web.templating import render_page

SCOPES = ("local", "remote")
SEARCH_LIMIT = 40
ACCOUNTS_LIMIT = 20
_LICENCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+\-]{0,99}")
_CURSOR = re.compile(r"[0-9]{1,18}")


# Home


def licence_choices(policy: LicencePolicy) -> list[tuple[str, str]]:
    """(SPDX id, title) of every licence the instance knows by name, by title."""
    ids = {*TITLES, *policy.refs}
    return sorted(((i, policy.title(i)) for i in ids), key=lambda pair: pair[1].lower())


def home_filters(request: Request, policy: LicencePolicy) -> CardFilters:
    """The home page's query, checked; FederationError (400) says what was wrong."""
    params = request.query_params
    licence = params.get("licence", "").strip()
    tag = params.get("tag", "").strip()
    scope = params.get("scope", "").strip()
    before = params.get("before", "").strip()
    if licence:
        if not _LICENCE_ID.fullmatch(licence):
            raise FederationError(
                f"choose one licence id, such as CC-BY-SA-4.0, not {licence!r:.80}", status=400
            )
        try:
            licence = policy.normalise(licence)
        except LicenceError as error:
            raise FederationError(error.message, status=400) from error
    tags = clean_tags([tag]) if tag else ()
    if tag and not tags:
        raise FederationError(
            f"{tag!r:.80} is not a tag: use letters, digits, '-' and '_'", status=400
        )
    if scope and scope not in SCOPES:
        raise FederationError("'scope' is local (this instance) or remote (others)", status=400)
    if before and not _CURSOR.fullmatch(before):
        raise FederationError(
            "'before' is the number given by the 'Older designs' link", status=400
        )
    return CardFilters(
        licence=licence or None,
        tag=tags[0] if tags else None,
        scope=scope or None,
        before=int(before) if before else None,
    )


async def home(request: Request) -> Response:
    instance = instance_of(request)
    await signed_in(request)
    try:
        filters = home_filters(request, instance.policy)
    except FederationError as error:
        return await _home_page(request, CardFilters(), [], None, error.message, error.status)
    async with instance.sessions() as session:
        cards, cursor = await latest_designs(session, filters, instance.urls.base_url)
    return await _home_page(request, filters, cards, cursor, None, 200)


async def _home_page(
    request: Request,
    filters: CardFilters,
    cards: Sequence[DesignCard],
    cursor: int | None,
    error: str | None,
    status: int,
) -> Response:
    wanted = {"licence": filters.licence, "tag": filters.tag, "scope": filters.scope}
    kept = {name: value for name, value in wanted.items() if value}
    return await render_page(
        request,
        "home.html",
        status,
        filters=filters,
        instance_actor=instance_of(request).urls.instance_actor,
        cards=cards,
        error=error,
        licences=licence_choices(instance_of(request).policy),
        tags=sorted({tag for card in cards for tag in card.tags}),
        first_page="/?" + urlencode(kept),
        next_page="/?" + urlencode(kept | {"before": cursor}) if cursor else None,
    )


# Search


async def search(request: Request) -> Response:
    instance = instance_of(request)
    viewer = await signed_in(request)
    text = request.query_params.get("q", "").strip()[:200]
    cards: list[DesignCard] = []
    if text and not is_url(text):
        async with instance.sessions() as session:
            versions = await versions_matching(session, text, SEARCH_LIMIT, None)
            cards = await cards_for_versions(session, versions, instance.urls.base_url)
    accounts = await find_accounts(
        instance,
        SearchRequest(
            text=text,
            types=("accounts",),
            viewer=viewer,
            resolve=viewer is not None,  # looking a handle up elsewhere is for members
            limit=ACCOUNTS_LIMIT,
            offset=0,
            account_id=None,
            following=False,
        ),
    )
    return await render_page(
        request, "search.html", q=text, cards=cards, accounts=accounts, searched=bool(text)
    )


# Following


async def follow(request: Request) -> Response:
    """POST /follow: the signed-in person follows `target` (an actor URI or handle), by the
    same steps as POST /api/v1/follows."""
    follower = await signed_in(request)
    if follower is None:
        # Nothing changes here, so the form's CSRF token (bound to the session that ended)
        # need not hold: the person signs in and comes back to the page.
        back = local_path_or_home(str((await request.form()).get("return_to", "")))
        return sign_in_redirect(back)
    form = await checked_form(request, "follow")
    instance = instance_of(request)
    ref = str(form.get("target", "")).strip()
    try:
        if not ref:
            raise FederationError("say whom to follow: the form needs 'target'", status=400)
        await follow_actor(instance, follower, ref)
    except FederationError as error:
        return await _interaction_page(request, None, ref, None, error)
    back = str(form.get("return_to", ""))
    return RedirectResponse(local_path_or_home(back), status_code=303)


async def remote_follow(request: Request) -> Response:
    """GET /users/{username}/remote-follow?handle=user@host: on to the person's own server."""
    instance = instance_of(request)
    actor = await local_actor_or_404(request)
    handle = request.query_params.get("handle", "").strip()
    try:
        if not handle:
            raise FederationError("enter your handle, such as you@your.instance", status=400)
        url = await subscribe_url(instance, handle, actor.uri)
    except FederationError as error:
        return await actor_page(request, actor, error=error.message, status=error.status)
    if url.startswith(instance.urls.base_url + "/"):
        return RedirectResponse(url[len(instance.urls.base_url) :], status_code=303)
    # Whatever site a WebFinger answer names, the person sees it and chooses to go there:
    # we never send a browser off-site by ourselves (no open redirect).
    return await render_page(
        request,
        "remote_follow.html",
        actor=actor,
        handle=handle.lstrip("@"),
        url=url,
        destination_host=urlsplit(url).hostname or "",
    )


async def authorize_interaction(request: Request) -> Response:
    """Where our "follow from your instance" template sends people: signed in, the account
    at `uri` with a follow button; else sign in first and come back."""
    instance = instance_of(request)
    viewer = await signed_in(request)
    uri = request.query_params.get("uri", "").strip()
    if viewer is None:
        back = "/authorize_interaction?" + urlencode({"uri": uri})
        return sign_in_redirect(back)
    actor, error = None, None
    try:
        if not uri:
            raise FederationError(
                "this page needs ?uri= an account's address or handle", status=400
            )
        actor = await actor_by_ref(instance, uri, f"there is no {uri!r:.80} here")
    except FederationError as failure:
        error = failure
    state = None
    if actor is not None:
        async with instance.sessions() as session:
            state = await follow_state(session, viewer, actor)
    return await _interaction_page(request, actor, uri, state, error)


async def _interaction_page(
    request: Request,
    actor: Actor | None,
    uri: str,
    state: str | None,
    error: FederationError | None,
) -> Response:
    return await render_page(
        request,
        "authorize_interaction.html",
        error.status if error else 200,
        actor=actor,
        uri=uri,
        error=error.message if error else None,
        follow_state=state,
        follow_error=None,
        return_to="/authorize_interaction?" + urlencode({"uri": uri}),
    )


routes: list[BaseRoute] = [
    Route("/", home),
    Route("/search", search),
    Route("/follow", follow, methods=["POST"]),
    Route("/users/{username}/remote-follow", remote_follow),
    Route("/authorize_interaction", authorize_interaction),
]
