"""Thumbnails of 3D files (STL, OBJ, glTF, GLB), drawn without a GPU.

The renderer is a small software rasteriser: the mesh is fitted into a fixed three-quarter
view (orthographic), each face gets flat Lambert shading, and faces are painted far to near
(painter's algorithm). Faces smaller than a pixel would cost a polygon call each for
nothing, so beyond a pixel they are splatted as points through a depth test instead.
Drawing happens at twice the size and is scaled down, which smooths the edges.

Uploaded files are hostile until proven otherwise: the input size, the face count and the
time are capped, a glTF may only carry its buffers inline (nothing is ever fetched), its
scene is measured before it is flattened (objects.gltf_scene), and a file that does not
parse raises ThumbnailError with a message saying why.

This module runs only in the limited child process of `objects.sandbox` (task `render_file`):
the server never imports it, nor numpy and trimesh.
"""

from __future__ import annotations

import io
import json
import struct
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import trimesh
from PIL import Image, ImageDraw

from objects.gltf_scene import check_scene_size
from objects.model_files import (
    HEIGHT,
    MAX_SECONDS,
    MAX_SOURCE_BYTES,
    WIDTH,
    ThumbnailError,
    model_format,
)

FORMAT_NAMES = {"stl": "STL", "obj": "OBJ", "gltf": "glTF", "glb": "GLB"}
MAX_FACES = 2_500_000  # a 100 MB binary STL holds 2 million
# Node instances of a glTF scene: an assembly placing a screw a thousand times is fine.
MAX_SCENE_NODES = 100_000
SUPERSAMPLE = 2
# Polygons drawn one by one; smaller faces (and any beyond this many) are splatted.
MAX_POLYGONS = 60_000
MIN_POLYGON_PIXELS = 2.0
BACKGROUND = (245, 247, 244)
GREEN = np.array([104.0, 176.0, 122.0])
AMBIENT = 0.38
# Z is up (as in STL); the camera looks from the front right, above.
EYE = np.array([1.0, -1.35, 0.95]) / np.linalg.norm([1.0, -1.35, 0.95])
LIGHT = np.array([0.2, -0.9, 1.2]) / np.linalg.norm([0.2, -0.9, 1.2])
# glTF (and OBJ as most tools write it) have Y up: turned so that Z is up like STL.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class Mesh:
    vertices: np.ndarray  # (n, 3) float
    faces: np.ndarray  # (m, 3) int indices into vertices


def render_thumbnail(
    data: bytes, file_name: str, *, width: int = WIDTH, height: int = HEIGHT
) -> bytes:
    """A PNG picture of the 3D file `data` (named `file_name`); ThumbnailError if it cannot."""
    deadline = time.monotonic() + MAX_SECONDS
    mesh = load_mesh(data, file_name)
    _check_time(deadline, file_name)
    return render_png(mesh, width, height)


def render_file(path: str, file_name: str) -> bytes:
    """The sandbox's task (objects.sandbox): the thumbnail of the stored file at `path`."""
    with open(path, "rb") as file:
        data = file.read(MAX_SOURCE_BYTES + 1)
    return render_thumbnail(data, file_name)


def load_mesh(data: bytes, file_name: str) -> Mesh:
    kind = model_format(file_name)
    if kind is None:
        raise ThumbnailError(f"{file_name} is not a 3D file we draw; use STL, OBJ, glTF or GLB")
    if len(data) > MAX_SOURCE_BYTES:
        raise ThumbnailError(
            f"{file_name} is larger than {MAX_SOURCE_BYTES // 1_000_000} MB; no thumbnail is made"
        )
    if kind in ("gltf", "glb"):
        doc = _gltf_json(data, kind, file_name)
        _refuse_external_resources(doc, file_name)
        # Before trimesh flattens the scene: that is where a small file becomes gigabytes.
        check_scene_size(doc, file_name, max_nodes=MAX_SCENE_NODES, max_triangles=MAX_FACES)
    try:
        loaded: Any = trimesh.load(io.BytesIO(data), file_type=kind, process=False, force="mesh")
        vertices = np.asarray(loaded.vertices, dtype=np.float64)
        faces = np.asarray(loaded.faces, dtype=np.int64)
    except MemoryError:
        raise  # the sandbox reports its limit
    except Exception as exc:  # any parser failure means the same thing to the maker
        raise ThumbnailError(
            f"{file_name} could not be read as {FORMAT_NAMES[kind]}: {exc!s:.200}"
        ) from exc
    return _checked(vertices, faces, kind, file_name)


def _checked(vertices: np.ndarray, faces: np.ndarray, kind: str, file_name: str) -> Mesh:
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0 or len(vertices) == 0:
        raise ThumbnailError(
            f"{file_name} holds no triangles to draw; check that it is a valid"
            f" {FORMAT_NAMES[kind]} file with a mesh in it"
        )
    if len(faces) > MAX_FACES:
        raise ThumbnailError(
            f"{file_name} has {len(faces):,} triangles, more than the {MAX_FACES:,} we draw"
        )
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise ThumbnailError(f"{file_name} has triangles that name missing vertices")
    finite = np.isfinite(vertices).all(axis=1)
    faces = faces[finite[faces].all(axis=1)]
    if len(faces) == 0:
        raise ThumbnailError(f"{file_name} has no triangles with finite coordinates")
    if kind != "stl":
        vertices = vertices @ Y_UP_TO_Z_UP.T
    return Mesh(vertices, faces)


