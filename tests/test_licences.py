"""The licence policy (objects.licences) against the licensing specification.

Pure unit tests: no database. Each row of the fork compatibility table has
allowed and refused cases; then the expression rules, the entity-kind rule,
parsing, terms, URLs, design-page sentences and irrevocability.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from federation.errors import ValidationError
from objects.licence_rules import CommercialUse, MayFork
from objects.licences import (
    COMPONENTS,
    ENTITY_KINDS,
    NOASSERTION,
    LicenceError,
    LicencePolicy,
    LicenceRef,
    LicenceTerms,
)

FOO_URL = "https://example.org/foo"
REFS = {"LicenseRef-Foo": {"title": "Foo licence", "url": FOO_URL}}

Licence = str | Mapping[str, str]


@pytest.fixture(scope="module")
def policy() -> LicencePolicy:
    return LicencePolicy("PPL", REFS)


def fork_refusal(
    policy: LicencePolicy, upstream: Licence, fork: Licence, forker: str = "individual"
) -> str | None:
    """The refusal message for publishing `fork` from `upstream`, or None if allowed."""
    try:
        policy.check_fork(policy.terms(upstream), policy.terms(fork), forker)
    except LicenceError as error:
        return error.message
    return None


def refusal(call: object, *args: object, **kwargs: object) -> str:
    """The message of the LicenceError that `call` must raise."""
    assert callable(call)
    with pytest.raises(LicenceError) as caught:
        call(*args, **kwargs)
    return caught.value.message


# The fork compatibility table, row by row.

ALLOWED_FORKS = [
    # CC0-1.0: anything
    ("CC0-1.0", "CC0-1.0"),
    ("CC0-1.0", "MIT"),
    ("CC0-1.0", "PPL"),
    ("CC0-1.0", "CC-BY-ND-4.0"),
    ("CC0-1.0", "LicenseRef-Foo"),
    ("CC0-1.0", "GPL-2.0-or-later WITH Classpath-exception-2.0"),
    # CC-BY-4.0: any CC 4.0 licence, PPL, GPL-3.0-*, CERN-OHL-*, TAPR-OHL-1.0, MIT
    ("CC-BY-4.0", "CC-BY-4.0"),
    ("CC-BY-4.0", "CC-BY-SA-4.0"),
    ("CC-BY-4.0", "CC-BY-NC-4.0"),
    ("CC-BY-4.0", "CC-BY-NC-SA-4.0"),
    ("CC-BY-4.0", "CC-BY-ND-4.0"),
    ("CC-BY-4.0", "CC-BY-NC-ND-4.0"),
    ("CC-BY-4.0", "PPL"),
    ("CC-BY-4.0", "GPL-3.0-only"),
    ("CC-BY-4.0", "GPL-3.0-or-later"),
    ("CC-BY-4.0", "CERN-OHL-P-2.0"),
    ("CC-BY-4.0", "CERN-OHL-W-2.0"),
    ("CC-BY-4.0", "CERN-OHL-S-2.0"),
    ("CC-BY-4.0", "TAPR-OHL-1.0"),
    ("CC-BY-4.0", "MIT"),
    ("CC-BY-4.0", "CC-BY-SA-4.0 AND MIT"),
    # MIT, BSD-2-Clause, BSD-3-Clause, Apache-2.0, CERN-OHL-P-2.0: anything that keeps the notice
    ("MIT", "MIT"),
    ("MIT", "GPL-3.0-only"),
    ("MIT", "GPL-2.0-only"),
    ("MIT", "PPL"),
    ("BSD-2-Clause", "Apache-2.0"),
    ("BSD-3-Clause", "CC-BY-SA-4.0"),
    ("Apache-2.0", "Apache-2.0 AND MIT"),
    ("CERN-OHL-P-2.0", "CERN-OHL-S-2.0"),
    # CC-BY-SA-3.0
    ("CC-BY-SA-3.0", "CC-BY-SA-3.0"),
    ("CC-BY-SA-3.0", "CC-BY-SA-4.0"),
    # CC-BY-SA-4.0: itself, LAL-1.3 (two-way), GPL-3.0 (one-way)
    ("CC-BY-SA-4.0", "CC-BY-SA-4.0"),
    ("CC-BY-SA-4.0", "LAL-1.3"),
    ("CC-BY-SA-4.0", "GPL-3.0-only"),
    ("CC-BY-SA-4.0", "GPL-3.0-or-later"),
    # LAL-1.3
    ("LAL-1.3", "LAL-1.3"),
    ("LAL-1.3", "CC-BY-SA-4.0"),
    # CC-BY-NC-4.0: NC, NC-SA, NC-ND, or a conjunction that keeps an NC licence
    ("CC-BY-NC-4.0", "CC-BY-NC-4.0"),
    ("CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"),
    ("CC-BY-NC-4.0", "CC-BY-NC-ND-4.0"),
    ("CC-BY-NC-4.0", "CC-BY-NC-4.0 AND MIT"),
    ("CC-BY-NC-4.0", "PPL AND CC-BY-NC-SA-4.0"),
    # CC-BY-NC-SA-3.0
    ("CC-BY-NC-SA-3.0", "CC-BY-NC-SA-3.0"),
    ("CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0"),
    # CC-BY-NC-SA-4.0 only
    ("CC-BY-NC-SA-4.0", "CC-BY-NC-SA-4.0"),
    # GPL-3.0-or-later
    ("GPL-3.0-or-later", "GPL-3.0-or-later"),
    ("GPL-3.0-or-later", "GPL-3.0-only"),
    # GPL-3.0-only
    ("GPL-3.0-only", "GPL-3.0-only"),
    # CERN-OHL-S-2.0
    ("CERN-OHL-S-2.0", "CERN-OHL-S-2.0"),
    # CERN-OHL-W-2.0
    ("CERN-OHL-W-2.0", "CERN-OHL-W-2.0"),
    ("CERN-OHL-W-2.0", "CERN-OHL-S-2.0"),
    # TAPR-OHL-1.0
    ("TAPR-OHL-1.0", "TAPR-OHL-1.0"),
    # PPL only
    ("PPL", "PPL"),
    # Unknown to the table: the same licence is still allowed.
    ("GPL-2.0-only", "GPL-2.0-only"),
    ("LicenseRef-Foo", "LicenseRef-Foo"),
    (
        "GPL-3.0-or-later WITH Classpath-exception-2.0",
        "GPL-3.0-or-later WITH Classpath-exception-2.0",
    ),
]

REFUSED_FORKS = [
    # CC-BY-4.0: not CC0 (attribution would be lost), nothing outside its list
    ("CC-BY-4.0", "CC0-1.0"),
    ("CC-BY-4.0", "Apache-2.0"),
    ("CC-BY-4.0", "CC-BY-SA-3.0"),
    ("CC-BY-4.0", "CC-BY-SA-4.0 AND CC0-1.0"),
    # permissive rows: not public-domain-only, not terms we cannot read
    ("MIT", "CC0-1.0"),
    ("MIT", "LicenseRef-Foo"),
    ("BSD-2-Clause", "Unlicense"),
    ("BSD-3-Clause", "0BSD"),
    ("Apache-2.0", "CC0-1.0"),
    ("CERN-OHL-P-2.0", "MIT-0"),
    ("MIT", "MIT AND CC0-1.0"),
    # CC-BY-SA-3.0
    ("CC-BY-SA-3.0", "CC-BY-4.0"),
    ("CC-BY-SA-3.0", "GPL-3.0-only"),
    ("CC-BY-SA-3.0", "LAL-1.3"),
    # CC-BY-SA-4.0
    ("CC-BY-SA-4.0", "CC-BY-4.0"),
    ("CC-BY-SA-4.0", "CC-BY-SA-3.0"),
    ("CC-BY-SA-4.0", "CERN-OHL-S-2.0"),
    ("CC-BY-SA-4.0", "PPL"),
    ("CC-BY-SA-4.0", "MIT"),
    # LAL-1.3: GPL compatibility is CC-BY-SA's, one-way, not LAL's
    ("LAL-1.3", "GPL-3.0-or-later"),
    ("LAL-1.3", "CC-BY-SA-3.0"),
    # CC-BY-NC-4.0: the fork must stay NC
    ("CC-BY-NC-4.0", "CC-BY-4.0"),
    ("CC-BY-NC-4.0", "MIT"),
    ("CC-BY-NC-4.0", "PPL"),
    ("CC-BY-NC-4.0", "CC-BY-NC-SA-3.0"),
    # CC-BY-NC-SA-3.0
    ("CC-BY-NC-SA-3.0", "CC-BY-NC-4.0"),
    ("CC-BY-NC-SA-3.0", "CC-BY-SA-3.0"),
    # CC-BY-NC-SA-4.0 only
    ("CC-BY-NC-SA-4.0", "CC-BY-NC-SA-3.0"),
    ("CC-BY-NC-SA-4.0", "CC-BY-NC-4.0"),
    ("CC-BY-NC-SA-4.0", "PPL"),
    # CC-BY-ND-*, CC-BY-NC-ND-*: nothing, not even the same licence
    ("CC-BY-ND-4.0", "CC-BY-ND-4.0"),
    ("CC-BY-ND-4.0", "CC-BY-4.0"),
    ("CC-BY-ND-3.0", "CC-BY-ND-3.0"),
    ("CC-BY-NC-ND-4.0", "CC-BY-NC-ND-4.0"),
    ("CC-BY-NC-ND-3.0", "CC-BY-NC-SA-4.0"),
    # GPL-3.0-or-later
    ("GPL-3.0-or-later", "GPL-2.0-or-later"),
    ("GPL-3.0-or-later", "AGPL-3.0-or-later"),
    ("GPL-3.0-or-later", "CC-BY-SA-4.0"),
    # GPL-3.0-only
    ("GPL-3.0-only", "GPL-3.0-or-later"),
    ("GPL-3.0-only", "AGPL-3.0-only"),
    # CERN-OHL-S-2.0
    ("CERN-OHL-S-2.0", "CERN-OHL-W-2.0"),
    ("CERN-OHL-S-2.0", "CERN-OHL-P-2.0"),
    ("CERN-OHL-S-2.0", "GPL-3.0-or-later"),
    # CERN-OHL-W-2.0
    ("CERN-OHL-W-2.0", "CERN-OHL-P-2.0"),
    ("CERN-OHL-W-2.0", "CC-BY-SA-4.0"),
    # TAPR-OHL-1.0
    ("TAPR-OHL-1.0", "CERN-OHL-S-2.0"),
    # PPL only
    ("PPL", "CC-BY-NC-SA-4.0"),
    ("PPL", "CC-BY-SA-4.0"),
    # anything unknown: refused unless kept exactly (fail closed)
    ("GPL-2.0-only", "GPL-3.0-only"),
    ("Zlib", "MIT"),
    ("LicenseRef-Foo", "MIT"),
    ("GPL-3.0-or-later WITH Classpath-exception-2.0", "GPL-3.0-or-later"),
]


@pytest.mark.parametrize(("upstream", "fork"), ALLOWED_FORKS)
def test_fork_allowed_by_the_table(policy: LicencePolicy, upstream: str, fork: str) -> None:
    assert fork_refusal(policy, upstream, fork) is None


@pytest.mark.parametrize(("upstream", "fork"), REFUSED_FORKS)
def test_fork_refused_by_the_table_names_both_licences(
    policy: LicencePolicy, upstream: str, fork: str
) -> None:
    message = fork_refusal(policy, upstream, fork)
    assert message is not None
    assert message.startswith(upstream)
    assert message.endswith(f"you chose {fork}")


def test_share_alike_refusal_reads_as_the_specification_says(policy: LicencePolicy) -> None:
    assert fork_refusal(policy, "CC-BY-SA-4.0", "CC-BY-4.0") == (
        "CC-BY-SA-4.0 requires forks to stay CC-BY-SA-4.0 (or a compatible licence such as "
        "GPL-3.0-only, GPL-3.0-or-later or LAL-1.3); you chose CC-BY-4.0"
    )


@pytest.mark.parametrize(
    ("upstream", "fork", "explains"),
    [
        ("CC-BY-4.0", "CC0-1.0", "requires attribution, which CC0-1.0 would lose"),
        ("MIT", "CC0-1.0", "keep its notice, which CC0-1.0 drops"),
        ("MIT", "LicenseRef-Foo", "cannot tell that LicenseRef-Foo does"),
        ("CC-BY-NC-4.0", "MIT", "keep one of CC-BY-NC-4.0, CC-BY-NC-ND-4.0 or CC-BY-NC-SA-4.0"),
        ("CC-BY-ND-4.0", "CC-BY-ND-4.0", "verbatim copies only, so no fork may be published"),
        ("Zlib", "MIT", "not in this instance's licence compatibility table"),
        ("PPL", "CC-BY-SA-4.0", "requires forks to stay PPL;"),
    ],
)
def test_refusal_gives_the_reason(
    policy: LicencePolicy, upstream: str, fork: str, explains: str
) -> None:
    message = fork_refusal(policy, upstream, fork)
    assert message is not None
    assert explains in message


# Expressions


@pytest.mark.parametrize(
    ("upstream", "fork", "allowed"),
    [
        # Upstream A OR B: the forker picks a branch; one that allows the fork is enough.
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "CERN-OHL-S-2.0", True),
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "GPL-3.0-or-later", True),
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "MIT", False),
        ("CC-BY-ND-4.0 OR MIT", "Apache-2.0", True),
        # Fork X OR Y: recipients pick a branch, so every branch must be allowed.
        ("CC-BY-SA-4.0", "CC-BY-SA-4.0 OR GPL-3.0-only", True),
        ("CC-BY-SA-4.0", "CC-BY-SA-4.0 OR MIT", False),
        ("PPL", "PPL OR CC-BY-NC-SA-4.0", False),
        # Both: the fork must be allowed, as a whole, under one upstream branch.
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "CC-BY-SA-4.0 OR LAL-1.3", True),
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "CERN-OHL-S-2.0 OR GPL-3.0-or-later", False),
        # Keeping exactly the upstream's expression, in any order.
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "CERN-OHL-S-2.0 OR CC-BY-SA-4.0", True),
        ("CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "CC-BY-SA-4.0 OR CERN-OHL-S-2.0", True),
        ("CC-BY-SA-4.0 AND MIT", "CC-BY-SA-4.0 AND MIT", True),
        ("CC-BY-SA-4.0 AND MIT", "MIT AND CC-BY-SA-4.0", True),
        ("GPL-2.0-only AND LicenseRef-Foo", "GPL-2.0-only AND LicenseRef-Foo", True),
        # A AND B: every licence applies at once.
        ("CC-BY-SA-4.0", "CC-BY-SA-4.0 AND MIT", False),
        ("CC-BY-SA-4.0", "CC-BY-SA-4.0 AND GPL-3.0-only", False),
        ("PPL", "PPL AND CC-BY-NC-SA-4.0", False),
        ("CC-BY-SA-4.0 AND MIT", "CC-BY-SA-4.0 AND Apache-2.0", False),
        ("CC-BY-SA-4.0 AND MIT", "GPL-3.0-or-later AND MIT", True),
        ("CC-BY-SA-4.0 AND MIT", "CC-BY-SA-4.0", True),
        ("CC-BY-SA-4.0 AND CERN-OHL-S-2.0", "CC-BY-SA-4.0", False),
        ("CC-BY-SA-4.0 AND Zlib", "GPL-3.0-only AND Zlib", False),
        ("CC-BY-4.0 AND CC0-1.0", "CC0-1.0", False),
        ("MIT", "GPL-3.0-only AND CC-BY-4.0", True),
        # ND is never kept, not even exactly.
        ("CC-BY-ND-4.0 AND MIT", "CC-BY-ND-4.0 AND MIT", False),
    ],
)
def test_expression_rules(policy: LicencePolicy, upstream: str, fork: str, allowed: bool) -> None:
    assert (fork_refusal(policy, upstream, fork) is None) is allowed


def test_share_alike_refuses_added_terms_with_the_reason(policy: LicencePolicy) -> None:
    message = fork_refusal(policy, "CC-BY-SA-4.0", "CC-BY-SA-4.0 AND MIT")
    assert message == (
        "CC-BY-SA-4.0 is share-alike, so a fork may not add other licences to it; "
        "you chose CC-BY-SA-4.0 AND MIT"
    )


def test_refusal_under_upstream_choice_explains_every_choice(policy: LicencePolicy) -> None:
    message = fork_refusal(policy, "CERN-OHL-S-2.0 OR CC-BY-SA-4.0", "MIT")
    assert message is not None
    assert message.startswith("none of the choices in CERN-OHL-S-2.0 OR CC-BY-SA-4.0")
    assert "CERN-OHL-S-2.0 requires forks to stay CERN-OHL-S-2.0" in message
    assert "CC-BY-SA-4.0 requires forks to stay CC-BY-SA-4.0" in message
    assert message.endswith("you chose MIT")


def test_refusal_of_a_fork_choice_names_the_branch_recipients_may_pick(
    policy: LicencePolicy,
) -> None:
    message = fork_refusal(policy, "CC-BY-SA-4.0", "CC-BY-SA-4.0 OR MIT")
    assert message is not None
    assert "recipients of the fork may pick MIT" in message
    assert message.endswith("you chose CC-BY-SA-4.0 OR MIT")


# Components


def test_components_are_checked_one_by_one(policy: LicencePolicy) -> None:
    upstream = {
        "hardware": "CERN-OHL-S-2.0",
        "documentation": "CC-BY-SA-4.0",
        "software": "GPL-3.0-or-later",
    }
    compatible = {**upstream, "software": "GPL-3.0-only"}
    assert fork_refusal(policy, upstream, compatible) is None
    message = fork_refusal(policy, upstream, {**compatible, "documentation": "CC-BY-4.0"})
    assert message == (
        "documentation: CC-BY-SA-4.0 requires forks to stay CC-BY-SA-4.0 (or a compatible "
        "licence such as GPL-3.0-only, GPL-3.0-or-later or LAL-1.3); you chose CC-BY-4.0"
    )


def test_single_expression_applies_to_every_component(policy: LicencePolicy) -> None:
    fork = {"hardware": "CC-BY-SA-4.0", "documentation": "LAL-1.3", "software": "MIT"}
    message = fork_refusal(policy, "CC-BY-SA-4.0", fork)
    assert message is not None
    assert message.startswith("software: CC-BY-SA-4.0 requires")
    assert "hardware" not in message
    assert "documentation" not in message


def test_every_refused_component_is_named(policy: LicencePolicy) -> None:
    fork = {"hardware": "MIT", "documentation": "CC-BY-SA-4.0", "software": "CC0-1.0"}
    message = fork_refusal(policy, "GPL-3.0-only", fork)
    assert message is not None
    assert "hardware: GPL-3.0-only" in message
    assert "software: GPL-3.0-only" in message
    assert "documentation" in message


# Entity kinds


@pytest.mark.parametrize("forker", ["individual", "nonprofit", "cooperative"])
def test_ppl_fork_allowed_outside_companies(policy: LicencePolicy, forker: str) -> None:
    assert fork_refusal(policy, "PPL", "PPL", forker) is None


def test_an_undeclared_entity_kind_may_not_fork_ppl(policy: LicencePolicy) -> None:
    message = fork_refusal(policy, "PPL", "PPL", "unknown")
    assert message is not None and "does not declare its entity kind" in message


def test_company_may_not_fork_ppl(policy: LicencePolicy) -> None:
    assert fork_refusal(policy, "PPL", "PPL", "company") == (
        "PPL does not allow a company (a for-profit business that is not worker-owned) "
        "to publish a fork; you chose PPL"
    )


def test_company_may_not_fork_a_ppl_component(policy: LicencePolicy) -> None:
    upstream = {"hardware": "PPL", "documentation": "CC-BY-SA-4.0", "software": "MIT"}
    message = fork_refusal(policy, upstream, upstream, "company")
    assert message is not None
    assert message.startswith("hardware: PPL does not allow a company")
    assert fork_refusal(policy, upstream, upstream, "cooperative") is None


def test_company_may_take_the_other_branch_of_a_ppl_choice(policy: LicencePolicy) -> None:
    assert fork_refusal(policy, "PPL OR CC-BY-SA-4.0", "CC-BY-SA-4.0", "company") is None
    assert fork_refusal(policy, "PPL OR CC-BY-SA-4.0", "PPL OR CC-BY-SA-4.0", "company")


@pytest.mark.parametrize(
    "upstream", ["CC-BY-SA-4.0", "CC0-1.0", "MIT", "CERN-OHL-S-2.0", "CC-BY-NC-4.0"]
)
def test_company_may_fork_other_licences(policy: LicencePolicy, upstream: str) -> None:
    assert fork_refusal(policy, upstream, upstream, "company") is None


@pytest.mark.parametrize("forker", ENTITY_KINDS)
@pytest.mark.parametrize("upstream", ["CC-BY-ND-4.0", "CC-BY-NC-ND-4.0"])
def test_no_derivatives_refused_for_everyone(
    policy: LicencePolicy, upstream: str, forker: str
) -> None:
    message = fork_refusal(policy, upstream, upstream, forker)
    assert message is not None
    assert "no fork may be published" in message


def test_unknown_entity_kind_is_a_programming_error(policy: LicencePolicy) -> None:
    terms = policy.terms("MIT")
    with pytest.raises(ValueError, match="corporation"):
        policy.check_fork(terms, terms, "corporation")


# NOASSERTION


def test_noassertion_upstream_cannot_be_forked(policy: LicencePolicy) -> None:
    message = refusal(
        policy.check_fork, LicenceTerms.noassertion(), policy.terms("CC0-1.0"), "individual"
    )
    assert "NOASSERTION" in message
    assert "cannot be forked" in message


def test_fork_must_carry_a_licence(policy: LicencePolicy) -> None:
    message = refusal(
        policy.check_fork, policy.terms("CC0-1.0"), LicenceTerms.noassertion(), "individual"
    )
    assert "a fork must carry a licence" in message


def test_noassertion_terms_for_comments() -> None:
    terms = LicenceTerms.noassertion()
    assert terms.is_noassertion
    assert terms.to_json() == NOASSERTION
    assert terms.for_component("software") == NOASSERTION
    assert LicenceTerms.from_json(NOASSERTION) == terms


@pytest.mark.parametrize("value", ["NOASSERTION", "noassertion"])
def test_design_may_not_be_noassertion(policy: LicencePolicy, value: str) -> None:
    assert "a design must be licensed" in refusal(policy.normalise, value)
    assert "a design must be licensed" in refusal(policy.terms, value)


# Parsing and normalisation


@pytest.mark.parametrize(
    ("expression", "normalised"),
    [
        ("gpl-3.0+", "GPL-3.0-or-later"),
        ("GPL-3.0", "GPL-3.0-only"),
        ("cc-by-sa-4.0", "CC-BY-SA-4.0"),
        ("  ppl  ", "PPL"),
        ("cern-ohl-s-2.0 or cc-by-sa-4.0", "CERN-OHL-S-2.0 OR CC-BY-SA-4.0"),
        ("(MIT or apache-2.0) and CERN-OHL-P-2.0", "(MIT OR Apache-2.0) AND CERN-OHL-P-2.0"),
        ("MIT AND MIT", "MIT"),
        ("licenseref-foo", "LicenseRef-Foo"),
        (
            "GPL-2.0-or-later with classpath-exception-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
    ],
)
def test_normalise(policy: LicencePolicy, expression: str, normalised: str) -> None:
    assert policy.normalise(expression) == normalised


@pytest.mark.parametrize(
    "expression",
    [
        "CC-BY-SA-4.0 OR",
        "AND MIT",
        "(MIT",
        "MIT)",
        "()",
        "MIT AND ()",
        "MIT OR OR PPL",
        "MIT GPL-3.0-only",
        "MIT WITH",
        "Classpath-exception-2.0",
        "MIT WITH LicenseRef-Foo",
    ],
)
def test_malformed_expression_refused(policy: LicencePolicy, expression: str) -> None:
    message = refusal(policy.normalise, expression)
    assert message.startswith(f"{expression!r} is not a valid SPDX licence expression")
    assert "join SPDX ids with AND, OR or WITH" in message


@pytest.mark.parametrize("expression", ["", "   ", "\n\t"])
def test_empty_expression_refused(policy: LicencePolicy, expression: str) -> None:
    assert refusal(policy.normalise, expression).startswith("the licence is empty")


@pytest.mark.parametrize(
    ("expression", "unknown"),
    [
        ("FooBar-1.0", "FooBar-1.0"),
        ("MIT OR Nonsense-2.0", "Nonsense-2.0"),
        ("NONE", "NONE"),
        ("MIT WITH Foo-exception", "Foo-exception"),
    ],
)
def test_unknown_id_refused(policy: LicencePolicy, expression: str, unknown: str) -> None:
    message = refusal(policy.normalise, expression)
    assert message.startswith(f"unknown licence id {unknown}:")
    assert "https://spdx.org/licenses/" in message


@pytest.mark.parametrize(
    "expression",
    [
        "LicenseRef-Bar",
        "MIT AND LicenseRef-Bar",
        # license-expression's own index maps these to SPDX ids or ScanCode
        # licences; on this instance a LicenseRef is only what was registered.
        "LicenseRef-MIT-Bootstrap",
        "LicenseRef-gpl-3.0",
        "LicenseRef-scancode-3com-microcode",
    ],
)
def test_unregistered_licence_ref_refused(policy: LicencePolicy, expression: str) -> None:
    assert "is not registered on this instance" in refusal(policy.normalise, expression)


def test_licence_refs_belong_to_their_policy(policy: LicencePolicy) -> None:
    assert policy.normalise("LicenseRef-Foo") == "LicenseRef-Foo"
    other = LicencePolicy("PPL")
    assert "LicenseRef-Foo is not registered" in refusal(other.normalise, "LicenseRef-Foo")


def test_expression_size_is_bounded(policy: LicencePolicy) -> None:
    assert "longer than" in refusal(policy.normalise, " OR ".join(["MIT"] * 200))
    pairs = [
        "MIT OR Apache-2.0",
        "BSD-2-Clause OR BSD-3-Clause",
        "ISC OR Zlib",
        "PPL OR LAL-1.3",
        "CC-BY-4.0 OR CC-BY-SA-4.0",
        "GPL-3.0-only OR GPL-3.0-or-later",
        "CERN-OHL-S-2.0 OR CERN-OHL-W-2.0",
    ]
    assert policy.normalise(" AND ".join(f"({pair})" for pair in pairs[:6]))  # 64 choices
    assert "more than 64 choices" in refusal(
        policy.normalise, " AND ".join(f"({pair})" for pair in pairs)
    )


def test_licence_error_is_a_validation_error() -> None:
    error = LicenceError("no")
    assert isinstance(error, ValidationError)
    assert error.status == 422


# Terms


def test_terms_from_one_expression(policy: LicencePolicy) -> None:
    terms = policy.terms("cc-by-sa-4.0")
    assert terms == LicenceTerms(expression="CC-BY-SA-4.0")
    assert terms.components() == dict.fromkeys(COMPONENTS, "CC-BY-SA-4.0")
    assert terms.to_json() == "CC-BY-SA-4.0"
    assert terms.summary() == "CC-BY-SA-4.0"
    assert not terms.is_noassertion


def test_terms_per_component(policy: LicencePolicy) -> None:
    terms = policy.terms(
        {"hardware": "cern-ohl-s-2.0", "documentation": "CC-BY-SA-4.0", "software": "gpl-3.0+"}
    )
    assert terms.for_component("hardware") == "CERN-OHL-S-2.0"
    assert terms.to_json() == {
        "hardware": "CERN-OHL-S-2.0",
        "documentation": "CC-BY-SA-4.0",
        "software": "GPL-3.0-or-later",
    }
    assert terms.summary() == (
        "hardware: CERN-OHL-S-2.0; documentation: CC-BY-SA-4.0; software: GPL-3.0-or-later"
    )
    assert LicenceTerms.from_json(terms.to_json()) == terms


def test_same_expression_for_every_component_is_one_expression(policy: LicencePolicy) -> None:
    terms = policy.terms(dict.fromkeys(COMPONENTS, "mit"))
    assert terms == LicenceTerms(expression="MIT")


@pytest.mark.parametrize("value", [None, "", "  ", {}])
def test_missing_licence_refused(policy: LicencePolicy, value: Licence | None) -> None:
    assert "the design has no licence" in refusal(policy.terms, value)


@pytest.mark.parametrize("value", [None, "", {}])
def test_missing_licence_gets_the_default_when_asked(
    policy: LicencePolicy, value: Licence | None
) -> None:
    assert policy.terms(value, default_if_missing=True) == LicenceTerms(expression="PPL")


def test_missing_component_refused_or_defaulted(policy: LicencePolicy) -> None:
    partial = {"hardware": "CERN-OHL-S-2.0", "documentation": "CC-BY-SA-4.0"}
    assert refusal(policy.terms, partial).startswith("the software has no licence")
    terms = policy.terms(partial, default_if_missing=True)
    assert terms.for_component("software") == "PPL"
    assert terms.for_component("hardware") == "CERN-OHL-S-2.0"


def test_unknown_component_refused(policy: LicencePolicy) -> None:
    value = {**dict.fromkeys(COMPONENTS, "MIT"), "firmware": "MIT"}
    assert refusal(policy.terms, value).startswith("unknown licence component 'firmware'")


def test_component_error_names_the_component(policy: LicencePolicy) -> None:
    value = {"hardware": "CERN-OHL-S-2.0", "documentation": "CC-BY-SA-4.0 OR", "software": "MIT"}
    assert refusal(policy.terms, value).startswith("documentation: 'CC-BY-SA-4.0 OR' is not")


@pytest.mark.parametrize("value", [42, ["MIT"], {"hardware": 3, "documentation": "MIT"}])
def test_terms_of_the_wrong_type_refused(policy: LicencePolicy, value: object) -> None:
    assert "SPDX expression" in refusal(policy.terms, value)


def test_terms_shape_is_checked() -> None:
    with pytest.raises(ValueError):
        LicenceTerms()
    with pytest.raises(ValueError):
        LicenceTerms(expression="MIT", hardware="MIT")
    with pytest.raises(ValueError):
        LicenceTerms(hardware="MIT", documentation="MIT")
    with pytest.raises(LicenceError):
        LicenceTerms.from_json({"hardware": "MIT"})


# Policy construction


@pytest.mark.parametrize(
    ("refs", "explains"),
    [
        ({"Foo": {"title": "Foo", "url": FOO_URL}}, "has the form LicenseRef-"),
        ({"LicenseRef-Foo bar": {"title": "Foo", "url": FOO_URL}}, "has the form LicenseRef-"),
        ({"LicenseRef-Foo": {"url": FOO_URL}}, "without a title"),
        ({"LicenseRef-Foo": {"title": " ", "url": FOO_URL}}, "without a title"),
        ({"LicenseRef-Foo": {"title": "Foo"}}, "without the http(s) URL"),
        ({"LicenseRef-Foo": {"title": "Foo", "url": "ftp://x"}}, "without the http(s) URL"),
        (
            {
                "LicenseRef-Foo": {"title": "Foo", "url": FOO_URL},
                "LicenseRef-foo": {"title": "foo", "url": FOO_URL},
            },
            "registered twice",
        ),
    ],
)
def test_bad_licence_refs_refused(refs: dict[str, dict[str, str]], explains: str) -> None:
    assert explains in refusal(LicencePolicy, "PPL", refs)


@pytest.mark.parametrize("default", ["", "NOASSERTION", "MIT OR", "LicenseRef-Nope"])
def test_bad_default_refused(default: str) -> None:
    assert refusal(LicencePolicy, default).startswith("the instance's default licence: ")


def test_registered_refs_are_kept(policy: LicencePolicy) -> None:
    assert policy.refs == {"LicenseRef-Foo": LicenceRef("LicenseRef-Foo", "Foo licence", FOO_URL)}
    assert LicencePolicy("cc-by-sa-4.0").default == "CC-BY-SA-4.0"


# What a design page and the wire show


def test_license_urls(policy: LicencePolicy) -> None:
    terms = policy.terms(
        {
            "hardware": "CERN-OHL-S-2.0 OR LicenseRef-Foo",
            "documentation": "CC-BY-SA-4.0",
            "software": "GPL-2.0-or-later WITH Classpath-exception-2.0 AND CC-BY-SA-4.0",
        }
    )
    assert policy.license_urls(terms) == [
        "https://spdx.org/licenses/CERN-OHL-S-2.0.html",
        FOO_URL,
        "https://spdx.org/licenses/CC-BY-SA-4.0.html",
        "https://spdx.org/licenses/GPL-2.0-or-later.html",
        "https://spdx.org/licenses/Classpath-exception-2.0.html",
    ]
    assert policy.license_urls(LicenceTerms.noassertion()) == []


@pytest.mark.parametrize(
    ("licence_id", "title"),
    [
        ("PPL", "Peer Production License"),
        ("CERN-OHL-S-2.0", "CERN Open Hardware Licence Version 2 - Strongly Reciprocal"),
        ("LicenseRef-Foo", "Foo licence"),
        ("Zlib", "Zlib"),
    ],
)
def test_title(policy: LicencePolicy, licence_id: str, title: str) -> None:
    assert policy.title(licence_id) == title


@pytest.mark.parametrize(
    ("expression", "may_fork", "commercial"),
    [
        ("PPL", MayFork.NOT_COMPANIES, CommercialUse.COOPERATIVES),
        ("CC-BY-NC-4.0", MayFork.ANYONE_NON_COMMERCIAL, CommercialUse.NO_ONE),
        ("CC-BY-NC-SA-3.0", MayFork.ANYONE_NON_COMMERCIAL, CommercialUse.NO_ONE),
        ("CC-BY-ND-4.0", MayFork.NO_ONE, CommercialUse.VERBATIM),
        ("CC-BY-NC-ND-4.0", MayFork.NO_ONE, CommercialUse.NO_ONE),
        ("CC0-1.0", MayFork.ANYONE, CommercialUse.ANYONE),
        ("CC-BY-4.0", MayFork.ANYONE, CommercialUse.ANYONE),
        ("CC-BY-SA-4.0", MayFork.ANYONE, CommercialUse.ANYONE),
        ("GPL-3.0-or-later", MayFork.ANYONE, CommercialUse.ANYONE),
        ("CERN-OHL-W-2.0", MayFork.ANYONE, CommercialUse.ANYONE),
        ("MIT", MayFork.ANYONE, CommercialUse.ANYONE),
        ("TAPR-OHL-1.0", MayFork.ANYONE, CommercialUse.ANYONE),
        ("LAL-1.3", MayFork.ANYONE, CommercialUse.ANYONE),
        ("LicenseRef-Foo", MayFork.SAME_LICENCE, CommercialUse.UNKNOWN),
        # A choice is as open as its most open branch...
        ("PPL OR MIT", MayFork.ANYONE, CommercialUse.ANYONE),
        # ...and a conjunction as closed as its most closed licence.
        ("PPL AND CC-BY-NC-4.0", MayFork.NOT_COMPANIES, CommercialUse.NO_ONE),
    ],
)
def test_design_page_sentences(
    policy: LicencePolicy, expression: str, may_fork: MayFork, commercial: CommercialUse
) -> None:
    terms = policy.terms(expression)
    assert policy.who_may_fork(terms) == may_fork.value
    assert policy.commercial_use(terms) == commercial.value


def test_design_page_sentences_per_component(policy: LicencePolicy) -> None:
    terms = policy.terms({"hardware": "PPL", "documentation": "CC-BY-SA-4.0", "software": "MIT"})
    assert policy.commercial_use(terms) == (
        "Hardware: only worker-owned cooperatives may use it commercially. "
        "Documentation: anyone may use it commercially. "
        "Software: anyone may use it commercially."
    )
    assert policy.who_may_fork(LicenceTerms.noassertion()).endswith("it carries no licence.")


# Irrevocability


@pytest.mark.parametrize(
    ("published", "proposed"),
    [
        ("PPL", "PPL"),
        ("MIT OR PPL", "PPL OR MIT"),
        ("MIT AND CC-BY-SA-4.0", "CC-BY-SA-4.0 AND MIT"),
        ("MIT", dict.fromkeys(COMPONENTS, "MIT")),
    ],
)
def test_unchanged_licence_accepted(
    policy: LicencePolicy, published: Licence, proposed: Licence
) -> None:
    policy.check_irrevocable(policy.terms(published), policy.terms(proposed), version="1.0")


def test_published_licence_cannot_change(policy: LicencePolicy) -> None:
    message = refusal(
        policy.check_irrevocable, policy.terms("PPL"), policy.terms("MIT"), version="1.0"
    )
    assert message == (
        "version 1.0 was published under PPL; a published version's licence cannot change "
        "(you proposed MIT) — publish a new version instead"
    )


def test_published_component_licence_cannot_change(policy: LicencePolicy) -> None:
    published = policy.terms("CERN-OHL-S-2.0")
    proposed = policy.terms(
        {"hardware": "CERN-OHL-S-2.0", "documentation": "CC-BY-SA-4.0", "software": "MIT"}
    )
    message = refusal(policy.check_irrevocable, published, proposed)
    assert message.startswith("this version was published under CERN-OHL-S-2.0;")


def test_comment_licence_cannot_change(policy: LicencePolicy) -> None:
    comment = LicenceTerms.noassertion()
    policy.check_irrevocable(comment, LicenceTerms.noassertion())
    refusal(policy.check_irrevocable, comment, policy.terms("MIT"))


# Selling a make: commercial use, refused as forks are to the kinds the licence names.


def sale_refusal(policy: LicencePolicy, licence: Licence, seller: str) -> str | None:
    try:
        policy.check_sale(policy.terms(licence), seller)
    except LicenceError as error:
        return error.message
    return None


@pytest.mark.parametrize("seller", ["individual", "nonprofit", "cooperative"])
def test_ppl_makes_may_be_sold_outside_companies(policy: LicencePolicy, seller: str) -> None:
    assert sale_refusal(policy, "PPL", seller) is None


def test_a_company_may_not_sell_a_ppl_make(policy: LicencePolicy) -> None:
    assert sale_refusal(policy, "PPL", "company") == (
        "PPL does not allow a company (a for-profit business that is not worker-owned) "
        "to sell a make (commercial use)"
    )
    assert sale_refusal(policy, "PPL", "unknown") is not None  # fail closed, as for forks


@pytest.mark.parametrize("seller", ENTITY_KINDS)
def test_a_non_commercial_licence_refuses_every_sale(policy: LicencePolicy, seller: str) -> None:
    message = sale_refusal(policy, "CC-BY-NC-SA-4.0", seller)
    assert message == "CC-BY-NC-SA-4.0 allows no commercial use, so no make may be sold"


@pytest.mark.parametrize("licence", ["CERN-OHL-S-2.0", "MIT", "CC-BY-SA-4.0", "PPL OR MIT"])
def test_open_licences_let_a_company_sell_makes(policy: LicencePolicy, licence: str) -> None:
    assert sale_refusal(policy, licence, "company") is None


def test_only_the_components_a_make_embodies_decide_a_sale(policy: LicencePolicy) -> None:
    documented = {"hardware": "CERN-OHL-S-2.0", "documentation": "PPL", "software": "MIT"}
    assert sale_refusal(policy, documented, "company") is None
    firmware = {"hardware": "CERN-OHL-S-2.0", "documentation": "CC-BY-4.0", "software": "PPL"}
    message = sale_refusal(policy, firmware, "company")
    assert message is not None and message.startswith("software: PPL does not allow a company")


@pytest.mark.parametrize(
    ("licence", "kind", "allowed"),
    [
        ("PPL", "cooperative", True),
        ("PPL", "nonprofit", False),
        ("PPL", "company", False),
        ("CERN-OHL-S-2.0", "company", True),
        ("CC-BY-NC-4.0", "cooperative", False),
        ("CC-BY-ND-4.0", "nonprofit", True),
        ("PPL OR MIT", "nonprofit", True),
    ],
)
def test_who_may_use_a_design_commercially(
    policy: LicencePolicy, licence: str, kind: str, allowed: bool
) -> None:
    assert policy.allows_commercial_use(policy.terms(licence), kind) is allowed
