"""The outbox on SQLite: a committed turn's reply, kept until it reached Telegram.

`keep_reply` runs inside `commit`'s transaction, so a turn and what it owes the person are
written together or not at all; the rest reads the rows back and forgets them once sent.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import aiosqlite

from bot.core.turn import Turn
from bot.store.codec import utc_text
from bot.store.columns import OUTBOX_BODY
from bot.store.crypto import TextCipher, seal, unseal
from bot.store.outbox import Reply, decode_reply, encode_reply, owes_reply
from bot.store.sqlite.connection import SqliteBase, one


async def keep_reply(
    conn: aiosqlite.Connection,
    cipher: TextCipher | None,
    user_id: int,
    update_id: int,
    turn: Turn,
    now_text: str,
) -> None:
    """Store the turn's reply for this update, if it owes one (inside the commit)."""
    if owes_reply(turn):
        body = seal(cipher, encode_reply(turn), OUTBOX_BODY.context(user_id))
        await conn.execute(
            "INSERT INTO outbox (user_id, update_id, body, created_at) VALUES (?, ?, ?, ?)",
            (user_id, update_id, body, now_text),
        )


class Outbox(SqliteBase):
    def _reply(self, row: sqlite3.Row) -> Reply:
        user_id, update_id = int(row[0]), int(row[1])
        body = unseal(self._cipher, str(row[2]), OUTBOX_BODY.context(user_id))
        return decode_reply(user_id, update_id, body)

    async def unsent_reply(self, user_id: int, update_id: int) -> Reply | None:
        async with self._connection() as conn:
            row = await one(
                conn,
                "SELECT user_id, update_id, body FROM outbox WHERE user_id = ? AND update_id = ?",
                user_id,
                update_id,
            )
        return None if row is None else self._reply(row)

    async def unsent_replies(
        self, older_than: datetime, limit: int, *, taken_at: datetime | None = None
    ) -> list[Reply]:
        async with self._transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT user_id, update_id, body FROM outbox WHERE created_at <= ?"
                    " ORDER BY created_at, user_id, update_id LIMIT ?",
                    (utc_text(older_than), limit),
                )
            )
            if taken_at is not None:
                await conn.executemany(
                    "UPDATE outbox SET created_at = max(created_at, ?)"
                    " WHERE user_id = ? AND update_id = ?",
                    [(utc_text(taken_at), row[0], row[1]) for row in rows],
                )
        return [self._reply(row) for row in rows]

    async def reply_sent(self, user_id: int, update_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "DELETE FROM outbox WHERE user_id = ? AND update_id = ?", (user_id, update_id)
            )
