"""Compile one `kind: text_check` file into a `TextCheck`, naming every problem by line.

Pure: it takes the mapping `bot.core.yamlsource.parse_yaml` made of the file (which knows
the line of every key), never a path to open. The format is described in
`dialogues/FORMAT.md`, section "Text checks".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.core.checks.matching import Matcher, Rule, matcher
from bot.core.checks.model import Requirement, TextCheck
from bot.core.checks.pattern_shape import loosen, spaced_contraction, superlinear
from bot.core.checks.text import Spelling
from bot.core.yamlsource import LineDict, LineList

FORMAT_VERSION = 1
KIND = "text_check"

TOP_KEYS = ("version", "kind", "check", "define", "spelling", "rules", "strengths", "requires")
RULE_KEYS = ("id", "patterns", "unless", "unless_strength")
STRENGTH_KEYS = ("id", "patterns", "unless")
REQUIRES_KEYS = ("any_of", "all_of")
# Ids that would collide with the feedback keys check.<check>.ok / .thin.N / .praise.<id>.N
RESERVED_IDS = frozenset({"ok", "thin", "praise"})

# Fragments every check can use without defining them.
BUILTIN_FRAGMENTS: Mapping[str, str] = {
    "w": r"[^ .!?;]+",  # one word, with any punctuation stuck to it ("hurt," "you’re")
    # up to four or five more words, to the next comma: lengthens a quote to read well
    "few": r"(?: [^ .!?;,]+){0,4}(?: [^ .!?;,]+(?=,))?",
    "gap": r"(?: [^ .!?;]+){0,6}",  # up to six more words, within one sentence
    "end": r"(?=[ ]?[.!?;,]|$)",  # the end of a sentence or clause comes next
}

_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_REFERENCE = re.compile(r"(?<!\\)\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Lower-case words in any script ("u", "щас"): a check in another language spells its own.
_SPELLING_WORD = re.compile(r"^[^\W_]+(?:'[^\W_]+)*$")
_SPELLING_VALUE = re.compile(r"^[^\W_']+(?:'[^\W_]+)*(?: [^\W_']+(?:'[^\W_]+)*)*$")

Diagnostics = list[tuple[int, str]]


def compile_check(path: str, doc: LineDict) -> tuple[TextCheck | None, Diagnostics]:
    """The check in `doc` (read from `path`), or None with every problem as (line, message)."""
    out: Diagnostics = []
    _keys(doc, TOP_KEYS, "at the top of a text check", out)
    if doc.get("version") != FORMAT_VERSION:
        got = doc.get("version")
        msg = f"unsupported version {got!r}: use version: {FORMAT_VERSION}"
        out.append((doc.line_of("version"), msg if "version" in doc else "missing 'version'"))
    if doc.get("kind") != KIND:
        out.append((doc.line_of("kind"), f"a text check has kind: {KIND}"))
    name = doc.get("check")
    if not isinstance(name, str) or not _ID.match(name):
        out.append((doc.line_of("check"), f"'check' must be a lower_case name, not {name!r}"))
        name = ""
    else:
        stem = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if path.endswith((".yaml", ".yml")) and stem != name:
            out.append((doc.line_of("check"), f"check {name!r} is in a file named {stem!r}"))
    fragments = _fragments(doc, out)
    spelling = _spelling(doc, out)
    problems, rule_ids = _rules(doc, "rules", fragments, out, required=True)
    strengths, strength_ids = _rules(doc, "strengths", fragments, out, required=False)
    raw_strengths = doc.get("strengths")
    for shared in sorted(rule_ids & strength_ids):
        line = _id_line(raw_strengths, shared, doc.line_of("strengths"))
        out.append((line, f"id {shared!r} names both a rule and a strength"))
    raw_rules = doc.get("rules")
    for r in problems:
        for wanted in r.unless_strength:
            if wanted not in strength_ids:
                line = _key_line(raw_rules, r.id, "unless_strength", doc.line_of("rules"))
                known = ", ".join(sorted(strength_ids)) or "none defined"
                msg = f"rule {r.id!r}: unless_strength names unknown strength {wanted!r}"
                out.append((line, f"{msg} (known: {known})"))
    requires = _requires(doc, strength_ids, out)
    if out:
        return None, sorted(out)
    check = TextCheck(name, tuple(problems), tuple(strengths), requires, spelling)
    return check, []


# --- sections ----------------------------------------------------------------------------


def _keys(mapping: LineDict, known: tuple[str, ...], where: str, out: Diagnostics) -> None:
    for key in mapping:
        if key not in known:
            msg = f"unknown key {key!r} {where} (known: {', '.join(known)})"
            out.append((mapping.line_of(key), msg))


def _fragments(doc: LineDict, out: Diagnostics) -> dict[str, str | None]:
    """Each define, expanded; None for one that is broken (already reported)."""
    fragments: dict[str, str | None] = dict(BUILTIN_FRAGMENTS)
    raw = doc.get("define")
    if raw is None:
        return fragments
    if not isinstance(raw, LineDict):
        out.append((doc.line_of("define"), "'define' must be a mapping of name: pattern"))
        return fragments
    for name, text in raw.items():
        line = raw.line_of(name)
        if not isinstance(name, str) or not _ID.match(name):
            out.append((line, f"fragment name {name!r} must be lower_case"))
            continue
        if name in BUILTIN_FRAGMENTS:
            out.append((line, f"fragment {{{name}}} is built in; choose another name"))
            continue
        if not isinstance(text, str) or not text:
            out.append((line, f"fragment {{{name}}} must be a pattern string"))
            fragments[name] = None
            continue
        expanded = _expand(text, fragments, line, f"fragment {{{name}}}", out, later=set(raw))
        if expanded is not None and _pattern_problem(expanded, line, f"fragment {{{name}}}", out):
            expanded = None
        fragments[name] = expanded
    return fragments


def _spelling(doc: LineDict, out: Diagnostics) -> Spelling:
    raw = doc.get("spelling")
    if raw is None:
        return Spelling()
    if not isinstance(raw, LineDict):
        out.append((doc.line_of("spelling"), "'spelling' must be a mapping of word: word"))
        return Spelling()
    words: dict[str, str] = {}
    for key, value in raw.items():
        line = raw.line_of(key)
        if not isinstance(key, str) or not _SPELLING_WORD.match(key) or key != key.lower():
            out.append((line, f"spelling {key!r}: write one lower-case word"))
        elif (
            not isinstance(value, str) or not _SPELLING_VALUE.match(value) or value != value.lower()
        ):
            out.append((line, f"spelling {key!r}: read as lower-case words, not {value!r}"))
        else:
            words[key] = value
    return Spelling.of(words)


def _rules(
    doc: LineDict,
    section: str,
    fragments: Mapping[str, str | None],
    out: Diagnostics,
    required: bool,
) -> tuple[list[Rule], set[str]]:
    """The rules of `section` that compiled, and the ids of all of them (to check names)."""
    raw = doc.get(section)
    kind = "rule" if section == "rules" else "strength"
    if raw is None:
        if required:
            out.append((doc.line, f"missing '{section}': a text check needs at least one {kind}"))
        return [], set()
    if not isinstance(raw, LineList) or not raw:
        out.append((doc.line_of(section), f"'{section}' must be a list of {kind}s"))
        return [], set()
    rules: list[Rule] = []
    seen: set[str] = set()
    next_line = raw.line  # where an item that records no line of its own most likely is
    for item in raw:
        if not isinstance(item, LineDict):
            out.append((next_line, f"each {kind} is a mapping with id and patterns"))
            next_line += 1
            continue
        next_line = max([item.line, *(item.line_of(k) for k in item)]) + 1
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            out.append((item.line_of("id"), f"{kind} id {rule_id!r} must be lower_case"))
            rule_id = None
        elif rule_id in RESERVED_IDS:
            out.append((item.line_of("id"), f"{kind} id {rule_id!r} is reserved for feedback keys"))
        elif rule_id in seen:
            out.append((item.line_of("id"), f"duplicate {kind} id {rule_id!r}"))
        label = f"{kind} {rule_id!r}" if rule_id else kind
        _keys(item, RULE_KEYS if kind == "rule" else STRENGTH_KEYS, f"in {label}", out)
        patterns = _patterns(item, "patterns", fragments, label, out, required=True)
        unless = _patterns(item, "unless", fragments, label, out, required=False)
        if rule_id is not None:
            seen.add(rule_id)
            if patterns is not None and unless is not None:
                rules.append(Rule(rule_id, patterns, unless, _names(item, "unless_strength", out)))
    return rules, seen


def _patterns(
    item: LineDict,
    key: str,
    fragments: Mapping[str, str | None],
    label: str,
    out: Diagnostics,
    required: bool,
) -> tuple[Matcher, ...] | None:
    raw = item.get(key)
    if raw is None:
        if required:
            out.append((item.line, f"{label} has no '{key}'"))
            return None
        return ()
    if not isinstance(raw, LineList) or not raw:
        out.append((item.line_of(key), f"'{key}' in {label} must be a list of patterns"))
        return None
    matchers: list[Matcher] = []
    ok = True
    for text, line in zip(raw, _item_lines(item, key, raw), strict=True):
        where = f"{key[:-1] if key == 'patterns' else key} of {label}"
        if not isinstance(text, str) or not text:
            out.append((line, f"a pattern of {label} must be a string"))
            ok = False
            continue
        compiled = _pattern(text, fragments, line, where, out)
        if compiled is None:
            ok = False
        else:
            matchers.append(compiled)
    return tuple(matchers) if ok else None


def _requires(doc: LineDict, strengths: set[str], out: Diagnostics) -> Requirement | None:
    raw = doc.get("requires")
    if raw is None:
        return None
    if not isinstance(raw, LineDict):
        out.append((doc.line_of("requires"), "'requires' must be a mapping with any_of or all_of"))
        return None
    _keys(raw, REQUIRES_KEYS, "in requires", out)
    lists: dict[str, tuple[str, ...]] = {}
    for key in REQUIRES_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, LineList) or not value:
            out.append((raw.line_of(key), f"requires.{key} must be a list of strength ids"))
            continue
        for name in value:
            if name not in strengths:
                known = ", ".join(sorted(strengths)) or "none defined"
                msg = f"requires.{key} names unknown strength {name!r} (known: {known})"
                out.append((raw.line_of(key), msg))
        lists[key] = tuple(str(v) for v in value)
    if not lists:
        out.append((raw.line, "'requires' needs any_of or all_of"))
        return None
    return Requirement(lists.get("any_of", ()), lists.get("all_of", ()))


# --- one pattern ---------------------------------------------------------------------------


def _pattern(
    text: str, fragments: Mapping[str, str | None], line: int, where: str, out: Diagnostics
) -> Matcher | None:
    expanded = _expand(text, fragments, line, where, out)
    if expanded is None or _pattern_problem(expanded, line, where, out):
        return None
    try:
        compiled = matcher(loosen(expanded))
    except re.error as exc:
        out.append((line, f"{where} does not compile: {exc.msg}"))
        return None
    if compiled.regex.match("") is not None and not compiled.boundary:
        out.append((line, f"{where} matches empty text"))
        return None
    return compiled


def _expand(
    text: str,
    fragments: Mapping[str, str | None],
    line: int,
    where: str,
    out: Diagnostics,
    later: set[Any] | None = None,
) -> str | None:
    """Replace each {name} by its fragment; None when one is unknown or broken.

    `later`: the names defined in the file, for a fragment that uses one defined after it.
    """
    ok = True

    def one(m: re.Match[str]) -> str:
        nonlocal ok
        name = m.group(1)
        if name not in fragments:
            if later is not None and name in later:
                out.append((line, f"{where} uses {{{name}}}, which is defined after it"))
            else:
                known = ", ".join(sorted(fragments))
                out.append((line, f"{where} uses unknown fragment {{{name}}} (known: {known})"))
            ok = False
            return ""
        value = fragments[name]
        if value is None:
            ok = False  # the fragment itself is broken, and was reported where it is defined
            return ""
        return f"(?:{value})"

    expanded = _REFERENCE.sub(one, text)
    return expanded if ok else None


def _pattern_problem(pattern: str, line: int, where: str, out: Diagnostics) -> bool:
    problem = superlinear(pattern) or spaced_contraction(pattern)
    if problem is not None:
        out.append((line, f"{where}: {problem}"))
        return True
    try:
        re.compile(pattern)
    except re.error as exc:
        out.append((line, f"{where} does not compile: {exc.msg}"))
        return True
    return False


# --- where list items were written ---------------------------------------------------------


def _item_lines(parent: LineDict, key: str, seq: LineList) -> list[int]:
    """The line of each item of `seq`, the value of `parent[key]`.

    Uses the lines the YAML reader recorded when it records them (`item_lines`); else a
    list written on its key's line (`[a, b]`) is all on that line, and a block list has one
    item per line from its first dash.
    """
    recorded: Any = getattr(seq, "item_lines", None)
    if isinstance(recorded, list) and len(recorded) == len(seq):
        return [int(x) for x in recorded]
    if seq.line == parent.line_of(key):
        return [seq.line] * len(seq)
    return [seq.line + k for k in range(len(seq))]


def _names(item: LineDict, key: str, out: Diagnostics) -> tuple[str, ...]:
    raw = item.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, LineList) or not raw or not all(isinstance(x, str) for x in raw):
        out.append((item.line_of(key), f"'{key}' must be a list of strength ids"))
        return ()
    return tuple(raw)


def _key_line(raw: Any, rule_id: str, key: str, default: int) -> int:
    if isinstance(raw, LineList):
        for item in raw:
            if isinstance(item, LineDict) and item.get("id") == rule_id:
                return item.line_of(key)
    return default


def _id_line(raw: Any, rule_id: str, default: int) -> int:
    if isinstance(raw, LineList):
        for item in raw:
            if isinstance(item, LineDict) and item.get("id") == rule_id:
                return item.line_of("id")
    return default
