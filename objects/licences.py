"""The instance's licence policy: parse, normalise and check the licences designs carry.

The rules are those of the licensing specification (LICENSING.md); its tables
live as data in `objects.licence_rules`. This module does three things:

1. **Parse.** SPDX expressions are parsed by the `license-expression` library,
   never by hand. Its `Licensing` object is built lazily, once per set of
   registered LicenseRefs, from the SPDX index the library ships, but *without*
   any `LicenseRef-*` key or alias found there: ScanCode's index maps
   `LicenseRef-MIT-Bootstrap` to MIT and knows some 1,700
   `LicenseRef-scancode-*` keys, and accepting those would be guessing. On this
   instance a LicenseRef means only what the admin registered. Anything the
   library cannot parse (it raises `ExpressionError`, but also `IndexError` on
   "()") becomes a `LicenceError` written for a maker.

2. **Reduce.** A parsed expression is turned into its *choices*: a list of
   branches (disjunctive normal form), each branch a tuple of licences that
   all apply at once. "(A OR B) AND C" gives [(A, C), (B, C)].

3. **Check.** With choices, the specification's expression rules read directly:
   the upstream offers choices, so *some* upstream branch must allow the fork;
   the fork offers choices to its recipients, so *every* fork branch must be
   allowed; within a branch every upstream licence's row must accept the
   fork's branch. Keeping exactly the upstream's expression is allowed (except
   for ND licences and the PPL's company rule). Anything not in the table is
   refused unless kept exactly: we fail closed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from boolean import ParseError
from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    Licensing,
    get_license_index,
)

from federation.errors import ValidationError
from objects.licence_rules import (
    NO_NOTICE,
    TITLES,
    CommercialUse,
    ForkKind,
    ForkRule,
    MayFork,
    Usage,
    base_licence,
    fork_rule,
    usage,
)

COMPONENTS = ("hardware", "documentation", "software")
NOASSERTION = "NOASSERTION"
ENTITY_KINDS = ("individual", "nonprofit", "cooperative", "company", "unknown")

SPDX_URL = "https://spdx.org/licenses/{}.html"
# Expressions arrive over federation: bound the work one of them can cause.
MAX_EXPRESSION_LENGTH = 500
MAX_CHOICES = 64

_LICENCE_REF_ID = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")
_EXAMPLE = "PPL, CC-BY-SA-4.0 or 'CERN-OHL-S-2.0 OR CC-BY-SA-4.0'"
_ENTITY_NAMES = {
    "company": "company (a for-profit business that is not worker-owned)",
    "unknown": "publisher that does not declare its entity kind (individual, nonprofit or"
    " cooperative)",
}

# What the library raises on bad input; IndexError and friends come from its
# parser on input such as "()" or "MIT AND ()".
_PARSE_ERRORS = (ExpressionError, ParseError, LookupError, TypeError, ValueError, RecursionError)

Branch = tuple[str, ...]
"""Licences that all apply at once (an AND); each is an id or "<id> WITH <exception>"."""


class LicenceError(ValidationError):
    """A licence is missing, malformed, unknown, or does not allow what was asked."""


@dataclass(frozen=True)
class LicenceRef:
    """A `LicenseRef-*` licence this instance registered, with the URL of its text."""

    id: str
    title: str
    url: str


@dataclass(frozen=True)
class LicenceTerms:
    """The licence of a design: one expression for the whole, or one per component.

    Build it with `LicencePolicy.terms`, which normalises and validates; the
    fields hold normalised SPDX expressions. `expression` is set for a single
    expression (it then applies to every component), otherwise all three
    components are set.
    """

    expression: str | None = None
    hardware: str | None = None
    documentation: str | None = None
    software: str | None = None

    def __post_init__(self) -> None:
        parts = (self.hardware, self.documentation, self.software)
        if self.expression is not None:
            if any(part is not None for part in parts):
                raise ValueError("give one expression for the whole design or one per component")
        elif not all(parts):
            raise ValueError(f"licence terms per component need all of {', '.join(COMPONENTS)}")
        elif NOASSERTION in parts:
            raise ValueError("NOASSERTION applies to a whole comment, never to one component")

    @classmethod
    def noassertion(cls) -> LicenceTerms:
        """The terms of content that carries no licence, such as a comment."""
        return cls(expression=NOASSERTION)

    @classmethod
    def from_json(cls, value: object) -> LicenceTerms:
        """Rebuild terms this instance stored with `to_json`.

        Only the shape is checked: the expressions were validated when stored.
        Input from elsewhere goes through `LicencePolicy.terms`.
        """
        if isinstance(value, str):
            return cls(expression=value)
        if (
            isinstance(value, Mapping)
            and set(value) == set(COMPONENTS)
            and all(isinstance(part, str) for part in value.values())
        ):
            return cls(**{component: value[component] for component in COMPONENTS})
        raise LicenceError(f"stored licence terms have an unexpected shape: {value!r}")

    @property
    def is_noassertion(self) -> bool:
        return self.expression == NOASSERTION

    def for_component(self, name: str) -> str:
        if name not in COMPONENTS:
            raise ValueError(f"unknown component {name!r}; components are {', '.join(COMPONENTS)}")
        if self.expression is not None:
            return self.expression
        part: str = getattr(self, name)
        return part

    def components(self) -> dict[str, str]:
        return {component: self.for_component(component) for component in COMPONENTS}

    def to_json(self) -> str | dict[str, str]:
        """What goes on the wire and in a JSON column: a string or a component mapping."""
        return self.expression if self.expression is not None else self.components()

    def summary(self, named: Callable[[str], str] = str) -> str:
        """Human text, e.g. "hardware: CERN-OHL-S-2.0; documentation: CC-BY-SA-4.0; ...";
        `named` turns each expression into the words shown for it."""
        if self.expression is not None:
            return named(self.expression)
        return "; ".join(f"{name}: {named(part)}" for name, part in self.components().items())


@dataclass(frozen=True)
class _Parsed:
    """A normalised expression and its choices (see the module docstring)."""

    text: str
    choices: list[Branch]

    def as_sets(self) -> set[frozenset[str]]:
        """The choices with order ignored: "A AND B" is "B AND A"."""
        return {frozenset(branch) for branch in self.choices}


class LicencePolicy:
    """The licence rules of one instance: its default licence and registered LicenseRefs."""

    def __init__(self, default: str, refs: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.refs = _registered_refs(refs or {})
        try:
            self.default = self.normalise(default)
        except LicenceError as error:
            raise LicenceError(f"the instance's default licence: {error.message}") from error

    # Parsing

    def normalise(self, expression: str) -> str:
        """The normalised rendering of `expression`, e.g. "gpl-3.0+" gives "GPL-3.0-or-later".

        Refuses empty, malformed and unknown expressions, unregistered
        LicenseRefs, and NOASSERTION: a design must be licensed.
        """
        return self._parse(expression).text

    def terms(
        self, value: str | Mapping[str, str] | None, *, default_if_missing: bool = False
    ) -> LicenceTerms:
        """The terms of a design from one expression or a mapping of components.

        A mapping must name every component: a missing one is refused, unless
        `default_if_missing`, which also covers a missing licence altogether,
        gives it the instance's default. A mapping with the same expression for
        every component becomes a single expression.
        """
        if _is_missing(value):
            if default_if_missing:
                return LicenceTerms(expression=self.default)
            raise LicenceError(
                "the design has no licence: every design must carry an SPDX licence "
                f"expression, such as {self.default}"
            )
        if isinstance(value, str):
            return LicenceTerms(expression=self.normalise(value))
        if isinstance(value, Mapping):
            return self._component_terms(value, default_if_missing)
        raise LicenceError(
            "a licence must be an SPDX expression, or a mapping of "
            f"{', '.join(COMPONENTS)} to SPDX expressions"
        )

    # Rules

    def check_fork(self, upstream: LicenceTerms, fork: LicenceTerms, forker_kind: str) -> None:
        """Refuse, with the reason, a fork the upstream's licence does not allow.

        `forker_kind` is the publishing actor's entity kind (`ENTITY_KINDS`).
        """
        if forker_kind not in ENTITY_KINDS:
            raise ValueError(f"unknown entity kind {forker_kind!r}; expected one of {ENTITY_KINDS}")
        if upstream.is_noassertion:
            raise LicenceError(
                "the upstream carries no licence (NOASSERTION): it is a comment, and it "
                "cannot be forked, bundled or exported as part of a design"
            )
        if fork.is_noassertion:
            raise LicenceError("a fork must carry a licence; NOASSERTION is only for comments")
        refusals = []
        for component, upstream_part, fork_part in _component_pairs(upstream, fork):
            reason = _fork_refusal(self._parse(upstream_part), self._parse(fork_part), forker_kind)
            if reason is not None:
                refusals.append(f"{component}: {reason}" if component else reason)
        if refusals:
            raise LicenceError(". ".join(refusals))

    def check_sale(self, terms: LicenceTerms, seller_kind: str) -> None:
        """Refuse, with the reason, selling a make of a design under `terms` by a seller of
        `seller_kind`: selling is commercial use, so the rows that refuse a kind a fork (the
        PPL's company rule) refuse it a sale too, and a licence that allows no commercial
        use refuses every sale. One choice of an expression that allows it is enough. The
        hardware and software components are checked (a make embodies them)."""
        if seller_kind not in ENTITY_KINDS:
            raise ValueError(f"unknown entity kind {seller_kind!r}; expected one of {ENTITY_KINDS}")
        if terms.is_noassertion:
            raise LicenceError("the design carries no licence (NOASSERTION): it cannot be sold")
        refusals = []
        # A make embodies the hardware and any software it runs; its documentation is not
        # what is sold.
        for component in ("hardware", "software"):
            expression = terms.for_component(component)
            reason = _sale_refusal(self._parse(expression), seller_kind)
            if reason is not None and terms.expression is None:
                reason = f"{component}: {reason}"
            if reason is not None and reason not in refusals:
                refusals.append(reason)
        if refusals:
            raise LicenceError(". ".join(refusals))

    def check_irrevocable(
        self, published: LicenceTerms, proposed: LicenceTerms, *, version: str | None = None
    ) -> None:
        """Refuse changing the licence of a version that was already published."""
        if self._same_terms(published, proposed):
            return
        which = f"version {version}" if version else "this version"
        raise LicenceError(
            f"{which} was published under {published.summary()}; a published version's "
            f"licence cannot change (you proposed {proposed.summary()}) — publish a new "
            "version instead"
        )

    # What a design page and the wire show

    def license_urls(self, terms: LicenceTerms) -> list[str]:
        """The text URL of every licence and exception the terms use, in order."""
        if terms.is_noassertion:
            return []
        urls: list[str] = []
        for expression in dict.fromkeys(terms.components().values()):
            for key in self._licensing().license_keys(self._parse(expression).text):
                url = self.refs[key].url if key in self.refs else SPDX_URL.format(key)
                if url not in urls:
                    urls.append(url)
        return urls

    def title(self, licence_id: str) -> str:
        """A human name for one licence id; the id itself when we know no better."""
        ref = self.refs.get(licence_id)
        if ref is not None:
            return ref.title
        return TITLES.get(licence_id, licence_id)

    def commercial_use(self, terms: LicenceTerms) -> str:
        """A sentence for the design page: who may use the design commercially."""
        if terms.is_noassertion:
            return "No one may use it: it carries no licence."
        return self._describe(terms, lambda row: row.commercial, CommercialUse.UNKNOWN)

    def allows_commercial_use(self, terms: LicenceTerms, kind: str) -> bool:
        """Whether an actor of entity `kind` may use the design commercially, by the table
        that `commercial_use` describes (its hardware and software: what a make embodies).
        What ranks maker spaces for an order; `check_sale` is the rule that refuses."""
        if terms.is_noassertion:
            return False
        allowed = {
            CommercialUse.ANYONE: True,
            CommercialUse.VERBATIM: True,  # a make builds the design as it is
            CommercialUse.COOPERATIVES: kind == "cooperative",
            CommercialUse.UNKNOWN: False,
            CommercialUse.NO_ONE: False,
        }
        return all(
            allowed[
                _level(
                    self._parse(terms.for_component(part)).choices,
                    lambda row: row.commercial,
                    CommercialUse.UNKNOWN,
                )
            ]
            for part in ("hardware", "software")
        )

    def who_may_fork(self, terms: LicenceTerms) -> str:
        """A sentence for the design page: who may publish a fork."""
        if terms.is_noassertion:
            return "No one may fork it: it carries no licence."
        return self._describe(terms, lambda row: row.may_fork, MayFork.SAME_LICENCE)

    # Internals

    def _licensing(self) -> Any:
        return _licensing_with(tuple(sorted(self.refs)))

    def _parse(self, expression: str) -> _Parsed:
        if not isinstance(expression, str):
            raise LicenceError(f"a licence must be an SPDX expression (text), not {expression!r}")
        text = expression.strip()
        if not text:
            raise LicenceError(f"the licence is empty: give an SPDX expression such as {_EXAMPLE}")
        if text.upper() == NOASSERTION:
            raise LicenceError(
                "NOASSERTION means 'no licence', and a design must be licensed: "
                f"choose a licence such as {_EXAMPLE}"
            )
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise LicenceError(
                f"the licence expression is longer than {MAX_EXPRESSION_LENGTH} characters"
            )
        parsed = self._parse_known(text)
        choices = list(dict.fromkeys(_choices(parsed)))
        return _Parsed(str(parsed.render()), choices)

    def _parse_known(self, text: str) -> Any:
        licensing = self._licensing()
        try:
            # Unknown ids first, for a clearer message than strict parsing gives
            # ("a plain license symbol cannot be used as an exception")...
            parsed = licensing.parse(text)
            if parsed is None:
                raise ExpressionError("it holds no licence")
            self._refuse_unknown(licensing.unknown_license_keys(parsed))
            # ...then strictly: exceptions only after WITH, licences never.
            parsed = licensing.parse(text, strict=True)
            return licensing.dedup(parsed)
        except _PARSE_ERRORS as error:
            detail = str(error) if isinstance(error, ExpressionError) else "it cannot be parsed"
            raise LicenceError(
                f"{text!r} is not a valid SPDX licence expression ({detail}); join SPDX ids "
                f"with AND, OR or WITH, as in {_EXAMPLE}"
            ) from error

    def _refuse_unknown(self, unknown: list[str]) -> None:
        refs = [key for key in unknown if _is_licence_ref(key)]
        if refs:
            raise LicenceError(
                f"{', '.join(refs)} is not registered on this instance: an admin must register "
                "a LicenseRef, with a title and the URL of its text, before designs can use it"
            )
        if unknown:
            raise LicenceError(
                f"unknown licence id {', '.join(unknown)}: use SPDX ids "
                f"(https://spdx.org/licenses/) such as {_EXAMPLE}"
            )

    def _component_terms(self, value: Mapping[str, Any], default_if_missing: bool) -> LicenceTerms:
        unknown = [name for name in value if name not in COMPONENTS]
        if unknown:
            raise LicenceError(
                f"unknown licence component {', '.join(map(repr, unknown))}: a design's "
                f"components are {', '.join(COMPONENTS)}"
            )
        parts = {
            component: self._component_expression(
                component, value.get(component), default_if_missing
            )
            for component in COMPONENTS
        }
        if len(set(parts.values())) == 1:
            return LicenceTerms(expression=parts[COMPONENTS[0]])
        return LicenceTerms(**parts)

    def _component_expression(self, component: str, value: object, default_if_missing: bool) -> str:
        if _is_missing(value):
            if default_if_missing:
                return self.default
            raise LicenceError(
                f"the {component} has no licence: give an expression for each of "
                f"{', '.join(COMPONENTS)}, or one expression for the whole design"
            )
        if not isinstance(value, str):
            raise LicenceError(f"{component}: a licence must be an SPDX expression (text)")
        try:
            return self.normalise(value)
        except LicenceError as error:
            raise LicenceError(f"{component}: {error.message}") from error

    def _same_terms(self, first: LicenceTerms, second: LicenceTerms) -> bool:
        if first.is_noassertion or second.is_noassertion:
            return first == second
        return all(
            self._parse(first.for_component(c)).as_sets()
            == self._parse(second.for_component(c)).as_sets()
            for c in COMPONENTS
        )

    def _describe(
        self, terms: LicenceTerms, pick: Callable[[Usage], _Level], unknown: _Level
    ) -> str:
        levels = {
            component: _level(self._parse(expression).choices, pick, unknown)
            for component, expression in terms.components().items()
        }
        distinct = set(levels.values())
        if len(distinct) == 1:
            return str(distinct.pop().value)
        return " ".join(
            f"{component.capitalize()}: {_lower_first(level.value)}"
            for component, level in levels.items()
        )


# Building the Licensing object


def _is_licence_ref(key: str) -> bool:
    return key.lower().startswith("licenseref-")


@functools.cache
def _spdx_symbols() -> tuple[Any, ...]:
    """SPDX licences and exceptions from the library's index, without its LicenseRefs."""
    symbols = []
    for entry in get_license_index():
        key = entry.get("spdx_license_key")
        if not key or _is_licence_ref(key):
            continue
        aliases = [
            alias
            for alias in entry.get("other_spdx_license_keys", [])
            if not _is_licence_ref(alias)
        ]
        symbols.append(
            LicenseSymbol(
                key=key, aliases=tuple(aliases), is_exception=entry.get("is_exception", False)
            )
        )
    return tuple(symbols)


@functools.cache
def _licensing_with(ref_ids: tuple[str, ...]) -> Any:
    """A Licensing that knows SPDX plus these registered LicenseRefs (built on first use)."""
    return Licensing([*_spdx_symbols(), *(LicenseSymbol(key=ref_id) for ref_id in ref_ids)])


def _registered_refs(refs: Mapping[str, Mapping[str, str]]) -> dict[str, LicenceRef]:
    registered: dict[str, LicenceRef] = {}
    for ref_id, fields in refs.items():
        if not isinstance(ref_id, str) or not _LICENCE_REF_ID.fullmatch(ref_id):
            raise LicenceError(
                f"{ref_id!r} cannot be registered: a registered licence id has the form "
                "LicenseRef-<letters, digits, '.' or '-'>"
            )
        if any(ref_id.lower() == known.lower() for known in registered):
            raise LicenceError(f"{ref_id} is registered twice (ids are not case-sensitive)")
        title = fields.get("title") if isinstance(fields, Mapping) else None
        url = fields.get("url") if isinstance(fields, Mapping) else None
        if not isinstance(title, str) or not title.strip():
            raise LicenceError(f"{ref_id} cannot be registered without a title")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise LicenceError(f"{ref_id} cannot be registered without the http(s) URL of its text")
        registered[ref_id] = LicenceRef(ref_id, title.strip(), url.strip())
    return registered


# Expressions as choices


def _choices(node: Any) -> list[Branch]:
    """The branches of a parsed expression: OR lists them, AND combines every pair."""
    if isinstance(node, OR):
        choices = [branch for arg in node.args for branch in _choices(arg)]
    elif isinstance(node, AND):
        choices = [()]
        for arg in node.args:
            choices = [_merge(left, right) for left in choices for right in _choices(arg)]
            _check_size(choices)
    else:  # a licence, or a licence WITH an exception
        choices = [(str(node.render()),)]
    _check_size(choices)
    return choices


def _merge(left: Branch, right: Branch) -> Branch:
    return tuple(dict.fromkeys(left + right))


def _check_size(choices: list[Branch]) -> None:
    if len(choices) > MAX_CHOICES:
        raise LicenceError(f"the licence expression offers more than {MAX_CHOICES} choices")


def _is_missing(value: object) -> bool:
    """None, blank text or an empty mapping: no licence given at all."""
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping):
        return not value
    return value is None


