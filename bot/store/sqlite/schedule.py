"""The schedule on SQLite: the database owns every due item.

`next_checkin_at` per person and the `follow_ups` rows are what the dispatcher claims
(`claim_due`) and completes; a claim never completed is claimed again once stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot.store.codec import parse_utc, utc_text
from bot.store.columns import FOLLOW_UP_FLOW, SETTING_COLUMNS, read_settings
from bot.store.crypto import uncode
from bot.store.protocol import CheckinState, DueItem
from bot.store.sqlite.connection import SqliteBase, one

# Up to :limit due items of each of the four sources, each read in due order from its own
# index, then the :limit oldest of them all (kind, id: a stable order for equal times).
_CLAIMABLE = """
SELECT kind, id, user_id, flow, node, due_at FROM (
  SELECT * FROM (
    SELECT 'checkin' AS kind, user_id AS id, user_id, 'checkin' AS flow, '' AS node,
           next_checkin_at AS due_at
      FROM users
     WHERE next_checkin_at IS NOT NULL AND checkin_claimed_at IS NULL
       AND active = 1 AND checkins = 1 AND next_checkin_at <= :now
     ORDER BY next_checkin_at, user_id LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'checkin', user_id, user_id, 'checkin', '', next_checkin_at
      FROM users
     WHERE checkin_claimed_at IS NOT NULL AND checkin_claimed_at <= :stale
       AND next_checkin_at <= :now AND active = 1 AND checkins = 1
     ORDER BY next_checkin_at, user_id LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'follow_up', f.id, f.user_id, f.flow, f.node, f.due_at
      FROM follow_ups AS f JOIN users AS u ON u.user_id = f.user_id
     WHERE f.status = 'pending' AND f.due_at <= :now AND u.active = 1
     ORDER BY f.due_at, f.id LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'follow_up', f.id, f.user_id, f.flow, f.node, f.due_at
      FROM follow_ups AS f JOIN users AS u ON u.user_id = f.user_id
     WHERE f.status = 'claimed' AND f.claimed_at <= :stale AND f.due_at <= :now
       AND u.active = 1
     ORDER BY f.due_at, f.id LIMIT :limit)
)
ORDER BY due_at, kind, id LIMIT :limit
"""


class Schedule(SqliteBase):
    async def claim_due(self, now: datetime, limit: int, reclaim_after: timedelta) -> list[DueItem]:
        if limit <= 0:
            return []
        now_text = utc_text(now)
        params = {"now": now_text, "stale": utc_text(now - reclaim_after), "limit": int(limit)}
        async with self._transaction() as conn:
            rows = list(await conn.execute_fetchall(_CLAIMABLE, params))
            checkins = [(now_text, r[1]) for r in rows if r[0] == "checkin"]
            follow_ups = [(now_text, r[1]) for r in rows if r[0] != "checkin"]
            if checkins:
                await conn.executemany(
                    "UPDATE users SET checkin_claimed_at = ? WHERE user_id = ?", checkins
                )
            if follow_ups:
                await conn.executemany(
                    "UPDATE follow_ups SET status = 'claimed', claimed_at = ? WHERE id = ?",
                    follow_ups,
                )
        return [
            DueItem(
                kind=str(r[0]),
                id=int(r[1]),
                user_id=int(r[2]),
                flow=uncode(self._cipher, str(r[3]), FOLLOW_UP_FLOW.context(int(r[2]))),
                node=str(r[4]),
                due_at=parse_utc(r[5]),
            )
            for r in rows
        ]

    async def renew_claims(self, items: Sequence[DueItem], now: datetime) -> None:
        now_text = utc_text(now)
        checkins = [(now_text, i.user_id) for i in items if i.kind == "checkin"]
        follow_ups = [(now_text, i.id) for i in items if i.kind != "checkin"]
        async with self._transaction() as conn:
            await conn.executemany(
                "UPDATE users SET checkin_claimed_at = ?"
                " WHERE user_id = ? AND checkin_claimed_at IS NOT NULL",
                checkins,
            )
            await conn.executemany(
                "UPDATE follow_ups SET claimed_at = ? WHERE id = ? AND status = 'claimed'",
                follow_ups,
            )

    async def complete_checkin(
        self, user_id: int, sent_at: datetime, local_date: date | None, next_at: datetime | None
    ) -> None:
        # Someone inactive (they blocked the bot meanwhile) gets no next check-in: a stopped
        # schedule stays stopped until they come back and it is planned again.
        next_text = None if next_at is None else utc_text(next_at)
        sent_text = utc_text(sent_at)
        if local_date is None:
            sql = (
                "UPDATE users SET checkin_claimed_at = NULL,"
                " next_checkin_at = CASE WHEN active = 1 THEN ? END WHERE user_id = ?"
            )
            params: tuple[object, ...] = (next_text, user_id)
        else:
            sql = (
                "UPDATE users SET checkin_claimed_at = NULL,"
                " next_checkin_at = CASE WHEN active = 1 THEN ? END,"
                " last_checkin_date = ?, last_checkin_at = ? WHERE user_id = ?"
            )
            params = (next_text, local_date.isoformat(), sent_text, user_id)
        async with self._transaction() as conn:
            await conn.execute(sql, params)

    async def complete_follow_up(self, item_id: int, now: datetime, sent: bool) -> None:
        now_text = utc_text(now)
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE follow_ups SET status = ?, sent_at = ?, claimed_at = NULL WHERE id = ?",
                ("sent" if sent else "dropped", now_text if sent else None, item_id),
            )

    async def checkin_state(self, user_id: int) -> CheckinState | None:
        async with self._connection() as conn:
            row = await one(
                conn,
                f"SELECT {SETTING_COLUMNS}, active, last_checkin_date, last_checkin_at"
                " FROM users WHERE user_id = ?",
                user_id,
            )
        if row is None:
            return None
        last_date, last_at = row["last_checkin_date"], row["last_checkin_at"]
        return CheckinState(
            user_id=user_id,
            settings=read_settings(self._cipher, user_id, dict(row)),
            last_local_date=None if last_date is None else date.fromisoformat(last_date),
            active=bool(row["active"]),
            last_sent_at=None if last_at is None else parse_utc(last_at),
        )

    async def unplanned_checkins(self, limit: int) -> list[int]:
        if limit <= 0:
            return []
        async with self._connection() as conn:
            rows = await conn.execute_fetchall(
                "SELECT user_id FROM users"
                " WHERE next_checkin_at IS NULL AND active = 1 AND checkins = 1"
                " ORDER BY user_id LIMIT ?",
                (int(limit),),
            )
        return [int(r[0]) for r in rows]

    async def set_active(self, user_id: int, active: bool) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET active = ? WHERE user_id = ?", (int(active), user_id)
            )

    async def stop_schedule(self, user_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET active = 0, next_checkin_at = NULL, checkin_claimed_at = NULL"
                " WHERE user_id = ?",
                (user_id,),
            )
            await conn.execute(
                "UPDATE follow_ups SET status = 'dropped', claimed_at = NULL"
                " WHERE user_id = ? AND status IN ('pending', 'claimed')",
                (user_id,),
            )
