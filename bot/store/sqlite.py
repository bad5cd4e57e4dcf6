"""The store on one SQLite file, through aiosqlite.

- WAL journal, `synchronous=NORMAL`, foreign keys on, a busy timeout, `secure_delete` on
  (erased rows are overwritten, not left in free pages).
- ONE connection, and an `asyncio.Lock` around every transaction: an aiosqlite connection
  shared by concurrent tasks would interleave their statements into each other's
  transactions. Reads go through the same connection under the same lock: simple and
  correct, and at this size the lock is never the bottleneck (a turn is a few hundred
  microseconds of SQLite work). A separate read-only connection could be added later.
- Every transaction is `BEGIN IMMEDIATE ... COMMIT`; any failure rolls it back, so a turn is
  written whole or not at all. A read-only or full disk surfaces as `StoreUnavailable`.
- Numbered migrations (`bot/store/migrations/NNNN_*.sql`) run at `open()` inside one
  transaction, tracked by `PRAGMA user_version`. A newer database than the code knows
  raises `SchemaTooNew`.
- The file is created owner-only (0600) before SQLite touches it.

Datetimes are stored as fixed-width ISO-8601 UTC text. Nothing here logs a person's words.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, assert_never

import aiosqlite

from bot.core.session import Session, Settings
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    Effect,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    Turn,
)
from bot.store.codec import (
    SETTING_NAMES,
    decode_position,
    encode_position,
    parse_utc,
    position_to_dict,
    setting_to_db,
    settings_from_db,
    settings_to_db,
    settings_to_json,
    utc_text,
)
from bot.store.protocol import (
    KEEP_UPDATE_IDS,
    Commitment,
    SchemaTooNew,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_SIDECARS = ("-wal", "-shm")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        return split_sql(self.sql)


def load_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in `bot.store.migrations`, numbered 1, 2, 3... without gaps."""
    found: list[Migration] = []
    for entry in resources.files("bot.store.migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match and entry.is_file():
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    if not found:
        # Without this, an install missing its .sql files would open an empty database, or call
        # an existing one "too new".
        raise RuntimeError(
            "no SQL migrations found in bot.store.migrations: the package data (*.sql) is "
            "missing from this installation"
        )
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"store migrations must be numbered 1..n without gaps, found {numbers}")
    return tuple(found)


def split_sql(script: str) -> list[str]:
    """Split a script into statements (so they can run inside our own transaction)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    rest = [ln for ln in pending.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if rest:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest[0]!r}")
    return statements


def _unavailable(exc: sqlite3.Error, path: Path) -> StoreUnavailable | None:
    """A plain StoreUnavailable for errors of the environment; None for anything else."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        why = "is read-only (check the permissions of the file and its directory, and the mount)"
    elif name == "SQLITE_FULL" or "disk is full" in text:
        why = "cannot grow: the disk is full"
    elif name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        why = "cannot be opened"
    elif name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        why = "hit a disk I/O error"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        why = "is locked by another process"
    elif name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in text:
        why = "is not a SQLite database, or is damaged"
    else:
        return None
    return StoreUnavailable(f"the database {path} {why}")


