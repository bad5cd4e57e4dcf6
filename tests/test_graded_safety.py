"""The graded safety response, end to end through the fake Bot API and in the engine.

A clear signal interrupts with crisis lines; an unclear one asks "are you safe right
now?" first: "I'm safe" carries on with the exercise (and the words that were held),
"not sure" or "not safe" lead to the lines. After a crisis card, "Leave it for now"
is a warm exit that repeats the lines, and "Check on me tomorrow" plans one gentle
follow-up, only when asked for.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.events import Due, SendText, StartFlow
from bot.core.screening import CrisisKind, Level, Signal
from bot.core.session import Session, Settings
from bot.core.turn import FlagCrisis, SaveAnswer, ScheduleFollowUp
from bot.store.sqlite import SqliteStore
from tests.fakebot import FakeBotApi
from tests.harness import FakeClock, onboard, real_script, running_bot, tap
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()
UNCLEAR = "honestly what is the point of any of this"
CLEAR = "I am going to kill myself tonight"


def test_the_two_sample_texts_are_graded_as_this_file_expects() -> None:
    unclear, clear = SCRIPT.screen.screen(UNCLEAR), SCRIPT.screen.screen(CLEAR)
    assert unclear is not None and unclear.level is Level.UNCLEAR
    assert clear is not None and clear.level is Level.CLEAR


def in_listen() -> Person:
    p = Person(SCRIPT, Session(completed=frozenset({"onboarding"}), started_at=NOW))
    p.send(StartFlow("listen"))
    for _ in range(12):
        pos = p.session.position
        if pos is not None and SCRIPT.flows[pos.flow].nodes[pos.node].ask is not None:
            return p
        p.tap(p.labels()[0])
    raise AssertionError("listen never asked for text")


def test_unclear_asks_first_and_safe_carries_on_with_the_held_words() -> None:
    p = in_listen()
    turn = p.send(SendText(UNCLEAR))
    assert "Are you safe right now?" in p.text()
    assert p.labels() == ["I'm safe", "I'm not sure", "I'm not safe"]
    assert not any(isinstance(e, FlagCrisis | SaveAnswer) for e in turn.effects)
    assert p.session.position is not None and p.session.position.held == UNCLEAR
    turn = p.tap("I'm safe")
    assert "Thank you for telling me" in p.text()
    # The exercise goes on as if the words had been sent: taken as the answer, or held
    # as a draft the text check has a note on; either way they are not lost.
    saved = any(isinstance(e, SaveAnswer) and e.value == UNCLEAR for e in turn.effects)
    position = p.session.position
    assert saved or (position is not None and position.draft == UNCLEAR)
    assert position is None or position.held is None
    assert not any(isinstance(e, FlagCrisis) for e in turn.effects)


@pytest.mark.parametrize("answer", ["I'm not sure", "I'm not safe"])
def test_unclear_then_not_safe_shows_the_lines_and_drops_the_words(answer: str) -> None:
    p = in_listen()
    asking = p.session.position
    p.send(SendText(UNCLEAR))
    turn = p.tap(answer)
    assert FlagCrisis("suicide") in turn.effects
    assert not any(isinstance(e, SaveAnswer) for e in turn.effects)
    assert "findahelpline.com" in p.text()
    assert p.session.suspended is not None and p.session.suspended.held is None
    assert (p.session.suspended.flow, p.session.suspended.node) == (asking.flow, asking.node)  # type: ignore[union-attr]
    assert p.labels() == ["Go back to it", "Leave it for now", "Check on me tomorrow"]


def test_leave_it_for_now_is_warm_and_repeats_the_lines() -> None:
    p = in_listen()
    p.send(SendText(CLEAR))
    p.tap("Leave it for now")
    text = p.text()
    assert "findahelpline.com" in text and "come back whenever" in text
    assert p.session.suspended is None
    assert p.labels() == ["☰ Menu"]


def test_check_on_me_tomorrow_plans_one_gentle_follow_up() -> None:
    p = in_listen()
    turn = p.send(SendText(CLEAR))
    assert not any(isinstance(e, ScheduleFollowUp) for e in turn.effects)  # only if asked
    turn = p.tap("Check on me tomorrow")
    planned = [e for e in turn.effects if isinstance(e, ScheduleFollowUp)]
    assert [(e.flow, e.due_at) for e in planned] == [("safety_followup", NOW + timedelta(days=1))]
    assert p.labels() == ["Go back to it", "Leave it for now"]
    follow = Person(SCRIPT, p.session, NOW + timedelta(days=1))
    follow.send(Due("safety_followup"))
    if "Open" in follow.labels():  # discreet mode: the notification says nothing personal
        follow.tap("Open")
    assert "How are you doing today?" in follow.text()
    follow.tap("Still hard")
    assert "findahelpline.com" in follow.text()


def test_a_model_hit_of_kind_x_shows_lines_for_x(monkeypatch: pytest.MonkeyPatch) -> None:
    p = in_listen()
    p.session = dataclasses.replace(p.session, settings=Settings(country="GB"))
    signal = Signal(CrisisKind.ABUSE, Level.CLEAR, "model:0.99")
    monkeypatch.setattr(type(SCRIPT.screen), "screen", lambda self, text: signal)
    p.send(SendText("whatever the model saw"))
    text = p.text()
    assert FlagCrisis("abuse") in (p.turn.effects if p.turn else ())
    assert text.index("Domestic Abuse") < text.index("Samaritans")  # abuse lines come first


async def test_graded_response_end_to_end(fake: FakeBotApi, db: Path) -> None:
    clock = FakeClock(NOW)
    async with running_bot(fake, db, clock=clock):
        user = fake.user(301)
        await onboard(user)
        await tap(user, "☰ Menu")
        await user.wait_for(lambda m: "What would you like to do?" in (m.text or ""))
        # Unclear: the question, then "I'm safe" returns to where the person was.
        await user.send_text(UNCLEAR)
        await user.wait_for(lambda m: "Are you safe right now?" in (m.text or ""))
        await tap(user, "I'm safe")
        await user.wait_for(lambda m: "Thank you for telling me" in (m.text or ""))
        # Unclear again, "I'm not safe": the lines for the person's country.
        await user.send_text(UNCLEAR)
        await tap(user, "I'm not safe")
        lines = await user.wait_for(lambda m: "findahelpline.com" in (m.text or ""))
        assert lines.button_labels == ["☰ Menu", "Check on me tomorrow"]
        await tap(user, "Check on me tomorrow")
        await user.wait_for(lambda m: "Tomorrow I'll send you" in (m.text or ""))
        clock.advance(days=1, minutes=1)
        opened = await user.wait_for(lambda m: "Open" in m.button_labels, timeout=10)
        await user.press(opened, "Open")
        await user.wait_for(lambda m: "How are you doing today?" in (m.text or ""))
        # Clear: interrupts at once.
        await user.send_text(CLEAR)
        await user.wait_for(
            lambda m: "findahelpline.com" in (m.text or "") and m.message_id > lines.message_id
        )
    store = SqliteStore(db)
    await store.open()
    exported = await store.export_user(301)
    await store.close()
    flags = exported["crisis_flags"]
    assert isinstance(flags, list)
    kinds = [f["kind"] for f in flags]
    assert kinds == ["suicide", "suicide"]
    dumped = repr(exported)
    assert UNCLEAR not in dumped and CLEAR not in dumped  # the words themselves never kept
