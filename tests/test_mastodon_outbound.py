"""What our instance sends to a Mastodon server, checked by the rules Mastodon accepts it by.

mastodon.test is the stand-in server of test_mastodon_payloads: a Starlette app on the
in-memory network serving a Mastodon-shaped actor with its own key pair. Every request our
instance makes to it is checked here as Mastodon 4.x checks it, with this file's own code
rather than our signature module:

- the HTTP signature (app/controllers/concerns/signature_verification.rb): draft-cavage,
  rsa-sha256, a Date within twelve hours, a signed Digest matching the body of a POST;
- the signer (app/services/activitypub/fetch_remote_key_service.rb and
  fetch_remote_actor_service.rb): its actor document, fetched as Mastodon fetches it, is
  of an actor type, owns the key, and WebFinger leads back to it;
- the activity (app/lib/activitypub/activity.rb): its id and its object's id on the
  signer's host, its actor the signer;
- a design version (app/lib/activitypub/activity/create.rb): Mastodon shows a `Page` as
  its name, its summary as plain text and its url, and keeps four attachments at most, so
  the summary must carry the licence and link the files that are not attached.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Follow
from federation.keys import generate_rsa_pem, load_rsa_private_pem
from objects.design_convert import MAX_LINKED_FILES, mastodon_summary, parse_remote_version
from objects.design_models import DesignVersion, VersionFile
from objects.licences import LicencePolicy
from tests.mastodon import mastodon_fixture
from tests.support import Network, Node, call, settle, signed_post
from tests.test_design_api import JPEG, PNG, new_project
from tests.test_mastodon_payloads import ALICE, ALICE_KEY, FakeMastodon

MASTODON = "mastodon.test"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
# What Mastodon sends as Accept when it fetches ActivityPub documents.
MASTODON_ACCEPT = 'application/activity+json, application/ld+json; profile="' + AS_CONTEXT + '"'
# ActivityPub::FetchRemoteActorService::SUPPORTED_TYPES
ACTOR_TYPES = {"Person", "Service", "Organization", "Group", "Application"}
# SignatureVerification::EXPIRATION_WINDOW_LIMIT
DATE_WINDOW_SECONDS = 12 * 3600
# MediaAttachment::LOCAL_STATUS_LIMIT: the attachments Mastodon keeps of a remote status.
MASTODON_ATTACHMENTS = 4

LICENCE = "CERN-OHL-S-2.0"
LICENCE_WORDS = "CERN Open Hardware Licence Version 2 - Strongly Reciprocal"
SUMMARY = "A desk lamp with a 3D-printed arm & a steel base."
EDITED_SUMMARY = "Now with a dimmer."
PREVIEWS = [("front.png", PNG, "image/png"), ("side.jpg", JPEG, "image/jpeg")]
OTHER_FILES = [
    ("arm.stl", b"solid arm\nendsolid arm\n", "model/stl"),
    ("base.step", b"ISO-10303-21;\nEND-ISO-10303-21;\n", "model/step"),
    ("wiring diagram.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    ("bill-of-materials.csv", b"part,count\nscrew,4\n", "text/csv"),
    ("README.md", b"# Desk lamp\nPrint the arm in PETG.\n", "text/markdown"),
]


# --- Mastodon's acceptance rules ----------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One request our instance made to mastodon.test, as it went over the wire."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, request: httpx.Request) -> Sent:
        headers = {name.lower(): value for name, value in request.headers.items()}
        return cls(request.method, str(request.url), headers, request.content)

    @property
    def activity(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.body)
        return doc


def signature_params(header: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def check_date(sent: Sent) -> None:
    sent_at = parsedate_to_datetime(sent.headers["date"]).timestamp()
    assert abs(time.time() - sent_at) <= DATE_WINDOW_SECONDS, sent.headers["date"]


def check_digest(sent: Sent) -> None:
    expected = base64.b64encode(hashlib.sha256(sent.body).digest()).decode()
    assert sent.headers["digest"] == f"SHA-256={expected}"


def signing_string(sent: Sent, names: list[str]) -> bytes:
    parts = urlsplit(sent.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"(request-target): {sent.method.lower()} {target}"
        if name == "(request-target)"
        else f"{name}: {sent.headers[name]}"
        for name in names
    ]
    return "\n".join(lines).encode()


async def check_signature(network: Network, sent: Sent, required: set[str]) -> dict[str, Any]:
    """Mastodon's checks of a signed request; returns the signer's actor document."""
    params = signature_params(sent.headers["signature"])
    assert params["algorithm"] == "rsa-sha256"
    signed = params["headers"].lower().split()
    assert required <= set(signed), f"{signed} leaves out {required - set(signed)}"
    assert sent.headers["host"] == urlsplit(sent.url).netloc == MASTODON
    check_date(sent)
    if sent.body:
        check_digest(sent)
    signer = await fetch_signer(network, params["keyId"])
    key = load_pem_public_key(signer["publicKey"]["publicKeyPem"].encode())
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(
        base64.b64decode(params["signature"]),
        signing_string(sent, signed),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return signer


async def mastodon_get(network: Network, url: str, accept: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=network) as client:
        return await client.get(url, headers={"Accept": accept})


async def fetch_signer(network: Network, key_id: str) -> dict[str, Any]:
    """The actor behind a key id, fetched and checked as Mastodon does before trusting it."""
    response = await mastodon_get(network, key_id.split("#")[0], MASTODON_ACCEPT)
    assert response.status_code == 200
    media_type = response.headers["content-type"]
    assert media_type.startswith(("application/activity+json", "application/ld+json"))
    actor: dict[str, Any] = response.json()
    context = actor["@context"]
    assert AS_CONTEXT in (context if isinstance(context, list) else [context])
    assert actor["type"] in ACTOR_TYPES
    assert actor["publicKey"]["id"] == key_id
    assert actor["publicKey"]["owner"] == actor["id"]
    assert urlsplit(key_id).netloc == urlsplit(actor["id"]).netloc
    assert actor["inbox"] and actor["preferredUsername"]
    await check_webfinger(network, actor)
    return actor


async def check_webfinger(network: Network, actor: dict[str, Any]) -> None:
    """Mastodon keeps an account only if acct:username@host leads back to the actor."""
    host = urlsplit(actor["id"]).netloc
    acct = f"acct:{actor['preferredUsername']}@{host}"
    response = await mastodon_get(
        network, f"https://{host}/.well-known/webfinger?resource={acct}", "application/jrd+json"
    )
    assert response.status_code == 200, f"no WebFinger for {acct}"
    links = [link for link in response.json()["links"] if link.get("rel") == "self"]
    assert [link["href"] for link in links if "activity+json" in link["type"]] == [actor["id"]]


async def check_delivery(network: Network, sent: Sent) -> dict[str, Any]:
    """A POST to a Mastodon inbox: its request, its signer and its activity; returns it."""
    assert sent.method == "POST"
    media_type = sent.headers["content-type"]
    assert media_type.startswith("application/activity+json") or (
        media_type.startswith("application/ld+json") and AS_CONTEXT in media_type
    ), media_type
    required = {"(request-target)", "host", "date", "digest"}
    signer = await check_signature(network, sent, required)
    activity = sent.activity
    check_activity(activity, signer["id"])
    return activity


def check_activity(activity: dict[str, Any], actor_id: str) -> None:
    context = activity["@context"]
    assert AS_CONTEXT in (context if isinstance(context, list) else [context])
    host = urlsplit(actor_id).netloc
    assert urlsplit(activity["id"]).netloc == host
    assert activity["actor"] == actor_id
    if activity["type"] in ("Create", "Update"):
        obj = activity["object"]
        assert urlsplit(obj["id"]).netloc == host
        authors = obj["attributedTo"]
        # Mastodon takes the first attributedTo as the author when it fetches the object.
        assert (authors if isinstance(authors, list) else [authors])[0] == actor_id


def mastodon_links(text: str) -> set[str]:
    """The URLs Mastodon's linkify makes into links: runs of text up to a space."""
    return {unquote(url) for url in re.findall(r"https?://\S+", text)}


