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


_BREAK = re.compile(r"[!?;]|\.(?!\d)|(?<!\d)\.")  # not the dot in "6.30"


def normalise(text: str, spelling: Spelling = NO_SPELLING) -> Normalised:
    """Lower case, straight quotes, whitespace runs as one space, "sooo" read as "so"."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    hard: list[bool] = []  # a space that stands for a line break ends a sentence
    pending_space = -1  # where the whitespace run waiting to become one space began
    pending_newline = False
    squeezing = ""  # the letter of a run of three or more being read as one
    for i, ch in enumerate(text):
        if ch.isspace():
            if pending_space < 0:
                pending_space = i
            if ch in _LINE_BREAKS:
                pending_newline = True
            continue
        if ch < "\x80" and ch != "`":
            mapped = ch.lower()  # the common case; NFKC leaves ASCII alone
        elif ch in _INVISIBLE or unicodedata.combining(ch):
            continue
        elif ch in _APOSTROPHES:
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
        first = mapped[0]
        if pending_space >= 0:
            if out and first not in _TIGHT:
                out.append(" ")
                starts.append(pending_space)
                ends.append(pending_space + 1)
                hard.append(pending_newline)
            elif out and pending_newline:
                hard[-1] = True
            pending_space = -1
            pending_newline = False
            squeezing = ""
        elif out and out[-1] in _TIGHT and first.isalpha():
            out.append(" ")  # "sorry,but" reads as "sorry, but"
            starts.append(i)
            ends.append(i)
            hard.append(False)
        if len(mapped) == 1:
            if mapped == squeezing:
                ends[-1] = i + 1
                continue
            if len(out) >= 2 and out[-1] == mapped == out[-2] and mapped.isalpha():
                # a letter typed three or more times in a row is read once: "sooo" as "so"
                out.pop(), starts.pop(), ends.pop(), hard.pop()
                ends[-1] = i + 1
                squeezing = mapped
                continue
        squeezing = ""
        for c in mapped:
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
            hard.append(False)
    if spelling.pattern is not None:
        out, starts, ends, hard = _respell(out, starts, ends, hard, spelling)
    joined = "".join(out)
    breaks = {m.start() for m in _BREAK.finditer(joined)}
    breaks.update(k for k, h in enumerate(hard) if h)
    return Normalised(joined, tuple(starts), tuple(ends), tuple(sorted(breaks)))


def _respell(
    out: list[str], starts: list[int], ends: list[int], hard: list[bool], spelling: Spelling
) -> tuple[list[str], list[int], list[int], list[bool]]:
    assert spelling.pattern is not None
    table = dict(spelling.words)
    new_out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    new_hard: list[bool] = []
    at = 0
    for m in spelling.pattern.finditer("".join(out)):
        start, end = m.span()
        new_out += out[at:start]
        new_starts += starts[at:start]
        new_ends += ends[at:start]
        new_hard += hard[at:start]
        for c in table[m.group()]:
            new_out.append(c)
            new_starts.append(starts[start])
            new_ends.append(ends[end - 1])
            new_hard.append(False)
        at = end
    new_out += out[at:]
    new_starts += starts[at:]
    new_ends += ends[at:]
    new_hard += hard[at:]
    return new_out, new_starts, new_ends, new_hard
