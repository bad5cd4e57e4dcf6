"""The schedule on PostgreSQL: due items claimed `FOR UPDATE SKIP LOCKED` (so dispatchers on
several replicas never share one), completed, planned; and `BulkLoad` for benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]

from bot.store.bulk import BulkUser
from bot.store.columns import FOLLOW_UP_FLOW, SETTING_COLUMNS
from bot.store.crypto import uncode
from bot.store.postgres_base import PostgresBase
from bot.store.postgres_sql import BULK_CREATE, CLAIM_DUE, setting_values, utc
from bot.store.protocol import CheckinState, DueItem


class PostgresSchedule(PostgresBase):
    async def claim_due(self, now: datetime, limit: int, reclaim_after: timedelta) -> list[DueItem]:
        if limit <= 0:
            return []
        now = utc(now)
        async with self._connection() as conn:  # one statement: its own transaction
            rows = await conn.fetch(CLAIM_DUE, now, now - reclaim_after, int(limit))
        return [
            DueItem(
                kind=str(r["kind"]),
                id=int(r["id"]),
                user_id=int(r["user_id"]),
                flow=uncode(
                    self._cipher, str(r["flow"]), FOLLOW_UP_FLOW.context(int(r["user_id"]))
                ),
                node=str(r["node"]),
                due_at=r["due_at"],
            )
            for r in rows
        ]

    async def renew_claims(self, items: Sequence[DueItem], now: datetime) -> None:
        now = utc(now)
        checkins = [i.user_id for i in items if i.kind == "checkin"]
        follow_ups = [i.id for i in items if i.kind != "checkin"]
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET checkin_claimed_at = $1"
                " WHERE user_id = ANY($2::bigint[]) AND checkin_claimed_at IS NOT NULL",
                now,
                checkins,
            )
            await conn.execute(
                "UPDATE follow_ups SET claimed_at = $1"
                " WHERE id = ANY($2::bigint[]) AND status = 'claimed'",
                now,
                follow_ups,
            )

    async def complete_checkin(
        self, user_id: int, sent_at: datetime, local_date: date | None, next_at: datetime | None
    ) -> None:
        # Someone inactive (they blocked the bot meanwhile) gets no next check-in.
        next_value = None if next_at is None else utc(next_at)
        sent = utc(sent_at)
        async with self._connection() as conn:
            if local_date is None:
                await conn.execute(
                    "UPDATE users SET checkin_claimed_at = NULL,"
                    " next_checkin_at = CASE WHEN active THEN $1::timestamptz END"
                    " WHERE user_id = $2",
                    next_value,
                    user_id,
                )
            else:
                await conn.execute(
                    "UPDATE users SET checkin_claimed_at = NULL,"
                    " next_checkin_at = CASE WHEN active THEN $1::timestamptz END,"
                    " last_checkin_date = $2, last_checkin_at = $3 WHERE user_id = $4",
                    next_value,
                    local_date,
                    sent,
                    user_id,
                )

    async def complete_follow_up(self, item_id: int, now: datetime, sent: bool) -> None:
        now = utc(now)
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE follow_ups SET status = $1, sent_at = $2, claimed_at = NULL WHERE id = $3",
                "sent" if sent else "dropped",
                now if sent else None,
                item_id,
            )

    async def checkin_state(self, user_id: int) -> CheckinState | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {SETTING_COLUMNS}, active, last_checkin_date, last_checkin_at"
                " FROM users WHERE user_id = $1",
                user_id,
            )
        if row is None:
            return None
        return CheckinState(
            user_id=user_id,
            settings=self._settings(user_id, dict(row)),
            last_local_date=row["last_checkin_date"],
            active=bool(row["active"]),
            last_sent_at=row["last_checkin_at"],
        )

    async def unplanned_checkins(self, limit: int) -> list[int]:
        if limit <= 0:
            return []
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT user_id FROM users WHERE next_checkin_at IS NULL AND active AND checkins"
                " ORDER BY user_id LIMIT $1",
                int(limit),
            )
        return [int(r[0]) for r in rows]

    async def stop_schedule(self, user_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET active = false, next_checkin_at = NULL,"
                " checkin_claimed_at = NULL WHERE user_id = $1",
                user_id,
            )
            await conn.execute(
                "UPDATE follow_ups SET status = 'dropped', claimed_at = NULL"
                " WHERE user_id = $1 AND status IN ('pending', 'claimed')",
                user_id,
            )

    async def bulk_create_users(self, rows: list[BulkUser]) -> None:
        """`BulkLoad` (bot/store/bulk.py), for benchmarks and their tests: never the bot."""
        values = [
            (user_id, utc(created_at), *setting_values(settings),
             None if next_at is None else utc(next_at))
            for user_id, created_at, settings, next_at in rows
        ]  # fmt: skip
        try:
            async with self._transaction() as conn:
                await conn.executemany(BULK_CREATE, values)
        except asyncpg.UniqueViolationError as exc:
            raise ValueError(
                "bulk_create_users: a user id exists already, or is given twice"
            ) from exc
