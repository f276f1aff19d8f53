"""Is a file named like a 3D model (STL, OBJ, 3MF, glTF, GLB) really one? Asked at publish.

This reads each file's structure only: the binary STL's triangle count against its size, the
OBJ's statements, the glTF's JSON, the GLB's chunks, the 3MF's package and model part. It
never lays a scene out, so a file that is well formed but costly to draw is published and
its thumbnail job fails later with the reason (objects.thumbnails). A text file renamed
`.stl`, a truncated GLB or a zip that is no 3MF is refused at once, with what to do.

This module runs only in the limited child process of `objects.sandbox` (task
`check_files`): the server never imports it, and a hostile file stays in the child.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any
from xml.etree import ElementTree

from objects.model_files import MAX_SOURCE_BYTES, MESH_EXTENSIONS, UnreadableMesh

OBJ_STATEMENTS = frozenset(
    [
        "v",
        "vt",
        "vn",
        "vp",
        "f",
        "l",
        "p",
        "o",
        "g",
        "s",
        "mg",
        "usemtl",
        "mtllib",
        "cstype",
        "deg",
        "bmat",
        "step",
        "curv",
        "curv2",
        "surf",
        "parm",
        "trim",
        "hole",
        "scrv",
        "sp",
        "end",
        "con",
        "lod",
        "shadow_obj",
        "trace_obj",
        "ctech",
        "stech",
        "bevel",
        "c_interp",
        "d_interp",
    ]
)
GLB_MAGIC = b"glTF"
GLB_JSON_CHUNK = 0x4E4F534A
MAX_3MF_MODEL_BYTES = MAX_SOURCE_BYTES


def check_files(listing: str) -> int:
    """The sandbox's task: `listing` is JSON [[path, file name], ...]; raises UnreadableMesh
    for the first file that is not what its name says, else answers how many were read."""
    files = json.loads(listing)
    for path, name in files:
        with open(path, "rb") as file:
            data = file.read(MAX_SOURCE_BYTES + 1)
        check_mesh(data, name)
    return len(files)


def check_mesh(data: bytes, name: str) -> None:
    kind = MESH_EXTENSIONS.get(_extension(name))
    if kind is None:
        return
    checks = {"stl": _stl, "obj": _obj, "3mf": _three_mf, "gltf": _gltf, "glb": _glb}
    reason = checks[kind](data)
    if reason is not None:
        raise UnreadableMesh(
            f"{name} cannot be read as {kind.upper() if kind != 'gltf' else 'glTF'}: {reason}."
            " Export it again from your CAD program, or give it the extension of what it is"
        )


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


def _stl(data: bytes) -> str | None:
    head = data[:512].lstrip()
    if head[:5].lower() == b"solid" and b"endsolid" in data[-1024:].lower():
        try:
            data.decode("ascii")
        except UnicodeDecodeError:
            pass  # a binary STL whose header happens to begin with "solid"
        else:
            return None
    if len(data) < 84:
        return "it is neither an ASCII STL (solid ... endsolid) nor a binary STL (too short)"
    (count,) = struct.unpack_from("<I", data, 80)
    if count == 0 or len(data) != 84 + 50 * count:
        return (
            f"it is neither an ASCII STL nor a binary STL (its header announces {count:,}"
            f" triangles, which would take {84 + 50 * count:,} bytes, but it has {len(data):,})"
        )
    return None


def _obj(data: bytes) -> str | None:
    if b"\x00" in data:
        return "it holds binary data, and an OBJ file is text"
    text = data.decode("utf-8", errors="replace")
    vertices = 0
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        if words[0] not in OBJ_STATEMENTS:
            return f"line {number} begins with {words[0][:40]!r}, which is no OBJ statement"
        vertices += words[0] == "v"
    return None if vertices else "it has no vertex ('v' line)"


def _gltf_document(raw: bytes) -> tuple[Any, str | None]:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None, "its JSON does not parse"
    if not isinstance(doc, dict) or not isinstance(doc.get("asset"), dict):
        return None, "its JSON has no 'asset' object, which every glTF has"
    if not isinstance(doc["asset"].get("version"), str):
        return None, "its 'asset' names no glTF version"
    return doc, None


def _gltf(data: bytes) -> str | None:
    return _gltf_document(data)[1]


def _glb(data: bytes) -> str | None:
    if len(data) < 20 or data[:4] != GLB_MAGIC:
        return "it does not begin with the GLB header"
    _, length = struct.unpack_from("<II", data, 4)
    if length != len(data):
        return f"its header says {length:,} bytes but it has {len(data):,} (cut off?)"
    chunk_length, chunk_type = struct.unpack_from("<II", data, 12)
    if chunk_type != GLB_JSON_CHUNK or 20 + chunk_length > len(data):
        return "its first chunk is not the JSON chunk"
    return _gltf_document(data[20 : 20 + chunk_length])[1]


def _three_mf(data: bytes) -> str | None:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return "it is not a zip package, which every 3MF file is"
    with package:
        models = [i for i in package.infolist() if i.filename.lower().endswith(".model")]
        if not models:
            return "its package has no 3D model part (3D/3dmodel.model)"
        info = models[0]
        if info.file_size > MAX_3MF_MODEL_BYTES:
            return f"its model part unpacks to more than {MAX_3MF_MODEL_BYTES:,} bytes"
        try:
            root = ElementTree.fromstring(package.read(info))
        except (ElementTree.ParseError, zipfile.BadZipFile, ValueError) as exc:
            return f"its model part is not well-formed XML ({exc!s:.100})"
    if not root.tag.endswith("model") or not any(child.tag.endswith("resources") for child in root):
        return "its model part has no <model> with <resources>"
    return None
