"""Text checks: pure functions that read a person's draft and name what to look at again.

A check returns findings (which rule, which words), never prose: the feedback each
rule gives lives in `dialogues/_checks.yaml` as `check.<check>.<rule>`, with the
quoted words in the slot `{finding.quote}`, and `check.<check>.ok` when nothing is found.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Finding:
    rule: str
    quote: str  # the person's own words that triggered the rule, as they wrote them


@dataclass(frozen=True)
class TextCheck:
    name: str
    rules: tuple[str, ...]
    run: Callable[[str], tuple[Finding, ...]]


def _registry() -> Mapping[str, TextCheck]:
    checks: list[TextCheck] = []
    # Each check module exposes CHECK; imported here so the registry is the one place to add one.
    from bot.core.checks import apology, defensiveness, validation

    checks += [apology.CHECK, defensiveness.CHECK, validation.CHECK]
    return MappingProxyType({c.name: c for c in checks})


TEXT_CHECKS: Mapping[str, TextCheck] = _registry()