def _gltf_json(data: bytes, kind: str, file_name: str) -> Any:
    try:
        if kind == "gltf":
            return json.loads(data)
        magic, _, _, chunk_length, chunk_type = struct.unpack_from("<4sIIII", data)
        if magic != b"glTF" or chunk_type != 0x4E4F534A:  # "JSON"
            raise ValueError("no glTF header")
        return json.loads(data[20 : 20 + chunk_length])
    except (ValueError, RecursionError, struct.error) as exc:
        raise ThumbnailError(
            f"{file_name} is not a valid {FORMAT_NAMES[kind]} file: {exc!s:.200}"
        ) from exc


def _refuse_external_resources(doc: Any, file_name: str) -> None:
    """Buffers and images must be inline: a thumbnail never makes us fetch anything."""
    if not isinstance(doc, dict):
        raise ThumbnailError(f"{file_name} is not a glTF document")
    for key in ("buffers", "images"):
        items = doc.get(key) or []
        for item in items if isinstance(items, list) else []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if uri is not None and not (isinstance(uri, str) and uri.startswith("data:")):
                raise ThumbnailError(
                    f"{file_name} refers to an external file ({str(uri)[:80]!r}); upload it as"
                    " GLB or with its buffers embedded as data: URIs"
                )


def _check_time(deadline: float, file_name: str) -> None:
    if time.monotonic() > deadline:
        raise ThumbnailError(f"{file_name} took too long to read; no thumbnail is made")


def render_png(mesh: Mesh, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    triangles = mesh.vertices[mesh.faces]  # (m, 3, 3)
    screen, depth = _project(triangles, big_w, big_h)
    shade = _shades(triangles)
    order = np.argsort(depth)  # far to near
    index = _paint(screen, depth, order, big_w, big_h)
    palette = np.vstack([BACKGROUND, GREEN * shade[:, None]]).clip(0, 255).astype(np.uint8)
    picture = Image.fromarray(palette[index + 1], "RGB")
    out = io.BytesIO()
    picture.resize((width, height), Image.Resampling.LANCZOS).save(out, "PNG", optimize=False)
    return out.getvalue()


def _camera() -> tuple[np.ndarray, np.ndarray]:
    right = np.cross(-EYE, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    return right, np.cross(right, -EYE)


def _project(triangles: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Screen coordinates (m, 3, 2) fitted into the picture with a margin, and face depths
    (larger is nearer the camera)."""
    right, up = _camera()
    x, y = triangles @ right, triangles @ up
    low = np.array([x.min(), y.min()])
    span = np.array([x.max(), y.max()]) - low
    scale = 0.86 * min(width / max(span[0], 1e-12), height / max(span[1], 1e-12))
    offset = (np.array([width, height]) - span * scale) / 2
    sx = (x - low[0]) * scale + offset[0]
    sy = height - ((y - low[1]) * scale + offset[1])  # image rows grow downwards
    return np.stack([sx, sy], axis=-1), (triangles @ EYE).mean(axis=1)


def _shades(triangles: np.ndarray) -> np.ndarray:
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    normals = normals / np.where(lengths > 0, lengths, 1)[:, None]
    # Two-sided: many STL files have some faces wound the wrong way round.
    normals *= np.where(normals @ EYE < 0, -1.0, 1.0)[:, None]
    shades: np.ndarray = AMBIENT + (1 - AMBIENT) * np.clip(normals @ LIGHT, 0, 1)
    return shades


def _paint(
    screen: np.ndarray, depth: np.ndarray, order: np.ndarray, width: int, height: int
) -> np.ndarray:
    """Per pixel, the index of the face seen there (-1: background)."""
    extent = screen.max(axis=1) - screen.min(axis=1)
    big = extent.max(axis=1) >= MIN_POLYGON_PIXELS
    if big.sum() > MAX_POLYGONS:
        big &= extent.prod(axis=1) >= np.sort(extent.prod(axis=1)[big])[-MAX_POLYGONS]
    canvas = Image.new("I", (width, height), -1)
    draw = ImageDraw.Draw(canvas)
    polygons = order[big[order]]
    # Only the drawn faces become Python lists: all of them cost 0.5 GB at 2 million faces.
    corners = screen[polygons].reshape(-1, 6).tolist()
    for face, points in zip(polygons.tolist(), corners, strict=True):
        draw.polygon(points, fill=face)
    index: np.ndarray = np.asarray(canvas, dtype=np.int64)
    _splat(index, screen, depth, order[~big[order]])
    return index


def _splat(index: np.ndarray, screen: np.ndarray, depth: np.ndarray, faces: np.ndarray) -> None:
    """Small faces as points (their corners and centre), kept where nearer than what is there."""
    if len(faces) == 0:
        return
    height, width = index.shape
    corners = screen[faces]
    points = np.concatenate([corners, corners.mean(axis=1, keepdims=True)], axis=1)
    cols = points[..., 0].astype(np.int64).clip(0, width - 1).ravel()
    rows = points[..., 1].astype(np.int64).clip(0, height - 1).ravel()
    owners = np.repeat(faces, 4)
    seen = index[rows, cols]
    nearer = (seen < 0) | (depth[owners] > depth[np.maximum(seen, 0)])
    # `faces` runs far to near, so where points share a pixel the nearest is written last.
    index[rows[nearer], cols[nearer]] = owners[nearer]
