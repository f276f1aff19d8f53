"""Hash-linked history: each version names its predecessor and the digest of its core.

A version Page carries `previousVersion` (the project's version before it) with
`previousVersionDigest`, and a fork `forkedFrom` with `forkedFromDigest`: the SHA-256
multihash (multibase base64url, as `digestMultibase`) of the JCS canonical form of that
version's **core**, the part of a Page that never changes once published: its id, authors,
label, licence, files (name, media type, size, SHA-256) and its own history links. Text,
tags and pictures may be fixed by an `Update`, so they are left out: a digest over them
would break at the first typo fixed. Because each core holds the link before it, one
digest pins the whole history behind it, as in a git commit.

`check_history` verifies a project's chain from any copy of its Pages (the origin, a
mirror, an archive), and their integrity proofs when the keys are given.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from federation import proofs
from federation.errors import ValidationError

CORE_FIELDS = (
    "id",
    "attributedTo",
    "versionLabel",
    "licenseExpression",
    "forkedFrom",
    "forkedFromDigest",
    "previousVersion",
    "previousVersionDigest",
)
FILE_FIELDS = ("name", "mediaType", "size", "sha256")
HISTORY_FIELDS = ("previousVersion", "previousVersionDigest", "forkedFromDigest")
_SHA2_256 = b"\x12\x20"  # multihash: sha2-256, 32 bytes


def version_core(page: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a version Page that never changes: what its digest covers."""
    core = {name: page[name] for name in CORE_FIELDS if page.get(name) is not None}
    files = page.get("files")
    if not isinstance(files, list):
        attached = page.get("attachment")
        files = attached if isinstance(attached, list) else []
    core["files"] = [
        {name: item.get(name) for name in FILE_FIELDS}
        for item in files
        if isinstance(item, dict) and item.get("sha256")
    ]
    return core


def core_digest(page: Mapping[str, Any]) -> str:
    """The version's digest as later versions and forks name it: multibase base64url of
    the sha2-256 multihash of the JCS form of its core (`uEi…`)."""
    digest = hashlib.sha256(proofs.canonical(version_core(page))).digest()
    return "u" + base64.urlsafe_b64encode(_SHA2_256 + digest).decode("ascii").rstrip("=")


def history_links(page: Mapping[str, Any]) -> dict[str, str]:
    """The history terms a received Page carries, each an http(s) id or a digest string."""
    links: dict[str, str] = {}
    for name in HISTORY_FIELDS:
        value = page.get(name)
        if isinstance(value, str) and 0 < len(value) <= 2048:
            links[name] = value
    return links


@dataclass
class HistoryCheck:
    """What `check_history` found: `problems` is empty when the chain holds end to end."""

    checked: list[str] = field(default_factory=list)  # ids, newest first
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems and bool(self.checked)


def check_history(
    pages: Sequence[Mapping[str, Any]],
    *,
    head: str | None = None,
    keys: Mapping[str, Ed25519PublicKey] | None = None,
    upstream: Mapping[str, Any] | None = None,
) -> HistoryCheck:
    """Walk a project's chain from `head` (its newest version by default) back to its
    first, checking every link's digest; with `keys` (key id → public key), every Page's
    integrity proof too; with `upstream`, the first version's fork link to that Page."""
    by_id = {str(page.get("id")): page for page in pages}
    if len(by_id) != len(pages):
        raise ValidationError("two of the Pages given have the same id")
    result = HistoryCheck()
    at = by_id.get(head) if head else _newest(by_id)
    while at is not None:
        result.checked.append(str(at["id"]))
        if keys is not None:
            _check_proof(at, keys, result)
        before = at.get("previousVersion")
        if before is None:
            _check_fork(at, upstream, result)
            break
        previous = by_id.get(str(before))
        if previous is None:
            result.problems.append(f"{at['id']} names {before} before it, which is missing")
            break
        if core_digest(previous) != at.get("previousVersionDigest"):
            result.problems.append(
                f"{before} is not the version {at['id']} was made after: its digest differs"
            )
        if len(result.checked) > len(by_id):
            result.problems.append("the history goes round in a circle")
            break
        at = previous
    if not result.checked:
        result.problems.append(
            "the Pages given have no one newest version; give `head`, the one to check from"
            if by_id and head is None
            else "there is no version to check"
        )
    return result


def _newest(by_id: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    named = {page.get("previousVersion") for page in by_id.values()}
    heads = [page for key, page in by_id.items() if key not in named]
    return heads[0] if len(heads) == 1 else None


def _check_proof(
    page: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey], result: HistoryCheck
) -> None:
    try:
        found = proofs.proofs_of(page)
    except proofs.ProofError as exc:
        result.problems.append(f"{page['id']}: {exc.message}")
        return
    if not any(p.verification_method in keys for p in found):
        result.problems.append(f"{page['id']} carries no proof by the keys given")
    for proof in found:
        key = keys.get(proof.verification_method)
        if key is not None and not proofs.holds(page, proof, key):
            result.problems.append(f"the integrity proof of {page['id']} does not hold")


def _check_fork(
    first: Mapping[str, Any], upstream: Mapping[str, Any] | None, result: HistoryCheck
) -> None:
    if upstream is None or first.get("forkedFrom") is None:
        return
    if first.get("forkedFrom") != upstream.get("id"):
        result.problems.append(f"{first['id']} is not a fork of {upstream.get('id')}")
    elif core_digest(upstream) != first.get("forkedFromDigest"):
        result.problems.append(
            f"{upstream.get('id')} is not the version {first['id']} was forked from: "
            "its digest differs"
        )
