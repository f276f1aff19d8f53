"""Domain blocks as others see them: Mastodon's API entities, its CSV, the public list.

The rules live in `actors.moderation`; this module only translates. An import is checked
line by line before anything is written, so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import (
    check_block_domain,
    domain_blocks,
    put_domain_block,
    record_audit,
)
from actors.moderation_models import SEVERITIES, DomainBlock
from federation.blocks import SILENCE, SUSPEND
from federation.errors import ValidationError
from objects.convert import iso
from web.account_json import TRUE_WORDS

CSV_COLUMNS = (
    "domain",
    "severity",
    "reject_media",
    "reject_reports",
    "public_comment",
    "obfuscate",
)
CSV_HEADER = ",".join(f"#{name}" for name in CSV_COLUMNS)
FALSE_WORDS = frozenset({"false", "0", "no", "off", ""})
# What an import compares to decide whether a block changed.
COMPARED = ("severity", "reject_media", "reject_reports", "public_comment", "obfuscate")


def digest(domain: str) -> str:
    return hashlib.sha256(domain.encode()).hexdigest()


def block_json(block: DomainBlock) -> dict[str, Any]:
    """Mastodon's Admin::DomainBlock entity."""
    return {
        "id": str(block.id),
        "domain": block.domain,
        "digest": digest(block.domain),
        "created_at": iso(block.created_at),
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "private_comment": block.private_comment or None,
        "public_comment": block.public_comment or None,
        "obfuscate": block.obfuscate,
    }


def public_domain(block: DomainBlock) -> str:
    """The domain as the public sees it: the middle hidden behind '*' when obfuscated,
    exactly as Mastodon does, so lists can be compared across servers by digest."""
    if not block.obfuscate:
        return block.domain
    length = len(block.domain)
    shown = length // 4
    return "".join(
        "*" if shown < i < length - shown and char != "." else char
        for i, char in enumerate(block.domain)
    )


async def public_block_entries(session: AsyncSession) -> list[dict[str, Any]]:
    """Blocks people would notice (silence and suspend), as Mastodon's public list."""
    order = {SUSPEND: 0, SILENCE: 1}
    blocks = [b for b in await domain_blocks(session) if b.severity in order]
    blocks.sort(key=lambda b: (order[b.severity], b.domain))
    return [
        {
            "domain": public_domain(b),
            "digest": digest(b.domain),
            "severity": b.severity,
            "comment": b.public_comment or None,
        }
        for b in blocks
    ]


# --- CSV ---------------------------------------------------------------------------------------


async def export_csv(session: AsyncSession) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(CSV_HEADER + "\n")
    for b in await domain_blocks(session):
        writer.writerow(
            [
                b.domain,
                b.severity,
                _flag(b.reject_media),
                _flag(b.reject_reports),
                b.public_comment,
                _flag(b.obfuscate),
            ]
        )
    return out.getvalue()


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }


def parse_csv(text: str, *, local_host: str) -> list[dict[str, Any]]:
    """Rows of a Mastodon blocklist (full, or one domain per line with or without a header);
    any bad line raises one ValidationError listing every problem by line number."""
    try:
        lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as exc:  # a field past the csv module's limit, a NUL byte
        raise ValidationError(f"the blocklist is not CSV we can read: {exc}") from exc
    rows, problems, seen = [], [], set()
    columns: tuple[str, ...] = CSV_COLUMNS
    for number, cells in enumerate(lines, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if number == 1 and cells[0].strip().startswith("#"):
            columns = tuple(cell.strip().lstrip("#") for cell in cells)
            if "domain" not in columns:
                problems.append("line 1: the header has no #domain column")
            continue
        try:
            row = _parse_row(dict(zip(columns, cells, strict=False)), local_host)
        except ValidationError as exc:
            problems.append(f"line {number}: {exc.message}")
            continue
        if row["domain"] in seen:
            problems.append(f"line {number}: {row['domain']} is listed twice")
        seen.add(row["domain"])
        rows.append(row)
    if problems:
        raise ValidationError(
            "the blocklist was not imported (nothing changed): " + "; ".join(problems[:50])
        )
    return rows


def _parse_row(cells: dict[str, str], local_host: str) -> dict[str, Any]:
    severity = (cells.get("severity") or SUSPEND).strip().lower()
    if severity not in SEVERITIES:
        raise ValidationError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    return {
        "domain": check_block_domain(cells.get("domain", ""), local_host=local_host),
        "severity": severity,
        "reject_media": _bool(cells, "reject_media"),
        "reject_reports": _bool(cells, "reject_reports"),
        "public_comment": (cells.get("public_comment") or "").strip(),
        "obfuscate": _bool(cells, "obfuscate"),
    }


def _bool(cells: dict[str, str], name: str) -> bool:
    value = (cells.get(name) or "").strip().lower()
    if value not in TRUE_WORDS | FALSE_WORDS:
        raise ValidationError(f"{name} must be true or false, not {value!r:.40}")
    return value in TRUE_WORDS


async def import_csv(
    session: AsyncSession, text: str, *, local_host: str, moderator: Actor | None
) -> ImportSummary:
    """Create or update every listed block, audited; the caller commits (or not)."""
    summary = ImportSummary()
    rows = parse_csv(text, local_host=local_host)
    known = {block.domain: block for block in await domain_blocks(session)}
    for row in rows:
        existing = known.get(row["domain"])
        if existing is not None and all(getattr(existing, k) == row[k] for k in COMPARED):
            summary.unchanged.append(row["domain"])
            continue
        private = existing.private_comment if existing is not None else ""
        await put_domain_block(
            session, local_host=local_host, private_comment=private, known=known, **row
        )
        (summary.created if existing is None else summary.updated).append(row["domain"])
        action = "domain_block.create" if existing is None else "domain_block.update"
        await record_audit(session, moderator, action, "domain", row["domain"], via="import", **row)
    return summary
