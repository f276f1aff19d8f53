"""Open Know-How manifests: a design version as an OKH-LOSH v1.0 `okh.toml`.

OKH-LOSH (OSEG's Library of Open Source Hardware, after DIN SPEC 3105) describes an open
hardware module for crawlers and maker networks: its name, licence, licensors, version,
function, documentation language, bill of materials, manufacturing files and processes,
and outer dimensions. We write what a version knows and leave out what it does not (a
manifest may omit every optional key): no dimensions until a version declares them.
`tests/test_okh.py` validates exports against the published JSON Schema.

The TOML is written here (Python reads TOML but does not write it): the manifest is a
table of strings, lists of strings and one sub-table, and TOML's basic strings take JSON's
escapes, so `json.dumps` quotes each value correctly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from objects.design_convert import file_url
from objects.design_models import DesignVersion, VersionFile
from objects.licences import LicenceTerms

OKH_VERSION = "OKH-LOSHv1.0"
# We do not record the language a version is written in yet: this is what we declare.
DEFAULT_LANGUAGE = "en"
# Exchange formats (exports, in OKH's words) and the process each one is made for, as
# DIN SPEC 3105 technology-specific documentation criteria (TsDC) identifiers.
EXPORT_PROCESSES = {
    ".stl": "3DP",
    ".3mf": "3DP",
    ".obj": "3DP",
    ".gcode": "3DP",
    ".dxf": "LAS",
    ".svg": "LAS",
    ".step": "MEC",
    ".stp": "MEC",
    ".gltf": None,
    ".glb": None,
}
BOM_NAMES = ("bom", "sbom", "bill-of-materials", "bill_of_materials")


def okh_manifest(
    version: DesignVersion,
    project_url: str,
    licence: LicenceTerms,
    licensors: Sequence[str],
    files: Sequence[VersionFile],
    base_url: str,
) -> dict[str, Any]:
    """The OKH-LOSH manifest of `version`, as a dict in the schema's shape."""
    previews = [file_url(base_url, f) for f in files if f.preview]
    design = [f for f in files if not f.preview]
    exports = [f for f in design if _suffix(f) in EXPORT_PROCESSES]
    sources = [f for f in design if f not in exports and not _is_bom(f)]
    boms = [f for f in design if _is_bom(f)]
    processes = sorted({p for f in exports if (p := EXPORT_PROCESSES[_suffix(f)])})
    manifest: dict[str, Any] = {
        "okhv": OKH_VERSION,
        "name": version.name,
        "repo": project_url,
        "version": version.label,
        "release": version.uri,
        # The hardware's licence: OKH has one expression per module.
        "license": licence.for_component("hardware"),
        "licensor": list(licensors) or [project_url],
        "function": version.summary.strip() or version.name,
        "documentation-language": DEFAULT_LANGUAGE,
        "manufacturing-instructions": version.uri,
    }
    if previews:
        manifest["image"] = previews[0]
    if boms:
        manifest["bom"] = file_url(base_url, boms[0])
    if sources:
        manifest["source"] = [file_url(base_url, f) for f in sources]
    if exports:
        manifest["export"] = [file_url(base_url, f) for f in exports]
    if processes:
        manifest["tsdc"] = processes
    return manifest


def _suffix(file: VersionFile) -> str:
    return PurePosixPath(file.filename.lower()).suffix


def _is_bom(file: VersionFile) -> bool:
    path = PurePosixPath(file.filename.lower())
    return path.suffix in (".csv", ".tsv", ".ods", ".xlsx") and path.stem in BOM_NAMES


def to_toml(manifest: dict[str, Any]) -> str:
    """The manifest as TOML: plain keys first, then each sub-table."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in manifest.items() if not isinstance(v, dict)]
    for key, table in manifest.items():
        if isinstance(table, dict):
            lines += ["", f"[{_key(key)}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")
