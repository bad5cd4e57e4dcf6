"""A storm of generated updates through the real Mend application and the fake Bot API.

One seeded, bounded test: 16 people onboard first, each naming themselves
with a unique marker word; then at least 10,000 generated updates arrive in bursts from
~30 people (the onboarded ones, newcomers who never ran /start, ids never seen before, and
one-off strangers), four of whom delete everything mid-run. The updates: random unicode text
(control characters, RTL and bidi marks, emoji and ZWJ sequences, zero-width characters,
combining marks, any code point but surrogates), 10,000-character texts, empty and
whitespace-only texts, text with entities past the end and overlapping, every non-text
message kind, edited messages, channel posts and their edits, messages and presses in
groups, reactions, member updates, inline queries, callback queries with random data
(printable or not, up to 200 characters), with no data, on inline messages, with other
people's buttons and with one's own old buttons, commands with random and crisis words as
arguments; update ids shuffled inside bursts (they go backwards) and updates queued twice.

Afterwards: nothing unhandled was logged; every stored session points at a real step of
the compiled script; no chat shows a marker word of someone else, and presses of other
people's buttons change nothing of theirs; everyone deleted is gone; and every person still
gets /help and the crisis card for `/menu I want to die`.

The seed fixes who sends what kind of update when; the details of a press (which button)
follow what the bot sent, drawn from a generator of their own so the rest stays the same.
Measured on 2 cores: 10,682 updates in the storm (108 of them queued twice, 310 with
shuffled ids; 11,064 queued in all with onboarding and the checks after; 11,688 deliveries
counting redeliveries), the storm ~55 s, the whole test ~60 s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import TypeHandler

from bot.core.model import Script
from bot.telegram.app import MendBot
from tests.fakebot import NOT_MODIFIED, QUERY_INVALID, ApiErrorRecord, FakeBotApi, FakeUser
from tests.fuzz_updates import Storm
from tests.harness import onboard, real_script, running_bot

SEED = 20_261_129
STORM_UPDATES = 10_500  # generated in the storm, duplicates included; at least 10,000
ONBOARDED = tuple(range(2001, 2017))  # 16 people who finish onboarding first
DELETERS = {4: 2003, 12: 2008, 20: 2011, 28: 2015}  # after burst n, this one deletes all
NEWCOMERS = tuple(range(3001, 3009))  # 8 people whose first update comes in the storm
UNKNOWN = tuple(range(7_000_000_001, 7_000_000_007))  # 6 ids never seen before the storm
CROSS_CHECKS_AT = (15, 40)  # after these bursts: presses of other people's buttons


def _openings(words: str) -> tuple[str, ...]:
    """How a text that begins with `words` in English begins in every language (a fuzzed
    press may have chosen any of them in /settings)."""
    root = real_script()
    key = next(k for k, t in root.strings.items() if t.render({}).startswith(words))
    return tuple(s.strings[key].render({})[:20] for s in (root, *root.translations.values()))


def _help_openings() -> tuple[str, ...]:
    root = real_script()
    out = []
    for script in (root, *root.translations.values()):
        flow = script.flows["help"]
        say = flow.nodes[flow.start].say
        assert say is not None
        out.append(say.render({})[:20])
    return tuple(out)


HELP_TEXTS = _help_openings()
CRISIS_TEXTS = _openings("I'm really glad you told me")
USER_TABLES = (
    "users", "sessions", "answers", "journal", "commitments", "follow_ups", "completions",
    "processed_updates", "promise_checks", "crisis_flags", "marks",
)  # fmt: skip


def marker(user_id: int) -> str:
    """The name each onboarded person gives: a word nobody else ever types."""
    return f"Marker{user_id}Q"


async def settle(fake: FakeBotApi, bot: MendBot, quiet: float, timeout: float = 60.0) -> None:
    """Wait until every queued update was fetched and handled, and the fake has had no
    request for `quiet` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    app = bot.app
    seen, quiet_since = len(fake.calls), loop.time()
    while True:
        await asyncio.sleep(min(0.02, quiet))
        now = loop.time()
        busy = (
            bool(fake.pending_updates())
            or app.update_queue.qsize() > 0
            or app.update_processor.current_concurrent_updates > 0
        )
        if busy or len(fake.calls) != seen:
            seen, quiet_since = len(fake.calls), now
        elif now - quiet_since >= quiet:
            return
        if now > deadline:
            raise TimeoutError(f"the bot did not settle: {len(fake.pending_updates())} pending")


