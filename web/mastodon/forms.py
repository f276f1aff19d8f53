"""What a Mastodon app sends to the routes that take a few parameters: a form, JSON, or
only the query string (apps differ, and several send DELETE parameters in the query)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from federation.errors import FederationError
from federation.json_input import parse_json_object
from web.account_json import form_pairs
from web.files import media_type_essence
from web.request_input import limited_body

# `keywords_attributes[][keyword]` or `keywords_attributes[0][keyword]`: a list of objects.
_NESTED = re.compile(r"([a-z_]+)\[(\d*)\]\[([a-z_]+)\]")


def fold_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A form's pairs as JSON carries them: `name[]` values in a list, and
    `name[][field]` (or `name[N][field]`) in a list of objects, a new one each time a
    field repeats (as Rails reads them)."""
    body: dict[str, Any] = {}
    for name, value in pairs:
        if match := _NESTED.fullmatch(name):
            listed: list[dict[str, str]] = body.setdefault(match[1], [])
            index, field = match[2], match[3]
            if index:
                while len(listed) <= int(index) and len(listed) < 100:
                    listed.append({})
                if int(index) < len(listed):
                    listed[int(index)][field] = value
            elif not listed or field in listed[-1]:
                listed.append({field: value})
            else:
                listed[-1][field] = value
        elif name.endswith("[]"):
            body.setdefault(name[:-2], []).append(value)
        else:
            body[name] = value
    return body


async def app_params(request: Request, limit: int) -> dict[str, Any]:
    """The query string's parameters, then the body's (a form or JSON; none is fine: apps
    send `POST …/block` with no body, some with a JSON content type all the same)."""
    params = fold_pairs(list(request.query_params.multi_items()))
    pairs = await form_pairs(request)
    if pairs is not None:
        return {**params, **fold_pairs(pairs)}
    raw = await limited_body(request, limit)
    if not raw.strip():
        return params
    media_type = media_type_essence(request.headers.get("content-type", ""))
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise FederationError(f"send JSON or a form, not {media_type:.80}", status=415)
    return {**params, **parse_json_object(raw)}
