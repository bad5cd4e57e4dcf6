"""/progress: which practices were done, no "(s)", and a real PNG of the last 30 days
(decoded to check it), sent through the fake Bot API; the console shows a sparkline."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.events import StartFlow
from bot.core.progress_history import DAYS, history, sparkline, summary
from bot.core.session import Session
from bot.core.turn import ShowChart
from bot.progress_chart import render_png
from tests.fakebot import FakeBotApi
from tests.harness import FakeClock, onboard, real_script, running_bot, tap
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()


def thirty_days() -> dict[str, object]:
    completions, marks, checks = [], [], []
    for i in range(DAYS):
        at = (NOW - timedelta(days=i)).isoformat()
        if i % 3:  # two days in three
            completions.append({"flow": "checkin", "completed_at": at})
            marks.append(
                {"name": ("day_steady", "day_hard", "day_slipped")[i % 3], "created_at": at}
            )
            checks.append({"commitment_id": 1, "day": (NOW - timedelta(days=i)).date().isoformat()})
    return {"completions": completions, "marks": marks, "promise_checks": checks}


def decode_png(data: bytes) -> tuple[int, int]:
    """Width and height, after checking the signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    stream, size, idat = io.BytesIO(data[8:]), (0, 0), b""
    while chunk := stream.read(8):
        length, kind = struct.unpack(">I4s", chunk)
        body = stream.read(length)
        (crc,) = struct.unpack(">I", stream.read(4))
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        if kind == b"IDAT":
            idat += body
    assert zlib.decompress(idat)  # the pixels themselves inflate
    return size


def test_history_covers_thirty_days_and_counts_them() -> None:
    days = history(thirty_days(), "Europe/London", NOW, real_script())
    assert len(days) == DAYS and days[-1].day == NOW.date()
    figures = summary(days)
    assert figures["chart.checkins"] == "20" and figures["chart.kept"] == "20"
    assert len(sparkline(days)) == DAYS and sparkline(days)[-1] == " "  # today: none yet


def test_the_chart_is_a_real_png_of_thirty_days() -> None:
    days = history(thirty_days(), "UTC", NOW, real_script())
    labels = {"title": "How each day went", "steady": "steady", "hard": "hard",
              "slipped": "slipped", "kept": "kept"}  # fmt: skip
    width, height = decode_png(render_png(days, labels))
    assert width > 400 and height > 200


def test_progress_names_the_practices_and_writes_numbers_as_a_person_would() -> None:
    session = Session(completed=frozenset({"onboarding", "listen", "apology"}), started_at=NOW)
    p = Person(SCRIPT, session)
    turn = p.send(StartFlow("progress"))
    text = p.text()
    assert "(s)" not in text and "0 frightening" not in text
    assert SCRIPT.flows["listen"].title in text and SCRIPT.flows["apology"].title in text
    assert ShowChart() in turn.effects


async def test_progress_sends_a_png_through_telegram(fake: FakeBotApi, db: Path) -> None:
    clock = FakeClock(NOW)
    async with running_bot(fake, db, clock=clock):
        user = fake.user(601)
        await onboard(user)
        await user.send_command("/checkin")
        await tap(user, "Steady")
        await user.send_command("/progress")
        photo = await user.wait_for(lambda m: m.method == "sendPhoto", timeout=15)
    assert photo.caption and "check-ins" in photo.caption
    assert photo.document is not None and photo.document.content is not None
    width, _ = decode_png(photo.document.content)
    assert width > 400
