"""The statistical layer of the crisis screen: pure inference over trained weights.

Two small logistic regressions over the same sparse features of the plain reading:
- `danger`: is this message about any kind of danger at all? (one weight a feature)
- `kind`: which kind, asked only when `danger` is high enough (a weight per kind).

Features are word unigrams and bigrams and character 3- to 5-grams inside words, so
that inflections, typos and languages the rules do not cover still share evidence.
Long messages are scored clause by clause (each clause with its neighbour), and the
highest score counts: danger in the middle of a long paragraph is not averaged away.

Training lives outside the core (`bot/screen_model.py`, scikit-learn); the weights it
produces are plain data handed in here, so this module stays pure and quick.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.screening.normalise import sentences
from bot.core.screening.signal import KINDS_BY_NAME, CrisisKind, Level

FEATURE_VERSION = 2  # bump when `features` or the reading changes: cached weights are retrained
CHAR_SIZES = (3, 4, 5)
MAX_WORD_FOR_CHARS = 24  # longer "words" are noise (links, keyboard mashing)


def features(reading: str) -> set[str]:
    """The sparse binary features of one plain reading."""
    words = [w for w in reading.split() if w not in {".", ","}]
    out: set[str] = {"w:" + w for w in words}
    out.update("b:" + a + " " + b for a, b in itertools.pairwise(words))
    for word in set(words):  # a word's letters once, however often it is repeated
        if len(word) <= MAX_WORD_FOR_CHARS:
            padded = f" {word} "
            for n in CHAR_SIZES:
                out.update("c:" + padded[j : j + n] for j in range(len(padded) - n + 1))
    return out


@dataclass(frozen=True)
class LinearModel:
    """Weights over features, scaled by 1/sqrt(number of features present)."""

    classes: tuple[str, ...]
    weights: Mapping[str, Sequence[float]]  # feature -> one weight per class
    intercept: Sequence[float]

    def scores(self, feats: Iterable[str]) -> list[float]:
        present = [self.weights[f] for f in feats if f in self.weights]
        total = list(self.intercept)
        if not present:
            return total
        scale = 1.0 / math.sqrt(len(present))
        for row in present:
            for k, w in enumerate(row):
                total[k] += w * scale
        return total


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@dataclass(frozen=True)
class Classifier:
    danger: LinearModel  # one class: the score of "some danger"
    kind: LinearModel  # one class per crisis kind
    unclear_at: float  # probability of danger from which the coach asks
    clear_at: float  # probability of danger from which it interrupts at once

    def probability(self, reading: str) -> float:
        """The highest probability of danger over the message and its clause windows."""
        return max(self._danger(w) for w in windows(reading))

    def assess(self, reading: str) -> tuple[CrisisKind, float, Level] | None:
        best_p, best_window = 0.0, reading
        for window in windows(reading):
            p = self._danger(window)
            if p > best_p:
                best_p, best_window = p, window
        if best_p < self.unclear_at:
            return None
        scores = self.kind.scores(features(best_window))
        name = self.kind.classes[max(range(len(scores)), key=scores.__getitem__)]
        level = Level.CLEAR if best_p >= self.clear_at else Level.UNCLEAR
        return KINDS_BY_NAME[name], best_p, level

    def _danger(self, reading: str) -> float:
        return _sigmoid(self.danger.scores(features(reading))[0])


MAX_WINDOW_WORDS = 60


def windows(reading: str) -> list[str]:
    """The whole message when short, and each clause joined with the next."""
    parts = sentences(reading)
    out = [reading] if len(reading.split()) <= MAX_WINDOW_WORDS or len(parts) <= 1 else []
    if len(parts) > 1:
        out += [" . ".join(parts[i : i + 2]) for i in range(len(parts) - 1)]
    return out or [reading]
