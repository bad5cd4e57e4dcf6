"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakebot import FakeBotApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """A fake Telegram Bot API on 127.0.0.1, for one test."""
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "mend.sqlite3"