def _quiet_aiosqlite() -> None:
    """aiosqlite's DEBUG records show every statement's parameters: people's words.

    Unless someone configured that logger on purpose, keep it above DEBUG, so that a root
    logger at DEBUG does not copy answers and journal entries into the logs.
    """
    logger = logging.getLogger("aiosqlite")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class SqliteStore:
    """`Store` on a SQLite file. `await store.open()` before use, `await store.close()` after."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        self._path = Path(path)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._migrations = tuple(migrations) if migrations is not None else None
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._user_tables: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self._path

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- life cycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._conn is not None:
            return
        migrations = self._migrations if self._migrations is not None else load_migrations()
        _quiet_aiosqlite()
        in_memory = str(self._path) == ":memory:"
        if not in_memory:
            self._create_file()
        try:
            conn = await aiosqlite.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            raise (_unavailable(exc, self._path) or exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            await self._configure(conn, in_memory)
            await self._migrate(conn, migrations)
            self._user_tables = await self._find_user_tables(conn)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise (_unavailable(exc, self._path) or exc) from exc
            raise
        self._conn = conn
        if not in_memory:
            self._protect_sidecars()

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()

    def _create_file(self) -> None:
        """Create the database file owner-only before SQLite does (SQLite would use 0644)."""
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreUnavailable(
                f"the database {self._path} cannot be created or opened: {exc.strerror}"
            ) from exc
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        if mode & 0o077:
            log.warning("database file %s is readable by others (mode %o)", self._path, mode)

    def _protect_sidecars(self) -> None:
        for suffix in _SIDECARS:
            sidecar = Path(f"{self._path}{suffix}")
            with suppress(FileNotFoundError):
                os.chmod(sidecar, 0o600)

    async def _configure(self, conn: aiosqlite.Connection, in_memory: bool) -> None:
        # busy_timeout first, so that the statements after it wait for a busy file.
        await conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA secure_delete = ON")
        rows = await conn.execute_fetchall("PRAGMA journal_mode = WAL")
        mode = str(next(iter(rows))[0]).lower()
        if mode != "wal" and not in_memory:
            log.warning("database %s could not switch to WAL (journal_mode=%s)", self._path, mode)
        await conn.execute("PRAGMA synchronous = NORMAL")

    async def _migrate(self, conn: aiosqlite.Connection, migrations: Sequence[Migration]) -> None:
        latest = migrations[-1].version if migrations else 0
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await _scalar(conn, "PRAGMA user_version")
            if current > latest:
                raise SchemaTooNew(
                    f"the database {self._path} has schema version {current}, but this version "
                    f"of Mend knows only up to {latest}: it was written by a newer Mend. "
                    "Refusing to start; run the newer code or restore a backup that matches."
                )
            applied: list[str] = []
            for migration in migrations:
                if migration.version <= current:
                    continue
                for statement in migration.statements():
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {int(migration.version)}")
                applied.append(migration.name)
            await conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        if applied:
            log.info("database %s migrated to schema %d (%s)", self._path, latest, applied)

    @staticmethod
    async def _find_user_tables(conn: aiosqlite.Connection) -> tuple[str, ...]:
        """Every table with a `user_id` column, `users` last (the others refer to it)."""
        rows = await conn.execute_fetchall(
            "SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c"
            " WHERE m.type = 'table' AND c.name = 'user_id' ORDER BY m.name"
        )
        names = [str(r[0]) for r in rows]
        return (*(n for n in names if n != "users"), *(n for n in names if n == "users"))

    # -- transactions -----------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self, *, write: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction, alone on the connection; committed on success, else rolled back."""
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("the store is not open: await store.open() first")
            try:
                await conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield conn
                await conn.execute("COMMIT")
            except BaseException as exc:
                # Queued before the lock is released, so it runs before anyone's next BEGIN.
                # SQLite may already have rolled back (e.g. on a full disk): ignore that.
                with suppress(sqlite3.Error, ValueError):
                    await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    unavailable = _unavailable(exc, self._path)
                    if unavailable is not None:
                        raise unavailable from exc
                raise

    # -- the Store interface ----------------------------------------------------------------

    async def load(self, user_id: int, now: datetime) -> Session:
        now_text = utc_text(now)
        async with self._transaction() as conn:
            await _ensure_user(conn, user_id, now_text)
            columns = ", ".join(SETTING_NAMES)
            user = await _one(
                conn, f"SELECT created_at, {columns} FROM users WHERE user_id = ?", user_id
            )
            state = await _one(conn, "SELECT state FROM sessions WHERE user_id = ?", user_id)
            answers = await conn.execute_fetchall(
                "SELECT name, value FROM answers WHERE user_id = ?", (user_id,)
            )
            completed = await conn.execute_fetchall(
                "SELECT DISTINCT flow FROM completions WHERE user_id = ?", (user_id,)
            )
        assert user is not None
        return Session(
            position=decode_position(None if state is None else state["state"], user_id),
            answers={str(r["name"]): str(r["value"]) for r in answers},
            settings=settings_from_db(dict(user)),
            completed=frozenset(str(r["flow"]) for r in completed),
            started_at=parse_utc(user["created_at"]),
        )

    async def commit(
        self, user_id: int, turn: Turn, now: datetime, *, update_id: int | None = None
    ) -> bool:
        now_text = utc_text(now)
        state = encode_position(turn.session.position)
        async with self._transaction() as conn:
            if update_id is not None:
                seen = await _one(
                    conn,
                    "SELECT 1 FROM processed_updates WHERE user_id = ? AND update_id = ?",
                    user_id,
                    update_id,
                )
                if seen is not None:
                    return False
            await _ensure_user(conn, user_id, now_text)
            await conn.execute(
                "UPDATE users SET active = 1, last_seen = ? WHERE user_id = ?", (now_text, user_id)
            )
            await conn.execute(
                "INSERT INTO sessions (user_id, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE"
                " SET state = excluded.state, updated_at = excluded.updated_at",
                (user_id, state, now_text),
            )
            for effect in turn.effects:
                await _apply(conn, user_id, effect, now_text)
            if update_id is not None:
                await conn.execute(
                    "INSERT INTO processed_updates (user_id, update_id) VALUES (?, ?)",
                    (user_id, update_id),
                )
                await conn.execute(
                    "DELETE FROM processed_updates WHERE user_id = ? AND update_id < ("
                    " SELECT update_id FROM processed_updates WHERE user_id = ?"
                    " ORDER BY update_id DESC LIMIT 1 OFFSET ?)",
                    (user_id, user_id, KEEP_UPDATE_IDS - 1),
                )
        return True

    async def set_active(self, user_id: int, active: bool) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET active = ? WHERE user_id = ?", (int(active), user_id)
            )

    async def export_user(self, user_id: int) -> dict[str, object]:
        async with self._transaction(write=False) as conn:
            user = await _one(conn, "SELECT * FROM users WHERE user_id = ?", user_id)
            session = await _one(
                conn, "SELECT state, updated_at FROM sessions WHERE user_id = ?", user_id
            )
            answers = await _all(
                conn,
                "SELECT name, value, updated_at FROM answers WHERE user_id = ? ORDER BY name",
                user_id,
            )
            journal = await _all(
                conn,
                "SELECT id, flow, text, created_at FROM journal WHERE user_id = ? ORDER BY id",
                user_id,
            )
            commitments = await _all(
                conn,
                "SELECT id, text, due, status, created_at, resolved_at FROM commitments"
                " WHERE user_id = ? ORDER BY id",
                user_id,
            )
            follow_ups = await _all(
                conn,
                "SELECT id, flow, due_at, status, created_at, claimed_at, sent_at FROM follow_ups"
                " WHERE user_id = ? ORDER BY id",
                user_id,
            )
            completions = await _all(
                conn,
                "SELECT flow, completed_at FROM completions WHERE user_id = ?"
                " ORDER BY completed_at, rowid",
                user_id,
            )
            updates = await conn.execute_fetchall(
                "SELECT update_id FROM processed_updates WHERE user_id = ? ORDER BY update_id",
                (user_id,),
            )
        user_doc: dict[str, object] | None = None
        if user is not None:
            user_doc = {
                "created_at": user["created_at"],
                "last_seen": user["last_seen"],
                "active": bool(user["active"]),
                "settings": settings_to_json(settings_from_db(dict(user))),
            }
        session_doc: dict[str, object] | None = None
        if session is not None:
            position = decode_position(session["state"], user_id)
            session_doc = {
                "position": position_to_dict(position),
                "updated_at": session["updated_at"],
            }
        return {
            "user_id": user_id,
            "user": user_doc,
            "session": session_doc,
            "answers": answers,
            "journal": journal,
            "commitments": commitments,
            "follow_ups": follow_ups,
            "completions": completions,
            "processed_updates": [int(r[0]) for r in updates],
        }

    async def delete_user(self, user_id: int) -> None:
        async with self._transaction() as conn:
            for table in self._user_tables:
                await conn.execute(f"DELETE FROM {_quote(table)} WHERE user_id = ?", (user_id,))
        # Move the erased pages out of the WAL into the (zeroing, secure_delete) main file.
        async with self._lock:
            if self._conn is not None:
                try:
                    await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:
                    raise (_unavailable(exc, self._path) or exc) from exc

    async def open_commitments(self, user_id: int) -> list[Commitment]:
        async with self._transaction(write=False) as conn:
            rows = await conn.execute_fetchall(
                "SELECT id, text, due, status, created_at FROM commitments"
                " WHERE user_id = ? AND status = 'open' ORDER BY created_at, id",
                (user_id,),
            )
        return [
            Commitment(
                id=int(r["id"]),
                text=str(r["text"]),
                due=str(r["due"]),
                created_at=parse_utc(r["created_at"]),
                status=str(r["status"]),
            )
            for r in rows
        ]