# Fork checks


def _component_pairs(upstream: LicenceTerms, fork: LicenceTerms) -> list[tuple[str, str, str]]:
    """What to compare: the whole, or each component (then named in messages)."""
    if upstream.expression is not None and fork.expression is not None:
        return [("", upstream.expression, fork.expression)]
    return [(c, upstream.for_component(c), fork.for_component(c)) for c in COMPONENTS]


def _fork_refusal(upstream: _Parsed, fork: _Parsed, forker: str) -> str | None:
    """Why `fork` may not follow `upstream` when published by a `forker`; None if it may."""
    if upstream.as_sets() == fork.as_sets() and _may_keep_exactly(upstream, forker):
        return None
    reasons = []
    # The forker may pick any of the upstream's choices: one that allows the fork is enough.
    for branch in upstream.choices:
        reason = _branch_refusal(branch, fork, forker)
        if reason is None:
            return None
        reasons.append(reason)
    if len(reasons) > 1:
        reasons[0] = f"none of the choices in {upstream.text} allows this fork: {reasons[0]}"
    return f"{', and '.join(reasons)}; you chose {fork.text}"


def _sale_refusal(parsed: _Parsed, seller: str) -> str | None:
    """Why none of the choices of `parsed` lets a `seller` sell a make; None if one does."""
    reasons = []
    for branch in parsed.choices:
        reason = next(
            (r for r in (_licence_sale_refusal(licence, seller) for licence in branch) if r),
            None,
        )
        if reason is None:
            return None
        reasons.append(reason)
    return ", and ".join(dict.fromkeys(reasons))


