"""Opening the SQLite file, its migrations, its one connection and transactions.

- The file is created owner-only (0600) before SQLite touches it. A database that existed
  is never silently recreated, and one deleted while open is noticed (identity.py); the
  key is checked against every encrypted column at open (keycheck.py).
- Numbered migrations (`bot/store/migrations/NNNN_*.sql`) run at `open()` inside one
  transaction, tracked by `PRAGMA user_version`. A newer database than the code knows
  raises `SchemaTooNew`.
- SQLite's errors of the environment (read-only, full, locked...) surface as a plain
  `StoreUnavailable`.
- An erasure's checkpoint is verified and retried (walcheck.py).
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
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.session import Settings
from bot.store.codec import settings_to_db
from bot.store.columns import CODED_COLUMNS, ENCRYPTED_COLUMNS, context_of
from bot.store.crypto import TextCipher
from bot.store.identity import FileWatch, reconcile, refuse_if_missing
from bot.store.keycheck import check_every_column
from bot.store.migration_files import MigrationFile, load_numbered
from bot.store.protocol import SchemaTooNew, StoreUnavailable
from bot.store.walcheck import ATTEMPT_BUSY_MS, ATTEMPT_WAITS, WalTruncation

log = logging.getLogger("bot.store.sqlite")  # the name it has always logged under

_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_SIDECARS = ("-wal", "-shm")


@dataclass(frozen=True)
class Migration(MigrationFile):
    def statements(self) -> list[str]:
        return split_sql(self.sql)


def load_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in `bot.store.migrations`, numbered 1, 2, 3... without gaps."""
    files = load_numbered("bot.store.migrations", _MIGRATION_NAME)
    return tuple(Migration(f.version, f.name, f.sql) for f in files)


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


def unavailable(exc: sqlite3.Error, path: Path) -> StoreUnavailable | None:
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


# -- helpers (run inside a transaction) -------------------------------------------------------


@asynccontextmanager
async def begun(conn: aiosqlite.Connection, *, write: bool) -> AsyncIterator[None]:
    """BEGIN (IMMEDIATE when it writes) ... COMMIT, or ROLLBACK on any failure."""
    await conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        await conn.execute("COMMIT")
    except BaseException:
        # Queued before the lock is released, so it runs before anyone's next BEGIN.
        # SQLite may already have rolled back (e.g. on a full disk): ignore that.
        with suppress(sqlite3.Error, ValueError):
            await conn.execute("ROLLBACK")
        raise


async def scalar(conn: aiosqlite.Connection, sql: str, *params: object) -> int:
    rows = list(await conn.execute_fetchall(sql, params))
    return int(rows[0][0])


async def one(conn: aiosqlite.Connection, sql: str, *params: object) -> sqlite3.Row | None:
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


async def every(conn: aiosqlite.Connection, sql: str, *params: object) -> list[dict[str, Any]]:
    rows: Iterable[sqlite3.Row] = await conn.execute_fetchall(sql, params)
    return [dict(r) for r in rows]


