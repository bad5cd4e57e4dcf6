"""The labelled corpus the classifier learns from, and the split it is judged on.

One row a line, four fields separated by tabs: `label level tag text`. Lines that
begin with `#` are comments. `label` is a crisis kind or `none`; `level` is `clear` or
`unclear` (`none` for everyday rows); `tag` names the kind of phrasing, for reports.

A fifth of the rows, chosen by a hash of the text, is held out: never trained on and
never tuned against, only measured (`is_held_out`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.core.screening.signal import KINDS_BY_NAME, LEVELS_BY_NAME

NONE = "none"
HELD_OUT_ONE_IN = 5


@dataclass(frozen=True)
class Example:
    label: str  # a CrisisKind value, or "none"
    level: str  # "clear", "unclear" or "none"
    tag: str
    text: str
    language: str
    line: int

    @property
    def crisis(self) -> bool:
        return self.label != NONE


def is_held_out(text: str) -> bool:
    key = " ".join(text.casefold().split()).encode()
    return hashlib.sha256(key).digest()[0] % HELD_OUT_ONE_IN == 0


def parse_corpus(language: str, text: str) -> tuple[list[Example], list[tuple[int, str]]]:
    rows: list[Example] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            problems.append((number, f"a row has 4 tab-separated fields, this one {len(fields)}"))
            continue
        label, level, tag, body = (f.strip() for f in fields)
        if label != NONE and label not in KINDS_BY_NAME:
            problems.append((number, f"unknown label {label!r}"))
            continue
        expected = {NONE} if label == NONE else set(LEVELS_BY_NAME)
        if level not in expected:
            problems.append((number, f"level {level!r} does not fit label {label!r}"))
            continue
        if not body:
            problems.append((number, "a row needs a text"))
            continue
        rows.append(Example(label, level, tag, body, language, number))
    return rows, problems
