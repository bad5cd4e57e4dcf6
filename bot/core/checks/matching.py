"""Running rules over a normalised text: findings that quote the person's own words."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.core.checks.text import Normalised

_BOUNDARY = re.compile(r"\b")
_LEADING_BOUNDARY = re.compile(r"^((?:\(\?P<\w+>|\(\?:)*)\\b")


@dataclass(frozen=True)
class Finding:
    rule: str
    quote: str  # the person's own words that triggered the rule, as they wrote them


@dataclass(frozen=True)
class Matcher:
    """One compiled pattern.

    Most patterns begin with `\\b`, which keeps Python's regex engine from skipping ahead
    to the first letter it needs. Such a pattern is compiled without it, and the word
    boundary is checked where each match begins: the same matches, many times faster.
    """

    regex: re.Pattern[str]
    boundary: bool = False

    @property
    def has_quote(self) -> bool:
        return "q" in self.regex.groupindex

    def finditer(
        self, text: str, pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        if not self.boundary:
            yield from self.regex.finditer(text, pos, len(text) if endpos is None else endpos)
            return
        end = len(text) if endpos is None else endpos
        while pos <= end:
            m = self.regex.search(text, pos, end)
            if m is None:
                return
            if _BOUNDARY.match(text, m.start()) is None:
                pos = m.start() + 1
                continue
            yield m
            pos = m.end() if m.end() > m.start() else m.end() + 1

    def search(self, text: str, pos: int, endpos: int) -> bool:
        return next(self.finditer(text, pos, endpos), None) is not None


def matcher(pattern: str) -> Matcher:
    """Compile a pattern (raises re.error), taking its leading `\\b` out when that is safe."""
    lead = _LEADING_BOUNDARY.match(pattern)
    if lead is not None and not _alternation_up_to(pattern, lead.group(1).count("(")):
        stripped = lead.group(1) + pattern[lead.end() :]
        re.compile(pattern)  # report errors against the pattern as written
        return Matcher(re.compile(stripped), boundary=True)
    return Matcher(re.compile(pattern))


def _alternation_up_to(pattern: str, depth: int) -> bool:
    """Whether a `|` stands at nesting depth `depth` or shallower anywhere in `pattern`."""
    level = 0
    escaped = in_class = False
    for i, c in enumerate(pattern):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]" or pattern[i - 1] == "["
        elif c == "[":
            in_class = True
        elif c == "(":
            level += 1
        elif c == ")":
            level -= 1
        elif c == "|" and level <= depth:
            return True
    return False


@dataclass(frozen=True)
class Rule:
    """One idea: any of `patterns` finds it, unless one of `unless` matches that sentence.

    Patterns run over the normalised text (`text.normalise`). The quote is the whole
    match, or the group named `q` when the pattern has one; a match in which `q` took no
    part is an exception the pattern consumed on purpose, so it yields nothing.
    `unless_strength` names strengths of the same check: when the text shows one of them
    anywhere, this rule finds nothing ("I was drinking a lot. That was still my choice.").
    """

    id: str
    patterns: tuple[Matcher, ...]
    unless: tuple[Matcher, ...] = ()
    unless_strength: tuple[str, ...] = ()


def scan(text: str, norm: Normalised, rules: Sequence[Rule]) -> tuple[Finding, ...]:
    """Run the rules over `text`; findings in text order, each quoting the original words.

    Within one rule, overlapping matches count once (the earliest, then the longest),
    and the same words found twice are reported once: the feedback would only repeat.
    """
    found: list[tuple[int, int, int, Finding]] = []
    body = norm.text
    for order, r in enumerate(rules):
        candidates: list[tuple[int, int, int, int]] = []
        for pattern in r.patterns:
            has_q = pattern.has_quote
            for m in pattern.finditer(body):
                start, end = m.span("q") if has_q else m.span()
                if start < 0 or start == end:
                    continue
                candidates.append((start, end, m.start(), m.end()))
        if not candidates:
            continue
        candidates.sort(key=lambda c: (c[0], c[0] - c[1]))
        taken: list[tuple[int, int]] = []
        seen: set[str] = set()
        for start, end, m_start, m_end in candidates:
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if r.unless:
                lo, hi = norm.sentence(m_start, m_end)
                if any(u.search(body, lo, hi) for u in r.unless):
                    continue
            taken.append((start, end))
            words = body[start:end].strip(" ,;:")
            if not words or words in seen:
                continue
            seen.add(words)
            lead = len(body[start:end]) - len(body[start:end].lstrip(" ,;:"))
            trail = len(body[start:end]) - len(body[start:end].rstrip(" ,;:"))
            o_start, o_end = norm.original_span(start + lead, end - trail, text)
            found.append((o_start, order, o_end, Finding(r.id, text[o_start:o_end])))
    found.sort(key=lambda item: item[:3])
    return tuple(item[3] for item in found)
