"""What a compiled text check is, and what it says about a text."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.checks.matching import Finding, Rule, scan
from bot.core.checks.text import NO_SPELLING, Normalised, Spelling, normalise


@dataclass(frozen=True)
class Verdict:
    """Everything a check says about one text.

    `findings`: problems, in text order. `strengths`: what the text does well, in text
    order, with the words to quote in praise. `thin`: no problem was found, but nothing
    earns praise either, so the coach asks for something more concrete instead.
    """

    findings: tuple[Finding, ...]
    strengths: tuple[Finding, ...]
    thin: bool


@dataclass(frozen=True)
class Requirement:
    """Substance: every strength in `all_of`, and one of `any_of` when that is given."""

    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()

    def met(self, found: set[str]) -> bool:
        if any(s not in found for s in self.all_of):
            return False
        return not self.any_of or any(s in found for s in self.any_of)


@dataclass(frozen=True)
class TextCheck:
    """A check compiled from `dialogues/checks/<name>.yaml`; pure: same text, same answer."""

    name: str
    problem_rules: tuple[Rule, ...]
    strength_rules: tuple[Rule, ...] = ()
    requires: Requirement | None = None
    spelling: Spelling = NO_SPELLING

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of the problem rules, in file order (each has a feedback string)."""
        return tuple(r.id for r in self.problem_rules)

    @property
    def strength_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.strength_rules)

    def normalise(self, text: str) -> Normalised:
        return normalise(text, self.spelling)

    def run(self, text: str) -> tuple[Finding, ...]:
        """The problems in `text`, in text order, each quoting the person's words."""
        norm = self.normalise(text)
        if any(r.unless_strength for r in self.problem_rules):
            return self._problems(text, norm, scan(text, norm, self.strength_rules))
        return scan(text, norm, self.problem_rules)

    def strengths(self, text: str) -> tuple[Finding, ...]:
        """What `text` does well, in text order, each quoting the person's words."""
        return scan(text, self.normalise(text), self.strength_rules)

    def verdict(self, text: str) -> Verdict:
        norm = self.normalise(text)
        strengths = scan(text, norm, self.strength_rules)
        findings = self._problems(text, norm, strengths)
        thin = (
            not findings
            and self.requires is not None
            and not self.requires.met({s.rule for s in strengths})
        )
        return Verdict(findings, strengths, thin)

    def _problems(
        self, text: str, norm: Normalised, strengths: tuple[Finding, ...]
    ) -> tuple[Finding, ...]:
        shown = {s.rule for s in strengths}
        rules = [r for r in self.problem_rules if not shown.intersection(r.unless_strength)]
        return scan(text, norm, rules)
