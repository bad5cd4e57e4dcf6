"""The dispatcher's rules with a fake clock: claim, send once, retry, skip, stop; pacing."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.core.events import Hello
from bot.core.turn import OutMessage
from bot.locks import UserLocks
from bot.schedule.blocked import Blocked
from bot.schedule.dispatcher import Dispatcher, DispatchSettings
from bot.schedule.pacer import Pacer
from bot.store.protocol import Store
from bot.store.sqlite import SqliteStore
from bot.telegram.sender import record_blocked
from tests.harness import FakeClock, real_script

USER = 42
# Words a discreet notification must never show on a lock screen.
REVEALING = re.compile(
    r"partner|betray|cheat|affair|relationship|trust|lie|lied|apolog|sorry|hurt|promise",
    re.IGNORECASE,
)


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.sent: list[tuple[int, OutMessage]] = []
        self.blocked: set[int] = set()

    async def __call__(self, user_id: int, messages: tuple[OutMessage, ...]) -> None:
        if user_id in self.blocked:
            await record_blocked(self.store, user_id)  # as the Telegram sender does on a 403
            raise Blocked
        self.sent += [(user_id, m) for m in messages]

    def texts(self, user_id: int = USER) -> list[str]:
        return [m.text for u, m in self.sent if u == user_id]


@pytest.fixture
async def world(tmp_path: Path):
    store = SqliteStore(tmp_path / "mend.sqlite3")
    await store.open()
    clock = FakeClock(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))  # 19:00 in Berlin
    coach = Coach(real_script(), store, clock)
    outbox = Outbox(store)
    dispatcher = Dispatcher(coach, store, outbox, UserLocks(), None, DispatchSettings())
    yield store, clock, coach, outbox, dispatcher
    await store.close()


async def onboard(coach: Coach, store: SqliteStore, clock: FakeClock, **settings: object) -> None:
    """A person who finished onboarding with these settings (and so has a plan)."""
    from bot.core.engine import step
    from bot.core.turn import ChangeSetting, CompleteFlow

    now = clock()
    session = await store.load(USER, now)
    turn = step(coach.script, session, Hello(), now)
    effects = tuple(ChangeSetting(k, v) for k, v in settings.items())  # type: ignore[arg-type]
    changed = dataclasses.replace(
        turn,
        effects=(*turn.effects, *effects, CompleteFlow("onboarding")),
        session=dataclasses.replace(
            turn.session,
            position=None,
            settings=dataclasses.replace(turn.session.settings, **settings),  # type: ignore[arg-type]
        ),
    )
    from bot.core.planner import next_for

    await store.commit(
        USER, changed, now, next_checkin=next_for(changed.session.settings, now, None)
    )


async def test_a_due_checkin_is_sent_exactly_once(world) -> None:
    store, clock, coach, outbox, dispatcher = world
    await onboard(coach, store, clock, timezone="Europe/Berlin", checkin_time="20:00")
    clock.advance(minutes=30)  # 19:30 UTC: not yet
    assert await dispatcher.run_once() == 0
    clock.advance(minutes=31)  # 20:01 Berlin
    assert await dispatcher.run_once() == 1
    assert await dispatcher.run_once() == 0
    assert len(outbox.texts()) == 1
    state = await store.checkin_state(USER)
    assert state is not None and str(state.last_local_date) == "2026-11-29"
    clock.advance(hours=23)  # next day 19:01 Berlin: not yet
    assert await dispatcher.run_once() == 0
    clock.advance(hours=2)
    assert await dispatcher.run_once() == 1
    assert len(outbox.texts()) == 2


async def test_discreet_notifications_reveal_nothing(world) -> None:
    store, clock, coach, outbox, dispatcher = world
    await onboard(coach, store, clock, checkin_time="19:30", discreet=True)
    clock.advance(hours=2)
    await dispatcher.run_once()
    [text] = outbox.texts()
    assert REVEALING.search(text) is None, text
    [(_, message)] = outbox.sent
    assert [b.label for b in message.buttons] == ["Open"]


async def test_without_discreet_mode_the_checkin_itself_arrives(world) -> None:
    store, clock, coach, outbox, dispatcher = world
    await onboard(coach, store, clock, checkin_time="19:30", discreet=False)
    clock.advance(hours=2)
    await dispatcher.run_once()
    assert "How did today go?" in outbox.texts()[0]


async def test_a_checkin_less_than_3_hours_late_is_sent_an_older_one_skipped(world) -> None:
    store, clock, coach, outbox, dispatcher = world
    await onboard(coach, store, clock, checkin_time="19:30")
    clock.advance(hours=3)  # 22:00, due 19:30: 2.5 hours late
    assert await dispatcher.run_once() == 1
    assert len(outbox.texts()) == 1
    clock.advance(hours=24 + 3)  # next day's (19:30) is 5.5 hours late: skipped
    assert await dispatcher.run_once() == 1
    assert len(outbox.texts()) == 1
    assert dispatcher.skipped == 1
    state = await store.checkin_state(USER)
    assert state is not None
    clock.advance(hours=21)  # the day after: sent again at its time
    assert await dispatcher.run_once() == 1
    assert len(outbox.texts()) == 2


async def test_a_claim_never_completed_is_claimed_again_after_the_timeout(world) -> None:
    store, clock, coach, outbox, dispatcher = world
    await onboard(coach, store, clock, checkin_time="19:30")
    clock.advance(hours=2)
    claimed = await store.claim_due(clock(), 10, timedelta(minutes=5))  # then the process dies
    assert len(claimed) == 1
    assert await dispatcher.run_once() == 0  # still claimed by the dead process
    clock.advance(minutes=6)
    assert await dispatcher.run_once() == 1
    assert len(outbox.texts()) == 1


async def test_blocked_person_is_stopped_and_their_schedule_removed(world) -> None:
    store, clock, coach, outbox, dispatcher = world
    await onboard(coach, store, clock, checkin_time="19:30")
    outbox.blocked.add(USER)
    clock.advance(hours=2)
    await dispatcher.run_once()
    exported = await store.export_user(USER)
    assert exported["user"]["active"] is False
    clock.advance(days=1)
    assert await dispatcher.run_once() == 0


async def test_pause_stop_and_resume(world) -> None:
    store, clock, coach, _outbox, dispatcher = world
    await onboard(coach, store, clock, checkin_time="19:30", checkins=False)
    clock.advance(days=2)
    assert await dispatcher.run_once() == 0
    await onboard(
        coach, store, clock, checkin_time="19:30", checkins=True, paused_until="2026-12-04"
    )
    clock.advance(days=1)  # Dec 2: paused
    assert await dispatcher.run_once() == 0
    clock.advance(days=2, hours=2)  # Dec 4, 20:00 UTC: resumed
    assert await dispatcher.run_once() == 1


async def test_follow_ups_and_pause_timers_are_delivered(world) -> None:
    store, clock, coach, _outbox, dispatcher = world
    await onboard(coach, store, clock, checkins=False, discreet=False)
    from bot.core.events import StartFlow

    turn = await coach.handle(USER, StartFlow("breathing"))
    assert turn is not None
    first = turn.session.position
    assert first is not None and first.flow == "breathing"
    clock.advance(seconds=11)
    assert await dispatcher.run_once() == 1
    session = await store.load(USER, clock())
    assert session.position is not None and session.position.node != first.node


async def test_pacer_keeps_to_the_global_rate_and_one_per_chat() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(rate=30, reserve=5, clock=lambda: now[0], sleep=sleep)
    for chat in range(300):
        await pacer.scheduled(chat)
    assert 300 / 30 - 2 <= now[0] <= 300 / 30 + 1  # ~10 s for 300 messages at 30/s
    start = now[0]
    for _ in range(3):
        await pacer.scheduled(7)
    assert now[0] - start >= 2.0  # one a second to the same chat
    start = now[0]
    await pacer.interactive()
    assert now[0] - start < 0.2  # a reply in a conversation does not queue behind a batch


async def test_a_batch_still_being_delivered_keeps_its_claims(world) -> None:
    """A slow send (a long retry_after) must not let another replica take the check-in as
    stale and send it a second time: the live dispatcher renews its claims."""
    import asyncio

    store, clock, coach, outbox, _ = world
    await onboard(coach, store, clock, checkin_time="19:30")
    clock.advance(hours=2)
    release = asyncio.Event()

    async def slow(user_id: int, messages: tuple[OutMessage, ...]) -> None:
        await release.wait()
        await outbox(user_id, messages)

    reclaim = timedelta(seconds=0.3)
    dispatcher = Dispatcher(
        coach, store, slow, UserLocks(), None, DispatchSettings(reclaim_after=reclaim)
    )
    delivering = asyncio.create_task(dispatcher.run_once())
    for _ in range(12):  # 1.2 s on the clock: four reclaim times
        clock.advance(seconds=0.1)
        await asyncio.sleep(0.1)
        assert await store.claim_due(clock(), 10, reclaim) == []  # another replica's look
    release.set()
    assert await delivering == 1
    assert len(outbox.texts()) == 1
    assert await store.claim_due(clock(), 10, reclaim) == []
