"""The storage's guard rails: one process per database, the key checked in every column,
no silent recreation of a lost file, backups, and erasure with a reader in the way."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.session import Position, Session
from bot.core.turn import (
    CompleteFlow,
    Effect,
    Mark,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    Turn,
)
from bot.store import SqliteStore, StoreError, StoreUnavailable
from bot.store.backup import BackupExists, backup
from bot.store.crypto import CannotDecrypt, KeyMissing, TextCipher, generate_key
from bot.store.identity import DatabaseMissing, DatabaseReplaced, marker_path
from bot.store.lockfile import DatabaseInUse, ProcessLock, lock_path
from tests.scripts import ROOT
from tests.test_console import Terminal

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = generate_key()
OTHER_KEY = generate_key()


def words() -> str:
    return "unique-words-" + os.urandom(8).hex()


def everything(text: str) -> Turn:
    effects: tuple[Effect, ...] = (
        SaveAnswer("what_happened", text),
        SaveJournal("evening", text),
        RecordCommitment(text, f"due {text}"),
        CompleteFlow("apology"),
        Mark("talk"),
    )
    return Turn((), effects, Session(position=Position("apology", "draft", draft=text)))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=os.environ | {"TELEGRAM_BOT_TOKEN": ""} | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- one process per database ------------------------------------------------------------------

_HOLD = """
import sys
from bot.store.lockfile import ProcessLock
with ProcessLock(sys.argv[1], "run"):
    print("held", flush=True)
    sys.stdin.read()
