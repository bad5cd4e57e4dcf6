"""The fake Bot API (tests/fakebot.py) driven by real python-telegram-bot."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakebot import NOT_MODIFIED, FakeBotApi

SECRET = "s3cret-token"
AnyApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


# ---- a minimal bot ---------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes", callback_data="yes"),
                InlineKeyboardButton("No", callback_data="no"),
            ]
        ]
    )
    await update.effective_message.reply_text("Ready?", reply_markup=keyboard)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("noted")
    await query.edit_message_text(f"You chose {query.data}")


def build_app(fake: FakeBotApi, *, concurrent: bool = False) -> AnyApp:
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .concurrent_updates(concurrent)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_button))
    return app


@asynccontextmanager
async def polling(fake: FakeBotApi, *, concurrent: bool = False) -> AsyncIterator[AnyApp]:
    app = build_app(fake, concurrent=concurrent)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@pytest.fixture(autouse=True)
def no_logged_problems(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing (PTB, tornado, the fake) logs a warning or error, shutdown included."""
    caplog.set_level(logging.WARNING)
    yield
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == [], [r.getMessage() for r in problems]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- polling ---------------------------------------------------------------------------------


async def test_echo_over_long_polling_and_clean_shutdown(fake: FakeBotApi) -> None:
    user = fake.user(42, first_name="Ann")
    async with polling(fake):
        sent = await user.send_text("hi there")
        [reply] = await user.wait_reply()
        assert reply.text == "echo: hi there"
        assert reply.message_id == sent["message_id"] + 1
        assert reply.to_api()["chat"] == {"id": 42, "type": "private", "first_name": "Ann"}

        await user.send_text("again")
        assert [m.text for m in await user.wait_reply()] == ["echo: again"]
        assert user.texts() == ["echo: hi there", "echo: again"]
        # The long poll is parked with the requested timeout when the app stops.
        await asyncio.sleep(0.05)
        assert fake.calls_to("getUpdates")[-1]["timeout"] == 10
    assert fake.calls[0].method == "getMe"
    assert fake.pending_updates() == []  # confirmed by the final offset
    assert fake.errors == []