def check_page(page: dict[str, Any], licence_words: str, spdx: str) -> list[str]:
    """A design version as Mastodon shows it; returns the file URLs only the summary links."""
    assert page["type"] == "Page"
    for field in ("name", "summary", "url"):
        assert isinstance(page[field], str) and page[field].strip(), field
    summary = page["summary"]
    assert not re.search(r"</?[a-z]", summary), "Mastodon would show markup as text"
    assert licence_words in summary and spdx in summary
    attachments = page.get("attachment", [])
    assert len(attachments) <= MASTODON_ATTACHMENTS
    assert all(isinstance(a["url"], str) and a["mediaType"] for a in attachments)
    images = [a["mediaType"].startswith("image/") for a in attachments]
    assert images == sorted(images, reverse=True), "preview images come first"
    previews = [f for f in page["files"] if f["isPreview"]]
    assert sum(images) == min(len(previews), MASTODON_ATTACHMENTS)
    attached = {a["url"] for a in attachments}
    unattached = [f["url"] for f in page["files"] if f["url"] not in attached]
    linked = mastodon_links(summary)
    assert [url for url in unattached if url not in linked] == []
    return unattached


# --- the scene ----------------------------------------------------------------------------


@dataclass
class Scene:
    od: Node
    network: Network
    maker_token: str
    project: str
    key: rsa.RSAPrivateKey
    mastodon: FakeMastodon

    def sent(self, method: str | None = None) -> list[Sent]:
        return [
            Sent.of(request)
            for request in self.network.requests
            if request.url.host == MASTODON and method in (None, request.method)
        ]

    def delivered(self, kind: str) -> list[Sent]:
        return [sent for sent in self.sent("POST") if sent.activity["type"] == kind]

    async def follow_project(self) -> dict[str, Any]:
        """Alice's Follow as Mastodon sends it, signed with her key."""
        follow = mastodon_fixture("follow")
        follow["object"] = self.project
        await self.post_as_alice("/users/lamp/inbox", json.dumps(follow).encode())
        return follow

    async def post_as_alice(self, path: str, body: bytes) -> None:
        """POST `body` to our instance signed with alice's key, and let it be processed."""
        response = await signed_post(self.od, path, body, ALICE_KEY, self.key)
        assert response.status_code == 202, response.text
        await settle(self.od)

    async def publish(self) -> dict[str, Any]:
        files = [("previews", file) for file in PREVIEWS]
        files += [("files", file) for file in OTHER_FILES]
        data = {"label": "1.0", "name": "Desk lamp", "summary": SUMMARY, "licence": LICENCE}
        response = await call(
            self.od,
            "POST",
            "/api/v1/designs/lamp/versions",
            self.maker_token,
            data=data,
            files=files,
        )
        assert response.status_code == 201, response.text
        version: dict[str, Any] = response.json()
        return version

    async def edit(self, uri: str, **fields: str) -> None:
        path = f"/api/v1/versions?uri={uri}"
        response = await call(self.od, "PATCH", path, self.maker_token, json=fields)
        assert response.status_code == 200, response.text


