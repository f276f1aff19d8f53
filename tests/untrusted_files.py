"""Hostile 3D files for the tests: the glTF bomb of issue 13, built here rather than stored."""

from __future__ import annotations

import json
import struct
from typing import Any

import trimesh

JSON_CHUNK, BIN_CHUNK = 0x4E4F534A, 0x004E4942


def glb_parts(glb: bytes) -> tuple[dict[str, Any], bytes]:
    json_length = struct.unpack_from("<I", glb, 12)[0]
    return json.loads(glb[20 : 20 + json_length]), glb[20 + json_length + 8 :]


def make_glb(doc: dict[str, Any], binary: bytes) -> bytes:
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    body = (
        struct.pack("<II", len(text), JSON_CHUNK)
        + text
        + struct.pack("<II", len(binary), BIN_CHUNK)
        + binary
    )
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def gltf_bomb(copies: int = 2500, subdivisions: int = 5) -> bytes:
    """One mesh (an icosphere of 20,480 triangles at 5 subdivisions) placed by `copies`
    nodes: about 440 KB that trimesh flattens into `copies` times the mesh."""
    ball = trimesh.creation.icosphere(subdivisions=subdivisions)
    doc, binary = glb_parts(ball.export(file_type="glb"))
    mesh = next(node["mesh"] for node in doc["nodes"] if "mesh" in node)
    doc["nodes"] = [{"children": list(range(1, copies + 1))}] + [
        {"mesh": mesh, "translation": [i % 50, i // 50, 0]} for i in range(copies)
    ]
    doc["scenes"], doc["scene"] = [{"nodes": [0]}], 0
    return make_glb(doc, binary)
