"""What a maker space can make: its processes, machines' build volume, materials, place and
whether it takes orders. Published in the actor document (`makerSpace`), so it travels with
the actor and is refreshed by every `Update` of it; kept in the actor row's `document`.

Cooperatives and nonprofits (and the cooperative's Organization actor) publish one. The
place is coarse: a town, a region and a country code, never coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.models import Actor
from federation.errors import ValidationError

PROCESSES = (
    "3d-printing",
    "laser-cutting",
    "cnc-milling",
    "electronics-assembly",
    "sewing",
    "welding",
)
# The processes whose machines bound a part's size; a needed volume is checked on these.
VOLUMETRIC = frozenset({"3d-printing", "cnc-milling"})
MAKER_KINDS = frozenset({"cooperative", "nonprofit"})
MAX_MATERIALS = 30
MAX_TEXT = 100


@dataclass(frozen=True)
class Capability:
    process: str
    build_volume: tuple[int, int, int] | None = None  # millimetres: x, y, z
    materials: tuple[str, ...] = ()

    def fits(self, volume: tuple[int, int, int] | None) -> bool:
        """Whether a part of `volume` fits, in some orientation (None: no volume needed)."""
        if volume is None:
            return True
        if self.build_volume is None:
            return False
        return all(n <= m for n, m in zip(sorted(volume), sorted(self.build_volume), strict=True))


@dataclass(frozen=True)
class MakerSpace:
    town: str
    region: str = ""
    country: str = ""
    takes_orders: bool = False
    capabilities: tuple[Capability, ...] = ()

    def can_make(self, process: str | None, volume: tuple[int, int, int] | None) -> bool:
        return any(
            (process is None or c.process == process) and c.fits(volume) for c in self.capabilities
        )

    def distance(self, town: str, region: str, country: str) -> int:
        """0 in the same town, 1 in the same region, 2 in the same country, 3 elsewhere."""
        same = [
            bool(town) and self.town.casefold() == town.casefold(),
            bool(region) and self.region.casefold() == region.casefold(),
            bool(country) and self.country.casefold() == country.casefold(),
        ]
        return next((rank for rank, hit in enumerate(same) if hit), 3)


def parse_maker_space(value: Any) -> MakerSpace:
    """A maker space from its JSON form (the API's body or an actor document's
    `makerSpace`); a clear ValidationError for each bad part."""
    if not isinstance(value, dict):
        raise ValidationError("a maker space is an object with 'town' and 'processes'")
    town = _text(value, "town", required=True)
    processes = value.get("processes")
    if not isinstance(processes, list) or not processes or len(processes) > len(PROCESSES) * 4:
        raise ValidationError(
            f"'processes' lists what you can make: some of {', '.join(PROCESSES)}"
        )
    takes_orders = value.get("takesOrders", value.get("takes_orders", False))
    if not isinstance(takes_orders, bool):
        raise ValidationError("'takes_orders' must be true or false")
    return MakerSpace(
        town=town,
        region=_text(value, "region"),
        country=_text(value, "country").upper(),
        takes_orders=takes_orders,
        capabilities=tuple(_capability(item) for item in processes),
    )


def _capability(item: Any) -> Capability:
    if not isinstance(item, dict) or item.get("process") not in PROCESSES:
        raise ValidationError(f"each process is one of {', '.join(PROCESSES)}")
    materials = item.get("materials", [])
    if (
        not isinstance(materials, list)
        or len(materials) > MAX_MATERIALS
        or not all(isinstance(m, str) and 0 < len(m) <= MAX_TEXT for m in materials)
    ):
        raise ValidationError(f"'materials' is a list of at most {MAX_MATERIALS} names")
    volume = item.get("buildVolume", item.get("build_volume"))
    return Capability(
        process=item["process"],
        build_volume=None if volume is None else parse_volume(volume),
        materials=tuple(materials),
    )


def parse_volume(value: Any) -> tuple[int, int, int]:
    """A build volume in millimetres: "250x210x210", [250, 210, 210] or {"x":..,"y":..,"z":..}."""
    if isinstance(value, str):
        value = value.lower().removesuffix("mm").split("x")
    elif isinstance(value, dict):
        value = [value.get("x"), value.get("y"), value.get("z")]
    try:
        x, y, z = (int(n) for n in value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("a build volume is three sizes in mm, as 250x210x210") from exc
    if not all(0 < n <= 100_000 for n in (x, y, z)):
        raise ValidationError("a build volume's sizes are whole millimetres above 0")
    return x, y, z


def _text(value: dict[str, Any], key: str, *, required: bool = False) -> str:
    text = value.get(key)
    if text is None and not required:
        return ""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise ValidationError(f"'{key}' is text of at most {MAX_TEXT} characters")
    return text.strip()


def maker_space_to_as(space: MakerSpace) -> dict[str, Any]:
    return {
        "town": space.town,
        "region": space.region or None,
        "country": space.country or None,
        "takesOrders": space.takes_orders,
        "processes": [
            {
                "process": c.process,
                "buildVolume": None
                if c.build_volume is None
                else dict(zip(("x", "y", "z"), c.build_volume, strict=True)) | {"unit": "mm"},
                "materials": list(c.materials),
            }
            for c in space.capabilities
        ],
    }


def maker_space_of(actor: Actor) -> MakerSpace | None:
    """The actor's published maker space, if any (a stored one that no longer parses is
    treated as none)."""
    stored = (actor.document or {}).get("makerSpace")
    if stored is None:
        return None
    try:
        return parse_maker_space(stored)
    except ValidationError:
        return None


def set_maker_space(actor: Actor, space: MakerSpace | None) -> None:
    document = {k: v for k, v in (actor.document or {}).items() if k != "makerSpace"}
    if space is not None:
        document["makerSpace"] = maker_space_to_as(space)
    actor.document = document  # a new dict, so the JSON column sees the change


def may_publish_maker_space(actor: Actor) -> bool:
    return actor.entity_kind in MAKER_KINDS or actor.type == "Organization"


@dataclass(frozen=True)
class Needs:
    """What making a design version needs: every process listed, and parts up to `volume`
    for the processes whose machines bound a part's size (`VOLUMETRIC`)."""

    processes: tuple[str, ...]
    volume: tuple[int, int, int] | None = None
    materials: tuple[str, ...] = ()

    def met_by(self, space: MakerSpace) -> bool:
        return all(
            space.can_make(process, self.volume if process in VOLUMETRIC else None)
            for process in self.processes
        )


