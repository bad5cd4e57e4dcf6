"""Consent first: saying no to storage leaves no row behind, and after /delete every old
button and every message starts afresh at the welcome, consent first.

End to end through the fake Bot API with a real SQLite file, reading the tables and the
raw file bytes afterwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.core.events import Hello, Press, SendText, ShowMenu, StartFlow
from bot.core.session import Session
from tests.fakebot import FakeBotApi
from tests.harness import onboard, real_script, running_bot, tap
from tests.person import Person

SCRIPT = real_script()


def rows_about(db: Path, user_id: int) -> dict[str, int]:
    """How many rows mention `user_id`, in every table that has a user_id column."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found: dict[str, int] = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if "user_id" in columns:
                found[table] = conn.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,)
                ).fetchone()[0]
    return found


def test_a_new_person_starts_at_the_welcome_whatever_they_send() -> None:
    for event in (Hello(), ShowMenu(), StartFlow("prepare"), SendText("hello?")):
        p = Person(SCRIPT, Session(known=False))
        turn = p.send(event)
        assert turn.persist is False
        assert p.at() == ("welcome", "honesty"), event


def test_consent_is_the_first_turn_that_is_kept() -> None:
    p = Person(SCRIPT, Session(known=False))
    p.send(Hello())
    assert p.tap("I understand").persist is False
    turn = p.tap("Yes, that's fine")
    assert turn.persist is True and turn.session.known
    assert p.at() is not None and p.at()[0] == "onboarding"  # type: ignore[index]


def test_words_of_danger_before_consent_are_answered_and_not_kept() -> None:
    p = Person(SCRIPT, Session(known=False))
    turn = p.send(SendText("I want to kill myself"))
    assert turn.persist is False
    assert "findahelpline.com" in p.text()
    assert "Check on me tomorrow" not in p.labels()  # that would need storing


async def test_saying_no_leaves_no_row_and_nothing_offered_stores(
    fake: FakeBotApi, db: Path
) -> None:
    async with running_bot(fake, db):
        user = fake.user(501)
        await user.send_command("/start")
        await tap(user, "I understand")
        await tap(user, "No, thank you")
        refusal = await user.wait_for(lambda m: "nothing about you has been kept" in (m.text or ""))
        assert refusal.button_labels == ["Show crisis lines", "I've changed my mind"]
        changed_mind = str(refusal.button("I've changed my mind")["callback_data"])
        await user.press(refusal, "Show crisis lines")
        lines = await user.wait_for(lambda m: "findahelpline.com" in (m.text or ""))
        # Every way on from here: the menu button, commands, text, an old button.
        for label in lines.button_labels:
            await user.press(lines, label)
            await user.wait_for(
                lambda m: "I'm Mend" in (m.text or "") and m.message_id > lines.message_id
            )
        for command in ("/menu", "/prepare", "/now", "/checkin", "/settings"):
            await user.send_command(command)
            await user.wait_reply(1)
        await user.send_text("just looking around")
        await user.wait_reply(1)
        await user.press_data(changed_mind)  # an older button of the same refusal
        await user.wait_for(
            lambda m: "Is that all right?" in (m.text or "") and m.message_id > refusal.message_id
        )
    assert rows_about(db, 501) and all(n == 0 for n in rows_about(db, 501).values())


async def test_after_delete_an_old_menu_button_starts_at_consent(
    fake: FakeBotApi, db: Path
) -> None:
    secret = "Quetzalcoatl-deleted-answer"
    async with running_bot(fake, db):
        user = fake.user(502)
        await onboard(user, name=secret)
        menu_message = await user.wait_for(lambda m: "☰ Menu" in m.button_labels)
        await user.send_command("/prepare")
        await tap(user, "Now")
        await tap(user, "Listen to their pain")
        await tap(user, "Got it")
        await tap(user, "Pin this card")
        await user.wait_for(lambda m: m.pinned)
        assert user.pinned_message_id is not None
        await user.send_command("/delete")
        await tap(user, "Yes, delete everything")
        await tap(user, "Yes, unpin it too")
        done = await user.wait_for(lambda m: "Everything is gone" in (m.text or ""))
        assert "unpin" in (done.text or "") and "history" in (done.text or "")
        await fake.wait_until(lambda: user.pinned_message_id is None)  # the card, unpinned
        await user.press(menu_message, "☰ Menu")
        hello = await user.wait_for(
            lambda m: "I'm Mend" in (m.text or "") and m.message_id > done.message_id
        )
        assert hello.message_id > done.message_id
        await tap(user, "I understand")
        await user.wait_for(
            lambda m: "Is that all right?" in (m.text or "") and m.message_id > hello.message_id
        )
    assert all(n == 0 for n in rows_about(db, 502).values()), rows_about(db, 502)
    files = [db, Path(f"{db}-wal"), Path(f"{db}-journal")]
    assert not [f for f in files if f.exists() and secret.encode() in f.read_bytes()]


def test_a_forged_welcome_press_cannot_skip_consent() -> None:
    p = Person(SCRIPT, Session(known=False))
    p.send(Hello())
    data = next(b.data for m in p.turn.messages for b in m.buttons)  # type: ignore[union-attr]
    version = data.split(":")[0]
    for forged in (
        f"{version}:onboarding:stage:0",
        f"{version}::menu:menu",
        f"{version}:menu::open",
    ):
        turn = p.send(Press(forged))
        assert turn.persist is False
        assert p.at() == ("welcome", "honesty")


async def test_privacy_says_whether_this_server_encrypts(fake: FakeBotApi, tmp_path: Path) -> None:
    from bot.store.crypto import generate_key

    for key, expected in (("", "does not encrypt"), (generate_key(), "encrypts what you write")):
        db = tmp_path / f"m{len(key)}.sqlite3"
        async with running_bot(fake, db, encryption_key=key):
            user = fake.user(510 + len(key) % 7)
            await onboard(user)
            await user.send_command("/privacy")
            where = await user.wait_for(lambda m: "Where:" in (m.text or ""))
            assert expected in (where.text or ""), where.text
