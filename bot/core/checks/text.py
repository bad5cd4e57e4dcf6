"""The matching copy of a text: lower case, plain punctuation, one space; positions kept.

Patterns are written against this copy, so a rule writer never thinks about curly
apostrophes, capitals, tabs or "sooo". Every character of the copy remembers where it
came from, so a finding can quote the person's own words exactly as they typed them.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_APOSTROPHES = frozenset("\u2019\u2018\u201a\u201b\u02bc\u02b9\uff07\u0060\u00b4\u2032")
_QUOTES = frozenset("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x0b\x0c\x85")
# Punctuation that sits against the word before it: "sorry , but" reads as "sorry, but",
# and "sorry,but" as "sorry, but".
_TIGHT = frozenset(",.;:!?")
_SENTENCE_END = frozenset(".!?;")


@dataclass(frozen=True)
class Spelling:
    """Whole words read as other words before matching: "u" as "you", "becuase" as "because"."""

    words: tuple[tuple[str, str], ...] = ()
    pattern: re.Pattern[str] | None = None

    @classmethod
    def of(cls, words: Mapping[str, str]) -> Spelling:
        if not words:
            return cls()
        alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return cls(tuple(words.items()), re.compile(rf"(?<![\w'])(?:{alternation})(?![\w'])"))


NO_SPELLING = Spelling()


@dataclass(frozen=True)
class Normalised:
    """A matching copy of a text, with where each of its characters came from."""

    text: str
    starts: tuple[int, ...]  # starts[i]: where character i of the copy begins in the original
    ends: tuple[int, ...]  # ends[i]: where it ends (a squeezed "ooo" spans all three)
    breaks: tuple[int, ...] = ()  # indices where a sentence ends: . ! ? ; or a line break

    def original_span(self, start: int, end: int, original: str) -> tuple[int, int]:
        first = self.starts[start]
        last = self.ends[end - 1]
        while last < len(original) and unicodedata.combining(original[last]):
            last += 1  # keep accents typed as separate marks with their letter
        return first, last

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """The span of the sentence, or sentences, that start..end of the copy touches."""
        i = bisect.bisect_left(self.breaks, start)
        lo = self.breaks[i - 1] + 1 if i > 0 else 0
        j = bisect.bisect_left(self.breaks, max(start, end - 1))
        hi = self.breaks[j] + 1 if j < len(self.breaks) else len(self.text)
        return lo, hi


class _Builder:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.hard: list[bool] = []  # a space that stands for a line break ends a sentence

    def emit(self, chars: str, start: int, end: int, hard: bool = False) -> None:
        for c in chars:
            self.out.append(c)
            self.starts.append(start)
            self.ends.append(end)
            self.hard.append(hard)


def normalise(text: str, spelling: Spelling = NO_SPELLING) -> Normalised:
    """Lower case, straight quotes, whitespace runs as one space, "sooo" read as "so"."""
    b = _Builder()
    out = b.out
    pending_space = -1  # where the whitespace run waiting to become one space began
    pending_newline = False
    squeezing = ""  # the letter of a run of three or more being read as one

    for i, ch in enumerate(text):
        if ch in _INVISIBLE or unicodedata.combining(ch):
            continue
        if ch.isspace():
            if pending_space < 0:
                pending_space = i
            pending_newline = pending_newline or ch in _LINE_BREAKS
            continue
        if ch in _APOSTROPHES:
            mapped = "'"
        elif ch in _QUOTES:
            mapped = '"'
        elif ch in _DASHES:
            mapped = "-"
        elif ch == "\u2026":
            mapped = "..."
        else:
            mapped = unicodedata.normalize("NFKC", ch).lower()
        if not mapped:
            continue
        if pending_space >= 0:
            if out and mapped[0] not in _TIGHT:
                b.emit(" ", pending_space, pending_space + 1, pending_newline)
            elif out and pending_newline:
                b.hard[-1] = True
            pending_space = -1
            pending_newline = False
            squeezing = ""
        elif out and out[-1] in _TIGHT and mapped[0].isalpha():
            b.emit(" ", i, i)
        if len(mapped) == 1 and mapped.isalpha():
            if mapped == squeezing:
                b.ends[-1] = i + 1
                continue
            if len(out) >= 2 and out[-1] == mapped and out[-2] == mapped:
                b.out.pop(), b.starts.pop(), b.ends.pop(), b.hard.pop()
                b.ends[-1] = i + 1
                squeezing = mapped
                continue
        squeezing = ""
        b.emit(mapped, i, i + 1)
    if spelling.pattern is not None:
        b = _respell(b, spelling)
    joined = "".join(b.out)
    last = len(joined) - 1
    breaks = tuple(
        k
        for k, c in enumerate(joined)
        if b.hard[k]
        or (
            c in _SENTENCE_END
            and not (c == "." and 0 < k < last and joined[k - 1].isdigit() and joined[k + 1].isdigit())
        )
    )
    return Normalised(joined, tuple(b.starts), tuple(b.ends), breaks)


def _respell(b: _Builder, spelling: Spelling) -> _Builder:
    assert spelling.pattern is not None
    table = dict(spelling.words)
    new = _Builder()
    at = 0
    for m in spelling.pattern.finditer("".join(b.out)):
        start, end = m.span()
        new.out += b.out[at:start]
        new.starts += b.starts[at:start]
        new.ends += b.ends[at:start]
        new.hard += b.hard[at:start]
        new.emit(table[m.group()], b.starts[start], b.ends[end - 1])
        at = end
    new.out += b.out[at:]
    new.starts += b.starts[at:]
    new.ends += b.ends[at:]
    new.hard += b.hard[at:]
    return new
