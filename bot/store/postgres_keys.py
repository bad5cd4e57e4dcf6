"""The PostgreSQL store's key handling: the key checked against every encrypted column at
open, and every encrypted value re-encrypted under another key (`rotate`).

The same rules as SQLite's (keycheck.py, `rotate_key` in bot.store.sqlite): the first and
last row of each column in key order must open with the key given; a rotation changes
everything in one transaction or nothing. Nothing here shows a value or the key.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]

from bot.store.columns import context_of, quote
from bot.store.crypto import TextCipher, uncode, unseal
from bot.store.postgres_sql import CODED_COLUMNS, ENCRYPTED_COLUMNS
from bot.store.rekeying import CODED, SEALED, rewrite


def _ends(table: str, keys: tuple[str, ...], column: str, tag: str) -> list[str]:
    """The first and the last row of `table` in key order: (tag, user_id, value)."""
    out = []
    for direction in ("ASC", "DESC"):
        order = ", ".join(f"{quote(k)} {direction}" for k in keys)
        out.append(
            f"(SELECT '{tag}'::text AS tag, user_id, {quote(column)}::text AS value"
            f" FROM {quote(table)} ORDER BY {order} LIMIT 1)"
        )
    return out


async def check_key(conn: asyncpg.Connection, cipher: TextCipher | None) -> None:
    """Raise KeyMissing or CannotDecrypt at open if any column disagrees with the key."""
    parts: list[str] = []
    for table, keys, columns in ENCRYPTED_COLUMNS:
        for column in columns:
            parts += _ends(table, keys, column, f"s:{table}.{column}")
    for table, key, column in CODED_COLUMNS:
        parts += _ends(table, (key,), column, f"c:{table}.{column}")
    for row in await conn.fetch(" UNION ALL ".join(parts)):
        kind, name = str(row["tag"]).split(":", 1)
        value = row["value"]
        if value is None:
            continue
        where = context_of(name, int(row["user_id"]))
        if kind == "s":
            unseal(cipher, str(value), where)
        else:
            uncode(cipher, str(value), where)


async def reencrypt(
    conn: asyncpg.Connection, old: TextCipher | None, new: TextCipher | None
) -> int:
    """Every encrypted and coded value from `old` (or plain) to `new` (or plain), inside the
    caller's transaction; the number of values changed. Raises CannotDecrypt, changing
    nothing once the caller rolls back, for a value neither key opens."""
    changed = 0
    for table, keys, columns in ENCRYPTED_COLUMNS:
        selected = ", ".join(quote(c) for c in ("user_id", *keys, *columns))
        # Locked: a turn running meanwhile waits instead of writing under the old key.
        rows = await conn.fetch(f"SELECT {selected} FROM {quote(table)} FOR UPDATE")
        updates: list[tuple[object, ...]] = []
        for row in rows:
            user_id = int(row[0])
            key_values = tuple(row[1 : 1 + len(keys)])
            stored = [str(v) for v in row[1 + len(keys) :]]
            values = [
                rewrite(SEALED, old, new, value, context_of(f"{table}.{column}", user_id))
                for column, value in zip(columns, stored, strict=True)
            ]
            n = sum(a != b for a, b in zip(stored, values, strict=True))
            if n:
                changed += n
                updates.append((*values, *key_values))
        if updates:
            assignments = ", ".join(f"{quote(c)} = ${i}" for i, c in enumerate(columns, 1))
            where = " AND ".join(f"{quote(k)} = ${i}" for i, k in enumerate(keys, len(columns) + 1))
            await conn.executemany(
                f"UPDATE {quote(table)} SET {assignments} WHERE {where}", updates
            )
    for table, key, column in CODED_COLUMNS:
        rows = await conn.fetch(
            f"SELECT user_id, {quote(key)}, {quote(column)} FROM {quote(table)}"
            f" WHERE {quote(column)} != '' FOR UPDATE"
        )
        recoded: list[tuple[object, ...]] = []
        for user_id, row_key, value in rows:
            context = context_of(f"{table}.{column}", int(user_id))
            new_value = rewrite(CODED, old, new, str(value), context)
            if new_value != value:
                recoded.append((new_value, row_key))
        if recoded:
            changed += len(recoded)
            await conn.executemany(
                f"UPDATE {quote(table)} SET {quote(column)} = $1 WHERE {quote(key)} = $2",
                recoded,
            )
    return changed
