"""Converters between design rows and ActivityStreams JSON, kept out of the ORM classes.

A version is a `Page` (Mastodon drops unknown types). Mastodon shows a Page as its name,
its summary as plain text and a link to its url, ignores `content`, and keeps at most four
attachments. So `summary` is written for people on Mastodon (the version's summary, its
licence in words and links to the files that are not attached), while `designSummary` and
`files` carry the version's own summary and every file to instances that know our terms.

Its licence travels twice: `license` holds URLs any software understands (schema.org), and
`licenseExpression` the SPDX expression, or one per component, that instances enforce.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypeGuard
from urllib.parse import quote

from actors.maker_space import needs_or_none
from actors.models import Actor
from federation.errors import ValidationError
from federation.urls import host_of, is_web_url
from federation.vocab import DESIGN_CONTEXT, PROJECT_CONTEXT, PUBLIC
from objects.blobs import StoredBlob, is_sha256
from objects.convert import first_id, id_list, iso, tombstone_as
from objects.design_models import DesignVersion, Project, VersionFile
from objects.designs import FileSpec, VersionSpec, clean_tags, licence_of
from objects.history import history_links
from objects.html import sanitize_html
from objects.licences import LicenceError, LicencePolicy, licence_words
from objects.thumbnails import thumbnail_path
from objects.upload_checks import MAX_CHANGELOG_CHARS

MAX_FILES = 200
# Mastodon keeps the first four attachments of a status (MediaAttachment::LOCAL_STATUS_LIMIT).
MAX_ATTACHMENTS = 4
# Beyond this, the summary points to the version's page rather than growing into a wall.
MAX_LINKED_FILES = 20
# Characters left as they are when a URL is written into plain text: those with a meaning
# in URLs, and '%' so that a URL already encoded is not encoded twice.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def is_design(obj: Any) -> TypeGuard[dict[str, Any]]:
    """A Page that says it is a design version (or a fork); other Pages are ordinary posts."""
    return (
        isinstance(obj, dict)
        and obj.get("type") == "Page"
        and any(key in obj for key in ("versionLabel", "licenseExpression", "forkedFrom"))
    )


def file_url(base_url: str, file: VersionFile) -> str:
    return file.remote_url or f"{base_url}/files/{file.sha256}/{file.filename}"


def file_to_as(base_url: str, file: VersionFile) -> dict[str, Any]:
    blob = StoredBlob(sha256=file.sha256, size=file.size)
    return {
        "type": "Image" if file.preview else "Document",
        "mediaType": file.media_type,
        "url": file_url(base_url, file),
        "name": file.filename,
        "size": file.size,
        "sha256": file.sha256,
        "digestMultibase": digest_multibase(blob),
        "isPreview": file.preview,
    } | ({"cid": file.cid} if file.cid else {})


def attached_files(files: Sequence[VersionFile], limit: int = MAX_ATTACHMENTS) -> list[VersionFile]:
    """The files Mastodon shows as media: preview images first, at most four in all."""
    previews_first = sorted(files, key=lambda file: not file.preview)
    return previews_first[:limit]


def thumbnail_to_as(
    base_url: str, source_sha256: str, files: Sequence[VersionFile]
) -> dict[str, Any]:
    """The server-made picture of a 3D file, shown by Mastodon as the version's image."""
    name = next((file.filename for file in files if file.sha256 == source_sha256), "")
    return {
        "type": "Image",
        "mediaType": "image/png",
        "url": base_url + thumbnail_path(source_sha256),
        "name": f"Preview of {name}" if name else "Preview",
    }


def mastodon_summary(
    summary: str, licence: str, unattached: Sequence[VersionFile], base_url: str
) -> str:
    """Plain text for Mastodon, which escapes it and links bare URLs: each file's URL
    follows its name, so that the files it cannot attach are still a click away."""
    parts = [summary.strip(), f"Licence: {licence}"]
    if unattached:
        parts.append(_file_lines(unattached, base_url))
    return "\n\n".join(part for part in parts if part)