def _licence_sale_refusal(licence: str, seller: str) -> str | None:
    rule = fork_rule(licence)
    if rule is not None and seller in rule.refused_forkers:
        entity = _ENTITY_NAMES.get(seller, seller)
        return f"{licence} does not allow a {entity} to sell a make (commercial use)"
    row = usage(licence)
    if row is not None and row.commercial is CommercialUse.NO_ONE:
        return f"{licence} allows no commercial use, so no make may be sold"
    return None


def _may_keep_exactly(upstream: _Parsed, forker: str) -> bool:
    rules = [fork_rule(licence) for branch in upstream.choices for licence in branch]
    return not any(
        rule is not None
        and (rule.kind is ForkKind.NO_DERIVATIVES or forker in rule.refused_forkers)
        for rule in rules
    )


def _branch_refusal(upstream: Branch, fork: _Parsed, forker: str) -> str | None:
    # Recipients may pick any of the fork's choices, so each must be allowed.
    for branch in fork.choices:
        reason = _licences_refusal(upstream, branch, forker)
        if reason is not None and len(fork.choices) > 1:
            return f"{reason}, and recipients of the fork may pick {' AND '.join(branch)}"
        if reason is not None:
            return reason
    return None


def _licences_refusal(upstream: Branch, fork: Branch, forker: str) -> str | None:
    """Why the licences of `fork`, all at once, may not follow those of `upstream`."""
    rules = {licence: fork_rule(licence) for licence in upstream}
    for licence, rule in rules.items():
        if rule is not None and rule.kind is ForkKind.NO_DERIVATIVES:
            return f"{licence} allows verbatim copies only, so no fork may be published"
        if rule is not None and forker in rule.refused_forkers:
            entity = _ENTITY_NAMES.get(forker, forker)
            return f"{licence} does not allow a {entity} to publish a fork"
    if set(fork) == set(upstream):
        return None  # the same licence(s)
    for licence, rule in rules.items():
        reason = _row_refusal(licence, rule, upstream, fork)
        if reason is not None:
            return reason
    return None


