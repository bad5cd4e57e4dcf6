"""Errors a maintainer can act on: where it failed, frame by frame, never what was written.

An exception's message often quotes its input ("invalid literal for int(): 'I lied'"), and
so do the locals of the frames it passed through. The log keeps the type and the frames
(file, line, function) and none of those.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from telegram import Bot
from telegram.ext import ContextTypes

from bot.coach import Coach
from bot.core.turn import OutMessage
from bot.locks import UserLocks
from bot.log_privacy import MAX_FRAMES, describe_error
from bot.schedule.dispatcher import Dispatcher, DispatchSettings
from bot.store.sqlite import SqliteStore
from bot.telegram.sender import Sender
from bot.telegram.shell import TelegramShell
from tests.harness import FakeClock, real_script, seed_person

WORDS = "I told her I was at the gym"
NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
FRAME = re.compile(r"(?P<file>[\w./-]+\.py):(?P<line>\d+) in (?P<function>[\w<>]+)")


def parse_what_they_wrote(text: str) -> int:
    return int(text)  # ValueError: invalid literal for int() with base 10: 'I told her...'


def handle_a_turn(text: str) -> int:
    held = f"answer: {text}"  # a local holding the words, in a frame the error passes
    return parse_what_they_wrote(text) + len(held)


def raised() -> BaseException:
    try:
        handle_a_turn(WORDS)
    except ValueError as exc:
        assert WORDS in str(exc)  # the message does quote them
        return exc
    raise AssertionError("nothing raised")


def frames_of(text: str) -> list[tuple[str, str]]:
    return [(m["file"], m["function"]) for m in FRAME.finditer(text)]


def test_the_description_names_every_frame_and_not_the_words() -> None:
    text = describe_error(raised())
    assert text.startswith("ValueError at ")
    here = "tests/test_error_logging.py"
    assert frames_of(text) == [
        (here, "raised"),
        (here, "handle_a_turn"),
        (here, "parse_what_they_wrote"),
    ]
    assert WORDS.lower() not in text.lower()
    assert "invalid literal" not in text and "'" not in text


def test_causes_are_followed_and_deep_stacks_cut_to_the_innermost_frames() -> None:
    def recurse(n: int) -> None:
        if n == 0:
            raise KeyError(WORDS)
        recurse(n - 1)

    try:
        try:
            recurse(MAX_FRAMES + 5)
        except KeyError as inner:
            raise RuntimeError(f"lookup failed for {WORDS}") from inner
    except RuntimeError as exc:
        text = describe_error(exc)
    assert text.startswith("RuntimeError at ")
    assert " | from KeyError at (" in text  # the outer frames are counted, not listed
    assert len(frames_of(text.split(" | from ")[1])) == MAX_FRAMES
    assert WORDS not in text
    assert describe_error(None) == "no exception"


async def test_the_update_error_handler_logs_frames_without_the_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteStore(tmp_path / "mend.db")
    coach = Coach(real_script(), store, FakeClock(NOW))
    shell = TelegramShell(coach, Sender(store), cast(Bot, object()))
    context = cast(ContextTypes.DEFAULT_TYPE, SimpleNamespace(error=raised()))
    with caplog.at_level(logging.ERROR, logger="bot.telegram.shell"):
        await shell.on_error(object(), context)  # no Update: it only logs
    [record] = caplog.records
    logged = logging.Formatter("%(message)s").format(record)
    assert "error handling update None: ValueError at " in logged
    assert ("tests/test_error_logging.py", "parse_what_they_wrote") in frames_of(logged)
    assert WORDS.lower() not in logged.lower()
    assert record.exc_info is None  # no traceback attached for a handler to print


async def test_a_failed_delivery_logs_frames_without_the_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "mend.db"
    await seed_person(db, 42, NOW, timezone="UTC", checkin_time="18:30")

    async def send(user_id: int, messages: tuple[OutMessage, ...]) -> None:
        handle_a_turn(WORDS)

    store = SqliteStore(db)
    await store.open()
    try:
        clock = FakeClock(NOW.replace(minute=31))
        coach = Coach(real_script(), store, clock)
        dispatcher = Dispatcher(coach, store, send, UserLocks(), None, DispatchSettings())
        with caplog.at_level(logging.WARNING, logger="bot.schedule.dispatcher"):
            assert await dispatcher.run_once() == 1
    finally:
        await store.close()
    [record] = [r for r in caplog.records if "delivery failed" in r.getMessage()]
    logged: Any = record.getMessage()
    assert ("tests/test_error_logging.py", "parse_what_they_wrote") in frames_of(logged)
    assert ("bot/schedule/dispatcher.py", "_send_turn") in frames_of(logged)
    assert WORDS.lower() not in logged.lower()
