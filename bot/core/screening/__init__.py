"""The crisis screen: does a message speak of suicide, self-harm, hurting someone or abuse?

It runs on every piece of free text before anything else reads it, so it is pure and
quick (linear in the length of the message; `bench/screen.py` measures it).

Design, and why (see `dialogues/screening/README.md` for the content side):
- Rules first. Clinician-readable lexicons in YAML, one per language, compiled and
  checked like the dialogues (`lexicon.py`). A rule names the kind of danger and how
  clear it is. Rules are precise, explainable, and fixable by a content writer.
- Then a statistical layer that can only add. A small multinomial logistic regression
  over word and character n-grams (`classifier.py`), trained deterministically from the
  labelled corpus that ships in `dialogues/screening/corpus/`, catches phrasing no rule
  anticipated (the design of CMD-1: keywords, then a classifier). Rules always win: the
  model never clears a message a rule flagged, and it never changes a rule's kind.
- A graded answer. A clear signal interrupts with crisis lines; a worrying but unclear
  one ("what's the point of any of this") asks "are you safe right now?" first.
  A model hit is clear only when the model is very sure; otherwise it asks.
- Every language at once. A person in crisis may switch to their own language, and
  short texts defeat language detection, so every lexicon reads every message. Hence a
  lexicon claims only its own language's words: an English word in the German or
  Russian rules would fire on English history ("my uncle died by suicide") that the
  English rules know to leave alone, and the other way round ("sui" is Italian for "on
  the"); `tests/test_screen.py` holds each side to it.
- Quick on every message. Thousands of patterns are not tried one by one: each lexicon
  files the words its patterns need under their first 4 characters (`lexicon._Index`),
  and a message's own 4-grams pick out the few patterns worth running. Languages that
  read alike share one reading and one set of 4-grams.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.screening.classifier import Classifier
from bot.core.screening.lexicon import Hit, Lexicon, grams_of
from bot.core.screening.normalise import PLAIN_READING, fold, split
from bot.core.screening.signal import KIND_ORDER, CrisisKind, Level, Signal

__all__ = ["CrisisKind", "Level", "Screen", "Signal"]


@dataclass(frozen=True)
class Screen:
    lexicons: Mapping[str, Lexicon] = field(default_factory=dict)  # language -> rules
    classifier: Classifier | None = None

    def screen(self, text: str) -> Signal | None:
        """The most urgent signal in `text`, or None."""
        folded = fold(text)
        hits = self.rule_hits(folded)
        rule_signal = _most_urgent(hits)
        if rule_signal is not None and rule_signal.clear:
            return rule_signal
        model_signal = self._model(folded)
        if model_signal is None:
            return rule_signal
        if rule_signal is None:
            return model_signal
        # An unclear rule hit keeps its kind; a sure model can still make it clear.
        return Signal(rule_signal.kind, model_signal.level, rule_signal.source)

    def rule_hits(self, folded: str) -> list[Hit]:
        # Languages that read alike share the work: a prepared text is split into tokens
        # once, and each distinct reading's 4-grams are taken once.
        tokens: dict[str, list[str]] = {}
        grams: dict[str, frozenset[str]] = {}
        hits: list[Hit] = []
        for lexicon in self.lexicons.values():
            how = lexicon.reading
            prepared = how.prepare(folded)
            if prepared not in tokens:
                tokens[prepared] = split(prepared)
            text = how.spell(tokens[prepared])
            if text not in grams:
                grams[text] = grams_of(text)
            hits += lexicon.hits(text, grams[text])
        return hits

    def _model(self, folded: str) -> Signal | None:
        if self.classifier is None:
            return None
        guess = self.classifier.assess(PLAIN_READING.read(folded))
        if guess is None:
            return None
        kind, probability, level = guess
        return Signal(kind, level, f"model:{probability:.2f}")


def _most_urgent(hits: list[Hit]) -> Signal | None:
    # A rule that yields stands down when a kind it yields to was found at its level.
    found = {(h.kind, h.level) for h in hits}
    # Never all of them: a message that raised something always keeps a signal.
    hits = [h for h in hits if not any((k, h.level) in found for k in h.yields_to)] or hits
    if not hits:
        return None
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    best = min(hits, key=lambda h: (h.level is not Level.CLEAR, rank[h.kind]))
    return Signal(best.kind, best.level, f"rule:{best.rule}")
