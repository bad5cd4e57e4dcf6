"""The outbox on SQLite: a committed turn's reply, kept until it reached Telegram.

`keep_reply` runs inside `commit`'s transaction, so a turn and what it owes the person are
written together or not at all; the rest reads the rows back and forgets them once sent.

A sent reply is first noted in the sent log (`<database>.sent`, ids only) with one append,
then its row is deleted behind whatever turns are queued for the connection. A process
killed in between would otherwise send the reply again after the restart; the log
survives SIGKILL (it is in the page cache at once), and `open` forgets what it lists.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.core.turn import Turn
from bot.store.codec import utc_text
from bot.store.crypto import TextCipher, seal, unseal
from bot.store.outbox import Reply, decode_reply, encode_reply, owes_reply
from bot.store.sqlite.columns import OUTBOX_BODY
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


class SentLog:
    """Append-only "user_id update_id" lines, one per reply Telegram accepted."""

    CLEAR_AT = 1 << 16  # bytes: emptied once nothing is waiting to be forgotten

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def open(self) -> list[tuple[int, int]]:
        """The replies the last process noted as sent; the log stays open for appends."""
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            text = ""
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # Only whole lines: a torn "7 10" of "7 102" would forget a reply never sent.
        whole = text[: text.rfind("\n") + 1]
        sent = []
        for line in whole.splitlines():
            parts = line.split()
            if len(parts) == 2 and all(p.lstrip("-").isdigit() for p in parts):
                sent.append((int(parts[0]), int(parts[1])))
        return sent

    def note(self, user_id: int, update_id: int) -> None:
        if self._fd is not None:
            os.write(self._fd, f"{user_id} {update_id}\n".encode("ascii"))

    def clear_if_large(self, minimum: int = CLEAR_AT) -> None:
        if self._fd is not None and os.fstat(self._fd).st_size >= minimum:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class Outbox(SqliteBase):
    _sent_log: SentLog | None = None
    _forgetting = 0  # reply_sent calls between their note and their DELETE

    async def open(self) -> None:
        await super().open()
        if str(self._path) == ":memory:" or self._sent_log is not None:
            return
        log = SentLog(Path(f"{self._path}.sent"))
        sent = log.open()
        if sent:
            async with self._transaction() as conn:
                await conn.executemany(
                    "DELETE FROM outbox WHERE user_id = ? AND update_id = ?", sent
                )
        log.clear_if_large(minimum=0)
        self._sent_log = log

    async def close(self) -> None:
        await super().close()
        log, self._sent_log = self._sent_log, None
        if log is not None:
            log.close()

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

    async def unsent_replies(self, older_than: datetime, limit: int) -> list[Reply]:
        async with self._connection() as conn:
            rows = await conn.execute_fetchall(
                "SELECT user_id, update_id, body FROM outbox WHERE created_at <= ?"
                " ORDER BY created_at, user_id, update_id LIMIT ?",
                (utc_text(older_than), limit),
            )
        return [self._reply(row) for row in rows]

    async def reply_sent(self, user_id: int, update_id: int) -> None:
        log = self._sent_log
        if log is not None:
            with contextlib.suppress(OSError):  # a full disk only costs a possible repeat
                log.note(user_id, update_id)
        self._forgetting += 1
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    "DELETE FROM outbox WHERE user_id = ? AND update_id = ?", (user_id, update_id)
                )
        finally:
            self._forgetting -= 1
        if log is not None and self._forgetting == 0:
            with contextlib.suppress(OSError):
                log.clear_if_large()  # every line's row is gone: none is still needed
