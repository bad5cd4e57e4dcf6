"""The shape of a check's pattern: could it take more than linear time, and does it read
both spellings of a contraction ("don't" and "dont")? Pure string analysis, apart from
the compiler that reports what it finds."""

from __future__ import annotations

import re

MAX_REPEAT = 6  # the largest N allowed in a bounded repeat {0,N}
_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")


def superlinear(pattern: str) -> str | None:
    """Why `pattern` could take more than linear time, or None.

    Forbidden: `*` or `+` (or `{n,}`) right after a group or after a class that spans
    words (one that matches both a letter and a space, like `.` or `[^.!?]`); a bounded
    repeat `{m,N}` with N over 6; a repeated group inside a repeated group; backreferences.
    `\\w+`, `[a-z']+` and other repeats of a single-word class are fine.
    """
    i = 0
    n = len(pattern)
    prev: str | None = None  # what the next quantifier repeats: "group", "wide", "narrow"
    prev_nested = False  # the group just closed holds a repeated group
    stack: list[bool] = []  # per open group: does it hold a repeated group?
    while i < n:
        c = pattern[i]
        if c == "\\":
            token = _escape_token(pattern, i)
            if re.fullmatch(r"\\[1-9]\d*", token):
                return f"backreference {token} is not allowed"
            prev = "wide" if _spans_words(token) else "narrow"
            i += len(token)
            continue
        if c == "[":
            end = _class_end(pattern, i)
            token = pattern[i : end + 1]
            prev = "wide" if _spans_words(token) else "narrow"
            i = end + 1
            continue
        if c == "(":
            if pattern.startswith("(?P=", i):
                return "backreference (?P=…) is not allowed"
            stack.append(False)
            prev = None
            i += 1
            if pattern.startswith("?", i):  # (?: (?= (?! (?<= (?<! (?P<name> (?i)
                close = pattern.find(">", i) if pattern.startswith("?P<", i) else -1
                i = close + 1 if close >= 0 else i + 1
                while i < n and pattern[i] in ":=!<":
                    i += 1
            continue
        if c == ")":
            prev_nested = stack.pop() if stack else False
            prev = "group"
            i += 1
            continue
        if c in "*+" or (c == "{" and _REPEAT.match(pattern, i)):
            if c == "{":
                m = _REPEAT.match(pattern, i)
                assert m is not None
                low, comma, high = m.groups()
                unbounded = bool(comma) and not high
                top = int(high or low or "0")
                token = m.group()
                length = len(token)
            else:
                unbounded, top, token, length = True, 0, c, 1
            if unbounded and prev in ("group", "wide"):
                what = "a group" if prev == "group" else "a class that spans words"
                return (
                    f"'{token}' after {what} can take super-linear time; "
                    f"write a bounded repeat {{0,N}} with N ≤ {MAX_REPEAT}"
                )
            if not unbounded and top > MAX_REPEAT:
                return f"repeat {token} goes over {MAX_REPEAT}; use at most {{0,{MAX_REPEAT}}}"
            if prev == "group" and top != 1:
                if prev_nested:
                    return "a repeated group inside a repeated group can take super-linear time"
                if stack:
                    stack[-1] = True
            i += length
            if i < n and pattern[i] in "?+":  # lazy or possessive
                i += 1
            prev = None
            continue
        if c == "?":
            prev = None  # an optional atom; it repeats nothing
        elif c == "|":
            prev = None
        elif c == ".":
            prev = "wide"
        elif c in "^$":
            prev = None
        else:
            prev = "narrow"
        i += 1
    return None


def spaced_contraction(pattern: str) -> str | None:
    """A choice like "it (?:is|'s)" needs "it's" with a space in it, which never comes.

    The normalised text writes contractions joined ("it's", "i'm"), so a group after a
    space must not offer an alternative that begins with an apostrophe.
    """
    for m in re.finditer(r" \(\?:", pattern):
        depth = 0
        start = m.end()
        i = start
        alternatives = [start]
        escaped = in_class = False
        while i < len(pattern):
            c = pattern[i]
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif in_class:
                in_class = c != "]"
            elif c == "[":
                in_class = True
            elif c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif c == "|" and depth == 0:
                alternatives.append(i + 1)
            i += 1
        for a in alternatives:
            if pattern.startswith("'", a):
                bad = pattern[m.start() : i + 1]
                return (
                    f"'{bad[:40]}' offers an alternative that starts with an apostrophe after a"
                    ' space; contractions are written joined: write "x(?: is|\'s)", not'
                    ' "x (?:is|\'s)"'
                )
    return None


def _escape_token(pattern: str, i: int) -> str:
    nxt = pattern[i + 1 : i + 2]
    if nxt == "x":
        return pattern[i : i + 4]
    if nxt == "u":
        return pattern[i : i + 6]
    if nxt.isdigit():
        m = re.match(r"\\\d+", pattern[i:])
        return m.group() if m else pattern[i : i + 2]
    return pattern[i : i + 2]


def _class_end(pattern: str, i: int) -> int:
    j = i + 1
    if pattern.startswith("^", j):
        j += 1
    if pattern.startswith("]", j):
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        if pattern[j] == "]":
            return j
        j += 1
    return len(pattern) - 1


def _spans_words(token: str) -> bool:
    """Whether one step of `token` can match a letter and also a space."""
    try:
        atom = re.compile(token)
    except re.error:
        return False
    return atom.fullmatch(" ") is not None and atom.fullmatch("a") is not None


def loosen(pattern: str) -> str:
    """Make every apostrophe outside a character class optional: "don't" also finds "dont"."""
    out: list[str] = []
    in_class = escaped = False
    for c in pattern:
        out.append(c)
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "'" and not in_class:
            out.append("?")
    return "".join(out)
