"""Generated Telegram updates for the fuzz test (tests/test_fuzz.py).

Everything here is driven by one `random.Random`, so a seed gives the same storm every run.
`Storm` builds Bot API update payloads (valid enough for python-telegram-bot to parse, odd
in every other way) and queues them on the fake Bot API synchronously, in bursts, so the
test controls update ids: shuffled inside a burst, and some updates queued twice.
"""

from __future__ import annotations

import copy
import random
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update

from tests.fakebot import BotMessage, FakeBotApi, FakeUser

JSON = dict[str, Any]

COMMAND_NAMES = (
    "start", "menu", "prepare", "now", "checkin", "progress", "settings", "privacy",
    "export", "help", "cancel",
)  # fmt: skip
# /delete is left to the people who delete themselves on purpose; a random press can still
# reach "Yes, delete everything" after a random /privacy or /settings.
ODD_COMMANDS = (
    "/", "//", "/ ", "/START", "/Menu", "/menu@mend_test_bot", "/menu@some_other_bot",
    "/ménu", "/меню", "/dance", "/start@", "/help@@", "/\u200bmenu", "/menu\u0000", "/" + "x" * 300,
)  # fmt: skip
CRISIS_ARGS = (
    "I want to die",
    "i want to kill myself",
    "I'm going to hurt myself tonight",
    "I want to end my life",
    "I cut myself again",
    "she hits me and I'm scared",
)
WORDS = (
    "sorry", "trust", "partner", "talk", "tomorrow", "London", "20:00", "yes", "no", "UTC+2",
    "Europe/Berlin", "ok", "I understand", "Skip", "0", "-1", "9" * 40, "null", "None",
    "true", "{}", "[]", "%s", "%(x)s", "{0}", "{onboarding.name}", "{{", "}}", "<b>", "</i>",
    "<a href='javascript:x'>", "&amp;", "&", "<", ">", "\\", "'", '"', "`", "DROP TABLE users;",
    "'; --", "\r\n", "\t",
)  # fmt: skip

# Code point pools: (low, high) inclusive.
_ASCII = (0x20, 0x7E)
_CONTROL = ((0x00, 0x1F), (0x7F, 0x9F))
_RTL = ((0x0590, 0x05FF), (0x0600, 0x06FF), (0x0700, 0x074F), (0xFB50, 0xFDFF))
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\u180e"
_EMOJI = ((0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1FAFF))
_EMOJI_SEQUENCES = (
    "👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🇬🇧", "❤️", "1️⃣", "🧑🏿‍🤝‍🧑🏻", "😀", "🫶", "☹️",
)  # fmt: skip
_COMBINING = (0x0300, 0x036F)
_CJK = (0x4E00, 0x9FFF)
_SPACES = (
    " \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_ENTITY_TYPES = (
    "bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link",
    "text_mention", "mention", "hashtag", "cashtag", "bot_command", "url", "email",
    "phone_number", "custom_emoji", "blockquote", "expandable_blockquote", "no_such_type",
)  # fmt: skip
NON_TEXT_KINDS = (
    "sticker", "photo", "voice", "document", "video", "location", "contact", "poll",
    "animation", "video_note", "audio", "dice", "venue", "bare",
)  # fmt: skip


def _any_code_point(rng: random.Random) -> str:
    while True:
        cp = rng.randrange(0x110000)
        if not 0xD800 <= cp <= 0xDFFF:  # no surrogates: they cannot travel as UTF-8 JSON
            return chr(cp)


def _from(rng: random.Random, ranges: Sequence[tuple[int, int]]) -> str:
    low, high = rng.choice(ranges)
    return chr(rng.randint(low, high))


