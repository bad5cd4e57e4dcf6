"""The one reading every crisis matcher sees: what a message says, not how it was typed.

People in distress type fast, on a phone, in any script. Before any rule or the
classifier looks at a message it is folded, in linear time, into a plain reading:

1. `fold`: Unicode NFKC; invisible characters dropped; case folded; curly quotes and
   dashes made plain; accents and other combining marks dropped from Latin letters
   (Cyrillic keeps й, and ё becomes е); words that mix Latin and Cyrillic look-alikes
   made one script (the majority's); digits and symbols used as letters inside a word
   ("k1ll", "$uicide", "d*e") read as the letters they stand for; letters spaced out one
   by one ("k i l l") joined again. Punctuation is kept for the next step.
2. `read` (per language): the language's own rewrites (contractions, in English) run on
   the folded text; then sentence punctuation becomes " . ", commas " , ", every other
   mark a space, runs of a letter three or more long become one ("dieeee"), and the
   language's spellings (chat shorthand, common misspellings) replace whole tokens.

Every step is a single pass or a regex without nested repeats, so the cost grows
linearly with the length of the message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c"
    "\u206d\u206e\u206f\u3164\ufeff\uffa0"
)
_PLAIN = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u02bc": "'", "\u02bb": "'", "\u00b4": "'", "`": "'", "\uff07": "'", "\u02b9": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"',
        "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
        "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u00df": "ss",
        "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o", "\u0142": "l", "\u0111": "d",
        "\u0451": "\u0435",  # ё -> е
    }
)  # fmt: skip

# Look-alikes, both ways. Only words that mix the two scripts are folded.
_CYR_TO_LAT = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ɡ": "g", "α": "a", "ο": "o", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x",
}  # fmt: skip
_LAT_TO_CYR = {
    "a": "а", "b": "в", "e": "е", "k": "к", "m": "м", "h": "н", "o": "о", "p": "р",
    "c": "с", "t": "т", "y": "у", "x": "х", "i": "і",
}  # fmt: skip
# Digits and symbols that stand for letters inside a word.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "*": "i"}
_LEET_CHARS = frozenset(_LEET)

_WORDISH = re.compile(r"[^\s.,!?;:()\[\]\"'/\\-]+")
# Three or more single letters in a row, each followed by one separator: "k i l l", "k.i.l.l".
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ .\-_]){2,}[^\W\d_](?![^\W\d_])")
_JOINER = re.compile(r"(?<=\w)[-_/](?=\w)")
_ELLIPSIS = re.compile(r"\.{2,}")  # "I want to... die" is one thought, not two sentences
_SENTENCE = re.compile(r"[.!?;\n\r\u2029\u2028]+")
_COMMA = re.compile(r",+")
_OTHER = re.compile(r"[^\w.,]+|_+")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")


def _script(ch: str) -> str:
    if "a" <= ch <= "z":
        return "latin"
    if "\u0400" <= ch <= "\u04ff" or "\u0370" <= ch <= "\u03ff":
        return "cyrillic"
    return "other"


def _one_script(word: str) -> str:
    latin = sum(1 for c in word if _script(c) == "latin")
    cyrillic = sum(1 for c in word if _script(c) == "cyrillic")
    if not latin or not cyrillic:
        return word
    table = _CYR_TO_LAT if latin >= cyrillic else _LAT_TO_CYR
    return "".join(table.get(c, c) for c in word)


_NUMBER_WITH_UNIT = re.compile(r"\d+[^\W\d_]+")  # "10pm", "24th", "3am", "90s"


def _unleet(word: str) -> str:
    letters = sum(1 for c in word if c.isalpha())
    if letters < 2 or not any(c in _LEET_CHARS for c in word) or word[0] == "@":
        return word
    if _NUMBER_WITH_UNIT.fullmatch(word):
        return word
    out: list[str] = []
    last = len(word) - 1
    for i, c in enumerate(word):
        if c.isdigit() and c in _LEET:
            out.append(_LEET[c])
        elif c in "*@$" and 0 < i < last and word[i - 1].isalnum() and word[i + 1].isalnum():
            out.append(_LEET[c])  # inside a word only: "**bold**" stays markup
        elif c == "$" and i == 0:
            out.append("s")
        else:
            out.append(c)
    return "".join(out)


def _fold_word(m: re.Match[str]) -> str:
    return _unleet(_one_script(m.group(0)))


_MARKS = re.compile(
    r"[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_LOST_SHORT_I = "\u0438\u0306"  # и + breve: й, which must survive the stripping
_LATIN_LETTER = re.compile(r"[a-z]")
_OTHER_SCRIPT = re.compile(r"[\u0370-\u04ff]")


def _strip_marks(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text).replace(_LOST_SHORT_I, "\u0439")
    return unicodedata.normalize("NFC", _MARKS.sub("", decomposed))


def _join_spaced(m: re.Match[str]) -> str:
    return m.group(0)[::2]


def fold(text: str) -> str:
    """Step 1: one script, no accents, no disguises; punctuation still in place."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if c not in _INVISIBLE).casefold().translate(_PLAIN)
    text = _strip_marks(text)
    text = _SPACED.sub(_join_spaced, text)
    mixed = _LATIN_LETTER.search(text) is not None and _OTHER_SCRIPT.search(text) is not None
    if mixed or any(c in text for c in _LEET_CHARS):
        text = _WORDISH.sub(_fold_word, text)  # only words that may be in disguise pay
    return text


class Rewrite(Protocol):
    """A pattern with the texts one of which any match contains (see lexicon.Part)."""

    @property
    def needs(self) -> frozenset[str] | None: ...

    @property
    def pattern(self) -> re.Pattern[str]: ...


@dataclass(frozen=True)
class Reading:
    """How one language reads folded text: its rewrites, then its spellings."""

    rewrites: tuple[tuple[Rewrite, str], ...] = ()
    spellings: Mapping[str, str] = field(default_factory=dict)
    drop_apostrophes: bool = False  # English glues "partner's" back; others split "l'arme"

    def read(self, folded: str) -> str:
        text = _JOINER.sub(" ", folded)  # "un-alive", "self_harm": two words for the rewrites
        for rewrite, replacement in self.rewrites:
            if rewrite.needs is None or any(n in text for n in rewrite.needs):
                text = rewrite.pattern.sub(replacement, text)
        text = text.replace("'", "" if self.drop_apostrophes else " ")
        text = _ELLIPSIS.sub(" ", text)
        text = _SENTENCE.sub(" . ", text)
        text = _COMMA.sub(" , ", text)
        text = _OTHER.sub(" ", text)
        text = _REPEATS.sub(r"\1", text)
        tokens = text.split()
        if self.spellings:
            spellings = self.spellings
            tokens = [spellings.get(t, t) for t in tokens]
        return " ".join(tokens)


PLAIN_READING = Reading()


def reading(text: str, how: Reading = PLAIN_READING) -> str:
    return how.read(fold(text))


def sentences(read_text: str) -> Sequence[str]:
    """The clauses of a reading, for the classifier's windows."""
    return [s.strip() for s in read_text.split(" . ") if s.strip(" .,")]


def one_edit_away(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion from `word`."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    return out
