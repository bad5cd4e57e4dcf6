"""What the coach decides about the schedule, through the real engine, store and dispatcher.

The rule pinned here: at most one daily check-in per local date, by the dates of the zone
the person is in now. Moving from Los Angeles to Tokyo right after a check-in must not
bring a second one on the same Tokyo date (it did: the coach replanned by the old zone's
date of the last check-in, where the planner asks for its date in the new zone).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.core.events import Event, Hello, Press, SendText, StartFlow
from bot.core.planner import local_date, next_for, replan, replans
from bot.core.session import Session, Settings
from bot.core.turn import ChangeSetting, CompleteFlow, Effect, OutMessage, SaveAnswer, Turn
from bot.locks import UserLocks
from bot.schedule.dispatcher import Dispatcher, DispatchSettings
from bot.store import SqliteStore, Store
from tests.harness import FakeClock, real_script

USER = 42
# 20:00 in Los Angeles on 29 November is 04:00 UTC on the 30th, 13:00 in Tokyo on the 30th.
LA_CHECKIN = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
TOKYO = "Asia/Tokyo"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[datetime, OutMessage]] = []

    async def __call__(self, user_id: int, messages: tuple[OutMessage, ...]) -> None:
        self.sent += [(self.clock(), m) for m in messages]

    clock: FakeClock


@pytest.fixture
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store = SqliteStore(tmp_path / "mend.db")
    await s.open()
    yield s
    await s.close()


async def onboard_in_los_angeles(coach: Coach, store: Store, now: datetime) -> None:
    """A person who finished onboarding in Los Angeles, check-ins at 20:00."""
    from bot.core.engine import step

    session = await store.load(USER, now)
    turn = step(coach.script, session, Hello(), now)
    settings = dataclasses.replace(
        turn.session.settings, timezone="America/Los_Angeles", checkin_time="20:00"
    )
    effects = (
        ChangeSetting("timezone", settings.timezone),
        ChangeSetting("checkin_time", settings.checkin_time),
        CompleteFlow("onboarding"),
    )
    onboarded = dataclasses.replace(
        turn,
        effects=(*turn.effects, *effects),
        session=dataclasses.replace(turn.session, position=None, settings=settings),
    )
    assert await store.commit(
        USER, onboarded, now, next_checkin=next_for(onboarded.session.settings, now, None)
    )


async def say(coach: Coach, event: Event) -> Turn:
    turn = await coach.handle(USER, event)
    assert turn is not None
    return turn


async def tap(coach: Coach, turn: Turn, label: str) -> Turn:
    for message in turn.messages:
        for button in message.buttons:
            if button.label == label:
                return await say(coach, Press(button.data))
    labels = [b.label for m in turn.messages for b in m.buttons]
    raise AssertionError(f"no button {label!r} in {labels}")


async def move_to_tokyo(coach: Coach) -> None:
    """Through /settings, as the person would: Time zone, then type the city at the
    shortcuts (typing is an answer there)."""
    await tap(coach, await say(coach, StartFlow("settings")), "Time zone")
    turn = await say(coach, SendText("Tokyo"))
    assert ChangeSetting("timezone", TOKYO) in turn.effects


async def test_moving_east_right_after_a_checkin_brings_no_second_one_that_local_day(
    store: Store,
) -> None:
    clock = FakeClock(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))
    coach = Coach(real_script(), store, clock)
    outbox = Outbox()
    outbox.clock = clock
    dispatcher = Dispatcher(coach, store, outbox, UserLocks(), None, DispatchSettings())
    await onboard_in_los_angeles(coach, store, clock())

    clock.now = LA_CHECKIN.replace(minute=1)
    assert await dispatcher.run_once() == 1  # Los Angeles, 29 Nov 20:01
    assert len(outbox.sent) == 1

    clock.advance(minutes=5)  # Tokyo, 30 Nov 13:06: the person has just flown in
    await move_to_tokyo(coach)

    # Tokyo, from then to the end of 30 November: that date had its check-in already.
    for _ in range(130):  # to 23:56
        clock.advance(minutes=5)
        await dispatcher.run_once()
    assert local_date(clock(), TOKYO) == date(2026, 11, 30)
    tokyo_days = [local_date(at, TOKYO) for at, _ in outbox.sent]
    assert tokyo_days == [date(2026, 11, 30)], tokyo_days

    # The next Tokyo date brings one, at 20:00 Tokyo time.
    clock.now = datetime(2026, 12, 1, 11, 1, tzinfo=UTC)  # 1 Dec 20:01 in Tokyo
    assert await dispatcher.run_once() == 1
    assert [local_date(at, TOKYO) for at, _ in outbox.sent] == [
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]


async def test_a_schedule_setting_replans_a_plain_turn_does_not(store: Store) -> None:
    clock = FakeClock(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))
    coach = Coach(real_script(), store, clock)
    await onboard_in_los_angeles(coach, store, clock())
    state = await store.checkin_state(USER)
    assert state is not None and state.settings.timezone == "America/Los_Angeles"
    await say(coach, StartFlow("help"))  # touches nothing about the schedule
    due = await store.claim_due(LA_CHECKIN, 10, reclaim_after=timedelta(minutes=5))
    assert [i.user_id for i in due] == [USER]  # still planned, as onboarding left it


# The decisions themselves, in the core: pure, no store.

SENT_IN_LA = LA_CHECKIN.replace(minute=1)  # 29 Nov in Los Angeles, 30 Nov in Tokyo


def test_replan_counts_the_last_checkin_by_the_new_zones_date() -> None:
    tokyo = Settings(timezone=TOKYO, checkin_time="20:00")
    after = SENT_IN_LA.replace(minute=6)
    # Its Tokyo date (30 Nov) had one: the next is on 1 Dec, 20:00 Tokyo (11:00 UTC).
    assert replan(tokyo, after, SENT_IN_LA, date(2026, 11, 29)) == datetime(
        2026, 12, 1, 11, 0, tzinfo=UTC
    )
    # Without the instant (rows from before it was kept) the stored date is all there is.
    assert replan(tokyo, after, None, date(2026, 11, 29)) == datetime(
        2026, 11, 30, 11, 0, tzinfo=UTC
    )


def test_moving_west_keeps_one_per_date_too() -> None:
    # Sent 20:01 on 30 Nov in Tokyo, which is 03:01 on 30 Nov in Los Angeles.
    sent = datetime(2026, 11, 30, 11, 1, tzinfo=UTC)
    la = Settings(timezone="America/Los_Angeles", checkin_time="20:00")
    assert replan(la, sent.replace(minute=6), sent, date(2026, 11, 30)) == datetime(
        2026, 12, 2, 4, 0, tzinfo=UTC
    )  # 1 Dec 20:00 in Los Angeles; 30 Nov there already had its check-in


def test_which_turns_replan() -> None:
    def turn(*effects: Effect) -> Turn:
        return Turn((), effects, Session())

    assert replans(turn(ChangeSetting("timezone", TOKYO)), real_script())
    assert replans(turn(ChangeSetting("paused_until", "")), real_script())
    assert replans(turn(CompleteFlow("onboarding")), real_script())  # the first plan
    assert not replans(turn(ChangeSetting("discreet", True)), real_script())
    assert not replans(turn(CompleteFlow("checkin"), SaveAnswer("a", "b")), real_script())
    assert not replans(turn(), real_script())


def test_the_coach_names_no_flow_and_inspects_no_effect() -> None:
    source = Path(__file__).resolve().parent.parent / "bot" / "coach.py"
    tree = ast.parse(source.read_text())
    flows = set(real_script().flows)
    literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert literals & flows == set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "isinstance" not in names
    assert "NOT_REPLANNED" not in names


def test_blocked_is_one_class_for_the_telegram_sender_and_the_dispatcher() -> None:
    import inspect

    from bot.schedule import blocked, dispatcher
    from bot.telegram import sender

    assert sender.Blocked is blocked.Blocked
    assert "from bot.schedule.blocked import Blocked" in inspect.getsource(dispatcher)
    assert sender.record_blocked is blocked.record_blocked


def test_a_command_is_screened_and_routed_in_the_core_for_every_shell() -> None:
    from bot.core.engine import step
    from bot.core.events import Command
    from bot.core.session import Session
    from tests.harness import real_script

    script = real_script()
    person = Session(completed=frozenset({"onboarding"}), answers={"onboarding.consent": "yes"})
    now = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    crisis = step(script, person, Command("menu", "I want to end my life"), now)
    assert crisis.messages[0].text.startswith(script.strings["crisis.suicide"].render({})[:20])
    unknown = step(script, person, Command("dance"), now)
    assert unknown.messages[0].text == script.strings["unknown_command"].render({})
    menu = step(script, person, Command("menu"), now)
    assert menu.session.position is not None and menu.session.position.flow == "menu"
    # Before consent too: nothing stored, the crisis card shown.
    stranger = step(script, Session(known=False), Command("start", "i want to die"), now)
    assert not stranger.persist
    assert stranger.messages[0].text.startswith(script.strings["crisis.suicide"].render({})[:20])
