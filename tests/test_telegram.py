"""Mend in Telegram, end to end: real python-telegram-bot, real HTTP, real SQLite.

The fake Bot API (tests/fakebot.py) listens on 127.0.0.1; each test acts as one or
more people tapping and typing, and reads what the bot sent back.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.store.sqlite import SqliteStore
from tests.fakebot import FakeBotApi, FakeUser
from tests.harness import FakeClock, consent, free_port, onboard, running_bot, tap


async def test_start_registers_commands_and_walks_onboarding(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        await fake.wait_until(lambda: bool(fake.commands))
        names = [c["command"] for c in fake.commands]
        assert names == [
            "start", "menu", "prepare", "now", "checkin", "progress", "settings", "privacy",
            "export", "delete", "help", "cancel",
        ]  # fmt: skip
        assert "Not therapy" in fake.short_description
        user = fake.user(101)
        await onboard(user)
        done = user.last_message()
        assert done.button_labels == ["☰ Menu"]
        assert fake.unanswered_callbacks() == []
    store = SqliteStore(db)
    await store.open()
    exported = await store.export_user(101)
    await store.close()
    assert exported["answers"]  # the name and the stage were stored
    assert exported["user"]["settings"]["discreet"] is True  # type: ignore[index]


async def test_a_press_shows_the_choice_and_removes_the_buttons(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(102)
        await user.send_command("/start")
        replies = await user.wait_reply(3)
        await user.press(replies[-1], "I understand")
        await user.wait_reply(1)
        pressed = user.message(replies[-1].message_id)
        assert pressed.buttons == []
        assert pressed.text and pressed.text.endswith("› I understand")


async def test_stale_button_gets_a_gentle_note_and_the_current_step(
    fake: FakeBotApi, db: Path
) -> None:
    async with running_bot(fake, db):
        user = fake.user(103)
        await consent(user)
        stage = user.last_message()
        old_data = str(stage.button("We're working on it")["callback_data"])
        await tap(user, "We're working on it")
        await user.wait_for(lambda m: "What should I call you?" in (m.text or ""))
        query = await user.press_data(old_data)
        replies = await user.wait_reply(2)
        assert "earlier step" in replies[0].text  # type: ignore[operator]
        assert "What should I call you?" in (replies[-1].text or "")
        await user.wait_answer(query)


async def test_a_stale_press_is_not_shown_as_chosen(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(104)
        await consent(user)
        old_data = str(user.last_message().button("We're working on it")["callback_data"])
        await tap(user, "We're working on it")
        await user.wait_for(lambda m: "What should I call you?" in (m.text or ""))
        # The question is answered and moved on; an old copy of its keyboard comes back.
        await user.send_command("/settings")
        settings = await user.wait_for(lambda m: "Your settings" in (m.text or ""))
        user.mark()
        await user.press_data(old_data, settings)
        replies = await user.wait_reply(2, settle=0.3)
        assert "earlier step" in (replies[0].text or "")
        after = user.message(settings.message_id)
        assert after.buttons == []  # the pressed keyboard is gone
        assert "›" not in (after.text or "")  # and nothing claims it was chosen


async def test_an_old_welcome_button_before_consent_just_shows_its_step(
    fake: FakeBotApi, db: Path
) -> None:
    async with running_bot(fake, db):
        user = fake.user(119)
        await user.send_command("/start")
        replies = await user.wait_reply(3)
        old_data = str(replies[-1].buttons[0]["callback_data"])
        await user.press(replies[-1], "I understand")
        await user.wait_reply(1)
        await user.press_data(old_data)  # nothing is stored yet: the button names its step
        again = await user.wait_reply(1)
        assert again[-1].button_labels == ["Yes, that's fine", "No, thank you"]
        assert not any("earlier step" in (m.text or "") for m in user.messages())


async def test_double_tap_advances_once(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(104)
        await user.send_command("/start")
        replies = await user.wait_reply(3)
        message = replies[-1]
        first = await user.press(message, "I understand")
        second = await user.press(message, "I understand")
        await user.wait_answer(first)
        await user.wait_answer(second)
        await user.wait_reply(1, settle=0.3)
        consent = [m for m in user.messages() if "Is that all right?" in (m.text or "")]
        assert len(consent) == 1
        assert not any("earlier step" in (m.text or "") for m in user.messages())


@pytest.mark.parametrize("data", ["garbage", "", "x" * 64, "zz:onboarding:honesty:0"])
async def test_garbage_callback_data_is_answered_and_ignored(
    fake: FakeBotApi, db: Path, data: str
) -> None:
    async with running_bot(fake, db):
        user = fake.user(105)
        await consent(user)
        query = await user.press_data(data)
        await user.wait_answer(query)
        replies = await user.wait_reply(2)
        assert "earlier step" in replies[0].text  # type: ignore[operator]
        assert "Where are you right now?" in (replies[-1].text or "")


async def test_sticker_where_text_is_expected_explains_and_asks_again(
    fake: FakeBotApi, db: Path
) -> None:
    async with running_bot(fake, db):
        user = fake.user(106)
        await onboard_to_name_question(user)
        for send in (user.send_sticker, user.send_photo, user.send_voice, user.send_document):
            await send()
            replies = await user.wait_reply(2)
            assert "only read text" in replies[0].text  # type: ignore[operator]
            assert "What should I call you?" in replies[-1].text  # type: ignore[operator]


async def onboard_to_name_question(user: FakeUser) -> None:
    await user.send_command("/start")
    replies = await user.wait_reply(3)
    await user.press(replies[-1], "I understand")
    [consent] = await user.wait_reply(1)
    await user.press(consent, "Yes, that's fine")
    [language] = await user.wait_reply(1)
    await user.press(language, "That's right")
    [stage] = await user.wait_reply(1)
    await user.press(stage, "We're working on it")
    await user.wait_reply(2)


async def test_an_edited_message_is_explained(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(107)
        await onboard_to_name_question(user)
        sent = await user.send_text("Sa")
        await user.wait_reply(2)
        await user.edit_text(sent["message_id"], "Sam")
        replies = await user.wait_reply(1)
        assert "edited" in replies[0].text  # type: ignore[operator]


async def test_a_10000_character_message_is_handled_kindly(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(108)
        await onboard_to_name_question(user)
        await user.send_text("word " * 2000)
        replies = await user.wait_reply(2)
        assert "shorter message" in replies[0].text  # type: ignore[operator]
        assert "What should I call you?" in replies[-1].text  # type: ignore[operator]
        await user.send_text("Sam")
        replies = await user.wait_reply(2)
        assert "Thank you, Sam." in replies[0].text  # type: ignore[operator]


async def test_restart_mid_dialogue_continues_where_the_person_was(
    fake: FakeBotApi, db: Path
) -> None:
    user = fake.user(109)
    async with running_bot(fake, db):
        await onboard_to_name_question(user)
    async with running_bot(fake, db):
        await user.send_text("Robin")
        replies = await user.wait_reply(2)
        assert "Thank you, Robin." in replies[0].text  # type: ignore[operator]


async def test_blocked_user_is_marked_inactive_then_welcomed_back(
    fake: FakeBotApi, db: Path
) -> None:
    async with running_bot(fake, db):
        user = fake.user(110)
        await consent(user)
        fake.block(110)
        await user.send_command("/menu")
        await fake.wait_until(lambda: any(e.status == 403 for e in fake.errors))
        await asyncio.sleep(0.1)
        fake.unblock(110)
        await user.send_command("/help")
        replies = await user.wait_reply(1)
        assert "Mend walks you through" in replies[0].text  # type: ignore[operator]
    sqlite = SqliteStore(db)
    await sqlite.open()
    exported = await sqlite.export_user(110)
    await sqlite.close()
    assert exported["user"]["active"] is True  # type: ignore[index]


async def test_inactive_flag_is_stored_when_the_person_blocks(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(111)
        await consent(user)
        fake.block(111)
        await user.send_command("/menu")
        await fake.wait_until(lambda: any(e.status == 403 for e in fake.errors))
        await asyncio.sleep(0.2)
    sqlite = SqliteStore(db)
    await sqlite.open()
    exported = await sqlite.export_user(111)
    await sqlite.close()
    assert exported["user"]["active"] is False  # type: ignore[index]


async def test_429_on_send_waits_and_retries(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(112)
        fake.fail_next("sendMessage", 429, retry_after=1, chat_id=112)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await user.send_command("/help")
        replies = await user.wait_reply(4, timeout=8)
        assert loop.time() - began >= 0.9
        assert "Mend walks you through" in replies[0].text  # type: ignore[operator]
        assert any(e.status == 429 for e in fake.errors)


async def test_server_errors_are_retried(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(113)
        fake.fail_next("sendMessage", 500, chat_id=113, times=2)
        await user.send_command("/help")
        replies = await user.wait_reply(4, timeout=8)
        assert "Mend walks you through" in replies[0].text  # type: ignore[operator]


async def test_an_error_tells_the_person_and_keeps_their_place(
    fake: FakeBotApi, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(fake, db):
        user = fake.user(114)
        await onboard_to_name_question(user)
        fake.fail_next("sendMessage", 500, chat_id=114, times=4)  # every retry fails
        with caplog.at_level(logging.INFO):
            await user.send_text("Kim")
            replies = await user.wait_reply(2, timeout=10)
        assert "went wrong" in replies[0].text  # type: ignore[operator]
        # The answer was stored before sending failed; the person is at the next step.
        assert "Is your partner willing to try?" in (replies[-1].text or "")
        assert "Kim" not in caplog.text
        assert "error handling update" in caplog.text


async def test_unknown_command_gets_short_help(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(115)
        await user.send_command("/dance")
        [reply] = await user.wait_reply(1)
        assert "/menu" in reply.text  # type: ignore[operator]


async def test_long_replies_are_split_at_paragraphs_and_typing_is_shown(
    fake: FakeBotApi, db: Path
) -> None:
    from bot.core.turn import OutMessage
    from bot.telegram.render import split_message

    text = "\n\n".join(f"Paragraph {i}. " + "words " * 60 for i in range(30))
    chunks = split_message(text)
    assert all(len(c) <= 4096 for c in chunks)
    assert len(chunks) >= 3
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())
    assert all(c.startswith("Paragraph") for c in chunks)
    async with running_bot(fake, db) as bot:
        user = fake.user(116)
        await bot.shell.show(116, (OutMessage(text),))
        await user.wait_for_messages(len(chunks))
        assert fake.calls_to("sendChatAction")


@pytest.mark.serial  # fifty at once within a timeout: measured alone
async def test_fifty_people_at_once_each_see_only_their_own_replies_in_order(
    fake: FakeBotApi, db: Path
) -> None:
    # Telegram's 30 messages a second is lifted here: this test is about order and privacy.
    async with running_bot(fake, db, send_rate=10_000):
        users = [fake.user(1000 + i) for i in range(50)]
        await asyncio.gather(*(onboard_to_name_question(u) for u in users))
        await asyncio.gather(*(u.send_text(f"Person{u.id}") for u in users))
        replies = await asyncio.gather(*(u.wait_reply(2, timeout=15) for u in users))
        for user, got in zip(users, replies, strict=True):
            assert f"Thank you, Person{user.id}." in got[0].text  # type: ignore[operator]
            assert all(
                "Person" not in (m.text or "") or f"Person{user.id}" in (m.text or "")
                for m in user.messages()
            )


async def test_webhook_mode_checks_the_secret(fake: FakeBotApi, db: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    async with running_bot(
        fake, db, webhook_url=url, webhook_secret="s3cret-value", webhook_port=port
    ):
        update = fake.build_update(
            message={
                "message_id": 1,
                "date": 0,
                "chat": fake.user(117).as_chat(),
                "from": fake.user(117).as_user(),
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
        )
        assert await fake.deliver_webhook(url, update, secret_token="wrong") == 403
        assert await fake.deliver_webhook(url, update) == 403
        assert await fake.deliver_webhook(url, update, secret_token="s3cret-value") == 200
        replies = await fake.user(117).wait_for_messages(4)
        assert "Mend walks you through" in replies[0].text  # type: ignore[operator]
        # Telegram retries a delivery it thinks failed: the same update is applied once.
        assert await fake.deliver_webhook(url, update, secret_token="s3cret-value") == 200
        await asyncio.sleep(0.3)
        assert len(fake.user(117).messages()) == 4


async def test_clock_is_injected_through_the_composition_root(fake: FakeBotApi, db: Path) -> None:
    clock = FakeClock()
    async with running_bot(fake, db, clock=clock):
        user = fake.user(118)
        await consent(user)
    store = SqliteStore(db)
    await store.open()
    exported = await store.export_user(118)
    await store.close()
    assert str(exported["user"]["created_at"]).startswith("2026-11-29T18:00")  # type: ignore[index]
