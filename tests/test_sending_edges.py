"""The edges of sending: blocks and coming back, flood limits, timeouts, servers that fail.

End to end through the fake Bot API where it matters (real PTB, real HTTP, real SQLite),
and `Sender` alone with a fake `send` for the exact retry rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.core.turn import OutMessage, Turn
from bot.store.sqlite import SqliteStore
from bot.telegram.app import MendBot
from bot.telegram.sender import MAX_ATTEMPTS, MaybeSent, Sender, SendFailed
from tests.fakebot import FakeBotApi
from tests.harness import FakeClock, running_bot, seed_person

START = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
NOTE = "You have a check-in waiting. Tap to open it."
UNKNOWN = "/menu"  # in the short help an unknown command gets

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def fast_replanning(bot: MendBot) -> None:
    bot.dispatcher.settings = dataclasses.replace(bot.dispatcher.settings, replan_seconds=0.05)


@asynccontextmanager
async def short_read_timeout(bot: MendBot, fake: FakeBotApi) -> AsyncIterator[None]:
    """The shell's sends time out after 0.2 s (PTB's default is 5 s)."""
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as impatient:
        original, bot.shell.bot = bot.shell.bot, impatient
        try:
            yield
        finally:
            bot.shell.bot = original


# -- 1. blocked, then back ---------------------------------------------------------------------


# The senders below never reach their store: it is never opened, so no file is made.
UNOPENED = Path("never-opened.sqlite3")


async def test_a_person_who_blocked_and_came_back_gets_their_checkins_again(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "m.sqlite3"
    clock = FakeClock(START)
    await seed_person(db, 301, START, checkin_time="18:01", discreet=True)
    async with running_bot(fake, db, clock=clock, dispatch_interval=0.05) as bot:
        fast_replanning(bot)
        user = fake.user(301)
        fake.block(301)
        clock.advance(minutes=1, seconds=5)
        await fake.wait_until(lambda: any(e.status == 403 for e in fake.errors))
        for _ in range(50):  # the 403 is answered a moment before it is recorded
            state = await bot.store.checkin_state(301)
            if state is not None and not state.active:
                break
            await asyncio.sleep(0.02)
        assert state is not None and state.active is False
        fake.unblock(301)
        await user.send_command("/menu")  # any update: they are back
        await user.wait_reply(1, settle=0.3)
        state = await bot.store.checkin_state(301)
        assert state is not None and state.active is True
        await asyncio.sleep(0.3)  # the dispatcher plans their next check-in
        clock.advance(days=1)
        note = await user.wait_for(lambda m: m.text == NOTE, timeout=5)
        assert note.button_labels == ["Open"]
        await user.wait_reply(0, settle=0.3)
        assert [m.text for m in user.messages()].count(NOTE) == 1


async def test_coming_back_drops_a_stale_plan_so_it_is_planned_afresh(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "mend.sqlite3")
    await store.open()
    session = await store.load(1, START)
    await store.commit(1, Turn((), (), session), START, next_checkin=START)
    await store.set_active(1, False)  # an old plan left behind
    assert await store.unplanned_checkins(10) == []
    await store.commit(1, Turn((), (), session), START)
    assert await store.unplanned_checkins(10) == [1]
    await store.close()


# -- 2./3. flood limits --------------------------------------------------------------------------


async def test_a_checkin_under_a_flood_limit_waits_then_arrives_once(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "m.sqlite3"
    clock = FakeClock(START)
    await seed_person(db, 302, START, checkin_time="18:01", discreet=True)
    async with running_bot(fake, db, clock=clock, dispatch_interval=0.05):
        user = fake.user(302)
        fake.fail_next("sendMessage", 429, retry_after=1, chat_id=302)
        loop = asyncio.get_running_loop()
        began = loop.time()
        clock.advance(minutes=1, seconds=5)
        await user.wait_for(lambda m: m.text == NOTE, timeout=5)
        assert loop.time() - began >= 0.9
        await user.wait_reply(0, settle=0.3)
        assert [m.text for m in user.messages()].count(NOTE) == 1


async def test_the_error_path_waits_out_the_flood_limit_too(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(303)
        fake.fail_next("sendMessage", 429, retry_after=1, chat_id=303, times=MAX_ATTEMPTS)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await user.send_command("/dance")
        [note, *_] = await user.wait_reply(1, timeout=10)
        # Three waits inside Sender, then the error note waits the last retry_after too.
        assert loop.time() - began >= MAX_ATTEMPTS - 0.1
        assert "went wrong" in (note.text or "")


async def test_retry_after_waits_and_past_the_cap_fails_explicitly() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    sender = Sender(SqliteStore(UNOPENED), sleep)
    answers: list[object] = [RetryAfter(2), "ok"]

    async def send() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert await sender.call(1, "sendMessage", send) == "ok"
    assert waits == [2.0]

    async def flooded() -> str:
        raise RetryAfter(3600)

    with pytest.raises(SendFailed) as caught:
        await sender.call(1, "sendMessage", flooded)
    assert caught.value.retry_after == 3600.0
    assert waits == [2.0]  # an hour is not waited out


# -- 4. timeouts ---------------------------------------------------------------------------------


async def test_a_reply_that_timed_out_but_arrived_is_not_sent_again(
    fake: FakeBotApi, db: Path
) -> None:
    async with running_bot(fake, db) as bot, short_read_timeout(bot, fake):
        users = [fake.user(310 + i) for i in range(5)]
        for user in users:
            fake.delay_next("sendMessage", 0.6, chat_id=user.id)
        await asyncio.gather(*(u.send_command("/dance") for u in users))
        for user in users:
            await user.wait_reply(1, timeout=5, settle=1.0)
        copies = [sum(UNKNOWN in (m.text or "") for m in u.messages()) for u in users]
        assert copies == [1] * 5  # no duplicate, and no "went wrong" note re-showing it
        assert all(not any("went wrong" in (m.text or "") for m in u.messages()) for u in users)


async def test_a_checkin_that_timed_out_but_arrived_is_not_sent_again(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "m.sqlite3"
    clock = FakeClock(START)
    await seed_person(db, 320, START, checkin_time="18:01", discreet=True)
    async with (
        running_bot(fake, db, clock=clock, dispatch_interval=0.05) as bot,
        short_read_timeout(bot, fake),
    ):
        user = fake.user(320)
        fake.delay_next("sendMessage", 0.6, chat_id=320)
        clock.advance(minutes=1, seconds=5)
        await user.wait_for(lambda m: m.text == NOTE, timeout=5)
        clock.advance(minutes=10)  # past the reclaim time: an unfinished claim would resend
        await user.wait_reply(0, settle=0.8)
        assert [m.text for m in user.messages()].count(NOTE) == 1


async def test_timeouts_retry_only_where_repeating_is_harmless() -> None:
    async def no_wait(seconds: float) -> None:
        pass

    sender = Sender(SqliteStore(UNOPENED), no_wait)
    calls: list[str] = []

    def failing_once(exc: Exception) -> object:
        async def send() -> str:
            calls.append("x")
            if len(calls) == 1:
                raise exc
            return "ok"

        return send

    with pytest.raises(MaybeSent):
        await sender.call(1, "sendMessage", failing_once(TimedOut()))  # type: ignore[arg-type]
    assert len(calls) == 1
    for method, exc in [
        ("editMessageText", TimedOut()),
        ("answerCallbackQuery", TimedOut()),
        ("sendChatAction", TimedOut()),
        ("sendMessage", NetworkError("connection refused")),  # nothing reached Telegram
    ]:
        calls.clear()
        assert await sender.call(1, method, failing_once(exc)) == "ok"  # type: ignore[arg-type]
        assert len(calls) == 2, method
    # No free pooled connection: the request never left, so a send is retried as well.
    pool = TimedOut("Pool timeout")
    pool.__cause__ = httpx.PoolTimeout("pool")
    calls.clear()
    assert await sender.call(1, "sendMessage", failing_once(pool)) == "ok"  # type: ignore[arg-type]


# -- 5. servers that keep failing ------------------------------------------------------------


async def test_repeated_server_errors_end_in_send_failed_after_bounded_retries() -> None:
    async def no_wait(seconds: float) -> None:
        pass

    sender = Sender(SqliteStore(UNOPENED), no_wait)
    calls: list[int] = []

    async def broken() -> str:
        calls.append(1)
        raise NetworkError("Internal Server Error")

    with pytest.raises(SendFailed) as caught:
        await sender.call(1, "sendMessage", broken)
    assert len(calls) == MAX_ATTEMPTS == caught.value.attempts
    assert caught.value.retry_after is None
    assert isinstance(caught.value.__cause__, NetworkError)


async def test_forty_server_errors_on_a_reply_fail_explicitly(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db) as bot:
        fake.user(330)
        fake.fail_next("sendMessage", 500, chat_id=330, times=40)
        with pytest.raises(SendFailed):
            await bot.shell.show(330, (OutMessage("A reply that cannot get through."),))
        assert len(fake.calls_to("sendMessage", chat_id=330)) == MAX_ATTEMPTS