# -- helpers (run inside a transaction) -------------------------------------------------------


async def _scalar(conn: aiosqlite.Connection, sql: str, *params: object) -> int:
    rows = list(await conn.execute_fetchall(sql, params))
    return int(rows[0][0])


async def _one(conn: aiosqlite.Connection, sql: str, *params: object) -> sqlite3.Row | None:
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


async def _all(conn: aiosqlite.Connection, sql: str, *params: object) -> list[dict[str, Any]]:
    rows: Iterable[sqlite3.Row] = await conn.execute_fetchall(sql, params)
    return [dict(r) for r in rows]


async def _ensure_user(conn: aiosqlite.Connection, user_id: int, now_text: str) -> None:
    defaults = settings_to_db(Settings())
    columns = ", ".join(("user_id", "created_at", *defaults))
    marks = ", ".join("?" for _ in range(2 + len(defaults)))
    await conn.execute(
        f"INSERT INTO users ({columns}) VALUES ({marks}) ON CONFLICT (user_id) DO NOTHING",
        (user_id, now_text, *defaults.values()),
    )


async def _apply(conn: aiosqlite.Connection, user_id: int, effect: Effect, now_text: str) -> None:
    match effect:
        case SaveAnswer(name=name, value=value):
            await conn.execute(
                "INSERT INTO answers (user_id, name, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, name) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (user_id, name, value, now_text),
            )
        case SaveJournal(flow=flow, text=text):
            await conn.execute(
                "INSERT INTO journal (user_id, flow, text, created_at) VALUES (?, ?, ?, ?)",
                (user_id, flow, text, now_text),
            )
        case RecordCommitment(text=text, due=due):
            await conn.execute(
                "INSERT INTO commitments (user_id, text, due, status, created_at)"
                " VALUES (?, ?, ?, 'open', ?)",
                (user_id, text, due, now_text),
            )
        case ChangeSetting(name=name, value=value):
            column_value = setting_to_db(name, value)  # validates the name: safe to splice
            await conn.execute(
                f"UPDATE users SET {_quote(name)} = ? WHERE user_id = ?", (column_value, user_id)
            )
        case ScheduleFollowUp(flow=flow, due_at=due_at):
            await conn.execute(
                "INSERT INTO follow_ups (user_id, flow, due_at, status, created_at)"
                " VALUES (?, ?, ?, 'pending', ?)",
                (user_id, flow, utc_text(due_at), now_text),
            )
        case CompleteFlow(flow=flow):
            await conn.execute(
                "INSERT INTO completions (user_id, flow, completed_at) VALUES (?, ?, ?)",
                (user_id, flow, now_text),
            )
        case _:
            assert_never(effect)
