"""Markers: each person's reading position per timeline, kept with a version counter."""

from __future__ import annotations

from typing import Any

from objects.marker_models import Marker
from tests.support import call, count, get


async def test_markers_are_kept_per_person_and_timeline(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    both = {"timeline[]": ["home", "notifications"]}
    assert (await get(a, "/api/v1/markers", token, **both)).json() == {}

    saved = await call(a, "POST", "/api/v1/markers", token, json={"home": {"last_read_id": "103"}})
    assert saved.status_code == 200, saved.text
    home = saved.json()["home"]
    assert home["last_read_id"] == "103" and home["version"] == 1
    assert home["updated_at"].endswith("Z") and "." in home["updated_at"]
    # A form, as some apps send it, for both timelines; the version counts each save.
    again = await call(
        a,
        "POST",
        "/api/v1/markers",
        token,
        data={"home[last_read_id]": "110", "notifications[last_read_id]": "9"},
    )
    assert again.status_code == 200, again.text
    read = (await get(a, "/api/v1/markers", token, **both)).json()
    assert read["home"]["last_read_id"] == "110" and read["home"]["version"] == 2
    assert read["notifications"] == again.json()["notifications"]
    assert read["notifications"]["version"] == 1
    only_home = (await get(a, "/api/v1/markers", token, **{"timeline[]": "home"})).json()
    assert set(only_home) == {"home"}
    # Another person's markers are their own.
    assert (await get(a, "/api/v1/markers", bea_token, **both)).json() == {}
    assert await count(a, Marker) == 2


async def test_bad_markers_are_refused_and_change_nothing(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    for body in ({}, {"home": {"last_read_id": ""}}, {"home": "12"}, {"home": {"x": "1"}}):
        refused = await call(a, "POST", "/api/v1/markers", token, json=body)
        assert refused.status_code == 422, body
        assert "last_read_id" in refused.json()["error"]
    assert await count(a, Marker) == 0
    assert (
        await call(a, "POST", "/api/v1/markers", json={"home": {"last_read_id": "1"}})
    ).status_code == 401
