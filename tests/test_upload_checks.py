"""Uploads are checked at publish, by the form and the API alike (objects.upload_checks):
an empty file, a file named like a 3D model that is not one, a version without a design
file and a name over its limit are refused with what to do, and nothing is stored."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any

import pytest

from objects.design_models import DesignVersion, Project
from objects.mesh_check import check_mesh
from objects.model_files import UnreadableMesh
from tests.support import Node, call, count
from tests.test_design_api import PNG, blob_files, new_project
from tests.test_web_publish import alert_of, publish_form
from tests.web_support import TETRAHEDRON, browser_and_token


def binary_stl(triangles: int) -> bytes:
    return b"\0" * 80 + struct.pack("<I", triangles) + b"\0" * 50 * triangles


def glb(doc: dict[str, Any]) -> bytes:
    body = json.dumps(doc).encode()
    body += b" " * (-len(body) % 4)
    total = 12 + 8 + len(body)
    return b"glTF" + struct.pack("<II", 2, total) + struct.pack("<II", len(body), 0x4E4F534A) + body


def three_mf(model: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("3D/3dmodel.model", model)
    return out.getvalue()


MODEL_XML = (
    b'<model xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02" unit="millimeter">'
    b"<resources/><build/></model>"
)
GOOD = [
    ("tetra.stl", TETRAHEDRON),
    ("binary.stl", binary_stl(2)),
    ("cube.obj", b"# a cube\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"),
    ("empty-scene.gltf", json.dumps({"asset": {"version": "2.0"}}).encode()),
    ("scene.glb", glb({"asset": {"version": "2.0"}})),
    ("plate.3mf", three_mf(MODEL_XML)),
    ("readme.txt", b"not a mesh, and not named like one"),
]
BAD = [
    ("notes.stl", b"this is a text file renamed .stl\n", "neither an ASCII STL"),
    ("short.stl", binary_stl(3)[:-7], "announces 3 triangles"),
    ("notes.obj", b"this is not a mesh\n", "no OBJ statement"),
    ("nothing.obj", b"# only a comment\n", "no vertex"),
    ("broken.gltf", b"{not json", "JSON does not parse"),
    ("other.gltf", b'{"scenes": []}', "no 'asset'"),
    ("cut.glb", glb({"asset": {"version": "2.0"}})[:-4], "cut off"),
    ("photo.glb", PNG, "GLB header"),
    ("plate.3mf", b"PK not really", "not a zip"),
    ("other.3mf", three_mf(b"<model><build/></model>"), "no <model> with <resources>"),
]


@pytest.mark.parametrize(("name", "data"), GOOD)
def test_well_formed_files_pass(name: str, data: bytes) -> None:
    check_mesh(data, name)


@pytest.mark.parametrize(("name", "data", "reason"), BAD)
def test_files_that_are_not_what_their_name_says_are_refused(
    name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(UnreadableMesh) as caught:
        check_mesh(data, name)
    assert reason in caught.value.message and name in caught.value.message
    assert "Export it again" in caught.value.message


# The API and the form, on both databases


async def api_publish(node: Node, token: str, files: list[Any], **data: str) -> Any:
    return await call(
        node,
        "POST",
        "/api/v1/designs/lamp/versions",
        token,
        data={"licence": "MIT", **data},
        files=files,
    )


async def nothing_stored(node: Node) -> bool:
    return await count(node, DesignVersion) == 0 and blob_files(node) == []


async def test_the_api_refuses_bad_uploads_and_stores_nothing(nodes: Any) -> None:
    node = await nodes("a.test")
    _, token = await node.user("alice")
    await new_project(node, token, "lamp")
    stl = ("files", ("lamp.stl", TETRAHEDRON, "model/stl"))
    refused = [
        ([("files", ("lamp.stl", b"", "model/stl"))], {}, "lamp.stl is empty (0 bytes)"),
        ([stl, ("files", ("notes.stl", b"hello\n", "model/stl"))], {}, "notes.stl cannot be"),
        ([("files", ("", b"", "application/octet-stream"))], {}, "at least one file"),
        ([stl], {"name": "n" * 400}, "400 characters long; shorten it to at most 255"),
        ([stl], {"label": "l" * 65}, "label is 65 characters"),
        ([stl], {"tags": "ok, " + "t" * 70}, "tags are at most 64"),
        ([stl], {"tags": ",".join(f"t{i}" for i in range(21))}, "21 tags were given"),
        ([("files", ("a" * 300 + ".stl", TETRAHEDRON, "model/stl"))], {}, "304 characters"),
    ]
    for files, data, message in refused:
        response = await api_publish(node, token, files, **data)
        assert response.status_code == 422, (message, response.text)
        assert message in response.json()["error"]
        assert await nothing_stored(node), message
    ok = await api_publish(node, token, [stl], name="Lamp", tags="lamp")
    assert ok.status_code == 201, ok.text
    long_project = await call(
        node, "POST", "/api/v1/designs", token, json={"slug": "long", "name": "x" * 256}
    )
    assert long_project.status_code == 422 and "at most 255" in long_project.json()["error"]
    assert await count(node, Project) == 1


async def test_the_form_shows_why_an_upload_is_refused(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, _ = await browser_and_token(node, "alice")
    cases = [
        ([("files", ("lamp.stl", b"", "model/stl"))], "Lamp", "is empty (0 bytes)"),
        ([("files", ("lamp.stl", b"just text", "model/stl"))], "Lamp", "cannot be read as STL"),
        ([("files", ("", b"", "application/octet-stream"))], "Lamp", "at least one file"),
        ([("files", ("lamp.stl", TETRAHEDRON, "model/stl"))], "L" * 400, "400 characters"),
    ]
    for files, name, message in cases:
        response = await publish_form(alice, files=files, name=name, slug="lamp", licence="PPL")
        assert response.status_code == 422, message
        assert message in alert_of(response.text)
        assert f'value="{name}"' in response.text  # the form keeps what was typed
        assert await count(node, Project) == 0 and await nothing_stored(node)


async def test_forks_and_edits_refuse_long_names_too(nodes: Any) -> None:
    node = await nodes("a.test")
    _, alice = await node.user("alice")
    _, bob = await node.user("bob")
    await new_project(node, alice, "lamp")
    stl = ("files", ("lamp.stl", TETRAHEDRON, "model/stl"))
    version = (await api_publish(node, alice, [stl], name="Lamp")).json()
    fork = await call(
        node,
        "POST",
        "/api/v1/forks",
        bob,
        json={"upstream": version["id"], "slug": "lamp2", "name": "f" * 300},
    )
    assert fork.status_code == 422 and "300 characters long" in fork.json()["error"]
    assert await count(node, Project) == 1
    path = f"/api/v1/versions?uri={version['id']}"
    edit = await call(node, "PATCH", path, alice, json={"name": "e" * 256})
    assert edit.status_code == 422 and "256 characters long" in edit.json()["error"]
    shown = await call(node, "GET", "/api/v1/versions", params={"uri": version["id"]})
    assert shown.json()["name"] == "Lamp"