@pytest.fixture
async def scene(nodes: Any, network: Network) -> Scene:
    od = await nodes("od.test")
    _, token = await od.user("maker")
    project = await new_project(od, token, "lamp", name="Desk lamp")
    private_pem, public_pem = generate_rsa_pem()
    actor = mastodon_fixture("actor")
    actor["publicKey"]["publicKeyPem"] = public_pem
    mastodon = FakeMastodon(actor)
    network.add(MASTODON, mastodon.app())
    key = load_rsa_private_pem(private_pem)
    return Scene(od, network, token, project["id"], key, mastodon)


# --- the tests ----------------------------------------------------------------------------


async def test_mastodon_accepts_our_accept_and_our_signed_get(scene: Scene) -> None:
    follow = await scene.follow_project()

    (accept,) = scene.delivered("Accept")
    activity = await check_delivery(scene.network, accept)
    assert activity["actor"] == scene.project
    assert activity["object"]["id"] == follow["id"]
    assert (activity["object"]["actor"], activity["object"]["object"]) == (ALICE, scene.project)

    # Checking the Follow's signature, our instance fetched alice's actor with a signed GET,
    # as Mastodon's secure mode (authorized fetch) requires.
    gets = [sent for sent in scene.sent("GET") if sent.url == ALICE]
    assert gets, "alice's actor was not fetched"
    for sent in gets:
        await check_signature(scene.network, sent, {"(request-target)", "host", "date"})


