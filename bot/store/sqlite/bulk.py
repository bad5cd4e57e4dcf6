"""Many people at once, for benchmarks: `BulkLoad` (bot/store/bulk.py) on SQLite.

Not part of the production `Store`: no turn and no dispatcher calls it.
"""

from __future__ import annotations

import sqlite3

from bot.store.bulk import BulkUser
from bot.store.codec import SETTING_NAMES, settings_to_db, utc_text
from bot.store.columns import SETTING_COLUMNS
from bot.store.sqlite.connection import SqliteBase


class Bulk(SqliteBase):
    async def bulk_create_users(self, rows: list[BulkUser]) -> None:
        values = [
            (
                user_id,
                utc_text(created_at),
                *settings_to_db(settings).values(),
                None if next_at is None else utc_text(next_at),
            )
            for user_id, created_at, settings, next_at in rows
        ]
        try:
            async with self._transaction() as conn:
                await conn.executemany(
                    f"INSERT INTO users (user_id, created_at, {SETTING_COLUMNS}, next_checkin_at)"
                    f" VALUES (?, ?{', ?' * len(SETTING_NAMES)}, ?)",
                    values,
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(
                "bulk_create_users: a user id exists already, or is given twice"
            ) from exc