def _row_refusal(licence: str, rule: ForkRule | None, upstream: Branch, fork: Branch) -> str | None:
    """Why one upstream licence's row refuses the fork's licences; None if it accepts them."""
    if rule is None:
        return (
            f"{licence} is not in this instance's licence compatibility table, so a fork "
            f"must keep exactly {' AND '.join(upstream)}"
        )
    # The upstream's other licences may stay in the fork as they were: they
    # are no terms the fork adds to this one.
    added = [other for other in fork if other == licence or other not in upstream]
    accepted = [other for other in fork if rule.accepts(other)]
    if rule.kind is ForkKind.ANYTHING:
        return None
    if rule.kind is ForkKind.KEEPS_ONE:
        return (
            None if accepted else f"{licence} requires forks to keep one of {_list(rule.allowed)}"
        )
    if rule.kind is ForkKind.SHARE_ALIKE:
        return _share_alike_refusal(licence, rule, added)
    # KEEPS_NOTICE and ATTRIBUTION: other licences may join, if they keep the notice too.
    refused = [other for other in added if not rule.accepts(other)]
    if accepted and not refused:
        return None
    return _attribution_refusal(licence, rule, refused)


def _share_alike_refusal(licence: str, rule: ForkRule, added: list[str]) -> str | None:
    if len(added) == 1 and rule.accepts(added[0]):
        return None
    if len(added) > 1 and any(rule.accepts(other) for other in added):
        # Every licence of an AND applies at once: another one adds terms.
        return f"{licence} is share-alike, so a fork may not add other licences to it"
    alternatives = rule.compatible_alternatives(licence)
    compatible = f" (or a compatible licence such as {_list(alternatives)})" if alternatives else ""
    return f"{licence} requires forks to stay {licence}{compatible}"


