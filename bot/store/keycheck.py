"""At open, the key is checked against every encrypted and coded column, not one sample.

One sampled row proves little: after a re-encryption stopped half-way, or a table copied
in from elsewhere, some tables decrypt and others do not, and the bot would fail on some
person's turn instead of at start. So for every (table, column) the first and the last row
in key order (the order `rotate_key` walks them) must read with the key given: two indexed
reads per column, cheap at any size. Plain values (from before encryption) pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

import aiosqlite

from bot.store.crypto import TextCipher, uncode, unseal


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _ends(table: str, keys: tuple[str, ...], column: str, tag: str) -> list[str]:
    """The first and the last row of `table` in key order: (tag, user_id, value)."""
    out = []
    for direction in ("ASC", "DESC"):
        order = ", ".join(f"{_quote(k)} {direction}" for k in keys)
        out.append(
            f"SELECT * FROM (SELECT '{tag}', user_id, {_quote(column)} FROM {_quote(table)}"
            f" ORDER BY {order} LIMIT 1)"
        )
    return out


async def check_every_column(
    conn: aiosqlite.Connection,
    cipher: TextCipher | None,
    encrypted: Iterable[tuple[str, tuple[str, ...], tuple[str, ...]]],
    coded: Iterable[tuple[str, str, str]],
    tables: Collection[str],
    context: Callable[[str, int], str],
) -> None:
    """Raise KeyMissing or CannotDecrypt (never showing a value) if any column disagrees.

    `tables`: those that exist (a test may run fewer migrations); `context` gives the
    associated data a value is bound to, as the store writes it.
    """
    parts: list[str] = []
    for table, keys, columns in encrypted:
        if table in tables:
            for column in columns:
                parts += _ends(table, keys, column, f"s:{table}.{column}")
    for table, key, column in coded:
        if table in tables:
            parts += _ends(table, (key,), column, f"c:{table}.{column}")
    if not parts:
        return
    rows = await conn.execute_fetchall(" UNION ALL ".join(parts))
    for tag, user_id, value in rows:
        kind, name = str(tag).split(":", 1)
        if value is None:
            continue
        where = context(name, int(user_id))
        if kind == "s":
            unseal(cipher, str(value), where)
        else:
            uncode(cipher, str(value), where)
