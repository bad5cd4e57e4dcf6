"""Run the real Mend application against the fake Bot API, the way `make run` does."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config
from bot.core.model import Script
from bot.script_loader import load_script
from bot.store.protocol import Store
from bot.store.sqlite import SqliteStore
from bot.telegram.app import MendBot, build_bot
from tests.fakebot import BotMessage, FakeBotApi, FakeUser
from tests.scripts import DIALOGUES

_SCRIPT: Script | None = None


def real_script() -> Script:
    global _SCRIPT
    if _SCRIPT is None:
        result = load_script(DIALOGUES)
        assert result.script is not None, "\n".join(map(str, result.errors))
        _SCRIPT = result.script
    return _SCRIPT


class FakeClock:
    """A clock the test moves by hand; passed in through the composition root."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 29, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_for(fake: FakeBotApi, db: Path, **overrides: object) -> Config:
    values: dict[str, object] = {
        "token": fake.token,
        "database_path": db,
        "api_base_url": fake.base_url,
    }
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running_bot(
    fake: FakeBotApi,
    db: Path,
    *,
    clock: FakeClock | None = None,
    script: Script | None = None,
    **overrides: object,
) -> AsyncIterator[MendBot]:
    config = config_for(fake, db, **overrides)
    store = SqliteStore(db, config.cipher())
    bot = build_bot(config, script or real_script(), store, clock or FakeClock())
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def most_in_one_second(times: list[float]) -> int:
    """The most events in any one-second window (sliding, not by calendar second)."""
    times = sorted(times)
    start, most = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def seed_person(db: Path, user_id: int, now: datetime, **settings: object) -> None:
    """A person who finished onboarding earlier, with these settings and a planned check-in."""
    store = SqliteStore(db)
    await store.open()
    try:
        await seed_into(store, user_id, now, **settings)
    finally:
        await store.close()


async def seed_into(store: Store, user_id: int, now: datetime, **settings: object) -> None:
    """`seed_person` on an open store of any kind (SQLite, PostgreSQL, memory)."""
    import dataclasses

    from bot.core.planner import next_for
    from bot.core.session import Session
    from bot.core.turn import ChangeSetting, CompleteFlow, Effect, Turn

    base = await store.load(user_id, now)
    chosen = dataclasses.replace(base.settings, **settings)  # type: ignore[arg-type]
    effects: tuple[Effect, ...] = (
        *(ChangeSetting(k, v) for k, v in settings.items()),  # type: ignore[arg-type]
        CompleteFlow("onboarding"),
    )
    turn = Turn((), effects, Session(settings=chosen))
    await store.commit(user_id, turn, now, next_checkin=next_for(chosen, now, None))


_last_tapped: dict[int, int] = {}


async def tap(user: FakeUser, label: str, timeout: float = 10.0) -> BotMessage:
    """Press `label` on the newest message offering it, sent after the last one tapped."""
    after = _last_tapped.get(user.id, 0)
    message = await user.wait_for(
        lambda m: m.message_id > after and label in m.button_labels, timeout
    )
    _last_tapped[user.id] = message.message_id
    await user.press(message, label)
    return message


async def consent(user: FakeUser) -> None:
    """/start and yes to storage: the person is known from here on (at "where are you")."""
    _last_tapped.pop(user.id, None)  # a new fake numbers messages afresh
    await user.send_command("/start")
    await tap(user, "I understand")
    await tap(user, "Yes, that's fine")
    await tap(user, "That's right")  # the language Telegram's code chose
    await user.wait_for(lambda m: "Where are you right now?" in (m.text or ""))


async def onboard(user: FakeUser, name: str = "Sam") -> None:
    """/start through the whole onboarding, by buttons and text, as a person would."""
    _last_tapped.pop(user.id, None)  # a new fake numbers messages afresh
    await user.send_command("/start")
    await tap(user, "I understand")
    await tap(user, "Yes, that's fine")
    await tap(user, "That's right")  # the language Telegram's code chose
    await tap(user, "We're working on it")
    await user.wait_for(lambda m: "What should I call you?" in (m.text or ""))
    await user.send_text(name)
    await user.wait_for(lambda m: f"Thank you, {name}." in (m.text or ""))
    await tap(user, "Yes")  # is the partner willing
    await tap(user, "No")  # afraid of the partner?
    await tap(user, "No")  # afraid of what you might do?
    await tap(user, "London")
    await tap(user, "20:00")
    await tap(user, "Yes, keep it discreet")
    await user.wait_for(lambda m: "You're set up" in (m.text or ""))
