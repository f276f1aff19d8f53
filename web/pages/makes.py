"""The version page's "I made this" form: records a make as the JSON API does.

It calls `web.design_actions.post_make`, so `objects.makes.admit_make` decides here too: a
refusal (a sale the licence does not allow, coordinates as a place) is shown with its
reason on a page, and nothing is recorded. Photos are added through the API for now.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from federation.errors import FederationError, ValidationError
from objects.makes import make_spec
from web.browser import checked_form, is_local_path, local_path_or_home, sign_in_redirect, signed_in
from web.design_actions import post_make
from web.instance import instance_of
from web.scopes import PUBLIC, ScopedRoute
from web.templating import render_page

MAKE = "make"
FIELDS = ("version", "return_to", "content", "place", "settings", "made_by", "for_sale")


async def make_form(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is None:
        return_to = str((await request.form()).get("return_to", ""))
        return sign_in_redirect(local_path_or_home(return_to))
    form = await checked_form(request, MAKE)
    values = {name: str(form.get(name, "")) for name in FIELDS}
    return_to = values["return_to"].strip()
    try:
        if not is_local_path(return_to):
            raise ValidationError(
                "'return_to' must be a path on this site, such as /users/lamp/versions/1",
                status=400,
            )
        spec = make_spec(
            values["version"],
            place=values["place"],
            made_by_uri=values["made_by"].strip() or None,
            settings=values["settings"],
            for_sale=values["for_sale"] == "on",
        )
        make, _ = await post_make(instance_of(request), viewer, spec, values["content"], [])
    except FederationError as error:
        return await _make_error(request, values, error)
    page = urlsplit(return_to)._replace(fragment="").geturl()
    return RedirectResponse(f"{page}#make-{make.id}", status_code=303)


async def _make_error(
    request: Request, values: Mapping[str, str], error: FederationError
) -> HTMLResponse:
    return await render_page(
        request,
        "make_form.html",
        error.status,
        make_page=True,
        make_target=values["version"],
        return_to=local_path_or_home(values["return_to"].strip()),
        values=values,
        error=error.message,
    )


routes = [ScopedRoute("/makes", make_form, methods=["POST"], scope=PUBLIC)]
