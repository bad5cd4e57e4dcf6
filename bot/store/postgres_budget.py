"""The shared send budget on PostgreSQL (see bot/schedule/shared_pacer.py).

One short transaction a send, serialised across replicas by an advisory lock of its own:
count the sends of the last second (on the server's clock, the one clock every replica
shares), and add this one if there is room, else say how long until the oldest leaves the
window. At ~30 sends a second this is a few milliseconds of the database's time a second.
"""

from __future__ import annotations

import itertools

from bot.store.postgres_base import PostgresBase

# Any fixed 64-bit key unlikely to meet a person's id (those are Telegram ids, below 2**52).
BUDGET_LOCK = 0x4D454E445F534E44  # "MEND_SND"
_TAKE = """
WITH recent AS (
    SELECT sent_at FROM send_log
    WHERE sent_at > clock_timestamp() - make_interval(secs => $2)
    ORDER BY sent_at DESC LIMIT $1
), placed AS (
    INSERT INTO send_log (sent_at)
    SELECT clock_timestamp() WHERE (SELECT count(*) FROM recent) < $1
    RETURNING sent_at
)
SELECT (SELECT count(*) FROM placed) AS placed,
       extract(epoch FROM (SELECT min(sent_at) FROM recent) + make_interval(secs => $2)
                          - clock_timestamp()) AS wait
"""
# A second, and a margin: a place is taken a moment before Telegram receives the message,
# and that moment varies (a loaded machine, the network), so sends taken 1.25 s apart at
# most `rate` at a time still arrive at most `rate` in any second, allowing 0.25 s of jitter.
WINDOW_SECONDS = 1.25
_FORGET = "DELETE FROM send_log WHERE sent_at < clock_timestamp() - interval '1 minute'"
_FORGET_EVERY = 200  # sends between clean-ups of the log


class PostgresSendBudget:
    """`SendBudget` on the store's pool (taken when the store is open)."""

    def __init__(self, store: PostgresBase) -> None:
        self._store = store
        self._count = itertools.count()

    async def take(self, limit: int) -> float:
        async with self._store.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", BUDGET_LOCK)
            row = await conn.fetchrow(_TAKE, limit, WINDOW_SECONDS)
            if next(self._count) % _FORGET_EVERY == 0:
                await conn.execute(_FORGET)
        if row["placed"]:
            return 0.0
        return max(float(row["wait"] or 0.0), 0.001)
