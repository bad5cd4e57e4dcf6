"""An answer a text check had notes on, kept anyway, is stored but never shown back as
the person's line: not on the pocket card, not as "your reflect-back line"."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.events import SendText, StartFlow
from bot.core.session import Session
from bot.core.turn import SaveAnswer, SaveJournal
from tests.harness import real_script
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()
INVALIDATING = "You shouldn't feel that way, you're overreacting about the texts"
GOOD = "What I'm hearing is that you feel humiliated and alone, is that right?"


def at_reflect_ask(p: Person | None = None) -> Person:
    """Walk `listen` (from its start) to the question that asks for a reflect-back."""
    p = p or Person(SCRIPT, Session(completed=frozenset({"onboarding"}), started_at=NOW))
    p.send(StartFlow("listen"))
    for _ in range(40):
        if p.at() == ("listen", "reflect_ask"):
            return p
        pos = p.session.position
        assert pos is not None, p.text()
        if SCRIPT.flows[pos.flow].nodes[pos.node].ask is not None:
            p.send(SendText("Tell me more, I'm listening."))
            if "Keep this version" in p.labels():
                p.tap("Keep this version")
        else:
            p.tap(p.labels()[0])
    raise AssertionError(f"never reached reflect_ask; at {p.at()}")


def pocket_card_text(p: Person) -> str:
    p.send(StartFlow("prepare"))
    p.tap("Now")
    p.tap("Listen to their pain")
    texts = [p.text()]
    for _ in range(6):
        if "Pocket card" in p.text():
            break
        p.tap(p.labels()[0])
        texts.append(p.text())
    return "\n".join(texts)


def test_a_kept_flagged_reflect_back_is_stored_but_never_shown_back() -> None:
    p = at_reflect_ask()
    p.send(SendText(INVALIDATING))
    assert "Keep this version" in p.labels(), p.text()  # the validation check had notes
    turn = p.tap("Keep this version")
    assert SaveAnswer("listen.reflect", INVALIDATING) in turn.effects
    assert SaveAnswer("listen.reflect.flagged", "1") in turn.effects
    assert not any(isinstance(e, SaveJournal) for e in turn.effects)
    assert INVALIDATING not in p.text() and "won't put it on your pocket card" in p.text()
    card = pocket_card_text(p)
    assert INVALIDATING not in card
    assert "Your reflect-back line" not in card


def test_a_good_reflect_back_is_shown_back_on_the_pocket_card() -> None:
    p = at_reflect_ask()
    p.send(SendText(GOOD))
    assert "Keep this version" not in p.labels(), p.text()
    assert "Keep this one" in p.text()
    card = pocket_card_text(p)
    assert GOOD.replace("'", "&#x27;") in card or GOOD in card


def test_rewriting_after_a_kept_flag_clears_the_mark() -> None:
    p = at_reflect_ask()
    p.send(SendText(INVALIDATING))
    p.tap("Keep this version")
    at_reflect_ask(p)
    turn = p.send(SendText(GOOD))
    assert SaveAnswer("listen.reflect.flagged", "") in turn.effects
    assert GOOD in pocket_card_text(p)