"""


def hold_in_another_process(db: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_is_refused_with_the_holders_pid(db: Path) -> None:
    holder = hold_in_another_process(db)
    try:
        assert mode(lock_path(db)) == 0o600
        with pytest.raises(DatabaseInUse) as caught:
            ProcessLock(db, "console").acquire()
        assert str(caught.value) == (
            f"Another Mend process (pid {holder.pid}, run) is using {db}; stop it first."
        )
        # rotate-key while the bot runs: refused, nothing touched.
        result = bot("rotate-key", "--database", str(db), env={"NEW_KEY": KEY})
        assert result.returncode == 1
        assert f"(pid {holder.pid}, run)" in result.stderr and "Traceback" not in result.stderr
        assert not db.exists()
        # console on the same database: refused before it loads anything.
        result = bot("console", env={"DATABASE_PATH": str(db)})
        assert result.returncode == 1
        assert f"Another Mend process (pid {holder.pid}, run)" in result.stderr
    finally:
        holder.communicate("", timeout=20)
    # The holder is gone: the lock is free (the kernel drops it even on a crash).
    with ProcessLock(db, "console") as lock:
        assert lock.held
    with ProcessLock(":memory:", "run") as lock:  # private to its process: no lock
        assert not lock.held


def test_a_running_console_holds_the_database(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    term = Terminal(db)
    try:
        term.read_until_prompt()
        result = bot("console", env={"DATABASE_PATH": str(db)})
        assert result.returncode == 1
        assert f"(pid {term.proc.pid}, console) is using {db}" in result.stderr
        result = bot("rotate-key", "--database", str(db), env={"NEW_KEY": KEY})
        assert result.returncode == 1 and f"pid {term.proc.pid}" in result.stderr
        # A backup only reads: it works while the console runs.
        result = bot("backup", str(tmp_path / "b.sqlite3"), "--database", str(db))
        assert result.returncode == 0, result.stderr
    finally:
        term.proc.kill()
        term.proc.wait(timeout=10)


# -- the key, in every column ------------------------------------------------------------------


async def filled(path: Path, cipher: TextCipher | None = None) -> None:
    async with SqliteStore(path, cipher) as store:
        for user_id in (1, 2, 3):
            await store.commit(user_id, everything(words()), NOW)


def reencrypt(path: Path, table: str, key: str, column: str, new: TextCipher) -> None:
    """What a re-encryption stopped half-way leaves: one table under another key."""
    old = TextCipher(KEY)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT {key}, user_id, {column} FROM {table}").fetchall()
        for row_key, user_id, value in rows:
            where = f"{table}.{column}/{user_id}"
            plain = old.decrypt(value, where)
            conn.execute(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                (new.encrypt(plain, where), row_key),
            )
    conn.close()


@pytest.mark.parametrize(
    ("table", "key", "column"),
    [("journal", "id", "text"), ("commitments", "id", "due"), ("sessions", "user_id", "state")],
)
async def test_another_key_in_any_one_table_is_refused_at_open(
    tmp_path: Path, table: str, key: str, column: str
) -> None:
    path = tmp_path / "mend.sqlite3"
    await filled(path, TextCipher(KEY))
    reencrypt(path, table, key, column, TextCipher(OTHER_KEY))
    # Neither the old key nor the new one reads everything: refuse both at start.
    for cipher in (TextCipher(KEY), TextCipher(OTHER_KEY)):
        with pytest.raises(CannotDecrypt):
            await SqliteStore(path, cipher).open()
    with pytest.raises(KeyMissing):
        await SqliteStore(path).open()


async def test_a_coded_name_under_another_key_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    await filled(path, TextCipher(KEY))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE marks SET name = ? WHERE id = (SELECT max(id) FROM marks)",
            (TextCipher(OTHER_KEY).code("talk", "marks.name/3"),),
        )
    conn.close()
    with pytest.raises(CannotDecrypt):
        await SqliteStore(path, TextCipher(KEY)).open()


async def test_a_plain_database_and_its_right_key_still_open(tmp_path: Path) -> None:
    plain, encrypted = tmp_path / "plain.sqlite3", tmp_path / "enc.sqlite3"
    await filled(plain)
    await filled(encrypted, TextCipher(KEY))
    async with SqliteStore(plain, TextCipher(KEY)) as store:  # turning encryption on
        await store.commit(4, everything(words()), NOW)
    async with SqliteStore(encrypted, TextCipher(KEY)) as store:
        assert (await store.load(3, NOW)).known


# -- a missing database is not recreated -------------------------------------------------------


def remove_database(path: Path) -> None:
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)


async def test_a_missing_database_is_refused_and_the_first_start_creates_it(db: Path) -> None:
    assert not marker_path(db).exists()
    async with SqliteStore(db) as store:  # the very first start
        await store.commit(1, everything(words()), NOW)
    assert mode(marker_path(db)) == 0o600
    remove_database(db)
    with pytest.raises(DatabaseMissing) as caught:
        await SqliteStore(db).open()
    today = datetime.now(UTC).date().isoformat()
    assert str(caught.value) == (
        f"{db} is missing but was created here on {today}; restore it from a backup "
        f"(see README, Backups), or delete {marker_path(db)} to start empty"
    )
    assert not db.exists()  # nothing was created
    result = bot("rotate-key", "--database", str(db), env={"NEW_KEY": KEY})
    assert result.returncode == 1 and "is missing" in result.stderr
    marker_path(db).unlink()  # the operator's choice: start empty
    async with SqliteStore(db) as store:
        assert not (await store.load(1, NOW)).known
    assert marker_path(db).exists()


async def test_another_database_in_its_place_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    await filled(first)
    await filled(second)
    remove_database(first)
    shutil.copy(second, first)
    with pytest.raises(DatabaseReplaced, match="is not the database created here"):
        await SqliteStore(first).open()
    # A database from before the id (application_id 0) takes the marker's id.
    with sqlite3.connect(first) as conn:
        conn.execute("PRAGMA application_id = 0")
    conn.close()
    async with SqliteStore(first):
        pass
    async with SqliteStore(first):
        pass


async def test_a_database_deleted_while_running_is_noticed(db: Path) -> None:
    async with SqliteStore(db) as store:
        await store.commit(1, everything(words()), NOW)
        remove_database(db)
        with pytest.raises(StoreUnavailable, match="was deleted or moved while Mend was running"):
            await store.commit(2, everything(words()), NOW)
        with pytest.raises(StoreUnavailable, match="deleted or moved"):
            await store.load(1, NOW)


async def test_a_database_replaced_while_running_is_noticed(tmp_path: Path) -> None:
    db, other = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    other.write_bytes(b"")
    async with SqliteStore(db) as store:
        await store.commit(1, everything(words()), NOW)
        os.replace(other, db)
        with pytest.raises(StoreUnavailable, match="was replaced by another file"):
            await store.commit(2, everything(words()), NOW)


# -- backup ------------------------------------------------------------------------------------


async def test_backup_while_running_is_0600_refuses_to_overwrite_and_restores(
    tmp_path: Path,
) -> None:
    db, copy = tmp_path / "mend.sqlite3", tmp_path / "backup.sqlite3"
    text = words()
    with ProcessLock(db, "run"):  # as if the bot were running
        async with SqliteStore(db, TextCipher(KEY)) as store:
            await store.commit(1, everything(text), NOW)
            before = await store.export_user(1)
            result = bot("backup", str(copy), "--database", str(db))
            assert result.returncode == 0, result.stderr
            assert mode(copy) == 0o600
            assert not Path(f"{copy}-wal").exists()  # one self-contained file
            result = bot("backup", str(copy), "--database", str(db))
            assert result.returncode == 1 and "exists already" in result.stderr
            with pytest.raises(BackupExists):
                backup(db, copy)
            await store.commit(2, everything(words()), NOW)
            backup(db, copy, force=True)
            assert mode(copy) == 0o600
            with pytest.raises(StoreError, match="the database itself"):
                backup(db, db, force=True)
    assert text.encode() not in copy.read_bytes()  # copied encrypted, as stored
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    # Restore: the copy in place of a lost database is recognised (same id).
    remove_database(db)
    shutil.copy(copy, db)
    async with SqliteStore(db, TextCipher(KEY)) as store:
        assert await store.export_user(1) == before
        assert (await store.load(2, NOW)).known


def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none.sqlite3"
    result = bot("backup", str(tmp_path / "b.sqlite3"), "--database", str(db))
    assert result.returncode == 1 and "nothing to back up" in result.stderr
    assert not db.exists() and not (tmp_path / "b.sqlite3").exists()


# -- erasure with a reader open ----------------------------------------------------------------


@pytest.mark.parametrize("retry", ["next use", "periodic call"])
async def test_delete_with_a_reader_open_leaves_no_trace_after_the_retry(
    db: Path, retry: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = words()
    wal = Path(f"{db}-wal")

    def traces() -> list[str]:
        return [p.name for p in (db, wal) if p.exists() and secret.encode() in p.read_bytes()]

    async with SqliteStore(db) as store:
        await store.commit(1, everything(secret), NOW)
        await store.commit(2, everything("someone else"), NOW)
        assert traces()
        reader = sqlite3.connect(db, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM answers").fetchone() == (2,)
        caplog.set_level(logging.INFO)
        store._wal.retry_every = 0.0  # the next use may retry at once
        await store.delete_user(1)
        assert store._wal.pending  # the checkpoint saw the reader and said so
        assert "a reader keeps the WAL from emptying" in caplog.text
        reader.execute("ROLLBACK")
        reader.close()
        if retry == "next use":
            assert (await store.load(2, NOW)).known
        else:
            assert await store.flush_erasures()
        assert not store._wal.pending
        assert traces() == []
        assert not wal.exists() or wal.stat().st_size == 0
    assert traces() == []
    assert secret not in caplog.text
