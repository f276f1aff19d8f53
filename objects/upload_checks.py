"""What a new version must be before anything of it is published, from a form or the API.

Both faces call `check_new_version` with the upload's texts and staged files, before the
files are committed: a version with no file, an empty file, a file named like a 3D
model that is not one, or a name longer than its column is refused with a message saying
what to do (422), and nothing is stored. Names are refused, never cut: a name cut without
a word is a name its maker did not choose.

The 3D files are read in the limited child process of `objects.sandbox` (task
`objects.mesh_check.check_files`), all of one version in one child.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from federation.errors import ValidationError
from objects.model_files import MESH_EXTENSIONS, UnreadableMesh
from objects.sandbox import Sandbox, Task

CHECK_MESHES = Task("objects.mesh_check", "check_files")
MAX_NAME_CHARS = 255  # a project's or a version's name, a file's name
MAX_LABEL_CHARS = 64
MAX_TAG_CHARS = 64
MAX_TAGS = 20
MAX_CHANGELOG_CHARS = 5000


@dataclass(frozen=True)
class NewFile:
    """One uploaded file as the checks see it: its name (and that name's full length),
    size, where its staged bytes are, and whether it is a preview picture."""

    name: str
    name_chars: int
    size: int
    path: str | None  # None: a file kept from the version before, already checked
    preview: bool


@dataclass(frozen=True)
class NewTexts:
    name: str = ""
    label: str = ""
    tags: Sequence[str] = ()
    changelog: str = ""


def check_name(name: str, what: str = "the name") -> None:
    length = len(name.strip())
    if length > MAX_NAME_CHARS:
        raise ValidationError(
            f"{what} is {length} characters long; shorten it to at most {MAX_NAME_CHARS}"
            " (put the rest in the summary or the description)"
        )


def check_texts(texts: NewTexts) -> None:
    check_name(texts.name)
    label = texts.label.strip()
    if len(label) > MAX_LABEL_CHARS:
        raise ValidationError(
            f"the version label is {len(label)} characters long; shorten it to at most"
            f" {MAX_LABEL_CHARS}, such as '1.1' or 'summer-2026'"
        )
    if len(texts.changelog.strip()) > MAX_CHANGELOG_CHARS:
        raise ValidationError(
            f"the changelog is {len(texts.changelog.strip())} characters long; keep it to"
            f" {MAX_CHANGELOG_CHARS} (say what changed; the description says the rest)"
        )
    tags = [tag.strip().lstrip("#") for tag in texts.tags if tag.strip().lstrip("#")]
    for tag in tags:
        if len(tag) > MAX_TAG_CHARS:
            raise ValidationError(
                f"the tag {tag[:40]!r}... is {len(tag)} characters long; tags are at most"
                f" {MAX_TAG_CHARS}"
            )
    if len(set(tags)) > MAX_TAGS:
        raise ValidationError(
            f"{len(set(tags))} tags were given; keep the {MAX_TAGS} that describe it best"
        )


def check_files(files: Sequence[NewFile]) -> None:
    """What can be said without reading the files: there is one, none is empty, names fit."""
    if not files:
        raise ValidationError(
            "a version needs at least one file: add the model, drawings, sources or pictures"
            " of the design (or keep files of the version before)"
        )
    for file in files:
        if file.size == 0:
            raise ValidationError(
                f"{file.name} is empty (0 bytes): export or choose the file again, or leave it out"
            )
        if file.name_chars > MAX_NAME_CHARS:
            raise ValidationError(
                f"the file name {file.name[:40]!r}... is {file.name_chars} characters long;"
                f" rename the file to at most {MAX_NAME_CHARS} characters"
            )


def is_mesh(name: str) -> bool:
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in MESH_EXTENSIONS


async def check_new_version(sandbox: Sandbox, texts: NewTexts, files: Sequence[NewFile]) -> None:
    """Refuse (ValidationError, 422) a version that must not be published; see the module."""
    check_texts(texts)
    check_files(files)
    meshes = [[file.path, file.name] for file in files if file.path and is_mesh(file.name)]
    if meshes:
        await sandbox.run(
            CHECK_MESHES, json.dumps(meshes), label="the 3D files", error=UnreadableMesh
        )