class SqliteBase:
    """The file, its one connection and its transactions; the parts of `SqliteStore` that
    read and write people's data build on it (sessions.py, outbox.py, schedule.py...)."""

    def __init__(
        self,
        path: str | Path,
        cipher: TextCipher | None = None,
        *,
        busy_timeout_ms: int = 5000,
        migrations: Sequence[Migration] | None = None,
        defaults: Settings | None = None,
    ) -> None:
        self._path = Path(path)
        # Settings a person starts with (DEFAULT_TIMEZONE lands here).
        self._defaults = tuple(settings_to_db(defaults or Settings()).values())
        self._default_settings = defaults or Settings()
        self._cipher = cipher
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._migrations = tuple(migrations) if migrations is not None else None
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._user_tables: tuple[str, ...] = ()
        self._check_key_at_open = True
        self._watch: FileWatch | None = None  # notices the file deleted under us
        self._wal = WalTruncation()  # an erasure's WAL not yet emptied

    @property
    def path(self) -> Path:
        return self._path

    # -- life cycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._conn is not None:
            return
        migrations = self._migrations if self._migrations is not None else load_migrations()
        _quiet_aiosqlite()
        in_memory = str(self._path) == ":memory:"
        if not in_memory:
            refuse_if_missing(self._path)  # never recreate, empty, a database that existed
            self._create_file()
        try:
            conn = await aiosqlite.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            raise (unavailable(exc, self._path) or exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            await self._configure(conn, in_memory)
            await self._migrate(conn, migrations)
            self._user_tables = await self._find_user_tables(conn)
            if self._check_key_at_open:
                await self._check_key(conn)
            if not in_memory:
                await reconcile(conn, self._path)
                self._watch = FileWatch(self._path)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise (unavailable(exc, self._path) or exc) from exc
            raise
        self._conn = conn
        if not in_memory:
            self._protect_sidecars()

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            self._watch = None
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
        # 32 MiB of page cache (the default is 2 MiB): the users table and its schedule
        # indexes stay in memory with 100,000 people; a claim batch updates twice as fast.
        await conn.execute("PRAGMA cache_size = -32768")
        rows = await conn.execute_fetchall("PRAGMA journal_mode = WAL")
        mode = str(next(iter(rows))[0]).lower()
        if mode != "wal" and not in_memory:
            log.warning("database %s could not switch to WAL (journal_mode=%s)", self._path, mode)
        await conn.execute("PRAGMA synchronous = NORMAL")

    async def _migrate(self, conn: aiosqlite.Connection, migrations: Sequence[Migration]) -> None:
        latest = migrations[-1].version if migrations else 0
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await scalar(conn, "PRAGMA user_version")
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

    async def _check_key(self, conn: aiosqlite.Connection) -> None:
        """Fail at start, not on someone's turn, when the key does not fit the database:
        encrypted but no key (KeyMissing), or another key (CannotDecrypt), in ANY column."""
        await check_every_column(
            conn, self._cipher, ENCRYPTED_COLUMNS, CODED_COLUMNS, set(self._user_tables), context_of
        )

    # -- transactions -----------------------------------------------------------------------

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, alone (under the lock); SQLite's environment errors made plain."""
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("the store is not open: await store.open() first")
            if self._watch is not None:
                self._watch.check()  # one stat: never write into a deleted file's inode
            try:
                yield conn
            except sqlite3.Error as exc:
                plain = unavailable(exc, self._path)
                if plain is not None:
                    raise plain from exc
                raise
            if self._wal.due():
                await self._retry_checkpoint(conn)

    @asynccontextmanager
    async def _transaction(self, *, write: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction, alone on the connection; committed on success, else rolled back."""
        async with self._connection() as conn, begun(conn, write=write):
            yield conn

    # -- emptying the WAL -------------------------------------------------------------------

    async def _checkpoint(self) -> None:
        """Move pages out of the WAL into the (zeroing, secure_delete) main file and empty
        the WAL, verified; a reader in the way: retried, then left pending (walcheck.py)."""
        for wait in ATTEMPT_WAITS:
            await asyncio.sleep(wait)  # the lock is free meanwhile: turns go on
            async with self._connection() as conn:
                if await self._wal.attempt(conn, ATTEMPT_BUSY_MS, self._busy_timeout_ms):
                    return
        log.warning("database %s: a reader keeps the WAL from emptying; retrying", self._path)

    async def _retry_checkpoint(self, conn: aiosqlite.Connection) -> None:
        """The pending checkpoint, at the store's next use: no waiting, never failing it."""
        try:
            done = await self._wal.attempt(conn, 0, self._busy_timeout_ms)
        except sqlite3.Error as exc:
            self._wal.pending = True
            log.warning("database %s: checkpoint failed (%s)", self._path, type(exc).__name__)
            return
        if done:
            log.info("database %s: the pending checkpoint is done", self._path)

    async def flush_erasures(self) -> bool:
        """Retry a pending checkpoint now (a periodic call may use it); True if none is left."""
        if self._wal.pending:
            async with self._connection() as conn:
                if self._wal.pending:
                    await self._retry_checkpoint(conn)
        return not self._wal.pending
