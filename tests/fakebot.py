"""A fake Telegram Bot API server for end-to-end tests with real python-telegram-bot.

The fake is a small HTTP server (tornado, in the test's own event loop, on 127.0.0.1 and a
free port) that speaks the real Bot API wire format: ``{base}/bot{TOKEN}/{method}``, JSON,
form-encoded or multipart requests, ``{"ok": true, "result": ...}`` answers and error
answers in Telegram's own shape (``error_code``, ``description``, ``parameters``). Point a
real ``Application`` at it and drive it as a simulated user::

    async with FakeBotApi() as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...  # add handlers, initialize(), start(), updater.start_polling(poll_interval=0)
        user = fake.user(42, first_name="Ann")
        await user.send_text("hi")
        [reply] = await user.wait_reply()           # what the bot sent since "hi"
        assert reply.text == "echo: hi"
        await user.press(reply, "Yes")              # callback_query with that button's data
        edited = await user.wait_for(lambda m: m.text == "You chose yes")
        assert fake.unanswered_callbacks() == []

Waiting for replies: the "mark"
    Every ``FakeUser`` keeps a *mark*: the position in its chat's list of bot messages at the
    moment of the user's last action. Every action helper (``send_text``, ``send_command``,
    ``send_sticker``/``photo``/``voice``/``document``, ``edit_text``, ``press``,
    ``press_data``) moves the mark to "now" *before* the update is queued, so
    ``await user.wait_reply()`` means "wait for the bot's answer to what I just did" and
    returns every (not deleted) message the bot has sent to this chat since then, at least
    ``n`` of them. ``settle=`` keeps waiting until the chat has been quiet that long, which is
    how to assert "exactly these messages and nothing more". Edits do not move anything:
    after a button press that edits the message in place, use
    ``wait_for(predicate)``, re-evaluated after every API request aimed at the chat (or
    ``user.wait_answer(query_id)`` for the answerCallbackQuery). ``wait_for_messages(n)``
    waits for ``n`` messages in the chat in total; ``fake.wait_until(condition)`` for
    anything else. Every wait raises ``TimeoutError`` naming what the chat holds and the
    error answers the fake gave, so a failing test says why.

Messages (``BotMessage``) hold the *current* state after edits: ``text`` is what the user
sees (HTML rendered to plain text plus ``entities``; ``raw_text`` is what the bot sent),
``reply_markup`` the last markup sent (an edit without ``reply_markup`` removes an inline
keyboard, as on Telegram), ``deleted``, ``pinned``, ``history`` (earlier texts) and
``document`` (a ``StoredFile`` with the uploaded ``filename`` and ``content``).

Updates
    Update ids increase globally. Every update is queued; ``getUpdates`` serves the queue
    with real long polling (``timeout``, ``offset`` confirming earlier updates, negative
    offsets, ``limit``; it answers as soon as an update arrives; a second concurrent
    ``getUpdates`` ends the first with 409 Conflict, like Telegram). After the bot calls
    ``setWebhook`` the fake pushes the queue to that URL itself, in order, with the
    registered ``X-Telegram-Bot-Api-Secret-Token``, retrying failed deliveries until
    ``deleteWebhook`` (``getUpdates`` answers 409 meanwhile); ``webhook_deliveries`` records
    each attempt. ``deliver_webhook(url, update, secret_token=...)`` POSTs one update by hand
    and returns the HTTP status (e.g. to check that a wrong secret gets 403).
    ``enqueue_raw(update)`` queues a dict verbatim (a malformed update, say); ``served``
    counts how many times getUpdates returned each update id.

Recording and fault injection
    ``calls`` lists every request as ``ApiCall(method, params)`` (uploads appear as
    ``UploadedFile``); ``calls_to(method)``; ``errors`` lists every error answer given.
    ``fail_next(method, status, ...)`` makes the next matching call fail (429 with
    ``retry_after``, 403 blocked, 400 not modified, 500, ...), optionally only for one
    ``chat_id`` and for several ``times``; ``delay_next(method, seconds)`` answers late so
    the client times out (the call still takes effect afterwards, as a request that reached
    Telegram does, unless ``process=False``); ``block(user_id)`` answers every call aimed at
    that chat with 403 "Forbidden: bot was blocked by the user" until ``unblock``.
    ``callback_answers`` maps each callback query id to its answerCallbackQuery parameters;
    answering an unknown or already answered query gives 400 like Telegram.

Shutdown: ``stop()`` wakes pending long polls (they answer ``[]``), stops the webhook
pusher and closes connections; polls abandoned by a stopping client end silently.

Not modelled: groups, channels, topics, inline mode, payments; bot-sent media other than
documents (sendPhoto & co. answer 404 like an unknown method); flood limits (429 only when
injected); time limits (callback query expiry, 48 h edit window, 24 h update retention);
Markdown/MarkdownV2 parsing (passed through unchecked; HTML is rendered and checked for
unknown, unclosed and mismatched tags only); ``allowed_updates``; command scopes and
languages; the webhook's HTTPS, certificate, IP and ``max_connections`` (delivery is
sequential); ``reply_to_message`` echoes; whitespace trimming; a blocked user can still send
updates. Lengths are counted in code points, not UTF-16 units after entity parsing.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from types import TracebackType
from typing import Any, NamedTuple, Self

import httpx
import tornado.netutil
import tornado.web
from tornado.httpserver import HTTPServer

__all__ = [
    "ApiCall",
    "ApiErrorRecord",
    "BotMessage",
    "FakeBotApi",
    "FakeUser",
    "StoredFile",
    "UploadedFile",
    "WebhookDelivery",
]

JSON = dict[str, Any]

_LOG = logging.getLogger(__name__)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Parameters that are strings in the Bot API: kept verbatim when they arrive form-encoded
# (PTB sends str values unencoded and everything else JSON-encoded).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "description",
        "short_description",
        "language_code",
        "action",
        "inline_message_id",
        "ip_address",
        "file_id",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "title",
        "name",
    }
)

_METHODS = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setMyShortDescription",
    "getMyShortDescription",
    "setMyDescription",
    "getMyDescription",
    "sendChatAction",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "sendDocument",
    "sendPhoto",
    "getFile",
    "pinChatMessage",
    "unpinChatMessage",
    "unpinAllChatMessages",
    "deleteMessage",
    "close",
    "logOut",
)
_CANONICAL = {m.lower(): m for m in _METHODS}
# Methods aimed at a chat: they answer 403 while the chat's user has blocked the bot.
_CHAT_METHODS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "sendChatAction",
        "sendDocument",
        "sendPhoto",
        "pinChatMessage",
        "unpinChatMessage",
        "unpinAllChatMessages",
        "deleteMessage",
    }
)
_DEFAULT_DESCRIPTIONS = {
    400: NOT_MODIFIED,
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: _POLL_CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def canonical_method(method: str) -> str:
    """Bot API method names are case-insensitive; return the documented spelling."""
    return _CANONICAL.get(method.lower(), method)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


class ApiCall(NamedTuple):
    """One request the bot made: canonical method name and decoded parameters."""

    method: str
    params: JSON


class ApiErrorRecord(NamedTuple):
    """One error answer the fake gave."""

    method: str
    params: JSON
    status: int
    description: str


class WebhookDelivery(NamedTuple):
    """One POST of an update to a webhook; ``status`` is None if the connection failed."""

    update_id: int
    url: str
    status: int | None
    error: str | None


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content: bytes
    mime_type: str | None


@dataclass
class StoredFile:
    """A file known to the fake (uploaded by the bot or sent by a user); see getFile."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str | None
    content: bytes | None
    mime_type: str | None

    @property
    def size(self) -> int:
        return len(self.content or b"")


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits applied)."""

    chat_id: int
    message_id: int
    method: str  # "sendMessage", "sendDocument" or "sendPhoto"
    date: int
    text: str | None = None  # as the user sees it (HTML rendered)
    raw_text: str | None = None  # as the bot sent it
    entities: list[JSON] = field(default_factory=list)
    parse_mode: str | None = None
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    document: StoredFile | None = None
    edit_date: int | None = None
    deleted: bool = False
    pinned: bool = False
    history: list[str | None] = field(default_factory=list)
    params: JSON = field(default_factory=dict, repr=False)
    sender: JSON = field(default_factory=dict, repr=False)
    chat: JSON = field(default_factory=dict, repr=False)
    # When the fake accepted it (monotonic seconds): the crash test asks what was in flight.
    accepted_at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """Rows of inline buttons (empty when the message has no inline keyboard)."""
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[JSON]] = self.reply_markup["inline_keyboard"]
            return rows
        return []

    @property
    def buttons(self) -> list[JSON]:
        """Inline buttons, row by row, flattened."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [str(button.get("text", "")) for button in self.buttons]

    def button(self, ref: int | str | tuple[int, int]) -> JSON:
        """Find an inline button by flat index, exact label, or ``(row, column)``."""
        buttons = self.buttons
        if not buttons:
            raise LookupError(f"message {self.message_id} has no inline keyboard: {self!r}")
        if isinstance(ref, tuple):
            row, col = ref
            return self.inline_keyboard[row][col]
        if isinstance(ref, int):
            if not -len(buttons) <= ref < len(buttons):
                raise LookupError(f"no button #{ref}; buttons: {self.button_labels}")
            return buttons[ref]
        for button in buttons:
            if button.get("text") == ref:
                return button
        raise LookupError(f"no button labelled {ref!r}; buttons: {self.button_labels}")

    def to_api(self) -> JSON:
        """The Bot API ``Message`` object for the current state."""
        message: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.document is not None and self.method == "sendPhoto":
            doc = self.document
            message["photo"] = [
                {"file_id": doc.file_id, "file_unique_id": doc.file_unique_id, "width": 800,
                 "height": 420, "file_size": doc.size}
            ]  # fmt: skip
        elif self.document is not None:
            doc = self.document
            message["document"] = {
                "file_id": doc.file_id,
                "file_unique_id": doc.file_unique_id,
                "file_size": doc.size,
            }
            if doc.filename:
                message["document"]["file_name"] = doc.filename
            if doc.mime_type:
                message["document"]["mime_type"] = doc.mime_type
        if self.caption is not None:
            message["caption"] = self.caption
            if self.caption_entities:
                message["caption_entities"] = self.caption_entities
        if self.inline_keyboard:
            message["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        return message


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _language_code(p: JSON) -> str:
    """The Bot API's `language_code`: empty, or two lower-case letters (ISO 639-1)."""
    code = str(p.get("language_code") or "")
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise _bad_request("LANG_CODE_INVALID")
    return code


def _bad_request(what: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {what}")


@dataclass
class _Fault:
    method: str
    chat_id: int | None
    times: int
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0
    process: bool = True

    def error(self) -> _ApiError:
        params = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return _ApiError(self.status, self.description, params)


@dataclass(eq=False)
class _Poll:
    """One in-flight request; ``wake`` is set on new updates, disconnects and shutdown."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    gone: bool = False
    superseded: bool = False


class _Signal:
    """Something changed: wakes every waiter; waiters re-check their condition."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait for the next change; False on timeout."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, max(timeout, 0.0))
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True

    async def wait_until(
        self, condition: Callable[[], bool], deadline: float, describe: Callable[[], str]
    ) -> None:
        """Re-check ``condition`` after each change until it holds or ``deadline`` passes."""
        loop = asyncio.get_running_loop()
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.wait(remaining):
                if condition():
                    return
                raise TimeoutError(f"timed out waiting for the bot.\n{describe()}")


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlRenderer(HTMLParser):
    """Telegram's HTML parse mode: plain text plus entities; rejects what Telegram rejects
    most visibly (unsupported tags, unclosed or mismatched tags)."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.parts: list[str] = []
        self.entities: list[JSON] = []
        self.error: str | None = None
        self._offset = 0
        self._stack: list[tuple[str, int, dict[str, str | None]]] = []

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        index = self._line_starts[line - 1] + col
        return len(self._source[:index].encode())

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in _HTML_TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
            return
        self._stack.append((tag, self._offset, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
            return
        open_tag, start, attributes = self._stack.pop()
        if open_tag != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
            return
        inside_pre = bool(self._stack) and self._stack[-1][0] == "pre"
        if tag == "code" and inside_pre:
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self._stack[-1][2]["language"] = language
            return
        length = self._offset - start
        if length <= 0:
            return
        entity: JSON = {"type": _HTML_TAGS[tag], "offset": start, "length": length}
        if tag == "a":
            entity["url"] = attributes.get("href") or ""
        elif tag == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._offset += _utf16_len(data)

    def render(self) -> tuple[str, list[JSON]]:
        self.feed(self._source)
        self.close()
        if self._stack and self.error is None:
            self.error = f'Can\'t find end tag corresponding to start tag "{self._stack[-1][0]}"'
        if self.error is not None:
            raise _bad_request(f"can't parse entities: {self.error}")
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def _render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSON]]:
    if isinstance(entities, str):
        entities = json.loads(entities)
    if parse_mode and parse_mode.upper() == "HTML":
        return _HtmlRenderer(text).render()
    return text, list(entities or [])


def _decode_param(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid integer value {value!r}") from None


# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        fake: FakeBotApi,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.sent: list[JSON] = []  # messages this user sent, as Bot API Message objects
        self.pinned_message_id: int | None = None
        self._bot_messages: list[BotMessage] = []
        self._user_messages: dict[int, JSON] = {}
        self._message_ids = itertools.count(1)
        self._mark = 0
        self._activity = 0  # API calls aimed at this chat
        self._changed = _Signal()  # fired on each of them

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def chat_id(self) -> int:
        return self.id

    def as_user(self) -> JSON:
        """The Bot API ``User`` object."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> JSON:
        """The Bot API ``Chat`` object of the private chat."""
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # ---- acting --------------------------------------------------------------------------

    def _new_message(self, **content: Any) -> JSON:
        message: JSON = {
            "message_id": next(self._message_ids),
            "from": self.as_user(),
            "chat": self.as_chat(),
            "date": _now(),
            **content,
        }
        self._user_messages[message["message_id"]] = message
        self.sent.append(message)
        return message

    async def _push(self, **payload: Any) -> None:
        self.mark()
        self.fake.enqueue_update(**payload)
        await asyncio.sleep(0)

    async def send_message(self, **content: Any) -> JSON:
        """Send a message with arbitrary Bot API ``Message`` content fields."""
        message = self._new_message(**content)
        await self._push(message=message)
        return message

    async def send_text(self, text: str, *, entities: list[JSON] | None = None) -> JSON:
        """Send a text message; a leading ``/command`` gets its ``bot_command`` entity."""
        content: JSON = {"text": text}
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if entities:
            content["entities"] = entities
        return await self.send_message(**content)

    async def send_command(self, command: str, args: str = "") -> JSON:
        """``send_command("/start")``, ``send_command("start", "payload")``."""
        if not command.startswith("/"):
            command = "/" + command
        return await self.send_text(f"{command} {args}".strip())

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        stored = self.fake.store_file("stickers", b"RIFF-fake-webp", "sticker.webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return await self.send_message(sticker=sticker)

    async def send_photo(self, caption: str | None = None, *, content: bytes = b"") -> JSON:
        stored = self.fake.store_file("photos", content or b"\xff\xd8fake-jpeg", None, None)
        sizes = [
            {
                "file_id": f"{stored.file_id}-{width}",
                "file_unique_id": f"{stored.file_unique_id}{width}",
                "width": width,
                "height": width * 3 // 4,
                "file_size": stored.size,
            }
            for width in (90, 320, 800)
        ]
        sizes[-1]["file_id"] = stored.file_id
        for size in sizes[:-1]:
            self.fake._files[str(size["file_id"])] = stored
        extra: JSON = {"caption": caption} if caption is not None else {}
        return await self.send_message(photo=sizes, **extra)

    async def send_voice(self, duration: int = 3, *, content: bytes = b"") -> JSON:
        stored = self.fake.store_file("voice", content or b"OggS-fake", None, "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }
        return await self.send_message(voice=voice)

    async def send_document(
        self,
        filename: str = "notes.txt",
        content: bytes = b"hello",
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> JSON:
        stored = self.fake.store_file("documents", content, filename, mime_type)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        extra: JSON = {"caption": caption} if caption is not None else {}
        return await self.send_message(document=document, **extra)

    async def edit_text(self, message_id: int, text: str) -> JSON:
        """Edit one of this user's earlier text messages (an ``edited_message`` update)."""
        original = self._user_messages.get(message_id)
        if original is None or "text" not in original:
            raise LookupError(f"user {self.id} sent no text message {message_id}")
        original.update(text=text, edit_date=_now())
        original.pop("entities", None)
        await self._push(edited_message=dict(original))
        return original

    async def press(
        self, message: BotMessage | int, button: int | str | tuple[int, int] = 0
    ) -> str:
        """Press an inline button (flat index, label or (row, col)) on a bot message, as it
        currently is. Returns the callback query id."""
        target = self.message(message) if isinstance(message, int) else message
        if target.deleted:
            raise LookupError(f"message {target.message_id} was deleted")
        pressed = target.button(button)
        if "callback_data" not in pressed:
            raise ValueError(f"button {pressed!r} has no callback_data")
        return await self._callback(str(pressed["callback_data"]), target.to_api())

    async def press_data(self, data: str, message: BotMessage | int | None = None) -> str:
        """A callback query with raw ``data`` (e.g. a stale or forged button). Attached to
        ``message`` or the latest bot message; with none, an inaccessible message."""
        if isinstance(message, int):
            message = self.message(message)
        if message is None:
            alive = self.messages()
            message = alive[-1] if alive else None
        payload = (
            message.to_api()
            if message is not None
            else {"chat": self.as_chat(), "message_id": 1, "date": 0}
        )
        return await self._callback(data, payload)

    async def _callback(self, data: str, message: JSON) -> str:
        query_id = self.fake._new_callback_query_id(self.id)
        query = {
            "id": query_id,
            "from": self.as_user(),
            "message": message,
            "chat_instance": str(-(10**18) - self.id),
            "data": data,
        }
        await self._push(callback_query=query)
        return query_id

    # ---- reading -------------------------------------------------------------------------

    def messages(self, *, include_deleted: bool = False) -> list[BotMessage]:
        """Everything the bot sent to this chat, oldest first, in its current state."""
        return [m for m in self._bot_messages if include_deleted or not m.deleted]

    def texts(self) -> list[str]:
        """Text (or caption) of each message, for quick assertions."""
        return [m.text if m.text is not None else (m.caption or "") for m in self.messages()]

    def message(self, message_id: int) -> BotMessage:
        for m in self._bot_messages:
            if m.message_id == message_id:
                return m
        raise LookupError(f"the bot sent no message {message_id} to chat {self.id}")

    def last_message(self) -> BotMessage:
        alive = self.messages()
        if not alive:
            raise LookupError(f"the bot has sent nothing to chat {self.id}")
        return alive[-1]

    def mark(self) -> None:
        """Start a new "reply" window (every action helper does this)."""
        self._mark = len(self._bot_messages)

    def since_mark(self) -> list[BotMessage]:
        return [m for m in self._bot_messages[self._mark :] if not m.deleted]

    async def wait_reply(
        self, n: int = 1, timeout: float = 5.0, *, settle: float = 0.0
    ) -> list[BotMessage]:
        """Wait until the bot has sent at least ``n`` messages since the user's last action
        (the mark); return all of them. With ``settle``, then keep collecting until the bot
        made no API call aimed at this chat for ``settle`` seconds (bounded by ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._changed.wait_until(
            lambda: len(self.since_mark()) >= n, deadline, self._describe
        )
        seen, quiet_since = self._activity, loop.time()
        while settle > 0:
            now = loop.time()
            if self._activity != seen:
                seen, quiet_since = self._activity, now
            remaining = min(quiet_since + settle, deadline) - now
            if remaining <= 0:
                break
            await self._changed.wait(remaining)
        return self.since_mark()

    async def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[BotMessage]:
        """Wait until the chat holds at least ``n`` (not deleted) bot messages."""
        deadline = asyncio.get_running_loop().time() + timeout
        await self._changed.wait_until(lambda: len(self.messages()) >= n, deadline, self._describe)
        return self.messages()

    async def wait_for(
        self, predicate: Callable[[BotMessage], bool], timeout: float = 5.0
    ) -> BotMessage:
        """Wait until some (not deleted) message in the chat satisfies ``predicate``; return
        the most recent such message."""

        def match() -> BotMessage | None:
            return next((m for m in reversed(self.messages()) if predicate(m)), None)

        deadline = asyncio.get_running_loop().time() + timeout
        await self._changed.wait_until(lambda: match() is not None, deadline, self._describe)
        found = match()
        assert found is not None
        return found

    async def wait_answer(self, query_id: str, timeout: float = 5.0) -> JSON:
        """Wait until the bot answered this callback query; return the answer's params."""
        return await self.fake.wait_callback_answered(query_id, timeout)

    def _describe(self) -> str:
        lines = [f"chat {self.id}: {len(self.since_mark())} message(s) since the mark;"]
        lines += [f"  {m.message_id}: {m.text or m.caption!r}" for m in self.messages()]
        errors = [e for e in self.fake.errors if self.fake._chat_of(e.params) == self.id]
        lines += [f"  error {e.status} on {e.method}: {e.description}" for e in errors[-5:]]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _ApiHandler(tornado.web.RequestHandler):
    fake: FakeBotApi
    poll: _Poll

    def initialize(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.poll = _Poll()

    def on_connection_close(self) -> None:
        self.poll.gone = True
        self.poll.wake.set()

    async def get(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._serve(token, method)

    def _params(self) -> JSON:
        params: JSON = {}
        for name, values in self.request.query_arguments.items():
            params[name] = _decode_param(name, values[-1].decode("utf-8", "replace"))
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            if self.request.body:
                body = json.loads(self.request.body)
                if not isinstance(body, dict):
                    raise ValueError("JSON body must be an object")
                params.update(body)
            return params
        for name, values in self.request.body_arguments.items():
            params[name] = _decode_param(name, values[-1].decode("utf-8", "replace"))
        files = {
            name: UploadedFile(parts[-1].filename or None, parts[-1].body, parts[-1].content_type)
            for name, parts in self.request.files.items()
        }
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.pop(value.removeprefix("attach://"), None)
                if attached is not None:
                    params[name] = attached
        for name, upload in files.items():
            params.setdefault(name, upload)
        return params

    async def _serve(self, token: str, method: str) -> None:
        try:
            params = self._params()
        except ValueError as exc:
            status, body = 400, _bad_request(f"can't parse request: {exc}").body()
        else:
            status, body = await self.fake._handle(token, method, params, self.poll)
        if self.poll.gone:
            return  # the client left (cancelled long poll, client-side timeout)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))


class _FileHandler(tornado.web.RequestHandler):
    fake: FakeBotApi

    def initialize(self, fake: FakeBotApi) -> None:
        self.fake = fake

    def get(self, token: str, path: str) -> None:
        stored = self.fake._files_by_path.get(path)
        if token != self.fake.token or stored is None:
            self.set_status(404)
            self.finish(json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        self.set_header("Content-Type", stored.mime_type or "application/octet-stream")
        self.finish(stored.content or b"")


class FakeBotApi:
    """The fake Bot API server; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-fake-token",
        *,
        bot_first_name: str = "Mend",
        bot_username: str = "mend_test_bot",
        host: str = "127.0.0.1",
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.host = host
        self.webhook_retry_delay = webhook_retry_delay

        self.calls: list[ApiCall] = []
        self.poll_count = 0  # getUpdates calls so far: cheaper to watch than filtering `calls`
        self.errors: list[ApiErrorRecord] = []
        self.updates: list[JSON] = []  # every update ever queued
        self.served: Counter[int] = Counter()  # update id -> times getUpdates returned it
        self.callback_answers: dict[str, JSON] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: list[JSON] = []
        # Per language (Bot API `language_code`, two letters), besides the default above.
        self.commands_by_language: dict[str, list[JSON]] = {}
        self.short_descriptions: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}
        self.description = ""
        self.short_description = ""
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        self.webhook_last_error: str | None = None
        self.blocked: set[int] = set()

        self._users: dict[int, FakeUser] = {}
        self._pending: list[JSON] = []
        self._callback_queries: set[str] = set()
        self._query_owner: dict[str, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._faults: list[_Fault] = []
        self._delays: list[_Fault] = []
        self._polls: set[_Poll] = set()
        self._update_ids = itertools.count(1000)
        self._query_ids = itertools.count(4_100_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._changed = _Signal()
        self._closing = asyncio.Event()
        self._webhook_wake = asyncio.Event()
        self._server: HTTPServer | None = None
        self._http: httpx.AsyncClient | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._method_table = self._methods()

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeBotApi already started")
        app = tornado.web.Application(
            [
                (r"/bot([^/]*)/([A-Za-z]+)/?", _ApiHandler, {"fake": self}),
                (r"/file/bot([^/]*)/(.+)", _FileHandler, {"fake": self}),
            ],
            log_function=lambda handler: None,
        )
        sockets = tornado.netutil.bind_sockets(0, self.host)
        self._port = int(sockets[0].getsockname()[1])
        self._server = HTTPServer(app)
        self._server.add_sockets(sockets)
        self._closing.clear()
        self._http = httpx.AsyncClient(timeout=10.0)
        self._pusher = asyncio.create_task(self._push_webhooks(), name="fakebot-webhook-pusher")
        _LOG.debug("fake Bot API listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.stop()
        self._closing.set()
        for poll in list(self._polls):
            poll.wake.set()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await asyncio.sleep(0)
        await server.close_all_connections()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi not started: await fake.start() first")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``: PTB appends
        the token, then ``/{method}``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``base_file_url``: PTB appends the token, then ``/{file_path}``."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def api_url(self) -> str:
        """``{base_url}{token}``: append ``/{method}`` for a raw request."""
        return f"{self.base_url}{self.token}"

    @property
    def bot_user(self) -> JSON:
        """The ``User`` object getMe returns."""
        return {
            **self._bot_sender(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _bot_sender(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---- users and updates ---------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """The user with this id (created on first use; later calls return the same one)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        created = FakeUser(
            self,
            user_id,
            first_name or f"User{user_id}",
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._users[user_id] = created
        return created

    @property
    def users(self) -> list[FakeUser]:
        return list(self._users.values())

    def build_update(self, **payload: Any) -> JSON:
        """An update with the next update id, e.g. ``build_update(message={...})``; not
        queued (for ``deliver_webhook``)."""
        if len(payload) != 1:
            raise ValueError("an update carries exactly one payload, e.g. message={...}")
        return {"update_id": next(self._update_ids), **copy.deepcopy(payload)}

    def enqueue_update(self, **payload: Any) -> JSON:
        """Queue an update for getUpdates (or the webhook, once one is set)."""
        update = self.build_update(**payload)
        self.updates.append(update)
        self._pending.append(update)
        for poll in self._polls:
            poll.wake.set()
        self._webhook_wake.set()
        self._changed.fire()
        return update

    def enqueue_raw(self, update: JSON) -> JSON:
        """Queue ``update`` verbatim (e.g. malformed, as a client bug or attacker might make
        it); it gets the next update id unless it has one."""
        update = copy.deepcopy(update)
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)
        self._pending.append(update)
        for poll in self._polls:
            poll.wake.set()
        self._webhook_wake.set()
        self._changed.fire()
        return update

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed (getUpdates offset) or delivered (webhook)."""
        return list(self._pending)

    def store_file(
        self, folder: str, content: bytes | None, filename: str | None, mime_type: str | None
    ) -> StoredFile:
        """Register a file (served by getFile and the file URL)."""
        n = next(self._file_ids)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"FAKE{folder[:3].upper()}{n:06d}{secrets.token_hex(6)}",
            file_unique_id=f"U{n:06d}",
            file_path=f"{folder}/file_{n}{suffix}",
            filename=filename,
            content=content,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _new_callback_query_id(self, user_id: int) -> str:
        query_id = str(next(self._query_ids))
        self._callback_queries.add(query_id)
        self._query_owner[query_id] = user_id
        return query_id

    # ---- reading what the bot did --------------------------------------------------------

    def calls_to(self, method: str, *, chat_id: int | None = None) -> list[JSON]:
        """Params of every call to ``method`` (optionally only those aimed at ``chat_id``)."""
        wanted = canonical_method(method)
        return [
            call.params
            for call in self.calls
            if call.method == wanted and (chat_id is None or self._chat_of(call.params) == chat_id)
        ]

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """What the bot sent to one chat (see ``FakeUser.messages``)."""
        user = self._users.get(chat_id)
        if user is None:
            raise LookupError(f"no user {chat_id}; create one with fake.user({chat_id})")
        return user.messages(include_deleted=include_deleted)

    def all_messages(self) -> list[BotMessage]:
        return [m for u in self._users.values() for m in u.messages()]

    @property
    def documents(self) -> list[BotMessage]:
        """Every document message the bot sent, in all chats."""
        return [
            m
            for u in self._users.values()
            for m in u.messages(include_deleted=True)
            if m.document is not None
        ]

    def unanswered_callbacks(self) -> list[str]:
        """Callback queries users made that the bot has not answered."""
        return sorted(self._callback_queries - set(self.callback_answers), key=int)

    async def wait_callback_answered(self, query_id: str, timeout: float = 5.0) -> JSON:
        deadline = asyncio.get_running_loop().time() + timeout
        await self._changed.wait_until(
            lambda: query_id in self.callback_answers,
            deadline,
            lambda: f"callback query {query_id} not answered",
        )
        return self.callback_answers[query_id]

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition()`` is true; re-checked after every API request."""
        deadline = asyncio.get_running_loop().time() + timeout
        await self._changed.wait_until(condition, deadline, lambda: "condition not met")

    # ---- fault injection -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (for ``chat_id`` only, if given) with
        an error; 429 gets ``parameters.retry_after`` (default 1)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
        self._faults.append(
            _Fault(
                canonical_method(method),
                chat_id,
                times,
                status=status,
                description=description,
                retry_after=retry_after,
            )
        )

    def delay_next(
        self,
        method: str,
        seconds: float,
        *,
        chat_id: int | None = None,
        times: int = 1,
        process: bool = True,
    ) -> None:
        """Sleep ``seconds`` before answering the next ``times`` calls of ``method``, so
        the client times out. The call still takes effect afterwards (like a request that
        reached Telegram); with ``process=False`` it is dropped (answers 500)."""
        self._delays.append(
            _Fault(canonical_method(method), chat_id, times, delay=seconds, process=process)
        )

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def block(self, user_id: int) -> None:
        """The user blocked the bot: calls aimed at the chat answer 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    @staticmethod
    def _take(faults: list[_Fault], method: str, chat_id: int | None) -> _Fault | None:
        for fault in faults:
            if fault.method == method and fault.chat_id in (None, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    faults.remove(fault)
                return fault
        return None

    # ---- webhook -------------------------------------------------------------------------

    async def deliver_webhook(
        self,
        url: str,
        update: JSON,
        *,
        secret_token: str | None = None,
        timeout: float = 5.0,
    ) -> int:
        """POST ``update`` to ``url`` as Telegram does; return the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        body = json.dumps(update, ensure_ascii=False).encode()
        if self._http is not None:
            response = await self._http.post(url, content=body, headers=headers, timeout=timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.post(url, content=body, headers=headers)
        return response.status_code

    async def _push_webhooks(self) -> None:
        while True:
            await self._webhook_wake.wait()
            self._webhook_wake.clear()
            while self.webhook_url and self._pending:
                update, url = self._pending[0], self.webhook_url
                try:
                    status: int | None = await self.deliver_webhook(
                        url, update, secret_token=self.webhook_secret_token
                    )
                    error = None if 200 <= (status or 0) < 300 else f"Wrong response: {status}"
                except httpx.HTTPError as exc:
                    status, error = None, f"Connection failed: {type(exc).__name__}"
                self.webhook_deliveries.append(
                    WebhookDelivery(update["update_id"], url, status, error)
                )
                if error is None:
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                else:
                    self.webhook_last_error = error
                    await asyncio.sleep(self.webhook_retry_delay)
                self._changed.fire()

    # ---- request handling ----------------------------------------------------------------

    def _chat_of(self, params: JSON) -> int | None:
        raw = params.get("chat_id")
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str):
            if raw.startswith("@"):
                name = raw[1:].lower()
                for u in self._users.values():
                    if u.username and u.username.lower() == name:
                        return u.id
                return None
            with contextlib.suppress(ValueError):
                return int(raw)
        return None

    def _resolve_chat(self, params: JSON) -> FakeUser:
        if params.get("chat_id") in (None, ""):
            raise _bad_request("chat_id is empty")
        chat_id = self._chat_of(params)
        user = self._users.get(chat_id) if chat_id is not None else None
        if user is None:
            raise _bad_request("chat not found")
        return user

    async def _sleep_unless_closing(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def _handle(
        self, token: str, raw_method: str, params: JSON, poll: _Poll
    ) -> tuple[int, JSON]:
        method = canonical_method(raw_method)
        self.calls.append(ApiCall(method, params))
        self.poll_count += method == "getUpdates"
        target = self._users.get(self._chat_of(params) or 0)
        if target is None and method == "answerCallbackQuery":
            target = self._users.get(
                self._query_owner.get(str(params.get("callback_query_id"))) or 0
            )
        if target is not None:
            target._activity += 1
        try:
            result = await self._dispatch(token, method, params, poll)
        except _ApiError as error:
            self.errors.append(ApiErrorRecord(method, params, error.status, error.description))
            _LOG.debug("%s -> %s %s", method, error.status, error.description)
            return error.status, error.body()
        except Exception:  # a bug in the fake: answer like a broken server, but say so
            _LOG.exception("fake Bot API crashed handling %s %r", method, params)
            crash = _ApiError(500, "Internal Server Error")
            self.errors.append(ApiErrorRecord(method, params, crash.status, crash.description))
            return crash.status, crash.body()
        finally:
            self._changed.fire()
            if target is not None:
                target._changed.fire()
        return 200, {"ok": True, "result": result}

    async def _dispatch(self, token: str, method: str, params: JSON, poll: _Poll) -> Any:
        if token != self.token:
            raise _ApiError(401, "Unauthorized")
        chat_id = self._chat_of(params)
        delay = self._take(self._delays, method, chat_id)
        if delay is not None:
            await self._sleep_unless_closing(delay.delay)
            if not delay.process:
                raise _ApiError(500, "Internal Server Error")
        fault = self._take(self._faults, method, chat_id)
        if fault is not None:
            raise fault.error()
        if method in _CHAT_METHODS and chat_id in self.blocked:
            raise _ApiError(403, BLOCKED)
        if method == "getUpdates":
            return await self._get_updates(params, poll)
        handler = self._method_table.get(method)
        if handler is None:
            raise _ApiError(404, "Not Found")
        return handler(params)

    def _methods(self) -> dict[str, Callable[[JSON], Any]]:
        return {
            "getMe": lambda p: self.bot_user,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p: self.commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": lambda p: {"short_description": self.short_description},
            "setMyDescription": self._set_my_description,
            "getMyDescription": lambda p: {"description": self.description},
            "sendChatAction": self._send_chat_action,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._unpin_chat_message,
            "unpinAllChatMessages": self._unpin_all_chat_messages,
            "deleteMessage": self._delete_message,
            "close": lambda p: True,
            "logOut": lambda p: True,
        }

    async def _get_updates(self, params: JSON, poll: _Poll) -> list[JSON]:
        if self.webhook_url:
            raise _ApiError(409, _WEBHOOK_CONFLICT)
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        for other in self._polls:
            other.superseded = True
            other.wake.set()
        self._polls.add(poll)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while not (self._pending or poll.gone or self._closing.is_set()):
                if poll.superseded:
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                poll.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.wake.wait(), remaining)
        finally:
            self._polls.discard(poll)
        if poll.superseded:
            raise _ApiError(409, _POLL_CONFLICT)
        served = self._pending[:limit]
        self.served.update(u["update_id"] for u in served if isinstance(u.get("update_id"), int))
        return served

    # ---- methods -------------------------------------------------------------------------

    @staticmethod
    def _markup(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup in (None, ""):
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is not None:
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request("can't parse inline keyboard button: field must be an Array")
            for button in (b for row in rows for b in row):
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise _bad_request("BUTTON_DATA_INVALID")
                if len(button) == 1:
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return markup

    @staticmethod
    def _inline_only(markup: JSON | None) -> JSON | None:
        return markup if markup and "inline_keyboard" in markup else None

    def _send_message(self, p: JSON) -> JSON:
        user = self._resolve_chat(p)
        raw = p.get("text")
        if raw is None:
            raise _bad_request("message text is empty")
        raw = str(raw)
        text, entities = _render(raw, p.get("parse_mode"), p.get("entities"))
        if not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > 4096:
            raise _bad_request("message is too long")
        message = BotMessage(
            chat_id=user.id,
            message_id=next(user._message_ids),
            method="sendMessage",
            date=_now(),
            text=text,
            raw_text=raw,
            entities=entities,
            parse_mode=p.get("parse_mode"),
            reply_markup=self._markup(p),
            params=p,
            sender=self._bot_sender(),
            chat=user.as_chat(),
        )
        user._bot_messages.append(message)
        return message.to_api()

    def _caption(self, p: JSON) -> tuple[str | None, list[JSON]]:
        raw = p.get("caption")
        if raw is None:
            return None, []
        caption, entities = _render(str(raw), p.get("parse_mode"), p.get("caption_entities"))
        if len(caption) > 1024:
            raise _bad_request("message caption is too long")
        return caption, entities

    def _send_photo(self, p: JSON) -> JSON:
        return self._send_document(p, field="photo", method="sendPhoto")

    def _send_document(
        self, p: JSON, field: str = "document", method: str = "sendDocument"
    ) -> JSON:
        user = self._resolve_chat(p)
        document = p.get(field)
        if isinstance(document, UploadedFile):
            stored = self.store_file(
                "documents", document.content, document.filename, document.mime_type
            )
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            name = document.rstrip("/").rsplit("/", 1)[-1] or "file"
            stored = self.store_file("documents", None, name, None)
        elif document in (None, ""):
            raise _bad_request("there is no document in the request")
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = self._caption(p)
        message = BotMessage(
            chat_id=user.id,
            message_id=next(user._message_ids),
            method=method,
            date=_now(),
            parse_mode=p.get("parse_mode"),
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=self._markup(p),
            document=stored,
            params=p,
            sender=self._bot_sender(),
            chat=user.as_chat(),
        )
        user._bot_messages.append(message)
        return message.to_api()

    def _target(self, p: JSON, action: str) -> tuple[FakeUser, BotMessage]:
        user = self._resolve_chat(p)
        message_id = _as_int(p.get("message_id"), 0)
        for message in user._bot_messages:
            if message.message_id == message_id and not message.deleted:
                return user, message
        if message_id in user._user_messages:
            raise _bad_request(f"message can't be {action}ed")
        raise _bad_request(f"message to {action} not found")

    def _edit_message_text(self, p: JSON) -> JSON | bool:
        if p.get("inline_message_id"):
            return True
        _, message = self._target(p, "edit")
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        raw = str(p.get("text") or "")
        text, entities = _render(raw, p.get("parse_mode"), p.get("entities"))
        if not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > 4096:
            raise _bad_request("message is too long")
        markup = self._markup(p)
        if (
            text == message.text
            and entities == message.entities
            and self._inline_only(markup) == self._inline_only(message.reply_markup)
        ):
            raise _ApiError(400, NOT_MODIFIED)
        message.history.append(message.text)
        message.text, message.raw_text, message.entities = text, raw, entities
        message.parse_mode = p.get("parse_mode")
        message.reply_markup = markup
        message.edit_date = _now()
        return message.to_api()

    def _edit_message_caption(self, p: JSON) -> JSON | bool:
        if p.get("inline_message_id"):
            return True
        _, message = self._target(p, "edit")
        if message.text is not None:
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(p)
        markup = self._markup(p)
        if (
            caption == message.caption
            and entities == message.caption_entities
            and self._inline_only(markup) == self._inline_only(message.reply_markup)
        ):
            raise _ApiError(400, NOT_MODIFIED)
        message.history.append(message.caption)
        message.caption, message.caption_entities = caption, entities
        message.reply_markup = markup
        message.edit_date = _now()
        return message.to_api()

    def _edit_message_reply_markup(self, p: JSON) -> JSON | bool:
        if p.get("inline_message_id"):
            return True
        _, message = self._target(p, "edit")
        markup = self._markup(p)
        if self._inline_only(markup) == self._inline_only(message.reply_markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_date = _now()
        return message.to_api()

    def _answer_callback_query(self, p: JSON) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise _ApiError(400, QUERY_INVALID)
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = p
        return True

    def _set_my_commands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if isinstance(commands, str):
            commands = json.loads(commands)
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        code = _language_code(p)
        if code:
            self.commands_by_language[code] = commands
        else:
            self.commands = commands
        return True

    def _delete_my_commands(self, p: JSON) -> bool:
        self.commands = []
        return True

    def _set_my_short_description(self, p: JSON) -> bool:
        value = str(p.get("short_description") or "")
        if len(value) > 120:
            raise _bad_request("SHORT_DESCRIPTION_TOO_LONG")
        code = _language_code(p)
        if code:
            self.short_descriptions[code] = value
        else:
            self.short_description = value
        return True

    def _set_my_description(self, p: JSON) -> bool:
        value = str(p.get("description") or "")
        if len(value) > 512:
            raise _bad_request("DESCRIPTION_TOO_LONG")
        code = _language_code(p)
        if code:
            self.descriptions[code] = value
        else:
            self.description = value
        return True

    def _send_chat_action(self, p: JSON) -> bool:
        self._resolve_chat(p)
        if not p.get("action"):
            raise _bad_request("wrong parameter action in request")
        return True

    def _set_webhook(self, p: JSON) -> bool:
        url = str(p.get("url") or "")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = url
        self.webhook_secret_token = str(secret) if secret is not None and url else None
        self.webhook_last_error = None
        self._webhook_wake.set()
        return True

    def _delete_webhook(self, p: JSON) -> bool:
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = ""
        self.webhook_secret_token = None
        return True

    def _get_webhook_info(self, p: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
        if self.webhook_last_error:
            info["last_error_date"] = _now()
            info["last_error_message"] = self.webhook_last_error
        return info

    def _get_file(self, p: JSON) -> JSON:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def _pin_chat_message(self, p: JSON) -> bool:
        user = self._resolve_chat(p)
        message_id = _as_int(p.get("message_id"), 0)
        alive = {m.message_id: m for m in user._bot_messages if not m.deleted}
        if message_id not in alive and message_id not in user._user_messages:
            raise _bad_request("message to pin not found")
        for m in user._bot_messages:
            m.pinned = m.message_id == message_id
        user.pinned_message_id = message_id
        return True

    def _unpin_chat_message(self, p: JSON) -> bool:
        user = self._resolve_chat(p)
        message_id = p.get("message_id")
        for m in user._bot_messages:
            if message_id is None or m.message_id == _as_int(message_id, 0):
                m.pinned = False
        user.pinned_message_id = None
        return True

    def _unpin_all_chat_messages(self, p: JSON) -> bool:
        return self._unpin_chat_message({k: v for k, v in p.items() if k != "message_id"})

    def _delete_message(self, p: JSON) -> bool:
        user = self._resolve_chat(p)
        message_id = _as_int(p.get("message_id"), 0)
        for m in user._bot_messages:
            if m.message_id == message_id and not m.deleted:
                m.deleted = True
                m.pinned = False
                return True
        if user._user_messages.pop(message_id, None) is not None:
            return True
        raise _bad_request("message to delete not found")
