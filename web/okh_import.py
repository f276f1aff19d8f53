"""A version's fields read from an Open Know-How manifest uploaded with it (`okh.toml`,
OKH-LOSH, among the design files): what the publisher left blank is taken from it, for the
JSON API and the publishing form alike (`web.design_upload`). A manifest that is not valid
TOML, or whose licence contradicts the one given, is refused before anything is stored."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from federation.errors import ValidationError
from web.uploaded import Upload

MANIFEST_NAME = "okh.toml"
MAX_MANIFEST_BYTES = 64 * 1024
# DIN SPEC 3105 technology-specific documentation criteria, as maker-space processes.
TSDC_PROCESSES = {
    "3DP": "3d-printing",
    "LAS": "laser-cutting",
    "CNC": "cnc-milling",
    "PCB": "electronics-assembly",
    "WEL": "welding",
}


@dataclass(frozen=True)
class OkhFields:
    name: str = ""
    label: str = ""
    summary: str = ""
    licence: str = ""
    processes: tuple[str, ...] = ()  # from its `tsdc`, in our process names


def okh_fields(upload: Upload) -> OkhFields:
    """The manifest's name, version, function and licence; empty when none was uploaded."""
    found = [
        f for f in upload.files if f.field_name == "files" and f.filename.lower() == MANIFEST_NAME
    ]
    if not found:
        return OkhFields()
    if found[0].size > MAX_MANIFEST_BYTES:
        raise ValidationError(f"an okh.toml is at most {MAX_MANIFEST_BYTES // 1024} KB")
    try:
        manifest = tomllib.loads(found[0].staged.head(MAX_MANIFEST_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(
            f"the okh.toml is not valid TOML ({exc}); fix it or leave it out"
        ) from exc
    return OkhFields(
        name=_text(manifest, "name", 255),
        label=_text(manifest, "version", 64),
        summary=_text(manifest, "function", 5000),
        licence=_text(manifest, "license", 500),
        processes=_processes(manifest.get("tsdc")),
    )


def _processes(tsdc: object) -> tuple[str, ...]:
    ids = tsdc if isinstance(tsdc, list) else [tsdc]
    return tuple(dict.fromkeys(TSDC_PROCESSES[i] for i in ids if i in TSDC_PROCESSES))


def _text(manifest: dict[str, object], key: str, limit: int) -> str:
    value = manifest.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # OKH allows a number as the version
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(f"the okh.toml's {key!r} must be text of at most {limit} chars")
    return value.strip()
