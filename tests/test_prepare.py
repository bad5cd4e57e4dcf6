"""The talk preparation, the moment-of-hurt card and the debrief, walked with the real engine."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.events import SendText, StartFlow, Timer
from bot.core.session import Position, Promise, Session
from bot.core.turn import RecordCommitment, ScheduleFollowUp
from tests.harness import real_script
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()
ONBOARDED = Session(completed=frozenset({"onboarding"}), started_at=NOW)
AIMS = [
    "Listen to their pain",
    "Apologise",
    "Talk about how we got here",
    "Agree something concrete",
    "They asked to talk, not sure why",
]
TIMINGS = {
    "In 30 min": timedelta(minutes=30),
    "In 1 hour": timedelta(hours=1),
    "In 2 hours": timedelta(hours=2),
    "Tonight": timedelta(hours=5),
    "Tomorrow morning": timedelta(hours=14),
    "No follow-up": None,
}


def tap_through_to(person: Person, label: str, limit: int = 6) -> None:
    """Tap the first button ("Got it", "No need"…) until `label` is offered."""
    for _ in range(limit):
        if label in person.labels():
            return
        person.tap(person.labels()[0])
    raise AssertionError(f"{label!r} never offered; last: {person.labels()}")


@pytest.mark.parametrize("aim", AIMS)
@pytest.mark.parametrize("timing", list(TIMINGS))
def test_every_aim_and_timing_the_now_path_is_short(aim: str, timing: str) -> None:
    p = Person(SCRIPT, ONBOARDED)
    p.send(StartFlow("prepare"))
    p.tap("Now")
    p.tap(aim)
    tap_through_to(p, "No need")
    assert "Pocket card" in p.text()
    p.tap("No need")
    turn = p.tap(timing)
    assert p.taps <= 6
    follow_ups = [e for e in turn.effects if isinstance(e, ScheduleFollowUp)]
    expected = TIMINGS[timing]
    if expected is None:
        assert follow_ups == []
    else:
        assert follow_ups == [ScheduleFollowUp("debrief", NOW + expected)]
    assert p.session.position is None


def test_the_breathing_is_timed_by_the_bot_and_skippable() -> None:
    p = Person(SCRIPT, ONBOARDED)
    p.send(StartFlow("prepare"))
    p.tap("Within the hour")
    turn = p.tap("Breathe with me (1 min)")
    timer = next(e for e in turn.effects if isinstance(e, ScheduleFollowUp))
    assert timer.flow == "breathing" and timer.node and timer.due_at == NOW + timedelta(seconds=10)
    seen = []
    for _ in range(3):  # the bot moves on by itself when each pause has run its time
        pos = p.session.position
        assert pos is not None and pos.flow == "breathing"
        seen.append(pos.node)
        p.send(Timer(pos.flow, pos.node))
    assert len(set(seen)) == 3
    p.tap("Skip the breathing")
    pos = p.session.position
    assert pos is not None and pos.flow == "prepare"  # back in the preparation
    # A timer that fires after the skip changes nothing.
    late = p.send(Timer("breathing", seen[-1]))
    assert late.messages == () and late.session.position == pos


def test_the_pocket_card_carries_the_persons_own_words_when_there_are_some() -> None:
    own = "What I'm hearing is that you felt invisible for months. Is that right?"
    with_words = Person(
        SCRIPT, Session(completed=frozenset({"onboarding"}), answers={"listen.reflect": own})
    )
    without = Person(SCRIPT, ONBOARDED)
    for p in (with_words, without):
        p.send(StartFlow("prepare"))
        p.tap("Now")
        p.tap("Listen to their pain")
        tap_through_to(p, "No need")
    assert "you felt invisible for months" in with_words.text()
    assert "What I'm hearing is… is that right?" in without.text()


def test_the_card_can_be_pinned() -> None:
    p = Person(SCRIPT, ONBOARDED)
    p.send(StartFlow("prepare"))
    p.tap("Now")
    p.tap("Apologise")
    tap_through_to(p, "Pin this card")
    turn = p.tap("Pin this card")
    pinned = [m for m in turn.messages if m.pin]
    assert len(pinned) == 1 and "Pocket card" in pinned[0].text


def test_prepare_from_the_middle_of_an_exercise_can_go_back_or_leave_it() -> None:
    p = Person(SCRIPT, ONBOARDED)
    p.send(StartFlow("listen"))
    middle = p.session.position
    assert middle is not None
    p.send(StartFlow("prepare"))
    assert p.session.suspended == middle
    p.tap("Now")
    p.tap("Agree something concrete")
    tap_through_to(p, "No need")
    p.tap("No need")
    p.tap("No follow-up")
    assert p.labels() == ["Go back to it", "Leave it for now"]
    p.tap("Go back to it")
    assert p.session.position == middle
    p.send(StartFlow("prepare"))
    p.tap("Now")
    p.tap("Agree something concrete")
    tap_through_to(p, "No need")
    p.tap("No need")
    p.tap("No follow-up")
    p.tap("Leave it for now")
    assert p.session.position is None and p.session.suspended is None


def test_the_debrief_captures_a_promise_into_the_ledger() -> None:
    p = Person(SCRIPT, ONBOARDED)
    p.send(StartFlow("debrief"))
    p.tap("It went well")
    tap_through_to(p, "I promised something", limit=8)
    while "I promised something" not in p.labels():
        p.send(SendText("They told me the lies hurt more than the affair."))
    p.tap("I promised something")
    p.send(SendText("Phone stays on the table, face up"))
    turn = p.send(SendText("every evening"))
    assert RecordCommitment("Phone stays on the table, face up", "every evening") in turn.effects


def test_the_moment_of_hurt_card_is_one_message_and_one_tap() -> None:
    p = Person(SCRIPT, ONBOARDED)
    turn = p.send(StartFlow("hurting_now"))
    card = turn.messages[0].text.lower()
    assert all(word in card for word in ("listen", "don't defend", "validate"))
    turn = p.tap("Done — check in with me in an hour")
    assert ScheduleFollowUp("debrief", NOW + timedelta(hours=1)) in turn.effects
    assert p.taps == 1


def test_hurting_now_interrupts_and_offers_the_way_back() -> None:
    p = Person(SCRIPT, ONBOARDED)
    p.send(StartFlow("apology"))
    middle = p.session.position
    p.send(StartFlow("hurting_now"))
    p.tap("Done — no check-in")
    assert p.labels() == ["Go back to it", "Leave it for now"]
    p.tap("Go back to it")
    assert p.session.position == middle
    assert isinstance(middle, Position)


def test_the_checkin_thought_does_not_come_back_within_two_weeks() -> None:
    thoughts = SCRIPT.libraries["thoughts"]
    assert len(thoughts) >= 15
    shown = []
    for day in range(28):
        with_promise = dataclasses.replace(ONBOARDED, promises=(Promise(1, "Home by seven"),))
        p = Person(SCRIPT, with_promise, now=NOW + timedelta(days=day))
        p.send(StartFlow("checkin"))
        p.tap("Steady")
        p.tap("☐ Home by seven")
        p.tap("That's all")
        text = p.text()
        shown.append(next(t for t in thoughts if t in text))
    for i in range(len(shown)):
        assert shown[i] not in shown[i + 1 : i + 14], f"day {i} comes back within two weeks"
