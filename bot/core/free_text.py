"""Free text where the engine waits for it: settings parsed, answers checked, praised
or sent back with notes, and stored. The crisis screen has already run on it."""

from __future__ import annotations

import dataclasses
import html

from bot.core.checks import Finding
from bot.core.engine_names import (
    MAX_ANSWER_CHARS,
    VARIANTS,
)
from bot.core.model import (
    Node,
    NodeKind,
)
from bot.core.session import FLAGGED_SUFFIX, Position
from bot.core.setting_parsers import PARSERS, Parsed
from bot.core.turn import (
    ChangeSetting,
    SaveAnswer,
)
from bot.core.turn_builder import TurnBuilder
from bot.core.walk import (
    SUGGESTION_SEP,
    continue_after,
    idle,
    offer_revision,
    reshow,
)


def answer_text(b: TurnBuilder, raw: str) -> None:
    text = raw.strip()
    pos = b.session.position
    node = b.script.flows[pos.flow].nodes[pos.node] if pos else None
    if node is None or pos is None:
        idle(b, "idle_text")
        return
    if node.ask is None and node.or_type is not None:
        # Typing instead of tapping ("Lisbon" where the zone buttons are): the answer to
        # the question the buttons stand for.
        pos = dataclasses.replace(pos, node=node.or_type, draft=None)
        b.move(pos)
        node = b.script.flows[pos.flow].nodes[pos.node]
    if node.ask is None:
        b.say_string("use_buttons")
        reshow(b)
        return
    if not text:
        b.say_string("empty_answer")
        reshow(b)
        return
    if len(text) > MAX_ANSWER_CHARS:
        b.say_string("answer_too_long", {"limit.chars": str(MAX_ANSWER_CHARS)})
        reshow(b)
        return
    if node.ask.setting is not None:
        set_from_text(b, node, pos, node.ask.setting, text)
        return
    check = b.script.checks.get(node.ask.check) if node.ask.check else None
    if check is None:
        accept(b, node, pos, text)
        return
    verdict = check.verdict(text)
    if verdict.findings:
        _feedback(b, check.name, verdict.findings)
    elif verdict.thin:  # nothing wrong, nothing to praise yet: ask for a little more
        b.say_string(f"check.{check.name}.thin.{_variant(b, VARIANTS - 1)}")
    else:
        if verdict.strengths:  # praise what they wrote, in their words
            strength = verdict.strengths[0]
            key = f"check.{check.name}.praise.{strength.rule}.{_variant(b, VARIANTS)}"
            b.say_string(key, {"finding.quote": strength.quote})
        accept(b, node, pos, text)
        return
    b.move(dataclasses.replace(pos, draft=text))
    offer_revision(b, pos)


def _variant(b: TurnBuilder, count: int) -> int:
    """Which wording to use: it moves on with every answer, so one conversation does not
    hear the same sentence twice in a row, and stays pure (no randomness)."""
    return len(b.session.answers) % count + 1


def set_from_text(b: TurnBuilder, node: Node, pos: Position, setting: str, text: str) -> None:
    result = PARSERS[setting](text, b.now, b.script.places, b.script.parse_words)
    if isinstance(result, Parsed):
        b.effect(ChangeSetting(result.setting, result.value))
        continue_after(b, node, pos.stack)
        return
    suggestions = ", ".join(html.escape(s) for s in result.suggestions)
    b.say_string(f"parse.{setting}", {"parse.suggestions": suggestions})
    # Each suggestion is a button too, remembered with the place until one is tapped.
    held = dataclasses.replace(pos, draft=SUGGESTION_SEP.join(result.suggestions) or None)
    b.move(held)
    reshow(b)


def suggestion(pos: Position, token: str) -> str | None:
    """The suggestion a "did you mean" button stands for (tokens s0, s1, ...)."""
    if not (token.startswith("s") and token[1:].isdigit() and pos.draft):
        return None
    options = pos.draft.split(SUGGESTION_SEP)
    index = int(token[1:])
    return options[index] if index < len(options) else None


def _feedback(b: TurnBuilder, check: str, findings: tuple[Finding, ...]) -> None:
    seen: set[str] = set()
    for finding in findings:
        if finding.rule in seen:
            continue  # one note per kind of slip is plenty on a phone screen
        seen.add(finding.rule)
        b.say_string(f"check.{check}.{finding.rule}", {"finding.quote": finding.quote})


def not_text(b: TurnBuilder, edited: bool) -> None:
    pos = b.session.position
    node = b.script.flows[pos.flow].nodes[pos.node] if pos else None
    asking = node is not None and node.kind is NodeKind.ASK
    b.say_string("edited_note" if edited else "text_only" if asking else "not_text")
    reshow(b)


def accept(b: TurnBuilder, node: Node, pos: Position, text: str, *, flagged: bool = False) -> None:
    """Store an answer. One a check had notes on is marked, so that it is never quoted
    back later as the person's line (a pocket card shows its fallback instead)."""
    assert node.ask is not None
    b.effect(SaveAnswer(node.ask.save, text))
    mark = node.ask.save + FLAGGED_SUFFIX
    if flagged:
        b.effect(SaveAnswer(mark, "1"))
    elif b.session.answers.get(mark):
        b.effect(SaveAnswer(mark, ""))
    continue_after(b, node, pos.stack)
