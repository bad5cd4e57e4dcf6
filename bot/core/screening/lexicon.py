"""Crisis lexicons: one language's rules, compiled from `dialogues/screening/lexicon.*.yaml`.

A lexicon is content a clinician can read: named fragments, idioms to blank out, the
words that negate, and rules of the form "any of these patterns means this kind of
danger, at this level". `compile_lexicon` checks a file the way the dialogue compiler
checks a flow, returning every problem with its line; `Lexicon.hits` applies it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.screening.normalise import Reading, one_edit_away
from bot.core.screening.patterns import compile_problem, expand, necessary_literals
from bot.core.screening.signal import KIND_ORDER, KINDS_BY_NAME, LEVELS_BY_NAME, CrisisKind, Level
from bot.core.yamlsource import LineDict, LineList

LEXICON_KEYS = {
    "version", "kind", "language", "define", "idioms", "negation", "rewrite", "spellings",
    "fuzzy", "apostrophes", "rules",
}  # fmt: skip
RULE_KEYS = {"id", "kind", "level", "negatable", "patterns", "note", "yields_to"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
NEGATION_WINDOW = 40  # characters before a match in which a negation cancels it

Problems = list[tuple[int, str]]


class Part:
    """One pattern, with the texts one of which any match must contain (None: unknown).

    Compiled on first use: most patterns are ruled out by `needs` for most messages, and
    compiling thousands of them at start-up would cost seconds for nothing."""

    __slots__ = ("_compiled", "needs", "source")

    def __init__(self, needs: frozenset[str] | None, source: str) -> None:
        self.needs = needs
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled


@dataclass(frozen=True)
class CrisisRule:
    id: str
    kind: CrisisKind
    level: Level
    negatable: bool
    parts: tuple[Part, ...]
    # Kinds that name the message better when one of them is also found at this level: a
    # gun acquired says "suicide" only until a rule about hurting someone else fires too.
    yields_to: frozenset[CrisisKind] = frozenset()


@dataclass(frozen=True)
class Hit:
    kind: CrisisKind
    level: Level
    rule: str  # "<language>.<rule id>"
    yields_to: frozenset[CrisisKind] = frozenset()


@dataclass(frozen=True)
class _Group:
    kind: CrisisKind
    level: Level
    negatable: bool
    rules: tuple[CrisisRule, ...]
    yields_to: frozenset[CrisisKind] = frozenset()


class _Index:
    """Which patterns may match a text, found from its 4-grams instead of one test each.

    A lexicon has thousands of patterns, and testing each one's needed words in turn cost
    several milliseconds per message however short. Each needed word is filed under its
    first 4-gram; a text's own 4-grams then pick out the few words worth a substring test.
    Patterns are numbered in the order the groups try them, so the first match still wins.
    """

    __slots__ = ("always", "by_gram", "owner", "parts", "short")

    def __init__(self, groups: tuple[_Group, ...]) -> None:
        self.parts: list[tuple[int, CrisisRule, Part]] = []  # (group number, rule, part)
        self.by_gram: dict[str, list[tuple[str, int]]] = {}
        self.short: list[tuple[str, int]] = []  # needed words under 4 characters
        self.always: list[int] = []  # parts with no needed words: always tried
        for g, group in enumerate(groups):
            for rule in group.rules:
                for part in rule.parts:
                    number = len(self.parts)
                    self.parts.append((g, rule, part))
                    if part.needs is None:
                        self.always.append(number)
                        continue
                    for needed in part.needs:
                        if len(needed) < GRAM:
                            self.short.append((needed, number))
                        else:
                            self.by_gram.setdefault(needed[:GRAM], []).append((needed, number))

    def candidates(self, text: str, grams: frozenset[str]) -> list[int]:
        """The numbers, in order, of the parts one of whose needed words is in `text`."""
        found = set(self.always)
        for gram in grams.intersection(self.by_gram):
            for needed, number in self.by_gram[gram]:
                if number not in found and needed in text:
                    found.add(number)
        for needed, number in self.short:
            if number not in found and needed in text:
                found.add(number)
        return sorted(found)


@dataclass(frozen=True)
class Lexicon:
    language: str
    reading: Reading
    idioms: tuple[Part, ...]
    negation: re.Pattern[str] | None
    rules: tuple[CrisisRule, ...]
    groups: tuple[_Group, ...]
    index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", _Index(self.groups))

    def hits(self, read_text: str, grams: frozenset[str] | None = None) -> list[Hit]:
        """Every (kind, level) this lexicon finds in a text already read its way.

        `grams` are the text's character 4-grams (`grams_of`), shared by the lexicons that
        read alike: a pattern runs only if the words it needs are in the text."""
        grams = grams if grams is not None else grams_of(read_text)
        text = read_text
        for idiom in self.idioms:  # blanked out before any rule looks
            if idiom.needs is None or any(may_contain(grams, n, text) for n in idiom.needs):
                text = idiom.pattern.sub(" . ", text)
        # Blanking only removes text, so the grams of the unblanked text still rule out;
        # the substring test itself runs on the blanked text.
        found: list[Hit] = []
        done = -1  # the last group that found its rule
        parts = self.index.parts
        for number in self.index.candidates(text, grams):
            g, rule, part = parts[number]
            if g == done:
                continue
            group = self.groups[g]
            if self._search(part.pattern, text, group.negatable):
                rule_name = f"{self.language}.{rule.id}"
                found.append(Hit(group.kind, group.level, rule_name, group.yields_to))
                done = g
        return found

    def _search(self, pattern: re.Pattern[str], text: str, negatable: bool) -> bool:
        pos = 0
        while (m := pattern.search(text, pos)) is not None:
            if not negatable or not self._negated(text, m.start()):
                return True
            pos = m.start() + 1
        return False

    def _negated(self, text: str, start: int) -> bool:
        if self.negation is None:
            return False
        return self.negation.search(text[max(0, start - NEGATION_WINDOW) : start]) is not None


GRAM = 4


def grams_of(text: str) -> frozenset[str]:
    """Every 4-character slice of `text`: a quick necessary test for a longer literal."""
    # Four shifted copies zipped (GRAM is 4): quicker than slicing in a Python loop.
    return frozenset(map("".join, zip(text, text[1:], text[2:], text[3:], strict=False)))


def may_contain(grams: frozenset[str], literal: str, text: str) -> bool:
    """False only when `literal` is surely not in `text` (True may still be wrong)."""
    if len(literal) < GRAM:
        return literal in text
    return literal[:GRAM] in grams and literal[-GRAM:] in grams


def compile_lexicon(doc: LineDict) -> tuple[Lexicon | None, Problems]:
    problems: Problems = []
    for key in doc:
        if key not in LEXICON_KEYS:
            allowed = ", ".join(sorted(LEXICON_KEYS))
            problems.append((doc.line_of(key), f"unknown key {key!r} (allowed: {allowed})"))
    language = doc.get("language")
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        problems.append((doc.line_of("language"), "'language' must be a two-letter code"))
        language = "xx"
    fragments = _fragments(doc, problems)
    reading = _reading(doc, fragments, problems)
    idioms = tuple(_part(p) for p in _pattern_list(doc, "idioms", fragments, problems))
    negation = _negation(doc, fragments, problems)
    rules = _rules(doc, fragments, problems)
    if problems:
        return None, problems
    return Lexicon(language, reading, idioms, negation, rules, _groups(rules)), problems


def _fragments(doc: LineDict, problems: Problems) -> dict[str, str]:
    raw = doc.get("define")
    out: dict[str, str] = {}
    if raw is None:
        return out
    if not isinstance(raw, LineDict):
        problems.append((doc.line_of("define"), "'define' must map names to regex fragments"))
        return out
    for name, value in raw.items():
        line = raw.line_of(name)
        if not isinstance(name, str) or not _ID.match(name) or not isinstance(value, str):
            problems.append((line, f"fragment {name!r}: a lower_case name and a regex text"))
            continue
        text, unknown = expand(value, out)
        if unknown:
            problems.append((line, f"fragment {name!r} uses unknown {{{unknown[0]}}}"))
            continue
        problem = compile_problem(text, fragment=True)
        if problem:
            problems.append((line, f"fragment {name!r}: {problem}"))
        out[name] = text
    return out


def _pattern_list(
    holder: LineDict, key: str, fragments: Mapping[str, str], problems: Problems
) -> list[str]:
    raw = holder.get(key)
    if raw is None:
        return []
    if not isinstance(raw, LineList):
        problems.append((holder.line_of(key), f"{key!r} must be a list of patterns"))
        return []
    out: list[str] = []
    for index, item in enumerate(raw):
        line = raw.line_of_item(index)
        if not isinstance(item, str) or not item.strip():
            problems.append((line, f"{key!r}: each pattern is a non-empty text"))
            continue
        text, unknown = expand(item, fragments)
        if unknown:
            problems.append((line, f"unknown fragment {{{unknown[0]}}} (define it under 'define')"))
            continue
        problem = compile_problem(text)
        if problem:
            problems.append((line, problem))
            continue
        out.append(text)
    return out


def _part(pattern: str) -> Part:
    return Part(necessary_literals(pattern), pattern)


def _negation(
    doc: LineDict, fragments: Mapping[str, str], problems: Problems
) -> re.Pattern[str] | None:
    raw = doc.get("negation")
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.append((doc.line_of("negation"), "'negation' is one regex"))
        return None
    text, unknown = expand(raw, fragments)
    problem = f"unknown fragment {{{unknown[0]}}}" if unknown else compile_problem(text)
    if problem:
        problems.append((doc.line_of("negation"), problem))
        return None
    # The negation and at most two words between it and the match.
    return re.compile(rf"(?:{text})(?: \S+){{0,2}} ?$")


def _reading(doc: LineDict, fragments: Mapping[str, str], problems: Problems) -> Reading:
    rewrites: list[tuple[Part, str]] = []
    raw = doc.get("rewrite") or LineList()
    if not isinstance(raw, LineList):
        problems.append((doc.line_of("rewrite"), "'rewrite' is a list of [pattern, replacement]"))
        raw = LineList()
    for index, pair in enumerate(raw):
        line = raw.line_of_item(index)
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        ):
            problems.append((line, "each rewrite is a pair: [pattern, replacement]"))
            continue
        text, unknown = expand(pair[0], fragments)
        problem = f"unknown fragment {{{unknown[0]}}}" if unknown else compile_problem(text)
        if problem:
            problems.append((line, problem))
            continue
        rewrites.append((_part(text), pair[1]))
    spellings: dict[str, str] = {}
    fuzzy = doc.get("fuzzy") or LineList()
    if not isinstance(fuzzy, LineList) or not all(isinstance(w, str) for w in fuzzy):
        problems.append((doc.line_of("fuzzy"), "'fuzzy' is a list of long words"))
    else:
        # One typo away from a long word is still that word; short words have real
        # neighbours ("kill" and "kilt"), so their misspellings go under 'spellings'.
        for word in fuzzy:
            for variant in one_edit_away(word):
                spellings.setdefault(variant, word)
    table = doc.get("spellings") or LineDict()
    if not isinstance(table, LineDict):
        problems.append((doc.line_of("spellings"), "'spellings' maps a token to its reading"))
    else:
        for token, value in table.items():
            if not isinstance(token, str) or not isinstance(value, str):
                problems.append((table.line_of(token), f"spelling {token!r}: text to text"))
                continue
            spellings[token] = value
    apostrophes = doc.get("apostrophes", "space")
    if apostrophes not in ("space", "drop"):
        problems.append((doc.line_of("apostrophes"), "'apostrophes' is 'space' or 'drop'"))
    return Reading(tuple(rewrites), spellings, apostrophes == "drop")


def _rules(
    doc: LineDict, fragments: Mapping[str, str], problems: Problems
) -> tuple[CrisisRule, ...]:
    raw = doc.get("rules")
    if not isinstance(raw, LineList) or not raw:
        problems.append((doc.line_of("rules"), "'rules' must be a non-empty list"))
        return ()
    out: list[CrisisRule] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        line = raw.line_of_item(index)
        if not isinstance(item, LineDict):
            problems.append((line, "each rule is a mapping with id, kind and patterns"))
            continue
        rule = _rule(item, fragments, problems, seen)
        if rule is not None:
            out.append(rule)
    return tuple(out)


def _rule(
    item: LineDict, fragments: Mapping[str, str], problems: Problems, seen: set[str]
) -> CrisisRule | None:
    for key in item:
        if key not in RULE_KEYS:
            allowed = ", ".join(sorted(RULE_KEYS))
            problems.append((item.line_of(key), f"unknown rule key {key!r} (allowed: {allowed})"))
    rule_id: Any = item.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        problems.append((item.line_of("id"), "a rule needs a lower_case 'id'"))
        return None
    if rule_id in seen:
        problems.append((item.line_of("id"), f"duplicate rule id {rule_id!r}"))
        return None
    seen.add(rule_id)
    kind = KINDS_BY_NAME.get(str(item.get("kind")))
    if kind is None:
        known = ", ".join(KINDS_BY_NAME)
        problems.append((item.line_of("kind"), f"rule {rule_id!r}: 'kind' is one of {known}"))
    level = LEVELS_BY_NAME.get(str(item.get("level", "clear")))
    if level is None:
        problems.append((item.line_of("level"), f"rule {rule_id!r}: 'level' is clear or unclear"))
    negatable = item.get("negatable", False)
    if not isinstance(negatable, bool):
        problems.append((item.line_of("negatable"), f"rule {rule_id!r}: 'negatable' is a yes/no"))
    yields_to = _kinds(item, rule_id, problems)
    patterns = _pattern_list(item, "patterns", fragments, problems)
    if not patterns and "patterns" in item:
        return None
    if not patterns:
        problems.append((item.line, f"rule {rule_id!r} has no 'patterns'"))
        return None
    if kind is None or level is None or not isinstance(negatable, bool):
        return None
    parts = tuple(_part(p) for p in patterns)
    return CrisisRule(rule_id, kind, level, negatable, parts, yields_to)


def _kinds(item: LineDict, rule_id: str, problems: Problems) -> frozenset[CrisisKind]:
    raw = item.get("yields_to")
    if raw is None:
        return frozenset()
    names = raw if isinstance(raw, list) else None
    kinds = [KINDS_BY_NAME.get(str(n)) for n in names or []]
    if not names or None in kinds or item.get("kind") in names:
        known = ", ".join(KINDS_BY_NAME)
        message = f"rule {rule_id!r}: 'yields_to' lists other kinds, of {known}"
        problems.append((item.line_of("yields_to"), message))
        return frozenset()
    return frozenset(k for k in kinds if k is not None)


def _groups(rules: tuple[CrisisRule, ...]) -> tuple[_Group, ...]:
    """Rules by (level, kind, negatable, yields_to): clear before unclear, in urgency order.

    Rules that yield sit in groups of their own, so that a rule of the same kind that does
    not yield still reports its own hit (and is never hidden behind one that stood down)."""
    out: list[_Group] = []
    yielding = sorted({r.yields_to for r in rules}, key=lambda ks: sorted(k.value for k in ks))
    for level in (Level.CLEAR, Level.UNCLEAR):
        for kind in KIND_ORDER:
            for negatable in (False, True):
                for yields_to in yielding:
                    shape = (kind, level, negatable, yields_to)
                    members = tuple(
                        r for r in rules if (r.kind, r.level, r.negatable, r.yields_to) == shape
                    )
                    if members:
                        out.append(_Group(kind, level, negatable, members, yields_to))
    return tuple(out)
