"""Response helpers shared by the routes: content negotiation, JSON, errors, paging."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.errors import FederationError
from federation.vocab import ACTIVITY_JSON

PAGE_SIZE = 20
_CURSOR = re.compile(r"[0-9]{1,18}")


class ActivityResponse(Response):
    media_type = ACTIVITY_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def wants_activity_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/activity+json" in accept or "application/ld+json" in accept


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def federation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FederationError)
    return error_response(exc.status, exc.message)


def query_int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not _CURSOR.fullmatch(value):
        raise FederationError(
            f"the query parameter {name!r} must be a whole number of at most 18 digits", status=400
        )
    return int(value)


def ordered_collection(collection_id: str, total: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=true",
    }


def ordered_page(
    collection_id: str, page_id: str, items: list[Any], next_cursor: int | None, cursor_name: str
) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if next_cursor is not None:
        page["next"] = f"{collection_id}?page=true&{cursor_name}={next_cursor}"
    return page
