"""`python -m bot migrate-to-postgres`: copy a SQLite database into an empty PostgreSQL one.

Driven by PostgreSQL's own catalogue, not a second copy of the schema: every table the
PostgreSQL migrations created is filled from the SQLite table of the same name, column by
column, each value converted to the column's type (ISO text to timestamptz or date, 0/1 to
boolean). Encrypted and coded values are copied byte for byte: both stores bind them to the
same contexts (user id, table, column), so they open under the same ENCRYPTION_KEY. Row
counts are compared table by table afterwards, and the copy is one transaction: a failure
leaves the target as empty as it was. The SQLite file is opened read-only and never changed,
but stop the bot first, so nothing is written after the copy began.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

# Filled first: every other table refers to a person.
FIRST = ("users", "commitments")
# Bookkeeping each store keeps for itself.
SKIPPED = frozenset({"schema_version", "schema_migrations"})


class MoveError(Exception):
    """The copy cannot go ahead (or did not verify); nothing was changed in PostgreSQL."""


@dataclass(frozen=True)
class Moved:
    tables: dict[str, int]  # rows copied per table, verified equal on both sides

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _timestamp(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_CONVERT: dict[str, Callable[[object], object]] = {
    "timestamp with time zone": _timestamp,
    "date": lambda v: date.fromisoformat(str(v)),
    "boolean": lambda v: bool(int(str(v))) if str(v).isdigit() else str(v).lower() == "true",
    "bigint": lambda v: int(str(v)),
    "integer": lambda v: int(str(v)),
    "smallint": lambda v: int(str(v)),
}


def _converter(pg_type: str) -> Callable[[object], object]:
    convert = _CONVERT.get(pg_type, str)
    return lambda v: None if v is None else convert(v)


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise MoveError(f"no SQLite database at {path}")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _sqlite_columns(src: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in src.execute(f'PRAGMA table_info("{table}")')]


async def _pg_tables(conn: Any) -> dict[str, list[tuple[str, str]]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
    return {t: cols for t, cols in tables.items() if t not in SKIPPED}


def _order(tables: Sequence[str]) -> list[str]:
    return [t for t in FIRST if t in tables] + sorted(t for t in tables if t not in FIRST)


async def move(sqlite_path: Path, database_url: str) -> Moved:
    """Copy every row; raise MoveError (PostgreSQL unchanged) if it cannot be done whole."""
    # The PostgreSQL schema first, from its own migrations (opening the store runs them).
    from bot.store.postgres import PostgresStore

    target = PostgresStore(database_url, None)
    target._check_key_at_open = False  # values are copied sealed; the key is checked later
    await target.open()
    await target.close()
    src = _read_only(sqlite_path)
    try:
        conn = await asyncpg.connect(database_url)
        try:
            return await _copy(src, conn)
        finally:
            await conn.close()
    finally:
        src.close()


async def _copy(src: sqlite3.Connection, conn: Any) -> Moved:
    pg = await _pg_tables(conn)
    if await conn.fetchval("SELECT count(*) FROM users"):
        raise MoveError("the PostgreSQL database already has people in it; use an empty one")
    present = {str(r[0]) for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    copied: dict[str, int] = {}
    async with conn.transaction():
        for table in _order([t for t in pg if t in present]):
            have = set(_sqlite_columns(src, table))
            columns = [(name, kind) for name, kind in pg[table] if name in have]
            names = [name for name, _ in columns]
            converters = [_converter(kind) for _, kind in columns]
            quoted = ", ".join(f'"{n}"' for n in names)
            records = [
                tuple(c(v) for c, v in zip(converters, row, strict=True))
                for row in src.execute(f'SELECT {quoted} FROM "{table}"')
            ]
            if records:
                await conn.copy_records_to_table(table, records=records, columns=names)
            if "id" in names:  # identity columns go on from the highest id copied
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f' coalesce((SELECT max(id) FROM "{table}"), 0) + 1, false)'
                )
            copied[table] = len(records)
        for table, count in copied.items():
            there = await conn.fetchval(f'SELECT count(*) FROM "{table}"')
            if there != count:
                raise MoveError(f"{table}: {count} rows read, {there} in PostgreSQL")
    return Moved(copied)
