"""The licence tables of the licensing specification (LICENSING.md), as data.

Everything the platform decides about a licence is looked up here, so a change
to the policy is a change to one table, not to scattered `if`s:

- `FORK_RULES`: for an upstream licence, which fork licences are allowed.
- `USAGE_RULES`: who may publish a fork and who may use it commercially,
  shown on a design page.

Keys are SPDX ids or, where the specification names a whole family
("CC-BY-ND-*"), shell-style patterns. An exact id wins over a pattern;
patterns are tried in order. A licence that matches nothing is unknown, and the
caller fails closed.

`objects.licences` evaluates expressions (AND, OR, WITH) against these rows;
this module knows nothing about parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from fnmatch import fnmatchcase
from typing import TypeVar


class ForkKind(StrEnum):
    """How an upstream licence constrains the licence of a fork."""

    ANYTHING = "anything"  # public domain: nothing to keep
    KEEPS_NOTICE = "keeps-notice"  # permissive: any licence that keeps the notice
    ATTRIBUTION = "attribution"  # one of the listed licences; other licences may join it
    SHARE_ALIKE = "share-alike"  # exactly one listed licence, and no licence added to it
    KEEPS_ONE = "keeps-one"  # any expression that keeps one of the listed licences
    NO_DERIVATIVES = "no-derivatives"  # no fork at all


# Licences that let the notice go: forking a notice-keeping licence into one of
# these would drop the upstream's attribution.
NO_NOTICE = frozenset(
    {"CC0-1.0", "Unlicense", "0BSD", "MIT-0", "PDDL-1.0", "WTFPL", "CC-PDDC", "CC-PDM-1.0"}
)

COMPANY = "company"
UNKNOWN = "unknown"


def base_licence(atom: str) -> str:
    """The licence of `"<licence> WITH <exception>"`; an exception only adds permissions."""
    return atom.split(" WITH ", 1)[0]


@dataclass(frozen=True)
class ForkRule:
    """One row of the fork compatibility table."""

    kind: ForkKind
    allowed: frozenset[str] = frozenset()
    # Entity kinds that may not publish a fork at all (the PPL's company rule).
    refused_forkers: frozenset[str] = frozenset()

    def accepts(self, licence: str) -> bool:
        """Whether `licence` (one id, or one `X WITH Y`) may carry a fork under this row."""
        if self.kind is ForkKind.ANYTHING:
            return True
        if self.kind is ForkKind.KEEPS_NOTICE:
            base = base_licence(licence)
            # A registered LicenseRef's terms are unknown to us: we cannot tell
            # that it keeps the notice, so it does not count (fail closed).
            return base not in NO_NOTICE and not base.startswith("LicenseRef-")
        return licence in self.allowed

    def compatible_alternatives(self, upstream: str) -> list[str]:
        """The allowed licences other than `upstream` itself, for messages."""
        return sorted(self.allowed - {upstream})


def _share_alike(*allowed: str, refused_forkers: frozenset[str] = frozenset()) -> ForkRule:
    return ForkRule(ForkKind.SHARE_ALIKE, frozenset(allowed), refused_forkers)


_PERMISSIVE = ForkRule(ForkKind.KEEPS_NOTICE)
_NO_DERIVATIVES = ForkRule(ForkKind.NO_DERIVATIVES)

_CC_4_0 = {
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
}
_GPL_3_0 = {"GPL-3.0-only", "GPL-3.0-or-later"}
_CERN_OHL = {"CERN-OHL-1.1", "CERN-OHL-1.2", "CERN-OHL-P-2.0", "CERN-OHL-W-2.0", "CERN-OHL-S-2.0"}

FORK_RULES: dict[str, ForkRule] = {
    "CC0-1.0": ForkRule(ForkKind.ANYTHING),
    # Not CC0: the attribution would be lost.
    "CC-BY-4.0": ForkRule(
        ForkKind.ATTRIBUTION,
        frozenset(_CC_4_0 | _GPL_3_0 | _CERN_OHL | {"PPL", "TAPR-OHL-1.0", "MIT"}),
    ),
    "MIT": _PERMISSIVE,
    "BSD-2-Clause": _PERMISSIVE,
    "BSD-3-Clause": _PERMISSIVE,
    "Apache-2.0": _PERMISSIVE,
    "CERN-OHL-P-2.0": _PERMISSIVE,
    "CC-BY-SA-3.0": _share_alike("CC-BY-SA-3.0", "CC-BY-SA-4.0"),
    # LAL-1.3 is two-way compatible; GPLv3 one-way (CC's ShareAlike declarations).
    "CC-BY-SA-4.0": _share_alike("CC-BY-SA-4.0", "LAL-1.3", "GPL-3.0-only", "GPL-3.0-or-later"),
    "LAL-1.3": _share_alike("LAL-1.3", "CC-BY-SA-4.0"),
    # "or a conjunction that keeps an NC licence": NC is not share-alike, so
    # other licences may join, as long as an NC licence stays.
    "CC-BY-NC-4.0": ForkRule(
        ForkKind.KEEPS_ONE, frozenset({"CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0"})
    ),
    "CC-BY-NC-SA-3.0": _share_alike("CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0"),
    "CC-BY-NC-SA-4.0": _share_alike("CC-BY-NC-SA-4.0"),
    "CC-BY-ND-*": _NO_DERIVATIVES,
    "CC-BY-NC-ND-*": _NO_DERIVATIVES,
    "GPL-3.0-or-later": _share_alike("GPL-3.0-or-later", "GPL-3.0-only"),
    "GPL-3.0-only": _share_alike("GPL-3.0-only"),
    # CERN-OHL v2 §3.3/§8.3.
    "CERN-OHL-S-2.0": _share_alike("CERN-OHL-S-2.0"),
    "CERN-OHL-W-2.0": _share_alike("CERN-OHL-W-2.0", "CERN-OHL-S-2.0"),
    "TAPR-OHL-1.0": _share_alike("TAPR-OHL-1.0"),
    # Platform policy: forks of the commons stay in the commons.
    # The PPL lets only non-companies fork; an actor that does not say what it is cannot
    # show that it is not a company, so it is refused too (fail closed).
    "PPL": _share_alike("PPL", refused_forkers=frozenset({COMPANY, UNKNOWN})),
}


class MayFork(Enum):
    """Who may publish a fork, most permissive first (the order combines expressions)."""

    ANYONE = "Anyone may publish a fork."
    ANYONE_NON_COMMERCIAL = "Anyone may publish a fork; forks stay non-commercial."
    NOT_COMPANIES = (
        "Individuals, nonprofits and cooperatives may publish a fork; companies "
        "(for-profit businesses that are not worker-owned) may not."
    )
    SAME_LICENCE = (
        "This licence is not in this instance's compatibility table: a fork must keep "
        "exactly the same licence."
    )
    NO_ONE = "No one may publish a fork: only verbatim copies are allowed."


class CommercialUse(Enum):
    """Who may use a design commercially, most permissive first."""

    ANYONE = "Anyone may use it commercially."
    COOPERATIVES = "Only worker-owned cooperatives may use it commercially."
    VERBATIM = "Commercial use is limited to verbatim copies."
    UNKNOWN = "This licence is not in this instance's table: read it before any commercial use."
    NO_ONE = "No one may use it commercially."


@dataclass(frozen=True)
class Usage:
    may_fork: MayFork
    commercial: CommercialUse


_OPEN = Usage(MayFork.ANYONE, CommercialUse.ANYONE)

# The entity-kind table. Order matters: NC-ND must match before NC.
USAGE_RULES: dict[str, Usage] = {
    "PPL": Usage(MayFork.NOT_COMPANIES, CommercialUse.COOPERATIVES),
    "CC-BY-NC-ND-*": Usage(MayFork.NO_ONE, CommercialUse.NO_ONE),
    "CC-BY-ND-*": Usage(MayFork.NO_ONE, CommercialUse.VERBATIM),
    "CC-BY-NC-*": Usage(MayFork.ANYONE_NON_COMMERCIAL, CommercialUse.NO_ONE),
    "CC0-*": _OPEN,
    "CC-BY-*": _OPEN,
    "GPL-*": _OPEN,
    "CERN-OHL-*": _OPEN,
    "MIT": _OPEN,
    "TAPR-OHL-*": _OPEN,
    "LAL-*": _OPEN,
    # The permissive rows of the fork table belong with MIT here.
    "BSD-2-Clause": _OPEN,
    "BSD-3-Clause": _OPEN,
    "Apache-2.0": _OPEN,
}

# Shown by `LicencePolicy.title`; the SPDX index shipped with
# license-expression carries ids only, no names.
TITLES: dict[str, str] = {
    "PPL": "Peer Production License",
    "CC0-1.0": "Creative Commons Zero v1.0 Universal",
    "CC-BY-4.0": "Creative Commons Attribution 4.0 International",
    "CC-BY-SA-3.0": "Creative Commons Attribution Share Alike 3.0 Unported",
    "CC-BY-SA-4.0": "Creative Commons Attribution Share Alike 4.0 International",
    "CC-BY-NC-4.0": "Creative Commons Attribution Non Commercial 4.0 International",
    "CC-BY-NC-SA-3.0": "Creative Commons Attribution Non Commercial Share Alike 3.0 Unported",
    "CC-BY-NC-SA-4.0": "Creative Commons Attribution Non Commercial Share Alike 4.0 International",
    "CC-BY-ND-4.0": "Creative Commons Attribution No Derivatives 4.0 International",
    "CC-BY-NC-ND-4.0": (
        "Creative Commons Attribution Non Commercial No Derivatives 4.0 International"
    ),
    "MIT": "MIT License",
    "BSD-2-Clause": 'BSD 2-Clause "Simplified" License',
    "BSD-3-Clause": 'BSD 3-Clause "New" or "Revised" License',
    "Apache-2.0": "Apache License 2.0",
    "CERN-OHL-P-2.0": "CERN Open Hardware Licence Version 2 - Permissive",
    "CERN-OHL-W-2.0": "CERN Open Hardware Licence Version 2 - Weakly Reciprocal",
    "CERN-OHL-S-2.0": "CERN Open Hardware Licence Version 2 - Strongly Reciprocal",
    "GPL-3.0-only": "GNU General Public License v3.0 only",
    "GPL-3.0-or-later": "GNU General Public License v3.0 or later",
    "LAL-1.3": "Licence Art Libre 1.3",
    "TAPR-OHL-1.0": "TAPR Open Hardware License v1.0",
}

_Row = TypeVar("_Row")


def lookup(table: Mapping[str, _Row], licence: str) -> _Row | None:
    """The row for `licence`: its exact id first, then the first matching pattern."""
    if licence in table:
        return table[licence]
    for pattern, row in table.items():
        if "*" in pattern and fnmatchcase(licence, pattern):
            return row
    return None


def fork_rule(licence: str) -> ForkRule | None:
    """The fork row for one upstream licence, or None when it is unknown."""
    return lookup(FORK_RULES, licence)


def usage(licence: str) -> Usage | None:
    """Who may fork and use `licence` commercially, or None when it is unknown."""
    return lookup(USAGE_RULES, base_licence(licence))
