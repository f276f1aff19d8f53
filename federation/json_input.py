"""The one reader of JSON that comes from outside: request bodies, activities, WebSocket
messages and fetched documents.

`json.loads` raises RecursionError (not ValueError) on deep nesting, so a caller that
catches only ValueError answers 500 with a traceback. Here any nesting past
`MAX_JSON_DEPTH` is refused with a 400 before anything looks at the value, and so are
values the databases cannot hold (NaN, Infinity, over-long numbers, NUL characters).
"""

from __future__ import annotations

import json
import math
from typing import Any

from federation.errors import FederationError


class MalformedJSON(FederationError):
    """JSON we cannot take: always the sender's mistake, always a 400 (routes that turn
    their own ValidationErrors into 422s, as Mastodon does, leave this one alone)."""

    status = 400


# Real activities and API bodies nest a handful of levels; anything near the interpreter's
# recursion limit would parse here and then fail (a 500) when stored or processed.
MAX_JSON_DEPTH = 64


def parse_json(raw: bytes | str, what: str = "the body", *, refuse_nul: bool = True) -> Any:
    """`raw` parsed; MalformedJSON (400) saying what is wrong with it otherwise.
    `refuse_nul=False` leaves NUL characters to the caller (fetched documents, whose
    converters drop them from free text)."""
    try:
        value = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError as exc:
        raise _too_deep(what) from exc
    except ValueError as exc:  # also over-long integers, NaN, Infinity and bad UTF-8
        raise MalformedJSON(f"{what} is not valid JSON: {exc}") from exc
    check_json_tree(value, what, refuse_nul=refuse_nul)
    return value


def parse_json_object(raw: bytes | str, what: str = "the body") -> dict[str, Any]:
    value = parse_json(raw, what)
    if not isinstance(value, dict):
        raise MalformedJSON(f"{what} must be a JSON object")
    return value


def check_json_tree(value: Any, what: str = "the body", *, refuse_nul: bool = True) -> None:
    """Refuse what would parse but fail later: deep nesting, and NUL (PostgreSQL's jsonb
    and text cannot hold it). Iterative, so any depth is safe to inspect."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if refuse_nul and "\x00" in item:
                raise MalformedJSON(f"{what} contains a NUL character (\\u0000)")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep(what)
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            item = item.values()
        stack.extend((child, depth + 1) for child in item)


def _too_deep(what: str) -> MalformedJSON:
    return MalformedJSON(
        f"{what} nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays; "
        "send a flatter document"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> float:
    # JSON has no NaN or Infinity; PostgreSQL's json type refuses them.
    raise ValueError(f"{name} is not a JSON value")
