"""Key rotation: every protected value from one key (or plain) to another (or plain).

One walk serves both kinds of protected column (columns.py); how one value moves from
the old key to the new is bot/store/rekeying.py, shared with PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.store.columns import TABLES, Protected, quote
from bot.store.crypto import TextCipher
from bot.store.rekeying import CODED, SEALED, Kind, rewrite
from bot.store.sqlite.connection import SqliteBase


async def _rewrite_table(
    conn: aiosqlite.Connection,
    columns: tuple[Protected, ...],
    kind: Kind,
    old: TextCipher | None,
    new: TextCipher | None,
) -> int:
    """One table's protected columns rewritten in place; the number of values changed."""
    table, keys, names = columns[0].table, columns[0].keys, [p.column for p in columns]
    selected = ", ".join(quote(c) for c in ("user_id", *keys, *names))
    # An empty name stays empty (`code` leaves "" as it is): no need to read it.
    where = " WHERE " + " OR ".join(f"{quote(c)} != ''" for c in names) if kind is CODED else ""
    rows = await conn.execute_fetchall(f"SELECT {selected} FROM {quote(table)}{where}")
    changed = 0
    updates: list[tuple[object, ...]] = []
    for row in rows:
        user_id = int(row[0])
        key_values = tuple(row[1 : 1 + len(keys)])
        stored = [str(v) for v in row[1 + len(keys) :]]
        values = [
            rewrite(kind, old, new, value, column.context(user_id))
            for column, value in zip(columns, stored, strict=True)
        ]
        n = sum(a != b for a, b in zip(stored, values, strict=True))
        if n:
            changed += n
            updates.append((*values, *key_values))
    if updates:
        assignments = ", ".join(f"{quote(c)} = ?" for c in names)
        match = " AND ".join(f"{quote(k)} = ?" for k in keys)
        await conn.executemany(f"UPDATE {quote(table)} SET {assignments} WHERE {match}", updates)
    return changed


class _Rotation(SqliteBase):
    async def reencrypt(self, old: TextCipher | None, new: TextCipher | None) -> int:
        """Every protected column's values from `old` (or plain) to `new` (or plain), in one
        transaction; the number of values changed."""
        changed = 0
        async with self._transaction() as conn:
            for _table, coded, columns in TABLES:
                changed += await _rewrite_table(conn, columns, CODED if coded else SEALED, old, new)
        await self._checkpoint()
        return changed


async def rotate_key(path: str | Path, old: TextCipher | None, new: TextCipher | None) -> int:
    """Re-encrypt every encrypted value of the database at `path` from `old` to `new`, in one
    transaction; the number of values changed. Run it with the bot stopped.

    `old` None: the database is plain (encrypting it for the first time); `new` None:
    decrypt it. Values already under `new` are left alone, so running it twice is harmless.
    A value neither key decrypts raises `CannotDecrypt` and nothing is changed.
    """
    store = _Rotation(path)
    store._check_key_at_open = False  # the point is a database whose key is changing
    await store.open()
    try:
        return await store.reencrypt(old, new)
    finally:
        await store.close()
