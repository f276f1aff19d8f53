"""A new version starts from the latest one: its texts pre-fill the form, and its files
can be kept, left out or replaced without uploading them again.

The form (and the API, with the same `keep` field) names kept files by SHA-256. Only files
of the project's latest version can be kept, so a form cannot borrow another design's
files; a kept file is stored again under the new version, pointing at the same bytes
(content-addressed, so nothing is copied). A new file with the name of a kept one
replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.errors import ValidationError
from objects.design_models import DesignVersion, Project, VersionFile
from objects.designs import FileSpec, files_of, latest_versions, licence_of
from web.uploaded import Upload


@dataclass(frozen=True)
class Previous:
    """The latest version of a project, and its files, that a new version starts from."""

    version: DesignVersion
    files: list[VersionFile]


async def previous_version(session: AsyncSession, project: Project) -> Previous | None:
    versions = await latest_versions(session, project, limit=1)
    if not versions:
        return None
    return Previous(versions[0], (await files_of(session, versions))[versions[0].id])


def prefilled(previous: Previous | None) -> dict[str, str]:
    """The form's values for a new version: the latest version's texts, no label or changelog."""
    if previous is None:
        return {}
    version = previous.version
    return {
        "name": version.name,
        "summary": version.summary,
        "description": version.source,
        "tags": ", ".join(version.tags.get("tags", [])),
        "licence": licence_of(version).expression or "",
    }


def kept_files(
    previous: Previous | None, keep: Sequence[str], new_names: Sequence[str]
) -> list[FileSpec]:
    """The latest version's files named in `keep` (SHA-256 digests), in their order, less
    those a new file of the same name replaces; ValidationError for a digest that is not
    one of them."""
    files = previous.files if previous is not None else []
    known = {file.sha256 for file in files}
    unknown = [digest for digest in keep if digest not in known]
    if unknown:
        raise ValidationError(
            f"'keep' names {unknown[0][:64]!r}, which is not a file of the latest version;"
            " keep only files listed on the form (their SHA-256)"
        )
    replaced = set(new_names)
    return [
        FileSpec(
            filename=file.filename,
            media_type=file.media_type,
            size=file.size,
            sha256=file.sha256,
            preview=file.preview,
            remote_url=file.remote_url,
            cid=file.cid,
        )
        for file in files
        if file.sha256 in set(keep) and file.filename not in replaced
    ]


async def kept_from_upload(
    sessions: async_sessionmaker[AsyncSession], project: Project, upload: Upload
) -> list[FileSpec]:
    """The files of the latest version that this upload keeps (its `keep` fields)."""
    keep = keep_values(upload.fields)
    if not keep:
        return []
    async with sessions() as session:
        previous = await previous_version(session, project)
    return kept_files(previous, keep, [uploaded.filename for uploaded in upload.files])


def keep_values(fields: Mapping[str, list[str]]) -> list[str]:
    return [value.strip().lower() for value in fields.get("keep", []) if value.strip()]
