"""What an upload of a design version means, for the JSON API and the publishing form alike:
its licence, its parts and the version it describes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actors.maker_space import needs_to_as, parse_needs
from actors.models import Actor
from federation.errors import FederationError
from objects.blobs import StoredBlob
from objects.designs import (
    PREVIEW_TYPES,
    FileSpec,
    VersionSpec,
    clean_tags,
)
from objects.licences import COMPONENTS, LicenceError, LicencePolicy, LicenceTerms
from objects.sandbox import Sandbox
from objects.upload_checks import NewFile, NewTexts, check_new_version
from web.files import media_type_essence
from web.okh_import import OkhFields
from web.uploaded import Upload, UploadedFile

FILE_FIELDS = ("files", "previews")


def upload_licence(
    policy: LicencePolicy, upload: Upload, okh: OkhFields | None = None
) -> LicenceTerms:
    """The licence given, or else the uploaded okh.toml's (`web.okh_import.okh_fields`, read
    before the files are committed), or else the instance's default."""
    whole = (upload.value("licence") or "").strip()
    parts = {c: (upload.value(f"licence_{c}") or "").strip() for c in COMPONENTS}
    given = {component: value for component, value in parts.items() if value}
    if whole and given:
        raise LicenceError(
            "give either 'licence' (one SPDX expression for the whole design) or "
            "'licence_hardware', 'licence_documentation' and 'licence_software', not both"
        )
    if given:
        return policy.terms(given)
    manifest = okh.licence if okh is not None else ""
    if whole and manifest and policy.normalise(whole) != policy.normalise(manifest):
        raise LicenceError(
            f"the licence given ({whole}) is not the one in the okh.toml ({manifest}): "
            "make them agree, or leave 'licence' blank to take the manifest's"
        )
    return policy.terms(whole or manifest or None, default_if_missing=True)


def check_file_parts(upload: Upload) -> None:
    for uploaded in upload.files:
        if uploaded.field_name not in FILE_FIELDS:
            raise FederationError(
                f"the file {uploaded.filename!r} is in the part {uploaded.field_name!r:.80}; "
                "send design files as 'files' and preview images as 'previews'",
                status=400,
            )
        essence = media_type_essence(uploaded.content_type)
        if uploaded.field_name == "previews" and essence not in PREVIEW_TYPES:
            raise FederationError(
                f"the preview {uploaded.filename!r} is {essence}; previews must be PNG, "
                "JPEG, GIF, WebP or AVIF images (send other files as 'files')",
                status=415,
            )


def declared_needs(upload: Upload, okh: OkhFields | None = None) -> dict[str, Any] | None:
    """What making the version needs: the form's `needs_processes` (comma separated),
    `needs_volume` (mm, as 200x200x150) and `needs_materials`, or else the processes of an
    uploaded okh.toml; None when neither says. Checked before the files are stored."""
    processes = [p.strip() for p in (upload.value("needs_processes") or "").split(",")]
    processes = [p for p in processes if p] or list(okh.processes if okh else ())
    if not processes:
        return None
    materials = [m.strip() for m in (upload.value("needs_materials") or "").split(",")]
    volume = (upload.value("needs_volume") or "").strip()
    return needs_to_as(
        parse_needs(
            {
                "processes": processes,
                "buildVolume": volume or None,
                "materials": [m for m in materials if m],
            }
        )
    )


async def check_upload(sandbox: Sandbox, upload: Upload, kept: Sequence[FileSpec] = ()) -> None:
    """The checks every new version passes (objects.upload_checks), on the staged files
    and the files `kept` from the version before."""
    texts = NewTexts(
        name=upload.value("name") or "",
        label=upload.value("label") or "",
        tags=[tag for value in upload.fields.get("tags", []) for tag in value.split(",")],
        changelog=upload.value("changelog") or "",
    )
    files = [
        NewFile(name=f.filename, name_chars=0, size=f.size, path=None, preview=f.preview)
        for f in kept
    ]
    files += [
        NewFile(
            name=uploaded.filename,
            name_chars=uploaded.name_chars,
            size=uploaded.size,
            path=str(uploaded.staged.readable_path()),
            preview=uploaded.field_name == "previews",
        )
        for uploaded in upload.files
    ]
    await check_new_version(sandbox, texts, files)


def version_spec(
    upload: Upload,
    licence: LicenceTerms,
    author: Actor,
    stored: list[tuple[UploadedFile, StoredBlob]],
    kept: Sequence[FileSpec] = (),
    okh: OkhFields | None = None,
    needs: dict[str, Any] | None = None,
) -> VersionSpec:
    tags = [tag for value in upload.fields.get("tags", []) for tag in value.split(",")]
    files = tuple(kept) + tuple(
        FileSpec(
            filename=uploaded.filename,
            media_type=uploaded.content_type,
            size=blob.size,
            sha256=blob.sha256,
            preview=uploaded.field_name == "previews",
            cid=blob.cid,
        )
        for uploaded, blob in stored
    )
    manifest = okh or OkhFields()  # what the publisher left blank comes from an okh.toml
    return VersionSpec(
        label=upload.value("label") or manifest.label,
        name=upload.value("name") or manifest.name,
        summary=upload.value("summary") or manifest.summary,
        description=upload.value("description") or "",
        changelog=upload.value("changelog") or "",
        tags=clean_tags(tags),
        licence=licence,
        files=files,
        authors=(author.uri,),
        needs=needs,
    )
