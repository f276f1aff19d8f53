"""The plain-words box of a version page: what each kind of publisher may do with a design.

Every verdict comes from the instance's `LicencePolicy`, the one the fork API and the inbox
apply: may fork is `check_fork` of the design's own licence (exactly what a fork keeping
it would be judged by), and use and commercial use come from the licence table's levels
(`who_may_fork`, `commercial_use`), never from a second table here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TypeVar

from objects.licence_rules import CommercialUse, MayFork
from objects.licences import LicenceError, LicencePolicy, LicenceTerms, licence_words

YES, NO, ASK = "yes", "no", "ask"
Level = TypeVar("Level", MayFork, CommercialUse)
ENTITIES = (
    ("individual", "An individual"),
    ("nonprofit", "A non-profit"),
    ("cooperative", "A cooperative (worker-owned)"),
    ("company", "A company (for-profit, not worker-owned)"),
)


@dataclass(frozen=True)
class Right:
    verdict: str  # yes, no or ask (read the licence first)
    words: str


@dataclass(frozen=True)
class EntityRights:
    kind: str
    label: str
    use: Right
    fork: Right
    sell: Right

    @property
    def overall(self) -> str:
        verdicts = {self.use.verdict, self.fork.verdict, self.sell.verdict}
        if verdicts == {YES}:
            return YES
        return NO if self.use.verdict == NO else ASK


@dataclass(frozen=True)
class LicenceView:
    """Everything a page says about a licence."""

    badge: str  # the SPDX expression(s)
    words: str  # with the licences' names
    urls: list[str]
    who_may_fork: str
    commercial_use: str
    rights: list[EntityRights]


@functools.lru_cache(maxsize=512)
def licence_view(policy: LicencePolicy, terms: LicenceTerms) -> LicenceView:
    """Cached: parsing expressions costs more than the rest of a page, and a few licences
    cover most designs (a policy never changes once built)."""
    return LicenceView(
        badge=terms.summary(),
        words=licence_words(policy, terms),
        urls=policy.license_urls(terms),
        who_may_fork=policy.who_may_fork(terms),
        commercial_use=policy.commercial_use(terms),
        rights=rights_box(policy, terms),
    )


def rights_box(policy: LicencePolicy, terms: LicenceTerms) -> list[EntityRights]:
    may_fork = _level(MayFork, policy.who_may_fork(terms))
    commercial = _level(CommercialUse, policy.commercial_use(terms))
    commercial_words = policy.commercial_use(terms)
    return [
        EntityRights(
            kind=kind,
            label=label,
            use=_use(terms, may_fork, kind),
            fork=_fork(policy, terms, may_fork, kind),
            sell=_sell(commercial, commercial_words, kind),
        )
        for kind, label in ENTITIES
    ]


def _level(kind: type[Level], sentence: str) -> Level | None:
    """The table's level the policy's sentence states; None when components differ."""
    for level in kind:
        if level.value == sentence:
            return level
    return None


def _use(terms: LicenceTerms, may_fork: MayFork | None, kind: str) -> Right:
    if terms.is_noassertion:
        return Right(NO, "No: it carries no licence.")
    if may_fork is MayFork.NOT_COMPANIES and kind == "company":
        return Right(NO, "No: this licence keeps for-profit companies out of the commons.")
    if may_fork is None or may_fork is MayFork.SAME_LICENCE:
        return Right(ASK, "Read the licence first: this instance does not know all its terms.")
    return Right(YES, "Yes: make it, print it and use it.")


def _fork(policy: LicencePolicy, terms: LicenceTerms, may_fork: MayFork | None, kind: str) -> Right:
    try:
        policy.check_fork(terms, terms, kind)
    except LicenceError as refusal:
        # The refusal ends with the licence the fork would carry, this very one: no news here.
        reason = refusal.message.rsplit("; you chose ", 1)[0]
        return Right(NO, f"No: {reason}.")
    if may_fork is MayFork.ANYONE_NON_COMMERCIAL:
        return Right(YES, "Yes: modify it and publish a fork; the fork stays non-commercial.")
    if may_fork is MayFork.SAME_LICENCE or may_fork is None:
        return Right(YES, "Yes: modify it and publish a fork under the same licence.")
    return Right(YES, "Yes: modify it and publish a fork.")


def _sell(commercial: CommercialUse | None, words: str, kind: str) -> Right:
    if commercial is CommercialUse.ANYONE:
        return Right(YES, "Yes: sell it or use it commercially.")
    if commercial is CommercialUse.COOPERATIVES:
        if kind == "cooperative":
            return Right(YES, "Yes: worker-owned cooperatives may sell it and use it commercially.")
        return Right(NO, "No: only worker-owned cooperatives may use it commercially.")
    if commercial is CommercialUse.NO_ONE:
        return Right(NO, "No: no one may use it commercially.")
    return Right(ASK, f"Ask first: {words}")
