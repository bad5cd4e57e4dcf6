"""The PostgreSQL store's foundation: the pool, migrations, connections and errors.

`PostgresStore` (bot/store/postgres.py) is built from this and the mixins beside it
(postgres_export.py, postgres_schedule.py), as SqliteStore is from bot/store/sqlite/.
Nothing here logs a person's words, and no message shows the URL's password.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]

from bot.core.session import ENCRYPTED_FACT, Settings
from bot.store.codec import settings_from_db
from bot.store.columns import USER_SAFETY
from bot.store.crypto import TextCipher, uncode
from bot.store.postgres_keys import check_key
from bot.store.postgres_sql import (
    CODED_SETTING,
    MIGRATION_LOCK,
    PgMigration,
    load_pg_migrations,
    setting_values,
)
from bot.store.protocol import SchemaTooNew, StoreUnavailable

log = logging.getLogger(__name__)

Connection = Any  # asyncpg ships no type hints
Row = Any


def describe(url: str) -> str:
    """host:port/database of a URL, for messages: never the user or the password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


def _unavailable(exc: BaseException, where: str) -> StoreUnavailable | None:
    """A plain StoreUnavailable for errors of the environment; None for anything else."""
    errors = asyncpg.exceptions
    if isinstance(exc, errors.ReadOnlySQLTransactionError):
        why = "is read-only (a standby, or default_transaction_read_only is on)"
    elif isinstance(exc, errors.DiskFullError):
        why = "cannot grow: the server's disk is full"
    elif isinstance(exc, errors.TooManyConnectionsError):
        why = "refuses more connections (max_connections)"
    elif isinstance(exc, errors.InsufficientResourcesError):
        why = "is out of resources (memory or disk)"
    elif isinstance(exc, errors.InvalidCatalogNameError):
        why = "does not exist: create it first"
    elif isinstance(
        exc, errors.InvalidAuthorizationSpecificationError | errors.InvalidPasswordError
    ):
        why = "refuses the user or password given in DATABASE_URL"
    elif isinstance(
        exc,
        errors.CannotConnectNowError
        | errors.OperatorInterventionError
        | errors.PostgresConnectionError  # also a connection lost mid-call
        # A pooled connection the server dropped (a restart, a failover) before asyncpg
        # noticed: the call fails, the pool then replaces the connection.
        | errors.InternalClientError
        | OSError
        | TimeoutError,
    ):
        why = "cannot be reached (is the server running, and the URL right?)"
    else:
        return None
    return StoreUnavailable(f"the PostgreSQL database {where} {why}")


async def _keep_session(conn: Connection) -> None:
    """The pool's reset on release, instead of asyncpg's reset query (one more round trip
    on every call): this store sets no session state (no SET, LISTEN, cursors or session
    locks; its advisory locks end with their transaction). asyncpg still rolls back a
    transaction left open before calling this."""


class PostgresBase:
    """The pool and its life cycle; the Store methods live in the mixins."""

    def __init__(
        self,
        url: str,
        cipher: TextCipher | None = None,
        *,
        defaults: Settings | None = None,
        min_connections: int = 1,
        max_connections: int = 10,
        connect_timeout: float = 10.0,
        migrations: Sequence[PgMigration] | None = None,
    ) -> None:
        self._url = url
        self._where = describe(url)
        self._cipher = cipher
        self._default_settings = defaults or Settings()
        self._defaults = setting_values(self._default_settings)
        self._min, self._max = int(min_connections), int(max_connections)
        self._connect_timeout = float(connect_timeout)
        self._migrations = tuple(migrations) if migrations is not None else None
        self._pool: Any = None
        self._user_tables: tuple[str, ...] = ()
        self._check_key_at_open = True

    @property
    def where(self) -> str:
        return self._where

    # -- life cycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        migrations = self._migrations if self._migrations is not None else load_pg_migrations()
        try:
            pool = await asyncpg.create_pool(
                self._url,
                min_size=min(self._min, self._max),
                max_size=self._max,
                timeout=self._connect_timeout,
                server_settings={"application_name": "mend"},
                reset=_keep_session,
            )
        except Exception as exc:
            raise (_unavailable(exc, self._where) or exc) from exc
        try:
            async with pool.acquire() as conn:
                await self._migrate(conn, migrations)
                self._user_tables = await self._find_user_tables(conn)
                if self._check_key_at_open:
                    await check_key(conn, self._cipher)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, Exception) and (unavailable := _unavailable(exc, self._where)):
                raise unavailable from exc
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _migrate(self, conn: Connection, migrations: Sequence[PgMigration]) -> None:
        latest = migrations[-1].version if migrations else 0
        applied: list[str] = []
        async with conn.transaction():
            # Replicas starting together: the first migrates, the others then find it done.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            current = int(
                await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
            )
            if current > latest:
                raise SchemaTooNew(
                    f"the PostgreSQL database {self._where} has schema version {current}, but "
                    f"this version of Mend knows only up to {latest}: it was written by a newer "
                    "Mend. Refusing to start; run the newer code or restore a backup that matches."
                )
            for migration in migrations:
                if migration.version > current:
                    await conn.execute(migration.sql)  # no arguments: a multi-statement script
                    await conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                    applied.append(migration.name)
        if applied:
            log.info("database %s migrated to schema %d (%s)", self._where, latest, applied)

    @staticmethod
    async def _find_user_tables(conn: Connection) -> tuple[str, ...]:
        """Every table with a `user_id` column, `users` last (the others refer to it)."""
        rows = await conn.fetch(
            "SELECT c.table_name FROM information_schema.columns AS c"
            " JOIN information_schema.tables AS t"
            " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND c.column_name = 'user_id'"
            " AND t.table_type = 'BASE TABLE' ORDER BY c.table_name"
        )
        names = [str(r[0]) for r in rows]
        return (*(n for n in names if n != "users"), *(n for n in names if n == "users"))

    # -- connections ------------------------------------------------------------------------

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; the server's environment errors made plain."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("the store is not open: await store.open() first")
        try:
            async with pool.acquire() as conn:
                yield conn
        except (
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.exceptions.InternalClientError,
            OSError,
        ) as exc:
            unavailable = _unavailable(exc, self._where)
            if unavailable is not None:
                raise unavailable from exc
            raise

    @asynccontextmanager
    async def _transaction(self, **options: Any) -> AsyncIterator[Connection]:
        """One transaction on a pooled connection: committed on success, else rolled back."""
        async with self._connection() as conn, conn.transaction(**options):
            yield conn

    def transaction(self, **options: Any) -> AbstractAsyncContextManager[Connection]:
        """A transaction on the store's pool, for what in this package keeps a table of its
        own beside the people's (the shared send budget)."""
        return self._transaction(**options)

    def _snapshot(self) -> Any:
        """A read-only transaction with one snapshot for all its statements."""
        return self._transaction(isolation="repeatable_read", readonly=True)

    def _facts(self) -> dict[str, str]:
        """What the coach may tell the person about this store (shown by /privacy)."""
        return {ENCRYPTED_FACT: "yes" if self._cipher is not None else "no"}

    def _settings(self, user_id: int, row: dict[str, Any]) -> Settings:
        coded = str(row[CODED_SETTING])
        row = {**row, CODED_SETTING: uncode(self._cipher, coded, USER_SAFETY.context(user_id))}
        return settings_from_db(row)