def random_char(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.30:
        return chr(rng.randint(*_ASCII))
    if pick < 0.38:
        return _from(rng, _CONTROL)
    if pick < 0.48:
        return _from(rng, _RTL)
    if pick < 0.52:
        return rng.choice(_BIDI)
    if pick < 0.58:
        return rng.choice(_ZERO_WIDTH)
    if pick < 0.66:
        return _from(rng, _EMOJI)
    if pick < 0.70:
        return rng.choice(_EMOJI_SEQUENCES)
    if pick < 0.75:
        return chr(rng.randint(*_COMBINING))
    if pick < 0.80:
        return chr(rng.randint(*_CJK))
    if pick < 0.85:
        return rng.choice(_SPACES)
    return _any_code_point(rng)


def random_unicode(rng: random.Random, n: int) -> str:
    return "".join(random_char(rng) for _ in range(n))


def random_text(rng: random.Random) -> tuple[str, str]:
    """(kind, text): every shape of text a person (or a broken client) can send."""
    pick = rng.random()
    if pick < 0.30:
        return "unicode", random_unicode(rng, rng.choice((1, 2, 5, 20, 80, 300)))
    if pick < 0.45:
        return "words", " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
    if pick < 0.52:
        return "empty", ""
    if pick < 0.60:
        return "whitespace", "".join(rng.choice(_SPACES + _ZERO_WIDTH) for _ in range(1, 9))
    if pick < 0.66:
        flavour = rng.randrange(5)
        if flavour == 0:
            return "huge", ("word " * 2000)[:10_000]
        if flavour == 1:
            return "huge", random_unicode(rng, 10_000)
        if flavour == 2:
            return "huge", "😀" * 10_000  # 20,000 UTF-16 units
        if flavour == 3:
            return "huge", "<&>" * 3334
        return "huge", "a" * 10_000
    if pick < 0.72:
        # Just under the answer limit, full of what HTML escaping makes longer.
        return "long_html", "".join(rng.choice("<>&'\"a ") for _ in range(rng.randint(2500, 3000)))
    if pick < 0.76:
        return "crisis_text", rng.choice(CRISIS_ARGS)
    if pick < 0.80:
        return "rtl", "".join(
            _from(rng, _RTL) for _ in range(rng.randint(1, 60))
        ) + "\u202e" + "abc"
    return "emoji", "".join(rng.choice(_EMOJI_SEQUENCES) for _ in range(rng.randint(1, 30)))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def random_entities(rng: random.Random, text: str, user: JSON) -> list[JSON]:
    """Entities at odd offsets and lengths: past the end, overlapping, zero-length."""
    size = utf16_len(text)
    entities: list[JSON] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(_ENTITY_TYPES)
        entity: JSON = {
            "type": kind,
            "offset": rng.randint(0, size + 20),
            "length": rng.choice((0, 1, 2, rng.randint(0, size + 50), 10**6)),
        }
        if kind == "text_link":
            entity["url"] = rng.choice(("https://example.com", "javascript:alert(1)", "", "x"))
        elif kind == "text_mention":
            entity["user"] = user
        elif kind == "pre":
            entity["language"] = rng.choice(("python", "", "<b>"))
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = str(rng.randrange(10**18))
        entities.append(entity)
    return entities


def random_callback_data(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.3:
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 100)))
    if pick < 0.6:
        return random_unicode(rng, rng.randint(0, 80))
    if pick < 0.8:  # almost a button code
        parts = [
            rng.choice(("1", "v1", "zz", "", "deadbeef", "x" * 9)),
            rng.choice(("onboarding", "menu", "", "delete", "nope", "Menu")),
            rng.choice(("honesty", "", "confirm", "name", "../x")),
            rng.choice(("0", "1", "2", "99", "-1", "menu", "resume", "drop", "keep", "p1", "")),
        ]
        return ":".join(parts[: rng.randint(1, 4)])
    return "".join(chr(rng.randint(0, 0x7F)) for _ in range(rng.choice((64, 65, 100, 200))))


@dataclass
class Harvest:
    """Callback data seen on the bot's messages, by the chat they were sent to."""

    by_chat: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # (msg id, data)
    _seen: dict[int, int] = field(default_factory=dict)  # chat -> messages scanned

    def scan(self, users: Sequence[FakeUser]) -> None:
        for user in users:
            messages = user.messages(include_deleted=True)
            start = self._seen.get(user.id, 0)
            for message in messages[start:]:
                for data in sent_button_data(message):
                    self.by_chat.setdefault(user.id, []).append((message.message_id, data))
            self._seen[user.id] = len(messages)


def sent_button_data(message: BotMessage) -> list[str]:
    """The callback data of the buttons the message was sent with (edits may remove them)."""
    import json

    markup = message.params.get("reply_markup")
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return []
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or []
    return [str(b["callback_data"]) for row in rows for b in row if "callback_data" in b]