def _attribution_refusal(licence: str, rule: ForkRule, refused: list[str]) -> str:
    dropping = [other for other in refused if base_licence(other) in NO_NOTICE]
    if rule.kind is ForkKind.KEEPS_NOTICE:
        if dropping:
            return f"{licence} requires forks to keep its notice, which {_list(dropping)} drops"
        if refused:
            return (
                f"{licence} requires forks to keep its notice, and this instance cannot tell "
                f"that {_list(refused)} does"
            )
        return f"{licence} requires forks to keep its notice"
    if dropping:
        return f"{licence} requires attribution, which {_list(dropping)} would lose"
    return f"{licence} requires forks to keep attribution under one of {_list(rule.allowed)}"


def _list(items: Any) -> str:
    names = sorted(items)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


# Design-page sentences

_Level = TypeVar("_Level", MayFork, CommercialUse)


def _level(choices: list[Branch], pick: Callable[[Usage], _Level], unknown: _Level) -> _Level:
    """The most permissive choice, each choice as strict as its strictest licence."""
    order: list[_Level] = list(type(unknown))

    def strictest(branch: Branch) -> _Level:
        levels = [_usage_level(licence, pick, unknown) for licence in branch]
        return max(levels, key=order.index)

    return min((strictest(branch) for branch in choices), key=order.index)


def _usage_level(licence: str, pick: Callable[[Usage], _Level], unknown: _Level) -> _Level:
    row = usage(licence)
    return unknown if row is None else pick(row)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def licence_words(policy: LicencePolicy, terms: LicenceTerms) -> str:
    """E.g. "MIT License (MIT)", or per component "hardware: ... (CERN-OHL-S-2.0); ..."."""
    return terms.summary(functools.partial(_named, policy))


def _named(policy: LicencePolicy, expression: str) -> str:
    title = policy.title(expression)
    return expression if title == expression else f"{title} ({expression})"