def _file_lines(files: Sequence[VersionFile], base_url: str) -> str:
    lines = [f"{file.filename} {_linkable(file_url(base_url, file))}" for file in files]
    if len(lines) > MAX_LINKED_FILES:
        more = len(lines) - MAX_LINKED_FILES
        lines = [*lines[:MAX_LINKED_FILES], f"and {more} more files on the version's page"]
    return "Files:\n" + "\n".join(lines)


def _linkable(url: str) -> str:
    """The URL with spaces and other characters that would end a link percent-encoded."""
    return quote(url, safe=_URL_SAFE)


def digest_multibase(blob: StoredBlob) -> str:
    """The SHA-256 as a multibase (base64url, 'u') multihash (0x12, 32 bytes)."""
    multihash = b"\x12\x20" + blob.digest
    return "u" + base64.urlsafe_b64encode(multihash).decode().rstrip("=")


def version_to_as(
    version: DesignVersion,
    project: Actor,
    files: Sequence[VersionFile],
    policy: LicencePolicy,
    base_url: str,
    *,
    with_context: bool = True,
    thumbnail: str | None = None,
    as_published: bool = False,
) -> dict[str, Any]:
    """`thumbnail`: the SHA-256 of a 3D file whose made thumbnail leads the attachments of a
    local version that has no preview image of its own. `as_published`: the Page even of a
    deleted version (its core is still what later versions' digests name)."""
    if version.deleted_at is not None and not as_published:
        return tombstone_as(version.uri, version.deleted_at, with_context=with_context)
    licence = licence_of(version)
    urls = policy.license_urls(licence)
    previews = _drawn_previews(version, files, thumbnail, base_url)
    attached = attached_files(files, MAX_ATTACHMENTS - len(previews))
    unattached = [file for file in files if file not in attached]
    summary = mastodon_summary(
        version.summary, licence_words(policy, licence), unattached, base_url
    )
    doc: dict[str, Any] = {
        "id": version.uri,
        "type": "Page",
        "name": version.name,
        "summary": summary,
        "designSummary": version.summary,
        "changelog": version.changelog or None,
        "content": version.content,
        "mediaType": "text/html",
        "url": version.uri,
        "attributedTo": [project.uri, *version.authors.get("authors", [])],
        "context": project.uri,
        "audience": project.uri,
        "versionLabel": version.label,
        "license": urls[0] if len(urls) == 1 else urls,
        "licenseExpression": licence.to_json(),
        "credits": version.credits.get("credits", []) or None,
        "forkedFrom": version.upstream_uri,
        "makeNeeds": version.needs,
        **(version.document or {}).get("history", {}),
        "tag": [_hashtag(base_url, name) for name in version.tags.get("tags", [])],
        "attachment": [*previews, *(file_to_as(base_url, file) for file in attached)],
        "files": [file_to_as(base_url, file) for file in files],
        "published": iso(version.published),
        "updated": iso(version.edited_at) if version.edited_at else None,
        "replies": f"{version.uri}/replies",
        "to": [PUBLIC],
        "cc": [project.followers_url] if project.followers_url else [],
    }
    if version.local and version.source:
        doc["source"] = {"content": version.source, "mediaType": "text/markdown"}
    if with_context:
        doc = {"@context": DESIGN_CONTEXT, **doc}
    return {key: value for key, value in doc.items() if value is not None}


def _drawn_previews(
    version: DesignVersion, files: Sequence[VersionFile], thumbnail: str | None, base_url: str
) -> list[dict[str, Any]]:
    if thumbnail is None or not version.local or any(file.preview for file in files):
        return []
    return [thumbnail_to_as(base_url, thumbnail, files)]


def _hashtag(base_url: str, name: str) -> dict[str, str]:
    return {"type": "Hashtag", "name": f"#{name}", "href": f"{base_url}/tags/{name}"}


