"""Crisis lexicons: one language's rules, compiled from `dialogues/screening/lexicon.*.yaml`.

A lexicon is content a clinician can read: named fragments, idioms to blank out, the
words that negate, and rules of the form "any of these patterns means this kind of
danger, at this level". `compile_lexicon` checks a file the way the dialogue compiler
checks a flow, returning every problem with its line; `Lexicon.hits` applies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.screening.normalise import Reading, one_edit_away
from bot.core.screening.patterns import compile_problem, expand, necessary_literals
from bot.core.screening.signal import KIND_ORDER, KINDS_BY_NAME, LEVELS_BY_NAME, CrisisKind, Level
from bot.core.yamlsource import LineDict, LineList

LEXICON_KEYS = {
    "version", "kind", "language", "define", "idioms", "negation", "rewrite", "spellings",
    "fuzzy", "apostrophes", "rules",
}  # fmt: skip
RULE_KEYS = {"id", "kind", "level", "negatable", "patterns", "note"}
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


@dataclass(frozen=True)
class Hit:
    kind: CrisisKind
    level: Level
    rule: str  # "<language>.<rule id>"


@dataclass(frozen=True)
class _Group:
    kind: CrisisKind
    level: Level
    negatable: bool
    rules: tuple[CrisisRule, ...]


@dataclass(frozen=True)
class Lexicon:
    language: str
    reading: Reading
    idioms: tuple[Part, ...]
    negation: re.Pattern[str] | None
    rules: tuple[CrisisRule, ...]
    groups: tuple[_Group, ...]

    def hits(self, read_text: str, grams: frozenset[str] | None = None) -> list[Hit]:
        """Every (kind, level) this lexicon finds in a text already read its way.

        `grams` are the text's character 4-grams (`grams_of`), shared by the lexicons that
        read alike: a pattern runs only if the words it needs may be in the text."""
        grams = grams if grams is not None else grams_of(read_text)
        text = read_text
        for idiom in self.idioms:  # blanked out before any rule looks
            if idiom.needs is None or any(may_contain(grams, n, text) for n in idiom.needs):
                text = idiom.pattern.sub(" . ", text)

        def contains(needed: str) -> bool:
            # Blanking only removes text, so the grams of the unblanked text still rule out.
            return may_contain(grams, needed, text)

        found: list[Hit] = []
        for group in self.groups:
            rule = self._first(group, text, contains)
            if rule is not None:
                found.append(Hit(group.kind, group.level, f"{self.language}.{rule.id}"))
        return found

    def _first(
        self, group: _Group, text: str, contains: Callable[[str], bool]
    ) -> CrisisRule | None:
        for rule in group.rules:
            for part in rule.parts:
                if part.needs is not None and not any(contains(n) for n in part.needs):
                    continue  # a plain substring search rules the pattern out
                if self._search(part.pattern, text, group.negatable):
                    return rule
        return None

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
    return frozenset(text[i : i + GRAM] for i in range(len(text) - GRAM + 1))


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
    patterns = _pattern_list(item, "patterns", fragments, problems)
    if not patterns and "patterns" in item:
        return None
    if not patterns:
        problems.append((item.line, f"rule {rule_id!r} has no 'patterns'"))
        return None
    if kind is None or level is None or not isinstance(negatable, bool):
        return None
    parts = tuple(_part(p) for p in patterns)
    return CrisisRule(rule_id, kind, level, negatable, parts)


def _groups(rules: tuple[CrisisRule, ...]) -> tuple[_Group, ...]:
    """Rules by (level, kind, negatable): clear before unclear, in urgency order."""
    out: list[_Group] = []
    for level in (Level.CLEAR, Level.UNCLEAR):
        for kind in KIND_ORDER:
            for negatable in (False, True):
                members = tuple(
                    r for r in rules if (r.kind, r.level, r.negatable) == (kind, level, negatable)
                )
                if members:
                    out.append(_Group(kind, level, negatable, members))
    return tuple(out)