async def test_button_press_is_a_callback_query_that_gets_answered(fake: FakeBotApi) -> None:
    user = fake.user(7)
    async with polling(fake):
        await user.send_command("/start")
        [menu] = await user.wait_reply()
        assert menu.button_labels == ["Yes", "No"]

        query_id = await user.press(menu, "No")
        answer = await user.wait_answer(query_id)
        assert answer["text"] == "noted"
        edited = await user.wait_for(lambda m: m.text == "You chose no")
        assert edited.message_id == menu.message_id
        assert edited.inline_keyboard == []  # edit without reply_markup drops the keyboard
        assert edited.history == ["Ready?"]
        assert fake.unanswered_callbacks() == []

        # A press on the edited message finds no button any more.
        with pytest.raises(LookupError):
            await user.press(menu, "Yes")


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(1)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await user.send_text("wake up")
    updates = await poll
    assert time.monotonic() - started < 1.0
    assert [u.message.text for u in updates if u.message] == ["wake up"]

    await user.send_sticker()
    await user.send_photo(caption="look")
    await user.send_voice()
    await user.send_document("a.txt", b"abc")
    first = updates[0].update_id
    # limit, then offset confirms everything before it.
    assert [u.update_id for u in await bot.get_updates(offset=first, limit=2)] == [
        first,
        first + 1,
    ]
    rest = await bot.get_updates(offset=first + 1, timeout=0)
    assert [u.update_id for u in rest] == [first + 1, first + 2, first + 3, first + 4]
    assert rest[0].message and rest[0].message.sticker and rest[0].message.sticker.emoji == "👍"
    assert rest[1].message and rest[1].message.photo and rest[1].message.caption == "look"
    assert rest[2].message and rest[2].message.voice
    assert rest[3].message and rest[3].message.document
    # The user's document can be downloaded through getFile and base_file_url.
    file = await bot.get_file(rest[3].message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"abc"
    assert await bot.get_updates(offset=first + 5, timeout=0) == ()
    assert fake.pending_updates() == []

    # An edited message arrives as edited_message.
    sent = user.sent[0]
    await user.edit_text(sent["message_id"], "wake up!")
    [edit] = await bot.get_updates(offset=first + 5, timeout=0)
    assert edit.edited_message and edit.edited_message.text == "wake up!"


async def test_second_long_poll_conflicts_with_the_first(fake: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    async with Bot(fake.token, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first


# ---- errors ----------------------------------------------------------------------------------


# PTB itself warns about RetryAfter.retry_after becoming a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_surfaces_as_retry_after(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(5)
    fake.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(5, "hello")
    assert "Retry in 1" in str(caught.value)
    assert fake.errors[-1].description == "Too Many Requests: retry after 1"
    await bot.send_message(5, "hello")  # only the next call failed
    assert fake.user(5).texts() == ["hello"]
    assert len(fake.calls_to("sendMessage", chat_id=5)) == 2


async def test_forbidden_blocking_and_other_errors(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(5)
    fake.user(6)
    fake.fail_next("sendMessage", status=403, chat_id=6)
    await bot.send_message(5, "not chat 6, not affected")
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(6, "x")

    fake.block(5)
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(5, "x")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(5, "typing")
    fake.unblock(5)
    await bot.send_message(5, "welcome back")

    fake.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(5, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(5, "<b>unclosed", parse_mode="HTML")

    msg = await bot.send_message(5, "<b>bold</b> move", parse_mode="HTML")
    assert msg.text == "bold move"
    assert msg.entities[0].type == "bold"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>bold</b> move", 5, msg.message_id, parse_mode="HTML")
    fake.fail_next("editMessageText", status=400)
    with pytest.raises(BadRequest) as caught:
        await bot.edit_message_text("new", 5, msg.message_id)
    assert ("Bad Request: " + caught.value.message).lower() == NOT_MODIFIED.lower()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("123")


async def test_delay_makes_the_client_time_out_but_the_message_lands(
    fake: FakeBotApi, bot: Bot
) -> None:
    user = fake.user(8)
    fake.delay_next("sendMessage", 0.3)
    user.mark()
    with pytest.raises(TimedOut):
        await bot.send_message(8, "late", read_timeout=0.05)
    [late] = await user.wait_reply(timeout=2)
    assert late.text == "late"


# ---- webhook ---------------------------------------------------------------------------------


async def test_webhook_delivery_and_secret_token(fake: FakeBotApi) -> None:
    port = free_port()
    app = build_app(fake)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", secret_token=SECRET
    )
    try:
        assert fake.webhook_url == f"http://127.0.0.1:{port}/hook"
        assert fake.webhook_secret_token == SECRET
        user = fake.user(11)
        await user.send_text("via webhook")
        [reply] = await user.wait_reply()
        assert reply.text == "echo: via webhook"
        assert fake.webhook_deliveries[-1].status == 200

        update = fake.build_update(message=user.sent[-1])
        url = fake.webhook_url
        assert await fake.deliver_webhook(url, update, secret_token="wrong") == 403
        assert await fake.deliver_webhook(url, update) == 403
        assert await fake.deliver_webhook(url, update, secret_token=SECRET) == 200
        await user.wait_for_messages(2)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_get_updates_conflicts_while_a_webhook_is_set(fake: FakeBotApi, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/unused", secret_token="abc")
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:9/unused"
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


# ---- many users, uploads, housekeeping -------------------------------------------------------


async def test_fifty_users_concurrently_get_only_their_own_echoes(fake: FakeBotApi) -> None:
    users = [fake.user(1000 + i) for i in range(50)]

    async def converse(i: int) -> list[str]:
        user = users[i]
        texts = []
        for turn in range(2):
            await user.send_text(f"u{i} t{turn}")
            [reply] = await user.wait_reply()
            texts.append(reply.text or "")
        return texts

    async with polling(fake, concurrent=True):  # handlers run concurrently too
        results = await asyncio.gather(*(converse(i) for i in range(50)))
    for i, texts in enumerate(results):
        assert texts == [f"echo: u{i} t{turn}" for turn in range(2)]
        assert users[i].texts() == texts


async def test_send_document_records_filename_and_bytes(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(9)
    sent = await bot.send_document(
        9, document=b"%PDF-1.4 fake", filename="plan.pdf", caption="Your plan"
    )
    assert sent.document is not None and sent.document.file_name == "plan.pdf"
    doc = user.last_message().document
    assert doc is not None
    assert (doc.filename, doc.content) == ("plan.pdf", b"%PDF-1.4 fake")
    assert user.last_message().caption == "Your plan"
    assert fake.documents == [user.last_message()]
    upload = fake.calls_to("sendDocument")[0]["document"]
    assert upload.filename == "plan.pdf"
    # Re-sending by file_id reuses the stored file.
    await bot.send_document(9, document=sent.document.file_id)
    assert fake.documents[-1].document is doc


async def test_bot_settings_pins_deletes_and_raw_json(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(3)
    await bot.set_my_commands([("start", "Begin"), ("help", "Help")])
    await bot.set_my_short_description("Short")
    await bot.set_my_description("Long description")
    assert [c["command"] for c in fake.commands] == ["start", "help"]
    assert (fake.short_description, fake.description) == ("Short", "Long description")
    msg = await bot.send_message(3, "pin me")
    await bot.pin_chat_message(3, msg.message_id)
    assert user.last_message().pinned
    await bot.delete_message(3, msg.message_id)
    assert user.messages() == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(3, msg.message_id)
    assert await bot.close()

    # Plain JSON requests work too, and a wrong token is 401.
    async with httpx.AsyncClient() as client:
        ok = await client.post(f"{fake.api_url}/sendMessage", json={"chat_id": 3, "text": "raw"})
        assert ok.json()["result"]["text"] == "raw"
        bad = await client.post(f"{fake.base_url}999:nope/getMe")
        assert (bad.status_code, bad.json()["description"]) == (401, "Unauthorized")


async def test_stale_button_data_settle_and_stopping_mid_poll(fake: FakeBotApi) -> None:
    user = fake.user(21)
    async with polling(fake):
        await user.send_command("start", "from-ad")
        await user.wait_reply(settle=0.05)
        assert user.sent[-1]["text"] == "/start from-ad"
        query_id = await user.press_data("stale-v1")
        await user.wait_for(lambda m: m.text == "You chose stale-v1")
        assert query_id in fake.callback_answers
        # settle: nothing else arrives for a /start
        await user.send_command("/start")
        assert len(await user.wait_reply(settle=0.1)) == 1

    # The fake stopping under a parked long poll answers it at once, with no updates.
    async with FakeBotApi() as other, Bot(other.token, base_url=other.base_url) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await other.stop()
        assert await poll == ()
        assert time.monotonic() - started < 1.0