async def test_mastodon_accepts_and_renders_a_version_and_its_edit(scene: Scene) -> None:
    await scene.follow_project()
    version = await scene.publish()
    await settle(scene.od)

    (create,) = scene.delivered("Create")
    activity = await check_delivery(scene.network, create)
    page = activity["object"]
    assert page["id"] == version["id"]
    unattached = check_page(page, LICENCE_WORDS, LICENCE)
    assert SUMMARY in page["summary"]
    assert [a["name"] for a in page["attachment"]] == [
        "front.png",
        "side.jpg",
        "arm.stl",
        "base.step",
    ]
    assert len(page["files"]) == len(PREVIEWS) + len(OTHER_FILES)
    assert len(unattached) == 3
    await _links_give_the_files(scene, unattached)

    await scene.edit(version["id"], summary=EDITED_SUMMARY)
    await settle(scene.od)

    (update,) = scene.delivered("Update")
    activity = await check_delivery(scene.network, update)
    page = activity["object"]
    assert page["id"] == version["id"]
    check_page(page, LICENCE_WORDS, LICENCE)
    assert EDITED_SUMMARY in page["summary"] and SUMMARY not in page["summary"]


async def _links_give_the_files(scene: Scene, urls: list[str]) -> None:
    """What a person on Mastodon gets by following a link in the summary: the very file."""
    expected = {name: data for name, data, _ in OTHER_FILES}
    for url in urls:
        response = await mastodon_get(scene.network, url, "*/*")
        assert response.status_code == 200, url
        assert response.content == expected[unquote(url.rsplit("/", 1)[1])]


async def test_another_instance_keeps_every_file_and_the_own_summary(
    scene: Scene, nodes: Any
) -> None:
    other = await nodes("other.test")
    reader, token = await other.user("reader")
    follow = await call(other, "POST", "/api/v1/follows", token, json={"target": "@lamp@od.test"})
    assert follow.status_code == 202, follow.text
    await settle(scene.od, other)
    async with other.instance.sessions() as session:
        state = await session.scalar(select(Follow.state).where(Follow.follower_id == reader.id))
    assert state == FOLLOW_ACCEPTED
    version = await scene.publish()
    await settle(scene.od, other)

    copy, files = await _stored(other, version["id"])
    assert copy.summary == SUMMARY
    expected = [(name, data, True) for name, data, _ in PREVIEWS]
    expected += [(name, data, False) for name, data, _ in OTHER_FILES]
    assert [(f.filename, f.sha256, f.size, f.preview) for f in files] == [
        (name, hashlib.sha256(data).hexdigest(), len(data), preview)
        for name, data, preview in expected
    ]
    assert all(f.remote_url and f.remote_url.startswith("https://od.test/files/") for f in files)

    await scene.edit(version["id"], summary=EDITED_SUMMARY)
    await settle(scene.od, other)
    copy, files = await _stored(other, version["id"])
    assert copy.summary == EDITED_SUMMARY and len(files) == len(expected)


async def _stored(node: Node, uri: str) -> tuple[DesignVersion, list[VersionFile]]:
    async with node.instance.sessions() as session:
        version = await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))
        assert version is not None
        files = await session.scalars(
            select(VersionFile)
            .where(VersionFile.version_id == version.id)
            .order_by(VersionFile.position)
        )
        return version, list(files)


# --- the converters on their own ------------------------------------------------------------


