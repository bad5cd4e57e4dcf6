"""Run the real Mend application against the fake Bot API, the way `make run` does."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram.ext import Application

from bot.config import Config
from bot.core.model import Script
from bot.script_loader import load_script
from bot.store.sqlite import SqliteStore
from bot.telegram.app import build_application, start, stop
from tests.fakebot import FakeBotApi
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
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    config = config_for(fake, db, **overrides)
    app = build_application(config, script or real_script(), SqliteStore(db), clock or FakeClock())
    await start(app, config)
    try:
        yield app
    finally:
        await stop(app)