def parse_needs(value: Any) -> Needs:
    """Needs from their JSON form (`makeNeeds` on a version); ValidationError when bad."""
    if not isinstance(value, dict):
        raise ValidationError("a version's needs are an object with 'processes'")
    processes = value.get("processes")
    if (
        not isinstance(processes, list)
        or not processes
        or not all(p in PROCESSES for p in processes)
    ):
        raise ValidationError(f"needed processes are some of {', '.join(PROCESSES)}")
    materials = value.get("materials", [])
    if not isinstance(materials, list) or not all(
        isinstance(m, str) and 0 < len(m) <= MAX_TEXT for m in materials[:MAX_MATERIALS]
    ):
        raise ValidationError(f"'materials' is a list of at most {MAX_MATERIALS} names")
    volume = value.get("buildVolume")
    return Needs(
        processes=tuple(dict.fromkeys(processes)),
        volume=None if volume is None else parse_volume(volume),
        materials=tuple(materials[:MAX_MATERIALS]),
    )


def needs_to_as(needs: Needs) -> dict[str, Any]:
    doc: dict[str, Any] = {"processes": list(needs.processes)}
    if needs.volume is not None:
        doc["buildVolume"] = dict(zip(("x", "y", "z"), needs.volume, strict=True)) | {"unit": "mm"}
    if needs.materials:
        doc["materials"] = list(needs.materials)
    return doc


def needs_or_none(value: Any) -> dict[str, Any] | None:
    """Received needs, checked and in our form; None when absent or invalid (a version is
    not refused for them)."""
    if value is None:
        return None
    try:
        return needs_to_as(parse_needs(value))
    except ValidationError:
        return None