class Storm:
    """Builds and queues updates. `kinds` counts what was queued, by kind."""

    def __init__(self, fake: FakeBotApi, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng  # draws what is queued when, whatever the bot answered
        self.r = rng  # draws the details of one update (reseeded from `rng` for each)
        self.kinds: Counter[str] = Counter()
        self.queued = 0  # every update put on the queue, duplicates included
        self.duplicates = 0
        self.shuffled = 0
        self.inaccessible: set[tuple[int, int]] = set()  # (chat, message id) pressed on
        self.harvest = Harvest()
        self._message_ids = iter(range(50_000_000, 10**9))
        self._sent_texts: dict[int, list[JSON]] = {}
        self._burst: list[JSON] = []
        self._group_ids = (-1001234567890, -4242, -1009876543210)

    # -- queueing -------------------------------------------------------------------------

    def _queue(self, kind: str, **payload: Any) -> JSON:
        # An update python-telegram-bot cannot parse would stop polling for good (it asks
        # for the same batch again and again): a mistake here, not a finding about Mend.
        Update.de_json({"update_id": 1, **copy.deepcopy(payload)}, None)
        update = self.fake.enqueue_update(**payload)
        self._burst.append(update)
        self.kinds[kind] += 1
        self.queued += 1
        return update

    def end_burst(self) -> None:
        """Shuffle the update ids of a few windows of the burst just queued (ids then go
        backwards), and queue some of its updates a second time with the same id."""
        burst, self._burst = self._burst, []
        rng = self.rng
        for _ in range(rng.randint(0, 3)):
            if len(burst) < 3:
                break
            start = rng.randrange(len(burst) - 2)
            window = burst[start : start + rng.randint(2, 8)]
            ids = [u["update_id"] for u in window]
            rng.shuffle(ids)
            for update, new_id in zip(window, ids, strict=True):
                if update["update_id"] != new_id:
                    self.shuffled += 1
                update["update_id"] = new_id
        for original in rng.sample(burst, k=min(len(burst), rng.randint(0, 4))):
            payload = {k: v for k, v in original.items() if k != "update_id"}
            again = self.fake.enqueue_update(**copy.deepcopy(payload))
            again["update_id"] = original["update_id"]
            self.kinds["duplicate"] += 1
            self.queued += 1
            self.duplicates += 1

    def _message(self, user: FakeUser, chat: JSON | None = None, **content: Any) -> JSON:
        return {
            "message_id": next(self._message_ids),
            "from": user.as_user(),
            "chat": chat or user.as_chat(),
            "date": 1_700_000_000 + self.r.randrange(10**6),
            **content,
        }

    # -- kinds ----------------------------------------------------------------------------

    def text(self, user: FakeUser) -> None:
        kind, text = random_text(self.r)
        content: JSON = {"text": text}
        if self.r.random() < 0.3:
            content["entities"] = random_entities(self.r, text, user.as_user())
            kind = "text_entities"
        message = self._message(user, **content)
        self._sent_texts.setdefault(user.id, []).append(message)
        self._queue(f"text:{kind}", message=message)

    def command(self, user: FakeUser) -> None:
        rng = self.r
        pick = rng.random()
        if pick < 0.55:
            head = "/" + rng.choice(COMMAND_NAMES)
        elif pick < 0.75:
            head = rng.choice(ODD_COMMANDS)
        else:
            head = "/" + random_unicode(rng, rng.randint(1, 12)).replace(" ", "")
        args = ""
        kind = "command"
        roll = rng.random()
        if roll < 0.15:
            args, kind = rng.choice(CRISIS_ARGS), "command:crisis_args"
        elif roll < 0.55:
            args, kind = random_text(rng)[1], "command:random_args"
        text = f"{head} {args}" if args else head
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(head.split(" ")[0])}]
        if rng.random() < 0.2:
            entities += random_entities(rng, text, user.as_user())
        self._queue(kind, message=self._message(user, text=text, entities=entities))

    def non_text(self, user: FakeUser, chat: JSON | None = None, prefix: str = "media") -> None:
        kind = self.r.choice(NON_TEXT_KINDS)
        content = self.media(kind)
        if kind in ("photo", "document", "video", "audio", "animation", "voice") and (
            self.r.random() < 0.5
        ):
            caption = random_text(self.r)[1][:1024]
            content["caption"] = caption
            if self.r.random() < 0.5:
                content["caption_entities"] = random_entities(self.r, caption, user.as_user())
        self._queue(f"{prefix}:{kind}", message=self._message(user, chat, **content))

    def media(self, kind: str) -> JSON:
        rng = self.r
        n = rng.randrange(10**9)
        file = {"file_id": f"FUZZ{kind}{n}", "file_unique_id": f"U{n}"}
        if kind == "sticker":
            return {
                "sticker": {
                    **file, "type": "regular", "width": 512, "height": 512,
                    "is_animated": False, "is_video": False, "emoji": "🙂",
                }
            }  # fmt: skip
        if kind == "photo":
            return {"photo": [{**file, "width": w, "height": w} for w in (90, 320, 1280)]}
        if kind == "voice":
            return {"voice": {**file, "duration": rng.randint(0, 600), "mime_type": "audio/ogg"}}
        if kind == "document":
            return {"document": {**file, "file_name": random_unicode(rng, 12) + ".txt"}}
        if kind == "video":
            return {"video": {**file, "width": 640, "height": 480, "duration": 3}}
        if kind == "location":
            return {
                "location": {"latitude": rng.uniform(-90, 90), "longitude": rng.uniform(-180, 180)}
            }
        if kind == "contact":
            return {
                "contact": {"phone_number": "+441234567890", "first_name": random_unicode(rng, 8)}
            }
        if kind == "poll":
            return {
                "poll": {
                    "id": str(n), "question": random_unicode(rng, 20),
                    "options": [
                        {"text": "a", "voter_count": 0, "persistent_id": "a"},
                        {"text": "b", "voter_count": 1, "persistent_id": "b"},
                    ],
                    "total_voter_count": 1, "is_closed": False, "is_anonymous": True,
                    "type": "regular", "allows_multiple_answers": False,
                    "allows_revoting": False, "members_only": False,
                }
            }  # fmt: skip
        if kind == "animation":
            return {"animation": {**file, "width": 320, "height": 240, "duration": 2}}
        if kind == "video_note":
            return {"video_note": {**file, "length": 240, "duration": 5}}
        if kind == "audio":
            return {"audio": {**file, "duration": 180, "title": random_unicode(rng, 10)}}
        if kind == "dice":
            return {"dice": {"emoji": rng.choice("🎲🎯🏀⚽🎳🎰"), "value": rng.randint(1, 6)}}
        if kind == "venue":
            return {
                "venue": {
                    "location": {"latitude": 51.5, "longitude": -0.12},
                    "title": random_unicode(rng, 10), "address": random_unicode(rng, 20),
                }
            }  # fmt: skip
        return {}  # "bare": a message with nothing in it that the bot knows

    def edited(self, user: FakeUser) -> None:
        earlier = self._sent_texts.get(user.id)
        if earlier and self.r.random() < 0.7:
            message = copy.deepcopy(self.r.choice(earlier))
            message["text"] = random_text(self.r)[1]
            message.pop("entities", None)
        else:
            message = self._message(user, text=random_text(self.r)[1])
        message["edit_date"] = message["date"] + self.r.randint(0, 10**5)
        self._queue("edited_message", edited_message=message)

    def channel(self) -> None:
        chat = {"id": -1005550000000 - self.r.randrange(3), "type": "channel", "title": "News"}
        post: JSON = {
            "message_id": next(self._message_ids),
            "sender_chat": chat,
            "chat": chat,
            "date": 1_700_000_000,
        }
        if self.r.random() < 0.7:
            post["text"] = self.r.choice(("/start", "/menu I want to die", random_text(self.r)[1]))
        else:
            post.update(self.media(self.r.choice(NON_TEXT_KINDS)))
        if self.r.random() < 0.5:
            self._queue("channel_post", channel_post=post)
        else:
            post["edit_date"] = post["date"] + 5
            self._queue("edited_channel_post", edited_channel_post=post)

    def group(self, user: FakeUser) -> None:
        """A person writing in a group or supergroup the bot is in: the bot stays out of it."""
        chat_id = self.r.choice(self._group_ids)
        chat = {
            "id": chat_id,
            "type": "supergroup" if chat_id < -(10**12) else "group",
            "title": "G",
        }
        pick = self.r.random()
        if pick < 0.4:
            text = self.r.choice(("/start", "/menu@mend_test_bot", "/help", "/menu I want to die"))
            message = self._message(user, chat, text=text)
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
            self._queue("group:command", message=message)
        elif pick < 0.6:
            self._queue(
                "group:text", message=self._message(user, chat, text=random_text(self.r)[1])
            )
        elif pick < 0.75:
            self.non_text(user, chat, prefix="group:media")
        elif pick < 0.85:
            edited = self._message(user, chat, text="edited", edit_date=1_700_000_100)
            self._queue("group:edited_message", edited_message=edited)
        else:
            group_message = {
                "message_id": next(self._message_ids),
                "from": self.fake._bot_sender(),
                "chat": chat,
                "date": 1_700_000_000,
                "text": "a message in the group",
            }
            self.callback(user, random_callback_data(self.r), group_message, kind="group:callback")

    def other(self, user: FakeUser) -> None:
        """Updates with a person but no message: reactions, member changes, inline queries."""
        pick = self.r.random()
        if pick < 0.4:
            self._queue(
                "message_reaction",
                message_reaction={
                    "chat": user.as_chat(),
                    "message_id": self.r.randint(1, 500),
                    "user": user.as_user(),
                    "date": 1_700_000_000,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                },
            )
        elif pick < 0.7:
            bot = {**self.fake._bot_sender()}
            self._queue(
                "my_chat_member",
                my_chat_member={
                    "chat": user.as_chat(),
                    "from": user.as_user(),
                    "date": 1_700_000_000,
                    "old_chat_member": {"status": "member", "user": bot},
                    "new_chat_member": {"status": "member", "user": bot},
                },
            )
        else:
            self._queue(
                "inline_query",
                inline_query={
                    "id": str(self.r.randrange(10**12)),
                    "from": user.as_user(),
                    "query": random_text(self.r)[1][:256],
                    "offset": "",
                },
            )

    def callback(self, user: FakeUser, data: str | None, message: JSON | None, *, kind: str) -> str:
        query_id = self.fake._new_callback_query_id(user.id)
        query: JSON = {
            "id": query_id,
            "from": user.as_user(),
            "chat_instance": str(-(10**18) - user.id),
        }
        if data is not None:
            query["data"] = data
        if message is not None:
            query["message"] = message
        else:
            query["inline_message_id"] = f"inline{query_id}"
        self._queue(kind, callback_query=query)
        return query_id

    def attach(self, user: FakeUser) -> JSON:
        """The message a press is attached to: the latest, an older one, or inaccessible."""
        alive = user.messages()
        pick = self.r.random()
        if alive and pick < 0.6:
            return alive[-1].to_api()
        if alive and pick < 0.85:
            return self.r.choice(alive).to_api()
        message_id = self.r.randint(10**6, 10**7)  # far above what the bot sends
        self.inaccessible.add((user.id, message_id))
        return {"chat": user.as_chat(), "message_id": message_id, "date": 0}

    def press(self, user: FakeUser, others: Callable[[], Sequence[int]]) -> None:
        rng = self.r
        pick = rng.random()
        if pick < 0.35:  # a real button on the newest message that has one
            for message in reversed(user.messages()):
                if message.buttons:
                    data = str(rng.choice(message.buttons)["callback_data"])
                    self.callback(user, data, message.to_api(), kind="callback:current")
                    return
            pick = 0.99
        if pick < 0.55:  # one of the person's own old buttons, on the message it was on
            own = self.harvest.by_chat.get(user.id)
            if own:
                message_id, data = rng.choice(own)
                pressed = user.message(message_id).to_api()
                self.callback(user, data, pressed, kind="callback:own_old")
                return
            pick = 0.99
        if pick < 0.75:  # someone else's button
            owners = [c for c in others() if c != user.id and self.harvest.by_chat.get(c)]
            if owners:
                _, data = rng.choice(self.harvest.by_chat[rng.choice(owners)])
                self.callback(user, data, self.attach(user), kind="callback:others")
                return
        if pick < 0.77:
            self.callback(user, None, self.attach(user), kind="callback:no_data")
            return
        if pick < 0.78:
            self.callback(user, "x", None, kind="callback:inline_message")
            return
        self.callback(user, random_callback_data(rng), self.attach(user), kind="callback:random")

    def any(self, user: FakeUser, others: Callable[[], Sequence[int]]) -> None:
        """One update of any kind. Its details may depend on what the bot sent so far (the
        buttons to press), so they come from a generator of their own: the updates after it
        are the same whatever the bot did."""
        self.r = random.Random(self.rng.getrandbits(64))
        pick = self.r.random()
        if pick < 0.24:
            self.text(user)
        elif pick < 0.40:
            self.command(user)
        elif pick < 0.52:
            self.non_text(user)
        elif pick < 0.58:
            self.edited(user)
        elif pick < 0.86:
            self.press(user, others)
        elif pick < 0.92:
            self.group(user)
        elif pick < 0.96:
            self.channel()
        else:
            self.other(user)
