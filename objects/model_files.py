"""Which files are 3D models we draw, and the limits on drawing them.

Kept free of the database and of numpy, so that both the server (`objects.thumbnails`) and
the parsing child (`objects.mesh_render`) can import it cheaply.
"""

from __future__ import annotations

from federation.errors import ValidationError

MODEL_FORMATS = {".stl": "stl", ".obj": "obj", ".gltf": "gltf", ".glb": "glb"}
# Files checked at publish (objects.upload_checks): what we draw, and 3MF packages.
MESH_EXTENSIONS = {**MODEL_FORMATS, ".3mf": "3mf"}
WIDTH, HEIGHT = 640, 480
MAX_SOURCE_BYTES = 100_000_000  # the upload limit per file
MAX_SECONDS = 30.0


class ThumbnailError(ValidationError):
    """A 3D file that cannot be drawn; the message says why and what to do."""

    status = 422


class UnreadableMesh(ValidationError):
    """A file named like a 3D model that is not one; refused at publish."""

    status = 422


def model_format(file_name: str) -> str | None:
    """'stl', 'obj', 'gltf' or 'glb' for a 3D file we can draw, else None."""
    dot = file_name.rfind(".")
    return MODEL_FORMATS.get(file_name[dot:].lower()) if dot >= 0 else None