def parse_remote_version(doc: dict[str, Any], policy: LicencePolicy) -> VersionSpec:
    """Validate a received design Page; a missing or invalid licence raises LicenceError."""
    uri = doc.get("id")
    if not isinstance(uri, str):
        raise ValidationError("the design has no id")
    project_uri = design_project_uri(doc)
    if project_uri is None or host_of(project_uri) != host_of(uri):
        raise ValidationError(f"the design {uri} names no project on its own host")
    expression = doc.get("licenseExpression")
    if expression in (None, "", {}):
        raise_missing_licence(uri)
    return VersionSpec(
        uri=uri,
        label=_text(doc.get("versionLabel"), 64) or "1",
        name=_text(doc.get("name"), 255) or uri,
        summary=_text(_own_summary(doc), 5000),
        changelog=_text(doc.get("changelog"), MAX_CHANGELOG_CHARS),
        content_html=sanitize_html(_text(doc.get("content"), 200_000)),
        licence=policy.terms(expression),
        tags=clean_tags([_tag_name(tag) for tag in _list(doc.get("tag"))]),
        files=tuple(_remote_files(_all_files(doc))),
        authors=tuple(a for a in id_list(doc.get("attributedTo")) if a != project_uri),
        credits=tuple(id_list(doc.get("credits")))[:1000],
        upstream_uri=_upstream(doc, uri),
        needs=needs_or_none(doc.get("makeNeeds")),
        history=history_links(doc),
    )


def _upstream(doc: dict[str, Any], uri: str) -> str | None:
    """forkedFrom, an http(s) URL other than the version itself (refused otherwise)."""
    upstream = first_id(doc.get("forkedFrom"))
    if upstream is None:
        return None
    if not is_web_url(upstream):
        raise ValidationError(f"the forkedFrom of {uri} is not an http or https URL")
    if upstream == uri:
        raise ValidationError(f"the design {uri} names itself in forkedFrom")
    return upstream


def design_project_uri(doc: dict[str, Any]) -> str | None:
    return first_id(doc.get("audience")) or first_id(doc.get("context"))


def raise_missing_licence(uri: str) -> None:
    raise LicenceError(
        f"the design {uri} carries no licence: a design needs an SPDX licence expression in"
        " licenseExpression (for example CC-BY-SA-4.0 or PPL)"
    )


def _own_summary(doc: dict[str, Any]) -> Any:
    """Ours send the version's summary apart from the text written for Mastodon."""
    return doc["designSummary"] if "designSummary" in doc else doc.get("summary")


def _all_files(doc: dict[str, Any]) -> Any:
    """Ours list every file in `files`; other senders have only `attachment`."""
    return doc["files"] if "files" in doc else doc.get("attachment")


def _remote_files(value: Any) -> list[FileSpec]:
    files = []
    for item in _list(value)[:MAX_FILES]:
        if not isinstance(item, dict):
            continue
        url, digest = first_id(item.get("url")), item.get("sha256")
        size = item.get("size")
        if not (url and is_sha256(digest)):
            continue
        files.append(
            FileSpec(
                filename=_text(item.get("name"), 255) or digest,
                media_type=_text(item.get("mediaType"), 255) or "application/octet-stream",
                size=size if isinstance(size, int) and size >= 0 else 0,
                sha256=digest,
                preview=_is_preview(item),
                remote_url=url,
            )
        )
    return files


def _is_preview(item: dict[str, Any]) -> bool:
    """Ours flag previews in `isPreview` (`preview` is an ActivityStreams term for another
    object showing this one); other senders send previews as `Image`."""
    preview = item.get("isPreview")
    return preview if isinstance(preview, bool) else item.get("type") == "Image"


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _tag_name(tag: Any) -> str:
    return tag.get("name", "") if isinstance(tag, dict) and isinstance(tag.get("name"), str) else ""


def project_document(doc: dict[str, Any], project: Project) -> dict[str, Any]:
    """A project actor's document: a `Service` (Mastodon follows it) that says what it is."""
    extra = {
        "designProject": True,
        "forks": f"{doc['id']}/forks",
        "forkedFrom": project.upstream_uri,
    }
    return {**doc, "@context": PROJECT_CONTEXT, **{k: v for k, v in extra.items() if v is not None}}