def test_a_long_file_list_ends_with_how_many_more() -> None:
    files = [
        VersionFile(filename=f"part{n}.stl", sha256=f"{n:064x}", size=1, preview=False)
        for n in range(MAX_LINKED_FILES + 5)
    ]
    text = mastodon_summary("Many parts", "MIT License (MIT)", files, "https://od.test")
    assert len(mastodon_links(text)) == MAX_LINKED_FILES
    assert text.endswith("and 5 more files on the version's page")
    assert text.startswith("Many parts\n\nLicence: MIT License (MIT)\n\nFiles:\npart0.stl https://")


def test_a_page_from_other_software_is_read_from_summary_and_attachment() -> None:
    """Senders that do not know `files` and `designSummary`: their fields are taken as sent;
    ours: the extension fields win over the text written for Mastodon."""
    file = {"type": "Image", "url": "https://x.test/a.png", "sha256": "ab" * 32, "size": 3}
    page = {
        "id": "https://x.test/p/1/versions/1",
        "type": "Page",
        "audience": "https://x.test/p/1",
        "licenseExpression": "CC-BY-4.0",
        "summary": "Their summary",
        "attachment": [file],
    }
    policy = LicencePolicy("CC-BY-SA-4.0")
    theirs = parse_remote_version(page, policy)
    assert theirs.summary == "Their summary"
    assert [(f.remote_url, f.preview) for f in theirs.files] == [("https://x.test/a.png", True)]

    document = {**file, "type": "Document", "url": "https://x.test/b.stl", "isPreview": False}
    ours = parse_remote_version({**page, "designSummary": "", "files": [file, document]}, policy)
    assert ours.summary == ""
    assert [(f.remote_url, f.preview) for f in ours.files] == [
        ("https://x.test/a.png", True),
        ("https://x.test/b.stl", False),
    ]


# --- what Mastodon sends back -------------------------------------------------------------


async def deliver_from_alice(scene: Scene, name: str, target: str) -> None:
    """A fixture payload from alice, aimed at `target`, signed and posted as Mastodon does."""
    payload = mastodon_fixture(name, local_note=target, od=f"https://{scene.od.domain}")
    await scene.post_as_alice("/inbox", json.dumps(payload).encode())


async def test_a_mastodon_reply_like_and_boost_of_a_version(scene: Scene) -> None:
    await scene.follow_project()
    version = await scene.publish()
    await settle(scene.od)
    async with scene.od.instance.sessions() as session:
        row = await session.scalar(select(DesignVersion).where(DesignVersion.uri == version["id"]))
    assert row is not None
    status_path = f"/api/v1/statuses/v{row.id}"
    async with scene.od.client() as client:
        before = (await client.get(status_path)).json()
    await deliver_from_alice(scene, "create_note", version["id"])
    await deliver_from_alice(scene, "like", version["id"])
    await deliver_from_alice(scene, "announce", version["id"])

    async with scene.od.client() as client:
        after = (await client.get(status_path)).json()
        thread = (await client.get(f"{status_path}/context")).json()
        shared_by = (await client.get(f"{status_path}/reblogged_by")).json()
        liked_by = (await client.get(f"{status_path}/favourited_by")).json()
        replies = await client.get(
            f"{version['id']}/replies?page=true", headers={"Accept": "application/activity+json"}
        )
    # Favourites and boosts from Mastodon are counted (the cooperative's own boost of its
    # member's design was there before); the reply is a threaded comment.
    assert after["favourites_count"] == before["favourites_count"] + 1 == 1
    assert after["reblogs_count"] == before["reblogs_count"] + 1
    assert after["replies_count"] == 1
    assert shared_by[0]["acct"] == liked_by[0]["acct"] == "alice@mastodon.test"
    [comment] = thread["descendants"]
    assert comment["in_reply_to_id"] == f"v{row.id}"
    assert "the new extruder works!" in comment["content"]
    assert comment["account"]["acct"] == "alice@mastodon.test"
    assert replies.json()["orderedItems"] == [
        "https://mastodon.test/users/alice/statuses/112233445566778899"
    ]
