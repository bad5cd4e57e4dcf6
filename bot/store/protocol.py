"""The store's narrow interface: what the shells and the scheduler may ask of persistence.

Two implementations: `SqliteStore` (aiosqlite, one file) and `MemoryStore` (a fake for fast
tests). The interface is small enough that a PostgreSQL implementation can follow.

Datetimes given to the store must be timezone-aware; they are kept in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.session import Session
from bot.core.turn import Turn

# How many processed update ids are kept per user to recognise Telegram's redeliveries.
KEEP_UPDATE_IDS = 50


class StoreError(Exception):
    """Base class of the store's own errors."""


class StoreUnavailable(StoreError):
    """The database cannot be written or read (read-only, disk full, locked, missing...).

    The message is plain and safe to show to an operator; it never contains personal text.
    Nothing of the interrupted turn was written.
    """


class SchemaTooNew(StoreError):
    """The database was written by a newer version of the code; refuse to start."""


@dataclass(frozen=True)
class Commitment:
    id: int
    text: str
    due: str  # as the person said it ("by Friday"); may be empty
    created_at: datetime  # UTC
    status: str  # "open" until resolved


class Store(Protocol):
    async def open(self) -> None:
        """Prepare the store (connect, migrate). Raises SchemaTooNew or StoreUnavailable."""

    async def close(self) -> None:
        """Release resources. Safe to call twice."""

    async def load(self, user_id: int, now: datetime) -> Session:
        """The person's session; a person seen for the first time is created with defaults."""

    async def commit(
        self, user_id: int, turn: Turn, now: datetime, *, update_id: int | None = None
    ) -> bool:
        """Save the turn's position and carry out its effects in ONE transaction.

        Returns False, writing nothing, if `update_id` was already committed for this user
        (Telegram may deliver an update twice). Any failure writes nothing.
        """

    async def set_active(self, user_id: int, active: bool) -> None:
        """Mark a person (in)active; one who blocked the bot is inactive. Unknown ids: no-op."""

    async def export_user(self, user_id: int) -> dict[str, object]:
        """Everything stored about the person, JSON-able (datetimes as ISO-8601 UTC text)."""

    async def delete_user(self, user_id: int) -> None:
        """Erase every row about the person in every table."""

    async def open_commitments(self, user_id: int) -> list[Commitment]:
        """The person's commitments still open, oldest first."""
