"""The outbox: a committed turn's reply is kept until it reached Telegram.

A crash between the commit and the send used to lose the reply (the redelivered update
was dropped as a duplicate); now the duplicate is answered from the outbox, and the
sweeper sends whatever is still owed at start-up and after persistent send failures.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.core.events import SendText
from bot.core.session import Session
from bot.core.turn import Button, Export, OutMessage, SaveAnswer, Turn
from bot.locks import UserLocks
from bot.schedule.outbox_sweeper import OutboxSweeper
from bot.store import SqliteStore, Store
from bot.store.crypto import TextCipher, generate_key
from bot.store.outbox import Reply
from tests.fakebot import FakeBotApi
from tests.harness import FakeClock, real_script, running_bot, seed_person

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SECRET = "I told her I was at the gym"


def reply_turn(text: str = SECRET) -> Turn:
    message = OutMessage(
        f"You wrote: <i>{text}</i>",
        buttons=(Button("Keep it", "v1:f:n:keep"), Button("Copy", "", copy=text)),
        private=True,
    )
    return Turn((message,), (SaveAnswer("a", text), Export()), Session())


@pytest.fixture
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store = SqliteStore(tmp_path / "mend.db")
    await s.open()
    yield s
    await s.close()


async def test_a_committed_reply_waits_in_the_outbox_until_sent(store: Store) -> None:
    assert await store.commit(7, reply_turn(), NOW, update_id=100)
    owed = await store.unsent_reply(7, 100)
    assert owed is not None
    assert owed.messages == reply_turn().messages
    assert owed.effects == (Export(),)  # the shell's effects travel; stored ones do not
    assert [r.update_id for r in await store.unsent_replies(NOW, 10)] == [100]
    assert await store.unsent_replies(NOW - timedelta(seconds=1), 10) == []
    await store.reply_sent(7, 100)
    assert await store.unsent_reply(7, 100) is None
    assert await store.unsent_replies(NOW, 10) == []


async def test_a_taken_reply_is_not_taken_again_until_it_is_owed_again(store: Store) -> None:
    for update_id in (100, 101):
        assert await store.commit(7, reply_turn(), NOW, update_id=update_id)
    grace = timedelta(seconds=90)
    later = NOW + grace  # a sweeper's clock: what is older than the grace is owed
    taken = await store.unsent_replies(later - grace, 1, taken_at=later)
    assert [r.update_id for r in taken] == [100]  # oldest first, up to the limit
    # Another replica's sweeper at the same moment takes only the other one, then none.
    others = await store.unsent_replies(later - grace, 10, taken_at=later)
    assert [r.update_id for r in others] == [101]
    assert await store.unsent_replies(later - grace, 10, taken_at=later) == []
    # The taker died without sending: owed again once its take is as old as the grace.
    again = await store.unsent_replies(later, 10, taken_at=later + grace)
    assert [r.update_id for r in again] == [100, 101]
    assert await store.unsent_reply(7, 100) is not None  # taking never loses a reply


async def test_no_update_id_or_nothing_to_say_keeps_nothing(store: Store) -> None:
    assert await store.commit(7, reply_turn(), NOW)  # the console and the schedule
    assert await store.commit(7, Turn((), (), Session()), NOW, update_id=5)
    assert await store.unsent_replies(NOW, 10) == []


async def test_deleting_a_person_deletes_what_was_owed_to_them(store: Store) -> None:
    assert await store.commit(7, reply_turn(), NOW, update_id=100)
    await store.delete_user(7)
    assert await store.unsent_replies(NOW, 10) == []


async def test_the_outbox_is_encrypted_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "mend.db"
    async with SqliteStore(path, TextCipher(generate_key())) as store:
        assert await store.commit(7, reply_turn(), NOW, update_id=100)
        owed = await store.unsent_reply(7, 100)
        assert owed is not None and SECRET in owed.messages[0].text
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert SECRET.encode() not in raw


async def test_a_redelivered_update_after_a_crash_is_answered_once(store: Store) -> None:
    coach = Coach(real_script(), store, FakeClock(NOW))
    first = await coach.handle(7, SendText("/start"), update_id=1)
    assert first is not None and first.messages
    # The process died here: committed, never sent. Telegram delivers the update again.
    again = await coach.handle(7, SendText("/start"), update_id=1)
    if not first.persist:
        assert again is None  # before consent nothing was stored; memory answers once
        return
    assert again is not None and again.messages == first.messages
    await coach.replied(7, 1)
    assert await coach.handle(7, SendText("/start"), update_id=1) is None


async def test_a_stored_turn_redelivered_gets_its_reply(store: Store) -> None:
    coach = Coach(real_script(), store, FakeClock(NOW))
    assert await store.commit(7, reply_turn(), NOW, update_id=41)  # a known person
    again = await coach.handle(7, SendText("anything"), update_id=41)
    assert again is not None and again.messages == reply_turn().messages


async def test_the_sweeper_sends_what_is_owed_and_keeps_what_fails(store: Store) -> None:
    clock = FakeClock(NOW)
    coach = Coach(real_script(), store, clock)
    for user_id, update_id in ((1, 10), (2, 20), (3, 30)):
        assert await store.commit(user_id, reply_turn(), NOW, update_id=update_id)
    sent: list[int] = []

    async def resend(reply: Reply) -> None:
        if reply.user_id == 2:
            raise ConnectionError("telegram is down for this one")
        sent.append(reply.user_id)
        await coach.replied(reply.user_id, reply.update_id)

    sweeper = OutboxSweeper(coach, resend, UserLocks(), clock, grace=timedelta(seconds=90))
    assert await sweeper.sweep() == 0  # too young: the turns that made them may be sending
    clock.advance(seconds=91)
    assert await sweeper.sweep() == 2
    assert sorted(sent) == [1, 3]
    assert [r.user_id for r in await store.unsent_replies(clock.now, 10)] == [2]
    assert await sweeper.sweep(everything=True) == 0  # still failing, still kept
    assert [r.user_id for r in await store.unsent_replies(clock.now, 10)] == [2]


async def test_forty_server_errors_in_a_row_do_not_lose_the_reply(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "mend.sqlite3"
    clock = FakeClock(NOW)
    await seed_person(db, 120, NOW)
    async with running_bot(fake, db, clock=clock) as bot:
        user = fake.user(120)
        fake.fail_next("sendMessage", 500, chat_id=120, times=40)
        await user.send_command("/help")
        await fake.wait_until(lambda: len(fake.errors) >= 4, timeout=20)
        await asyncio.sleep(0.5)  # the turn gave up on Telegram for now
        while sum(e.status == 500 for e in fake.errors) < 40:
            clock.advance(seconds=120)  # the sweeper retries what is owed, later
            await bot.sweeper.sweep()
        clock.advance(seconds=120)
        await bot.sweeper.sweep()
        replies = await user.wait_for(lambda m: "Mend walks you through" in (m.text or ""))
        assert replies is not None
    async with SqliteStore(db) as store:
        assert await store.unsent_replies(clock.now, 10) == []


async def test_a_reply_owed_at_a_crash_is_sent_at_the_next_start(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "mend.sqlite3"
    await seed_person(db, 121, NOW)
    async with SqliteStore(db) as store:  # the last process committed this, then died
        assert await store.commit(121, reply_turn("owed words"), NOW, update_id=9)
    user = fake.user(121)
    async with running_bot(fake, db, clock=FakeClock(NOW)):
        message = await user.wait_for(lambda m: "owed words" in (m.text or ""))
        assert message.params.get("protect_content") in (True, "true", "True")
    async with SqliteStore(db) as store:
        assert await store.unsent_replies(NOW, 10) == []
