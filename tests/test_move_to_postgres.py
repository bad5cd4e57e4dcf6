"""A live SQLite database moved into PostgreSQL: every row, encrypted values intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.core.session import Position, Session
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    FlagCrisis,
    Mark,
    OutMessage,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    Turn,
)
from bot.store.crypto import TextCipher, generate_key
from bot.store.move_to_postgres import MoveError, move
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.pg import throwaway_database

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
WORDS = "I lied about the trip to Porto"


def rich_turn(n: int) -> Turn:
    effects = (
        SaveAnswer("what_happened", f"{WORDS} {n}"),
        SaveJournal("reflect", f"journal {n}: {WORDS}"),
        RecordCommitment(f"phone stays on the table {n}", "every evening"),
        ChangeSetting("timezone", "Europe/Lisbon"),
        ChangeSetting("safety", "flagged"),
        CompleteFlow("listen"),
        FlagCrisis("abuse"),
        Mark("day_steady"),
        ScheduleFollowUp("connect_after", NOW + timedelta(days=1)),
    )
    position = Position("apology", "draft", draft=f"draft {n}")
    return Turn((OutMessage(f"reply {n}"),), effects, Session(position=position))


async def test_every_row_moves_and_opens_under_the_same_key(tmp_path: Path) -> None:
    key = TextCipher(generate_key())
    db = tmp_path / "mend.sqlite3"
    people = range(1, 6)
    async with SqliteStore(db, key) as source:
        for user_id in people:
            assert await source.commit(user_id, rich_turn(user_id), NOW, update_id=user_id)
        before = {u: await source.load(u, NOW) for u in people}
        exported = {u: await source.export_user(u) for u in people}
    async with throwaway_database() as url:
        moved = await move(db, url)
        assert moved.tables["users"] == 5
        assert moved.tables["outbox"] == 5  # replies still owed move too
        assert moved.rows >= 5 * 9
        target = PostgresStore(url, key)
        await target.open()  # the key check at open passes: values were copied sealed
        try:
            for user_id in people:
                assert await target.load(user_id, NOW) == before[user_id]
                assert await target.export_user(user_id) == exported[user_id]
            owed = await target.unsent_reply(1, 1)
            assert owed is not None and owed.messages[0].text == "reply 1"
            # Identity columns go on after the copied ids: a new turn does not collide.
            assert await target.commit(1, rich_turn(9), NOW, update_id=99)
        finally:
            await target.close()
        conn = await asyncpg.connect(url)
        try:
            stored = await conn.fetchval("SELECT value FROM answers LIMIT 1")
        finally:
            await conn.close()
        assert WORDS not in stored  # still sealed at rest in PostgreSQL
        with pytest.raises(MoveError, match="already has people"):
            await move(db, url)  # a second move never mixes two databases


async def test_a_missing_sqlite_file_is_refused(tmp_path: Path) -> None:
    async with throwaway_database() as url:
        with pytest.raises(MoveError, match="no SQLite database"):
            await move(tmp_path / "absent.sqlite3", url)


async def test_the_command_moves_and_says_what_it_moved(tmp_path: Path) -> None:
    import asyncio
    import os
    import sys

    db = tmp_path / "mend.sqlite3"
    async with SqliteStore(db) as source:
        assert await source.commit(1, rich_turn(1), NOW)
    async with throwaway_database() as url:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["DIALOGUES_DIR"] = str(Path(__file__).resolve().parent.parent / "dialogues")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "migrate-to-postgres", "--database", str(db),
            "--to", url, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert "users: 1 rows" in out.decode() and "counts verified" in out.decode()
        assert WORDS not in out.decode() + err.decode()
