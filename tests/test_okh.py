"""Open Know-How: every version published here has an `okh.toml` at a stable URL, linked
from its JSON and its page, valid against the published OKH-LOSH JSON Schema
(`tests/fixtures/okh/`, see its README for where it comes from)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import regex
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError as SchemaError

from objects.okh import to_toml
from tests.support import bearer, get
from tests.test_design_federation import PNG, STL, new_project

SCHEMA = json.loads((Path(__file__).parent / "fixtures/okh/okh-losh.schema.json").read_text())


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[SchemaError]:
    """JSON Schema patterns are ECMA-262: the schema's language tag uses `(?<name>...)`
    groups, which `regex` reads as ECMA does and `re` refuses."""
    if isinstance(instance, str) and not regex.search(pattern, instance):
        yield SchemaError(f"{instance!r} does not match {pattern!r}")


OkhValidator = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern})


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    validator = OkhValidator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


def test_the_validator_refuses_what_the_schema_refuses() -> None:
    assert schema_errors({"name": "x"})  # okhv, repo, licence... missing
    good = {
        "okhv": "OKH-LOSHv1.0",
        "name": "Lamp",
        "repo": "https://a.test/users/lamp",
        "version": "1",
        "license": "CERN-OHL-S-2.0",
        "licensor": ["Alice <https://a.test/users/alice>"],
        "function": "A lamp",
        "documentation-language": "en",
    }
    assert schema_errors(good) == []
    assert schema_errors({**good, "documentation-language": "not a tag!"})
    assert schema_errors({**good, "repo": "ftp://a.test/lamp"})
    assert schema_errors({**good, "okhv": "OKH-LOSHv2"})


def test_toml_strings_survive_a_round_trip() -> None:
    manifest = {"name": 'Lamp "Nova" \\ ünïcode\nline', "tsdc": ["3DP", "LAS"], "okhv": "x"}
    assert tomllib.loads(to_toml(manifest)) == manifest


async def test_every_version_exports_a_valid_okh_manifest(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    await new_project(a, token, "lamp")
    files = [
        ("files", ("shade.stl", STL, "model/stl")),
        ("files", ("base.dxf", b"0\nSECTION\n0\nEOF\n", "image/vnd.dxf")),
        ("files", ("bom.csv", b"part,count\nLED,1\n", "text/csv")),
        ("previews", ("lamp.png", PNG, "image/png")),
    ]
    async with a.client() as client:
        published = await client.post(
            "/api/v1/designs/lamp/versions",
            data={
                "label": "1.0",
                "name": "Desk lamp",
                "summary": "A printable desk lamp with a laser-cut base",
                "licence": "CERN-OHL-S-2.0",
            },
            files=files,
            headers=bearer(token),
        )
    assert published.status_code == 201, published.text
    version = published.json()
    assert version["okh_manifest"] == f"{version['id']}/okh.toml"

    async with a.client() as client:
        answer = await client.get(version["okh_manifest"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/toml")
    manifest = tomllib.loads(answer.text)
    assert schema_errors(manifest) == []
    assert manifest["okhv"] == "OKH-LOSHv1.0"
    assert manifest["name"] == "Desk lamp" and manifest["version"] == "1.0"
    assert manifest["license"] == "CERN-OHL-S-2.0"
    assert manifest["licensor"] == [f"alice <{alice.uri}>"]
    assert manifest["function"] == "A printable desk lamp with a laser-cut base"
    assert manifest["documentation-language"] == "en"
    assert manifest["repo"] == "https://a.test/users/lamp"
    assert manifest["release"] == manifest["manufacturing-instructions"] == version["id"]
    assert manifest["bom"].endswith("/bom.csv")
    assert [url.rsplit("/", 1)[1] for url in manifest["export"]] == ["shade.stl", "base.dxf"]
    assert manifest["tsdc"] == ["3DP", "LAS"]
    assert manifest["image"].endswith("/lamp.png")
    assert "source" not in manifest and "outer-dimensions" not in manifest
    # Every file it names is really served.
    async with a.client() as client:
        for url in [manifest["bom"], manifest["image"], *manifest["export"]]:
            assert (await client.get(url)).status_code == 200, url

    page = await get(a, "/users/lamp/versions/1")
    assert f'href="{version["okh_manifest"]}"' in page.text
    missing = await get(a, "/users/lamp/versions/9/okh.toml")
    assert missing.status_code == 404


async def test_per_component_licences_export_the_hardware_licence(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "board")
    licence = {"hardware": "CERN-OHL-W-2.0", "documentation": "CC-BY-4.0", "software": "MIT"}
    async with a.client() as client:
        published = await client.post(
            "/api/v1/designs/board/versions",
            data={"label": "2", "name": "Board"}
            | {f"licence_{part}": spdx for part, spdx in licence.items()},
            files=[("files", ("board.step", b"ISO-10303-21;", "model/step"))],
            headers=bearer(token),
        )
    assert published.status_code == 201, published.text
    answer = await get(a, "/users/board/versions/1/okh.toml")
    manifest = tomllib.loads(answer.text)
    assert schema_errors(manifest) == []
    assert manifest["license"] == "CERN-OHL-W-2.0" and manifest["function"] == "Board"
    assert manifest["tsdc"] == ["MEC"] and "image" not in manifest


async def test_a_version_is_published_from_an_exported_okh_toml(nodes: Any) -> None:
    """The round trip: one version's okh.toml, uploaded with the files of a new version,
    gives it its name, version, function and licence; its own export is valid too."""
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice = await a.user("alice")
    _, bob = await b.user("bob")
    await new_project(a, alice, "lamp")
    async with a.client() as client:
        first = await client.post(
            "/api/v1/designs/lamp/versions",
            data={"label": "2.1", "name": "Desk lamp", "summary": "Lights a desk"}
            | {"licence": "CERN-OHL-S-2.0"},
            files=[("files", ("shade.stl", STL, "model/stl"))],
            headers=bearer(alice),
        )
        assert first.status_code == 201, first.text
        exported = (await client.get(first.json()["okh_manifest"])).text

    await new_project(b, bob, "lamp")

    async def publish_with(manifest: bytes, **fields: str) -> Any:
        async with b.client() as client:
            return await client.post(
                "/api/v1/designs/lamp/versions",
                data=fields,
                files=[
                    ("files", ("okh.toml", manifest, "application/toml")),
                    ("files", ("shade.stl", STL, "model/stl")),
                ],
                headers=bearer(bob),
            )

    broken = await publish_with(b"name = [unclosed")
    assert broken.status_code == 422 and "not valid TOML" in broken.json()["error"]
    clash = await publish_with(exported.encode(), licence="MIT")
    assert clash.status_code == 422, clash.text
    assert "okh.toml (CERN-OHL-S-2.0)" in clash.json()["error"]
    assert (await get(b, "/api/v1/designs/lamp")).json()["versions_count"] == 0

    imported = await publish_with(exported.encode())
    assert imported.status_code == 201, imported.text
    version = imported.json()
    assert (version["name"], version["label"], version["summary"]) == (
        "Desk lamp",
        "2.1",
        "Lights a desk",
    )
    assert version["licence"] == "CERN-OHL-S-2.0"
    again = tomllib.loads((await get(b, "/users/lamp/versions/1/okh.toml")).text)
    assert schema_errors(again) == []
    original = tomllib.loads(exported)
    for key in ("name", "version", "function", "license", "okhv", "tsdc"):
        assert again[key] == original[key], key
