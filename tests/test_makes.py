"""Makes across real instances: reported, federated to the project, listed, licence-checked.

b.test's person reports building a.test's design with a photo; the make reaches the
project as a Note carrying our make properties and is listed and counted there. On a PPL
design a company's make for sale is refused with the fork rule's reason on every path: the
JSON API, the version page's form and the inbox (with a Reject to the sender).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from actors.models import Actor
from federation.keys import load_rsa_private_pem
from federation.signatures import sign_cavage
from federation.vocab import MAKE_CONTEXT, PUBLIC
from inbox.models import InboxItem
from objects.make_models import Make
from objects.models import Note
from outbox.models import OutboxActivity
from tests.support import call, count, get, settle
from tests.test_design_federation import PNG, activity_json, api_post, new_project, publish
from tests.web_support import csrf_for, signed_in_browser, text_of

ACTIVITY_JSON = "application/activity+json"


async def test_a_make_with_a_photo_travels_to_the_project_and_is_counted(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    await new_project(a, alice_token, "gearbox")
    version = await publish(a, alice_token, "gearbox", "CERN-OHL-S-2.0")

    upload = await call(
        b, "POST", "/api/v2/media", bob_token, files={"file": ("build.png", PNG, "image/png")}
    )
    assert upload.status_code in (200, 202), upload.text
    made = await api_post(
        b,
        bob_token,
        "/api/v1/makes",
        {
            "version": version["id"],
            "content": "Printed it over a weekend; works well.",
            "place": "Leipzig",
            "settings": "PETG, 0.2 mm layers, 30% infill",
            "media_ids": [upload.json()["id"]],
        },
    )
    assert made.status_code == 201, made.text
    make = made.json()
    assert make["maker"] == bob.uri and make["version"] == version["id"]
    assert make["place"] == "Leipzig" and make["for_sale"] is False
    assert len(make["photos"]) == 1 and make["photos"][0]["url"].startswith("https://b.test/")

    # The object as it federates: a Note with the photo, a link, and our make terms.
    note = await activity_json(b, make["id"])
    assert note["type"] == "Note" and note["@context"] == MAKE_CONTEXT
    assert note["makeOf"] == version["id"] and note["forSale"] is False
    assert note["location"] == {"type": "Place", "name": "Leipzig"}
    assert note["makeSettings"] == "PETG, 0.2 mm layers, 30% infill"
    assert note["attachment"][0]["mediaType"] == "image/png"
    assert f'href="{version["id"]}"' in note["content"]
    assert PUBLIC in note["to"] and "https://a.test/users/gearbox" in note["cc"]

    # Mastodon apps on the maker's instance see it as a status with its photo.
    timeline = await get(b, "/api/v1/timelines/public", bob_token)
    assert timeline.status_code == 200, timeline.text
    (status,) = [s for s in timeline.json() if s["uri"] == make["id"]]
    assert len(status["media_attachments"]) == 1 and "Leipzig" in status["content"]

    await settle(a, b)
    listed = await get(a, "/api/v1/makes", design="gearbox")
    assert listed.status_code == 200, listed.text
    assert listed.json()["makes_count"] == 1
    (received,) = listed.json()["makes"]
    assert received["id"] == make["id"] and received["maker"] == bob.uri
    assert received["place"] == "Leipzig" and received["settings"] == make["settings"]
    assert received["photos"][0]["url"] == make["photos"][0]["url"]
    project = (await get(a, "/api/v1/designs/gearbox")).json()
    assert project["makes_count"] == 1
    shown = await get(a, "/api/v1/versions", uri=version["id"])
    assert shown.json()["makes_count"] == 1

    # Delivered again: still one make.
    async with a.instance.sessions() as session:
        activity = await session.scalar(select(InboxItem.payload).where(InboxItem.type == "Create"))
    assert activity is None or isinstance(activity, dict)
    assert await count(a, Make) == 1
    by_version = await get(a, "/api/v1/makes", version=version["id"])
    assert [m["id"] for m in by_version.json()["makes"]] == [make["id"]]

    # The same make delivered again (another activity): still one make, counted once.
    again = {"@context": MAKE_CONTEXT, "type": "Create", "actor": bob.uri, "object": note}
    answer = await signed_to_inbox(a, bob, {**again, "id": "https://b.test/activities/again"})
    assert answer.status_code == 202, answer.text
    await settle(a, b)
    assert await count(a, Make) == 1
    assert (await get(a, "/api/v1/designs/gearbox")).json()["makes_count"] == 1

    # Deleted by its maker: no longer listed nor counted.
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://b.test/activities/delete-make",
        "type": "Delete",
        "actor": bob.uri,
        "object": make["id"],
    }
    assert (await signed_to_inbox(a, bob, delete)).status_code == 202
    await settle(a, b)
    gone = (await get(a, "/api/v1/makes", design="gearbox")).json()
    assert gone["makes_count"] == 0 and gone["makes"] == []
    assert (await get(a, "/api/v1/versions", uri=version["id"])).json()["makes_count"] == 0


async def signed_to_inbox(node: Any, sender: Actor, activity: dict[str, Any]) -> Any:
    """`activity` signed with `sender`'s own key and posted to `node`'s shared inbox."""
    assert sender.private_key_pem is not None
    raw = json.dumps(activity).encode()
    headers = {"Content-Type": ACTIVITY_JSON}
    key = load_rsa_private_pem(sender.private_key_pem)
    inbox = f"https://{node.domain}/inbox"
    headers.update(sign_cavage("POST", inbox, headers, raw, sender.public_key_id, key))
    async with node.client() as client:
        return await client.post("/inbox", content=raw, headers=headers)


async def test_bad_makes_are_refused_with_a_reason_and_change_nothing(nodes: Any) -> None:
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    await new_project(a, alice_token, "gearbox")
    version = await publish(a, alice_token, "gearbox", "MIT")
    cases = [
        ({"version": version["id"], "content": "x", "place": "51.34, 12.37"}, 422, "coordinates"),
        ({"version": version["id"], "content": "x", "for_sale": "yes"}, 422, "for_sale"),
        ({"version": version["id"]}, 422, "photos"),
        ({"version": "https://a.test/users/gearbox/versions/9", "content": "x"}, 404, "no design"),
        ({"content": "x"}, 400, "version"),
    ]
    for body, status, words in cases:
        response = await api_post(a, alice_token, "/api/v1/makes", body)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"], response.text
    assert await count(a, Make) == 0
    assert await count(a, Note) == 0
    missing = await get(a, "/api/v1/makes")
    assert missing.status_code == 400 and "design" in missing.json()["error"]


async def test_a_company_may_not_sell_makes_of_a_ppl_design_on_any_path(nodes: Any) -> None:
    a, c = await nodes("a.test"), await nodes("c.test")
    _, alice_token = await a.user("alice")
    _, corp_a_token = await a.user("corpa", "company")
    _, coop_token = await a.user("workers", "cooperative")
    corp, corp_token = await c.user("corp", "company")
    await new_project(a, alice_token, "commons")
    version = await publish(a, alice_token, "commons", "PPL")
    body = {"version": version["id"], "content": "Built and listed.", "for_sale": True}

    # The JSON API, here and on the company's own instance (which fetched the design).
    for node, token in ((a, corp_a_token), (c, corp_token)):
        refused = await api_post(node, token, "/api/v1/makes", body)
        assert refused.status_code == 422, refused.text
        reason = refused.json()["error"]
        assert "PPL" in reason and "company" in reason and version["id"] in reason
        assert await count(node, Make) == 0 and await count(node, Note) == 0
    # Not for sale, the same company may report its build; a cooperative may sell one.
    kept = await api_post(a, corp_a_token, "/api/v1/makes", {**body, "for_sale": False})
    assert kept.status_code == 201, kept.text
    sold = await api_post(a, coop_token, "/api/v1/makes", body)
    assert sold.status_code == 201, sold.text

    # The inbox: the company's make for sale, signed on c.test and sent to the project.
    assert corp.private_key_pem is not None
    note_uri = "https://c.test/notes/forged-make"
    create = {
        "@context": MAKE_CONTEXT,
        "id": f"https://c.test/activities/{hashlib.sha256(note_uri.encode()).hexdigest()[:32]}",
        "type": "Create",
        "actor": corp.uri,
        "object": {
            "id": note_uri,
            "type": "Note",
            "attributedTo": corp.uri,
            "content": "<p>For sale.</p>",
            "to": [PUBLIC],
            "cc": ["https://a.test/users/commons"],
            "makeOf": version["id"],
            "forSale": True,
            "location": {"type": "Place", "name": "Lyon"},
        },
        "to": [PUBLIC],
        "cc": ["https://a.test/users/commons"],
    }
    raw = json.dumps(create).encode()
    headers = {"Content-Type": ACTIVITY_JSON}
    key = load_rsa_private_pem(corp.private_key_pem)
    headers.update(
        sign_cavage("POST", "https://a.test/inbox", headers, raw, corp.public_key_id, key)
    )
    async with a.client() as client:
        response = await client.post("/inbox", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    reason = response.json()["error"]
    assert "PPL" in reason and "company" in reason and version["id"] in reason
    assert await count(a, InboxItem, InboxItem.activity_uri == create["id"]) == 0
    assert await count(a, Note, Note.uri == note_uri) == 0
    async with a.instance.sessions() as session:
        rejects = list(
            await session.scalars(select(OutboxActivity).where(OutboxActivity.type == "Reject"))
        )
        assert len(rejects) == 1 and rejects[0].payload["summary"] == reason
        corp_here = await session.scalar(select(Actor).where(Actor.uri == corp.uri))
        assert corp_here is not None and corp_here.entity_kind == "company"
    assert await count(a, Make) == 2
    listed = await get(a, "/api/v1/makes", design="commons")
    assert listed.json()["makes_count"] == 2
    assert {m["for_sale"] for m in listed.json()["makes"]} == {True, False}


async def test_the_version_page_lists_makes_and_its_form_records_or_refuses_one(
    nodes: Any,
) -> None:
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    await new_project(a, alice_token, "commons")
    version = await publish(a, alice_token, "commons", "PPL")
    page = "/users/commons/versions/1"

    browser = await signed_in_browser(a, "maker")
    async with browser:
        fields = await csrf_for(browser, page, "/makes")
        assert fields["version"] == version["id"]
        posted = await browser.post(
            "/makes",
            data={**fields, "content": "Cut on the laser.", "place": "Ghent", "for_sale": "on"},
        )
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"].startswith(f"{page}#make-")
    shown = text_of((await browser_get(a, page)).text)
    assert "Makes (1)" in shown and "in Ghent" in shown and "for sale" in shown
    assert "Cut on the laser." in shown
    home = text_of((await browser_get(a, "/")).text)
    assert "1 make" in home
    project_page = text_of((await browser_get(a, "/users/commons")).text)
    assert "Makes (1)" in project_page and "maker@a.test · in Ghent · for sale" in project_page

    company = await signed_in_browser(a, "bigcorp", "company")
    async with company:
        fields = await csrf_for(company, page, "/makes")
        refused = await company.post(
            "/makes", data={**fields, "content": "Ours to sell.", "for_sale": "on"}
        )
    assert refused.status_code == 422
    reason = text_of(refused.text)
    assert "not recorded" in reason and "PPL does not allow a company" in reason
    assert await count(a, Make) == 1


async def browser_get(node: Any, path: str) -> Any:
    async with node.client() as client:
        return await client.get(path)
