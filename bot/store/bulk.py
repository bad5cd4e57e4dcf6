"""Loading many people at once: for benchmarks (bench/) and their tests, never the bot.

Kept out of the production `Store` protocol, so a new store (PostgreSQL) need not carry
it; `SqliteStore` and `PostgresStore` both provide it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.session import Settings
from bot.store.protocol import Store

# One person: (user_id, created_at, settings, next_checkin_at).
BulkUser = tuple[int, datetime, Settings, datetime | None]


class BulkLoad(Protocol):
    async def bulk_create_users(self, rows: list[BulkUser]) -> None:
        """Create many people at once, in one transaction. An id that already exists (or is
        given twice) fails the whole call with ValueError, writing nothing."""


class BulkStore(Store, BulkLoad, Protocol):
    """A store that can also be loaded in bulk (what a benchmark or its test wants)."""