def read_db(db: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


# Written by the store and the dispatcher on their own (the dispatcher plans anyone with
# check-ins on and none planned, every minute), not by what anyone pressed.
NOT_FROM_PRESSES = {"last_seen", "next_checkin_at", "checkin_claimed_at"}


def snapshot(db: Path, user_id: int) -> dict[str, Any]:
    """Everything stored about one person except when they were last seen and when their
    next check-in is planned."""
    found: dict[str, Any] = {}
    for table in USER_TABLES:
        rows = read_db(db, f"SELECT * FROM {table} WHERE user_id = ?", user_id)
        found[table] = sorted(
            json.dumps(
                {k: v for k, v in dict(r).items() if k not in NOT_FROM_PRESSES}, sort_keys=True
            )
            for r in rows
        )
    return found


def check_position(script: Script, position: object, where: str) -> None:
    if position is None:
        return
    assert isinstance(position, dict), where
    places = [(position["flow"], position["node"])]
    places += [(f["flow"], f["node"]) for f in position.get("stack", [])]
    for flow, node in places:
        assert script.node(flow, node) is not None, f"{where}: no step {flow}.{node}"
    assert isinstance(position.get("draft"), str | None), where


def texts_of(user: FakeUser) -> list[str]:
    """Everything the chat has shown: texts, earlier versions, captions, file contents."""
    found: list[str] = []
    for m in user.messages(include_deleted=True):
        found += [t for t in (m.text, m.raw_text, m.caption, *m.history) if t]
        if m.document is not None and m.document.content:
            found.append(m.document.content.decode("utf-8", "replace"))
    return found


async def delete_everything(fake: FakeBotApi, bot: MendBot, user: FakeUser, db: Path) -> None:
    await settle(fake, bot, quiet=0.1)
    await user.send_command("/delete")
    replies = await user.wait_reply(1, timeout=10, settle=0.1)
    confirm = next(m for m in replies if "Yes, delete everything" in m.button_labels)
    await user.press(confirm, "Yes, delete everything")
    unpin = await user.wait_for(lambda m: "Yes, unpin it too" in m.button_labels, timeout=10)
    await user.press(unpin, "Yes, unpin it too")
    await user.wait_for(lambda m: "Everything is gone" in (m.text or ""), timeout=10)
    await settle(fake, bot, quiet=0.1)
    for table in USER_TABLES:
        rows = read_db(db, f"SELECT count(*) FROM {table} WHERE user_id = ?", user.id)
        assert rows[0][0] == 0, f"{table} still holds rows of {user.id} after deletion"


async def cross_presses(
    fake: FakeBotApi, bot: MendBot, storm: Storm, people: Sequence[int], db: Path
) -> int:
    """Half of the people press the other half's buttons; the other half's data must not
    change. Then the other way round. Returns the number of presses."""
    rng = random.Random(storm.rng.getrandbits(64))
    order = list(people)
    rng.shuffle(order)
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    presses = 0
    for actors, owners in (halves, halves[::-1]):
        await settle(fake, bot, quiet=0.1)
        with_buttons = [o for o in owners if storm.harvest.by_chat.get(o)]
        assert with_buttons, "nobody has buttons to press"
        before = {o: snapshot(db, o) for o in owners}
        for _ in range(150):
            actor = fake.user(rng.choice(actors))
            _, data = rng.choice(storm.harvest.by_chat[rng.choice(with_buttons)])
            storm.r = rng
            storm.callback(actor, data, storm.attach(actor), kind="callback:others_checked")
            presses += 1
        storm.end_burst()
        await settle(fake, bot, quiet=0.1)
        for owner in owners:
            assert snapshot(db, owner) == before[owner], f"others' presses changed {owner}"
    return presses


async def test_a_storm_of_odd_updates_breaks_nothing_and_leaks_nothing(
    fake: FakeBotApi, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The storm above; prints the number of updates, their kinds and the time taken."""
    rng = random.Random(SEED)
    storm = Storm(fake, rng)
    caplog.set_level(logging.WARNING)
    began = time.monotonic()
    strangers: list[int] = []
    delivered: Counter[str] = Counter()  # what reached the application, by payload
    pressed: set[str] = set()  # callback query ids that reached it

    async def record(update: Update, context: object) -> None:
        payload = next(k for k in update.to_dict() if k != "update_id")
        delivered[payload] += 1
        if update.callback_query is not None:
            pressed.add(update.callback_query.id)

    async with running_bot(fake, db, send_rate=1_000_000) as bot:
        # Watches from a group of its own before Mend's handler; changes nothing.
        bot.app.add_handler(TypeHandler(Update, record), group=-1)
        await asyncio.gather(*(onboard(fake.user(u), name=marker(u)) for u in ONBOARDED))
        await settle(fake, bot, quiet=0.1)
        people = (*ONBOARDED, *NEWCOMERS, *UNKNOWN)
        weights = [3] * len(ONBOARDED) + [2] * len(NEWCOMERS) + [1] * len(UNKNOWN)
        storm_began = time.monotonic()
        burst = 0
        while storm.queued < STORM_UPDATES:
            burst += 1
            for _ in range(rng.randint(100, 350)):
                if rng.random() < 0.01:  # a stranger, seen once and never again
                    stranger = fake.user(8_000_000_000 + len(strangers))
                    strangers.append(stranger.id)
                    storm.any(stranger, lambda: people)
                else:
                    who = fake.user(rng.choices(people, weights)[0])
                    storm.any(who, lambda: people)
            storm.end_burst()
            await settle(fake, bot, quiet=0.0)
            storm.harvest.scan(fake.users)
            if burst in DELETERS:
                await delete_everything(fake, bot, fake.user(DELETERS[burst]), db)
            if burst in CROSS_CHECKS_AT:
                await cross_presses(fake, bot, storm, people, db)
        await settle(fake, bot, quiet=0.5)
        storm_seconds = time.monotonic() - storm_began
        storm_updates = storm.queued

        # Still working, for everyone: help, and the crisis card whatever the command.
        everyone = [fake.user(u) for u in (*people, *strangers[:3])]
        for user in everyone:
            await user.send_command("/help")
        replies = await asyncio.gather(*(u.wait_reply(1, timeout=10, settle=0.2) for u in everyone))
        for user, got in zip(everyone, replies, strict=True):
            assert any(t in (m.text or "") for m in got for t in HELP_TEXTS), (user, got)
        for command in ("/menu", "/help", "/start", "/settings@mend_test_bot", "/nosuch"):
            for user in everyone:
                await user.send_command(command, "I want to die")
            replies = await asyncio.gather(
                *(u.wait_reply(2, timeout=10, settle=0.2) for u in everyone)
            )
            for user, got in zip(everyone, replies, strict=True):
                assert any(t in (got[0].text or "") for t in CRISIS_TEXTS), (command, user, got)
        await settle(fake, bot, quiet=0.2)
    total_seconds = time.monotonic() - began

    kinds = ", ".join(f"{k} {n}" for k, n in sorted(storm.kinds.items()))
    print(
        f"\nfuzz: {storm_updates} updates in the storm ({storm.duplicates} queued twice, "
        f"{storm.shuffled} with shuffled ids) in {storm_seconds:.1f} s; "
        f"{len(fake.updates)} updates queued in all, {delivered.total()} delivered "
        f"(redeliveries included); whole test {total_seconds:.1f} s\nkinds: {kinds}\n"
        f"delivered: {dict(delivered)}"
    )
    assert storm_updates >= 10_000

    # 1. Nothing unhandled, nothing logged as an error.
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not problems, "\n".join(f"{r.name}: {r.getMessage()}" for r in problems[:20])

    # The fake's error answers are only those the bot expects and gets past: a second answer
    # to a query delivered twice; taking the buttons off a message that has none left, or
    # that the bot never sent (a press on an inaccessible message).
    def expected(error: ApiErrorRecord) -> bool:
        if error.method == "answerCallbackQuery":
            query_id = str(error.params.get("callback_query_id"))
            return error.description == QUERY_INVALID and query_id in fake.callback_answers
        if error.method not in ("editMessageReplyMarkup", "editMessageText"):
            return False
        if error.description == NOT_MODIFIED:
            return True
        pressed_on = (int(error.params["chat_id"]), int(error.params["message_id"]))
        return error.description.endswith("to edit not found") and pressed_on in storm.inaccessible

    unexpected = [e for e in fake.errors if not expected(e)]
    assert not unexpected, unexpected[:10]

    # Every press in a private chat that reached the bot was answered (presses in groups and
    # on inline messages are ignored; an update whose id went backwards past the confirmed
    # offset is dropped by getUpdates and never arrives).
    private = {
        u["callback_query"]["id"]
        for u in fake.updates
        if u.get("callback_query", {}).get("message", {}).get("chat", {}).get("type") == "private"
    }
    unanswered = set(fake.unanswered_callbacks()) & private & pressed
    assert not unanswered, sorted(unanswered)[:10]

    # 2. Every stored session is a real place in the compiled script, or none.
    script = real_script()
    for row in read_db(db, "SELECT user_id, state FROM sessions"):
        where = f"session of {row['user_id']}"
        state = json.loads(row["state"])
        if state is None:
            continue
        assert isinstance(state, dict) and state.get("v") == 2, where
        check_position(script, state["position"], where)
        check_position(script, state["suspended"], where + " (suspended)")
    orphans = read_db(
        db, "SELECT user_id FROM sessions WHERE user_id NOT IN (SELECT user_id FROM users)"
    )
    assert not orphans

    # 3. Nobody sees anybody else's words: no chat shows another person's marker.
    markers = {u: marker(u) for u in ONBOARDED}
    for user in fake.users:
        shown = "\n".join(texts_of(user))
        leaked = [owner for owner, word in markers.items() if owner != user.id and word in shown]
        assert not leaked, f"chat {user.id} shows the names of {leaked}"
    for user_id in ONBOARDED:
        if user_id not in DELETERS.values():
            assert any(marker(user_id) in t for t in texts_of(fake.user(user_id)))

    # The bot wrote only to people who wrote to it, in private.
    def private_chat(update: dict[str, Any]) -> int | None:
        for key in ("message", "edited_message"):
            if key in update and update[key]["chat"]["type"] == "private":
                return int(update[key]["chat"]["id"])
        chat = update.get("callback_query", {}).get("message", {}).get("chat", {})
        return int(chat["id"]) if chat.get("type") == "private" else None

    writers = {private_chat(u) for u in fake.updates} - {None}
    assert {m.chat_id for m in fake.all_messages()} <= writers

    # A marker is stored only with its owner, and never once they deleted everything.
    for table in USER_TABLES:
        for row in read_db(db, f"SELECT * FROM {table}"):
            for value in row:
                if not isinstance(value, str) or "Marker" not in value:
                    continue
                owners = [u for u, word in markers.items() if word in value]
                assert owners == [row["user_id"]], (table, row["user_id"], owners)
                assert row["user_id"] not in DELETERS.values(), (table, row["user_id"])
