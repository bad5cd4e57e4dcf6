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
   mark a space, runs of a letter three or more long become one ("dieeee"), emoji become
   tokens of their own (a run of one emoji counts once; skin tones are dropped), and the
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

# Pictographs (emoji, dingbats, arrows and signs people type as words) stay in the reading
# as tokens of their own: "😭🔪" alone is a message worth screening, not an empty one.
# Skin tones and emoji presentation selectors only restyle the one before them.
EMOJI = "\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
_RESTYLE = frozenset("\ufe0e\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")
_PICTOGRAPH = re.compile(f"[{EMOJI}]")
# Folding in one C-level pass: the plain forms, and nothing for what only hides or restyles.
_PLAIN_AND_DROP = {**_PLAIN, **dict.fromkeys(map(ord, _INVISIBLE | _RESTYLE))}
# Space on either side of an emoji that touches anything: two zero-width assertions, linear.
_PICTOGRAPH_EDGE = re.compile(f"(?<=[{EMOJI}])(?=\\S)|(?<=\\S)(?=[{EMOJI}])")
# One emoji repeated ("😭😭😭😭") says no more than one, like a stretched letter.
_REPEATED_PICTOGRAPH = re.compile(f"([{EMOJI}])(?: ?\\1)+")

_WORDISH = re.compile(r"[^\s.,!?;:()\[\]\"'/\\-]+")
# Three or more single letters in a row, each followed by one separator: "k i l l", "k.i.l.l".
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ .\-_]){2,}[^\W\d_](?![^\W\d_])")
_JOINER = re.compile(r"(?<=\w)[-_/](?=\w)")
_ELLIPSIS = re.compile(r"\.{2,}")  # "I want to... die" is one thought, not two sentences
_SENTENCE = re.compile(r"[.!?;\n\r\u2029\u2028]+")
_COMMA = re.compile(r",+")
_OTHER = re.compile(f"[^\\w.,{EMOJI}]+|_+")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")


_LATIN_LETTER = re.compile(r"[a-z]")
_OTHER_SCRIPT = re.compile(r"[\u0370-\u04ff]")
_CYR_TO_LAT_TABLE = str.maketrans(_CYR_TO_LAT)
_LAT_TO_CYR_TABLE = str.maketrans(_LAT_TO_CYR)


def _one_script(word: str) -> str:
    # Counted by regex and mapped by str.translate: a message of mixed words stays cheap.
    latin = len(_LATIN_LETTER.findall(word))
    cyrillic = len(_OTHER_SCRIPT.findall(word))
    if not latin or not cyrillic:
        return word
    return word.translate(_CYR_TO_LAT_TABLE if latin >= cyrillic else _LAT_TO_CYR_TABLE)


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


_MAY_BE_LEET = re.compile(r"[013457@$*]")


def _fold_token(word: str) -> str:
    # Cheap tests first: most words are in one script and hide no digits.
    if not word.isascii() and _LATIN_LETTER.search(word) and _OTHER_SCRIPT.search(word):
        word = _one_script(word)
    return _unleet(word) if _MAY_BE_LEET.search(word) else word


_MARKS = re.compile(
    r"[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_LOST_SHORT_I = "\u0438\u0306"  # и + breve: й, which must survive the stripping


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
    text = text.casefold().translate(_PLAIN_AND_DROP)
    text = _strip_marks(text)
    text = _SPACED.sub(_join_spaced, text)
    mixed = _LATIN_LETTER.search(text) is not None and _OTHER_SCRIPT.search(text) is not None
    if mixed or any(c in text for c in _LEET_CHARS):
        # Only words that may be in disguise pay, each distinct word once per message (kept
        # for this message only: no text of one message outlives its screening).
        memo: dict[str, str] = {}

        def fold_word(m: re.Match[str]) -> str:
            word = m.group(0)
            if word not in memo:
                memo[word] = _fold_token(word)
            return memo[word]

        text = _WORDISH.sub(fold_word, text)
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
        return self.spell(split(self.prepare(folded)))

    def prepare(self, folded: str) -> str:
        """The first steps of `read`: the language's rewrites and its apostrophes.

        Readings whose prepared texts are equal share the rest (`split`) up to spellings:
        `Screen` splits each distinct prepared text once."""
        text = _JOINER.sub(" ", folded)  # "un-alive", "self_harm": two words for the rewrites
        for rewrite, replacement in self.rewrites:
            if rewrite.needs is None or any(n in text for n in rewrite.needs):
                text = rewrite.pattern.sub(replacement, text)
        if "'" in text:
            text = text.replace("'", "" if self.drop_apostrophes else " ")
        return text

    def spell(self, tokens: list[str]) -> str:
        spellings = self.spellings
        if spellings and not spellings.keys().isdisjoint(tokens):  # a C-level test first
            tokens = [spellings.get(t, t) for t in tokens]
        return " ".join(tokens)


def split(prepared: str) -> list[str]:
    """The tokens of a prepared text: sentence marks, commas, other marks, runs, emoji."""
    text = _ELLIPSIS.sub(" ", prepared)
    text = _SENTENCE.sub(" . ", text)
    text = _COMMA.sub(" , ", text)
    text = _OTHER.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    if not text.isascii() and _PICTOGRAPH.search(text):
        text = _REPEATED_PICTOGRAPH.sub(r"\1", text)
        text = _PICTOGRAPH_EDGE.sub(" ", text)
    return text.split()


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
