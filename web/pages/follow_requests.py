"""Follow requests in the browser: a locked person sees who asks to follow them and
authorizes or rejects each, through the same functions as the Mastodon API (so a remote
follower's server gets the same `Accept` or `Reject`). The forms are CSRF-checked."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from actors.models import Actor, Follow
from federation.errors import FederationError
from outbox.follow_requests import authorize, reject, waiting_followers
from web.browser import checked_form, sign_in_redirect, signed_in
from web.instance import instance_of
from web.templating import render_page

PAGE = "/settings/follow-requests"
PURPOSE = "follow-request"
SHOWN = 200
DONE = {"authorized": "Accepted: they follow you now.", "rejected": "Rejected."}


async def follow_requests_page(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is None:
        return sign_in_redirect(PAGE)
    done = DONE.get(request.query_params.get("done", ""), "")
    return await _page(request, viewer, done=done)


async def _page(
    request: Request, viewer: Actor, *, done: str = "", error: str = "", status: int = 200
) -> Response:
    query = waiting_followers(viewer).order_by(Follow.id.desc()).limit(SHOWN)
    async with instance_of(request).sessions() as session:
        waiting = [actor for _, actor in await session.execute(query)]
    return await render_page(
        request,
        "follow_requests.html",
        status,
        waiting=waiting,
        locked=viewer.manually_approves_followers,
        done=done,
        error=error,
    )


async def answer_request(request: Request) -> Response:
    form = await checked_form(request, PURPOSE)
    viewer = await signed_in(request)
    if viewer is None:
        raise FederationError("sign in first: this page is for signed-in people", status=401)
    choice = str(form.get("decision", ""))
    follower_id = str(form.get("account_id", ""))
    if choice not in ("authorize", "reject") or not follower_id.isdigit():
        message = "choose Accept or Reject for one of the requests listed"
        return await _page(request, viewer, error=message, status=422)
    instance = instance_of(request)
    decide = authorize if choice == "authorize" else reject
    try:
        async with instance.sessions() as session:
            await decide(session, instance.urls, viewer, int(follower_id))
            await session.commit()
    except FederationError as exc:
        return await _page(request, viewer, error=exc.message, status=exc.status)
    instance.wake_delivery()
    done = "authorized" if choice == "authorize" else "rejected"
    return RedirectResponse(f"{PAGE}?done={done}", status_code=303)


routes: list[BaseRoute] = [
    Route(PAGE, follow_requests_page, methods=["GET"]),
    Route(PAGE, answer_request, methods=["POST"]),
]
