"""The store's narrow interface: what the shells and the scheduler may ask of persistence.

Two implementations: `SqliteStore` (aiosqlite, one file; the default) and `PostgresStore`
(asyncpg; for replicas). Tests run every store test against both.

Datetimes given to the store must be timezone-aware; they are kept in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Final, Protocol

from bot.core.session import Session, Settings
from bot.core.turn import Turn
from bot.store.outbox import Reply


class NotReplanned(Enum):
    """The turn did not touch the schedule: leave the next check-in as it is."""

    TOKEN = 0


NOT_REPLANNED: Final = NotReplanned.TOKEN

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


@dataclass(frozen=True)
class DueItem:
    """Something the dispatcher must deliver now, claimed so no other loop takes it."""

    kind: str  # "checkin" (the daily check-in) or "follow_up" (a flow or a pause's timer)
    id: int  # follow_ups.id, or the user id for a check-in
    user_id: int
    flow: str
    node: str  # "" unless this is a pause's timer
    due_at: datetime  # UTC


@dataclass(frozen=True)
class CheckinState:
    """What the planner needs to plan a person's next daily check-in."""

    user_id: int
    settings: Settings
    last_local_date: date | None  # the person's local date of the last check-in sent
    active: bool
    # When the last check-in was sent (UTC): after a change of time zone, the planner wants
    # its date in the new zone, `local_date(last_sent_at, new_zone)`.
    last_sent_at: datetime | None = None


class Store(Protocol):
    async def open(self) -> None:
        """Prepare the store (connect, migrate). Raises SchemaTooNew or StoreUnavailable."""

    async def close(self) -> None:
        """Release resources. Safe to call twice."""

    async def load(self, user_id: int, now: datetime) -> Session:
        """The person's session; a person seen for the first time is created with defaults."""

    async def commit(
        self,
        user_id: int,
        turn: Turn,
        now: datetime,
        *,
        update_id: int | None = None,
        next_checkin: datetime | NotReplanned | None = NOT_REPLANNED,
    ) -> bool:
        """Save the turn's session (position and suspended) and carry out its effects in ONE
        transaction. `next_checkin`, when given, is stored as the person's next daily
        check-in (None: no check-in planned) in the same transaction.

        With an `update_id`, the turn's reply (messages and shell effects) is kept in the
        outbox in the same transaction, until `reply_sent`.

        Returns False, writing nothing, if `update_id` was already committed for this user
        (Telegram may deliver an update twice). Any failure writes nothing.
        """

    # --- the outbox: every committed turn's reply until it reached Telegram --------------

    async def unsent_reply(self, user_id: int, update_id: int) -> Reply | None:
        """The reply `commit` stored for this update, if it was never marked sent."""

    async def unsent_replies(
        self, older_than: datetime, limit: int, *, taken_at: datetime | None = None
    ) -> list[Reply]:
        """Replies stored at or before `older_than` and never marked sent, oldest first.

        With `taken_at`, they are also taken, atomically: their age restarts at `taken_at`,
        so a sweeper on another replica does not send them too until they are owed again
        (the taker died before marking them sent). Rows another replica is taking at the
        same moment are skipped, not waited for."""

    async def reply_sent(self, user_id: int, update_id: int) -> None:
        """The reply reached Telegram: forget it."""

    async def set_active(self, user_id: int, active: bool) -> None:
        """Mark a person (in)active; one who blocked the bot is inactive. Unknown ids: no-op."""

    async def export_user(self, user_id: int) -> dict[str, object]:
        """Everything stored about the person, JSON-able (datetimes as ISO-8601 UTC text)."""

    async def delete_user(self, user_id: int) -> None:
        """Erase every row about the person in every table."""

    async def open_commitments(self, user_id: int) -> list[Commitment]:
        """The person's commitments still open, oldest first."""

    # --- the schedule: the database owns every due item -----------------------------------

    async def claim_due(self, now: datetime, limit: int, reclaim_after: timedelta) -> list[DueItem]:
        """Claim up to `limit` items due at `now` (daily check-ins of active people with
        check-ins on, and pending follow-ups), oldest first, in one transaction. A claim
        older than `reclaim_after` that was never completed is claimed again."""

    async def renew_claims(self, items: Sequence[DueItem], now: datetime) -> None:
        """Still delivering `items` (a slow send, a long `retry_after`): their claims are
        renewed to `now`, so no other dispatcher takes them as stale. Items completed
        meanwhile are left alone."""

    async def complete_checkin(
        self, user_id: int, sent_at: datetime, local_date: date | None, next_at: datetime | None
    ) -> None:
        """The daily check-in was sent (local_date given) or skipped as too late (None):
        record it and store the next one (None: none planned). Clears the claim. Someone
        inactive by now (they blocked the bot meanwhile) keeps no next check-in."""

    async def complete_follow_up(self, item_id: int, now: datetime, sent: bool) -> None:
        """A follow-up was delivered (sent) or dropped (not sent). Clears the claim."""

    async def checkin_state(self, user_id: int) -> CheckinState | None:
        """What the planner needs for this person; None for an unknown id."""

    async def unplanned_checkins(self, limit: int) -> list[int]:
        """Active people with check-ins on but no next check-in stored (after an upgrade)."""

    async def stop_schedule(self, user_id: int) -> None:
        """The person blocked the bot: inactive, no next check-in, pending follow-ups dropped."""
