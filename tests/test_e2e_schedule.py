"""Scheduled things end to end through the fake Bot API, with a clock the test moves.

The clock is passed through the composition root (`build_application(..., clock)`);
the dispatcher is the one `make run` starts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.fakebot import FakeBotApi
from tests.harness import FakeClock, running_bot, seed_person

START = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


async def test_a_checkin_a_minute_away_arrives_once_and_is_answered_with_a_tap(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "m.sqlite3"
    clock = FakeClock(START)
    await seed_person(db, 201, START, checkin_time="18:01", discreet=True)
    async with running_bot(fake, db, clock=clock, dispatch_interval=0.05):
        user = fake.user(201)
        user.mark()
        await user.wait_reply(0, settle=0.3)
        assert user.messages() == []  # not yet due
        clock.advance(minutes=1, seconds=5)
        [note] = await user.wait_reply(1, settle=0.5)
        assert note.text == "You have a check-in waiting. Tap to open it."
        await user.press(note, "Open")
        [question] = await user.wait_reply(1)
        assert question.text == "How did today go?"
        await user.press(question, "Steady")
        replies = await user.wait_reply(2)
        assert "Steady days" in (replies[0].text or "")
        clock.advance(minutes=30)
        await user.wait_reply(2, settle=0.5)
        notes = [m for m in user.messages() if m.text == note.text]
        assert len(notes) == 1  # exactly one check-in for the day


async def test_prepare_in_the_middle_of_a_flow_then_the_debrief_arrives(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "m.sqlite3"
    clock = FakeClock(START)
    await seed_person(db, 202, START, checkins=False, discreet=False)
    async with running_bot(fake, db, clock=clock, dispatch_interval=0.05):
        user = fake.user(202)
        await user.send_command("/menu")
        replies = await user.wait_reply(1, settle=0.2)
        await user.press(replies[-1], "All practices")
        [practices] = await user.wait_reply(1)
        await user.press(practices, "1. Listen without defending")
        replies = await user.wait_reply(1, settle=0.2)
        assert replies[-1].buttons  # mid-flow, waiting for a tap
        await user.send_command("/prepare")
        taps = 0
        for label in ("Now", "Listen to their pain", "Got it", "No need", "In 30 min"):
            replies = await user.wait_reply(1, settle=0.2)
            await user.press(replies[-1], label)
            taps += 1
        replies = await user.wait_reply(1, settle=0.3)
        assert taps <= 6
        assert replies[-1].button_labels == ["Go back to it", "Leave it for now"]
        await user.press(replies[-1], "Go back to it")
        await user.wait_reply(1, settle=0.2)
        clock.advance(minutes=31)
        debrief = await user.wait_for(lambda m: "How did it go?" in (m.text or ""), timeout=5)
        assert "It went well" in debrief.button_labels
