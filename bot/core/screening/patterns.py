"""Regexes written by people, checked so that none can take more than linear time.

Python's `re` backtracks: a pattern with a repeated group next to another repeat can
take quadratic or exponential time on a long message made to trip it. Content authors
therefore write patterns under three rules, which `linear_problem` enforces:

- a group or alternation is only repeated a bounded number of times (`{0,3}`, at most
  `MAX_GROUP_REPEAT`); `*` and `+` apply to one character or class only;
- a pattern does not begin with `*` or `+` (anchor it: `\\bsuicid\\w*`), and two such
  repeats never stand side by side;
- no backreferences.

`{name}` in a pattern refers to a fragment defined in the same file; literal
quantifiers such as `{0,3}` are left alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from re import _parser as sre  # type: ignore[attr-defined]  # the stdlib's own parser
from typing import Any

MAX_GROUP_REPEAT = 6
_FRAGMENT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_SINGLE = {"LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def expand(pattern: str, fragments: Mapping[str, str]) -> tuple[str, list[str]]:
    """`pattern` with `{name}` replaced by its fragment; and the unknown names."""
    unknown: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in fragments:
            unknown.append(name)
            return m.group(0)
        return fragments[name]

    return _FRAGMENT.sub(sub, pattern), unknown


@functools.lru_cache(maxsize=16384)
def _parse(pattern: str) -> Any:
    """The stdlib's parse tree, once per pattern: the checks below all read it."""
    return sre.parse(pattern)


def compile_problem(pattern: str, *, fragment: bool = False) -> str | None:
    """Why `pattern` cannot be used, or None: a syntax error or a super-linear shape.

    A fragment is only ever used inside a pattern, so it may begin with a repeat."""
    try:
        tree = _parse(pattern)  # syntax errors surface here; compiling comes once, later
    except re.error as exc:
        return f"regex error: {exc.msg}"
    except RecursionError:
        return "regex error: nested too deeply"
    items = list(tree)
    if items and not fragment and _unbounded(items[0]):
        return "a pattern cannot begin with * or +: anchor it, e.g. \\bsuicid\\w*"
    return linear_problem(items)


def _unbounded(item: Any) -> bool:
    op, av = item
    return str(op) in _REPEATS and av[1] == sre.MAXREPEAT


def linear_problem(items: list[Any]) -> str | None:
    for i, (op, av) in enumerate(items):
        name = str(op)
        if name in _REPEATS:
            _, high, sub = av
            sub_items = list(sub)
            single = len(sub_items) == 1 and str(sub_items[0][0]) in _SINGLE
            if high == sre.MAXREPEAT:
                if not single:
                    return "a group repeated with * or +: bound it, e.g. (?:\\w+ ){0,3}"
                if i + 1 < len(items) and _unbounded(items[i + 1]):
                    return "two * or + repeats side by side: join them or bound one"
            elif not single and high > MAX_GROUP_REPEAT:
                return f"a group repeated more than {MAX_GROUP_REPEAT} times"
            problem = linear_problem(sub_items)
        elif name == "SUBPATTERN":
            problem = linear_problem(list(av[-1]))
        elif name == "BRANCH":
            problem = next((p for b in av[1] if (p := linear_problem(list(b)))), None)
        elif name in {"ASSERT", "ASSERT_NOT"}:
            problem = linear_problem(list(av[1]))
        elif name in {"GROUPREF", "GROUPREF_EXISTS"}:
            problem = "backreferences are not allowed"
        else:
            problem = None
        if problem:
            return problem
    return None


def necessary_literals(pattern: str) -> frozenset[str] | None:
    """Texts of which every match contains at least one, or None when there is no such set.

    The screen checks these with a plain substring search before it runs a pattern, so a
    long message only pays for the patterns whose words it actually contains.
    """
    found = _need(list(_parse(pattern)))
    return frozenset(found) if found else None


def _need(items: list[Any]) -> set[str] | None:
    """The best necessary set of one sequence: the one whose shortest text is longest."""
    options: list[set[str]] = []
    run = ""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run += chr(av)
            continue
        if run:
            options.append({run})
            run = ""
        sub: set[str] | None = None
        if name == "SUBPATTERN":
            sub = _need(list(av[-1]))
        elif name == "BRANCH":
            parts = [_need(list(b)) for b in av[1]]
            if all(parts):
                sub = set().union(*(p for p in parts if p))
        elif name in _REPEATS and av[0] >= 1:
            sub = _need(list(av[2]))
        if sub:
            options.append(sub)
    if run:
        options.append({run})
    useful = [o for o in options if min(len(t) for t in o) >= 2]
    return max(useful, key=lambda o: min(len(t) for t in o)) if useful else None
