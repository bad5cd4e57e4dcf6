"""The store on PostgreSQL, through asyncpg: chosen by `DATABASE_URL=postgresql://...`.

Made for several bot processes (replicas) on one database; the behaviour is SqliteStore's:

- A connection pool. Every write is one transaction, written whole or not at all.
- A turn's transaction first takes `pg_advisory_xact_lock(user_id)`: one person's turns
  are applied one after another across every process, and the lock goes with the commit
  or rollback. The update id is claimed inside that same transaction (a unique row in
  processed_updates), so an update delivered twice, or to two replicas, is applied once.
- The outbox row of a turn's reply is written in the turn's transaction (bot/store/outbox.py).
- Round trips are what a turn costs, so a turn is few statements: BEGIN with the lock, one
  statement that touches the person, claims the update and saves the session, one per
  effect, one for the reply and the pruning of old update ids, COMMIT. `load` is one.
- The schedule lives in the database: `claim_due` locks due rows `FOR UPDATE SKIP LOCKED`,
  so dispatchers on every replica never hand out one item twice (postgres_sql.CLAIM_DUE).
- Numbered migrations of its own (bot/store/migrations_pg/NNN_*.sql) run at `open()` in
  one transaction under an advisory lock (replicas starting together migrate once),
  recorded in `schema_version`; a newer database than the code raises SchemaTooNew.
- The same encryption at rest as SQLite: the same tokens bound to the same contexts, so a
  value copied from a SQLite database opens here. The key is checked at open.

The parts: postgres_base.py (pool, migrations, errors), postgres_sql.py (the SQL),
postgres_export.py, postgres_schedule.py, postgres_keys.py (key check and rotation).

What SQLite does with files (owner-only modes, WAL, secure_delete, the lock file) has no
counterpart: PostgreSQL's own storage, roles and backups are the operator's. An erased row
is gone from every query at once, but its bytes stay in the table file until VACUUM.
Nothing here logs a person's words, and no message shows the URL's password.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]

from bot.core.session import Promise, Session
from bot.core.turn import Turn
from bot.store.codec import (
    CHECKIN_FLOW,
    SETTING_NAMES,
    TALK_FLOW,
    decode_state,
    encode_state,
    local_today,
    progress_facts,
)
from bot.store.columns import (
    ANSWER_VALUE,
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    COMPLETION_FLOW,
    MARK_NAME,
    OUTBOX_BODY,
    SESSION_STATE,
    quote,
)
from bot.store.crypto import TextCipher, seal, uncode, unseal
from bot.store.effect_writes import effect_statement
from bot.store.outbox import Reply, decode_reply, encode_reply, owes_reply
from bot.store.postgres_base import Row
from bot.store.postgres_export import PostgresExport
from bot.store.postgres_keys import reencrypt
from bot.store.postgres_schedule import PostgresSchedule
from bot.store.postgres_sql import (
    LOAD,
    POSTGRES,
    PRUNE_UPDATES,
    SAVE_REPLY_AND_PRUNE,
    TAKE_UNSENT,
    TURN_HEAD,
    utc,
)
from bot.store.protocol import KEEP_UPDATE_IDS, NOT_REPLANNED, Commitment, NotReplanned


class _Duplicate(Exception):
    """Raised inside a commit's transaction to roll it back: the update was seen before."""


class PostgresStore(PostgresExport, PostgresSchedule):
    """`Store` on PostgreSQL. `await store.open()` before use, `await store.close()` after.

    With a `cipher`, the person's words are encrypted at rest (bot/store/crypto.py).
    """

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the Store interface ----------------------------------------------------------------

    async def load(self, user_id: int, now: datetime) -> Session:
        now = utc(now)
        since = (now - timedelta(days=2)).date()
        async with self._connection() as conn:
            row = await conn.fetchrow(
                LOAD, user_id, now - timedelta(days=7), now - timedelta(days=30), since
            )
        if row is None:
            # Not known (new, or deleted): nothing is written until they agree to storage.
            return Session(settings=self._default_settings, known=False, facts=self._facts())
        session = self._session(user_id, now, row)
        return dataclasses.replace(session, facts={**session.facts, **self._facts()})

    def _session(self, user_id: int, now: datetime, row: Row) -> Session:
        cipher = self._cipher
        answer_ctx = ANSWER_VALUE.context(user_id)
        answers = {
            str(name): unseal(cipher, str(value), answer_ctx)
            for name, value in _json(row["answers"])
        }
        flows: dict[str, tuple[int, int, int]] = {}
        for stored, n, week, month in _json(row["flows"]):
            # Plain rows from before the key and coded ones may both be there: add up.
            flow = uncode(cipher, str(stored), COMPLETION_FLOW.context(user_id))
            counts = flows.get(flow, (0, 0, 0))
            flows[flow] = (counts[0] + int(n), counts[1] + int(week), counts[2] + int(month))
        marks: dict[str, int] = {}
        for stored, n in _json(row["marks"]):
            mark = uncode(cipher, str(stored), MARK_NAME.context(user_id))
            marks[mark] = marks.get(mark, 0) + int(n)
        settings = self._settings(user_id, {n: row[n] for n in SETTING_NAMES})
        stored_state = row["state"]
        state = (
            None
            if stored_state is None
            else unseal(cipher, str(stored_state), SESSION_STATE.context(user_id))
        )
        position, suspended = decode_state(state, user_id)
        today = local_today(now, settings.timezone).isoformat()
        promise_ctx = COMMITMENT_TEXT.context(user_id)
        promises = tuple(
            Promise(
                id=int(pid), text=unseal(cipher, str(text), promise_ctx), kept_today=today in days
            )
            for pid, text, days in _json(row["promises"])
        )
        no_flow = (0, 0, 0)
        return Session(
            position=position,
            answers=answers,
            settings=settings,
            completed=frozenset(flows),
            started_at=row["created_at"],
            suspended=suspended,
            promises=promises,
            facts=progress_facts(
                checkins_7d=flows.get(CHECKIN_FLOW, no_flow)[1],
                checkins_30d=flows.get(CHECKIN_FLOW, no_flow)[2],
                promises_made=int(row["made"]),
                promises_kept=int(row["kept"]),
                talks=flows.get(TALK_FLOW, no_flow)[0],
                marks=marks,
            ),
        )

    async def commit(
        self,
        user_id: int,
        turn: Turn,
        now: datetime,
        *,
        update_id: int | None = None,
        next_checkin: datetime | NotReplanned | None = NOT_REPLANNED,
    ) -> bool:
        now = utc(now)
        cipher = self._cipher
        # Everything is validated and encrypted before the transaction: a bad effect fails
        # the turn with nothing sent to the server.
        statements = [
            s
            for e in turn.effects
            if (s := effect_statement(POSTGRES, cipher, user_id, e, now)) is not None
        ]
        session = turn.session
        state = seal(
            cipher,
            encode_state(session.position, session.suspended),
            SESSION_STATE.context(user_id),
        )
        touch: tuple[object, ...] = (user_id, now, *self._defaults, now)
        replan = not isinstance(next_checkin, NotReplanned)
        if not isinstance(next_checkin, NotReplanned):
            touch = (*touch, None if next_checkin is None else utc(next_checkin))
        head_args = (*touch, state) if update_id is None else (*touch, state, update_id)
        reply = (
            seal(cipher, encode_reply(turn), OUTBOX_BODY.context(user_id))
            if update_id is not None and owes_reply(turn)
            else None
        )
        keep = KEEP_UPDATE_IDS - 1
        async with self._connection() as conn:
            # BEGIN and the person's lock in one round trip (a simple query, so the id is
            # spliced: an int). One person's turns, one at a time, across every process.
            await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({int(user_id)})")
            try:
                head = TURN_HEAD[(replan, update_id is not None)]
                if not await conn.fetchval(head, *head_args):
                    raise _Duplicate
                for sql, args in statements:
                    await conn.execute(sql, *args)
                if reply is not None:
                    await conn.execute(SAVE_REPLY_AND_PRUNE, user_id, keep, update_id, reply, now)
                elif update_id is not None:
                    await conn.execute(PRUNE_UPDATES, user_id, keep)
                await conn.execute("COMMIT")
            except asyncio.CancelledError:
                raise  # mid-statement: the pool's release rolls back (or drops) the connection
            except BaseException as exc:
                with suppress(
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                    asyncpg.exceptions.InternalClientError,
                    OSError,
                ):
                    await conn.execute("ROLLBACK")
                if isinstance(exc, _Duplicate):
                    return False
                raise
        return True

    def _reply(self, row: Row) -> Reply:
        user_id, update_id = int(row[0]), int(row[1])
        body = unseal(self._cipher, str(row[2]), OUTBOX_BODY.context(user_id))
        return decode_reply(user_id, update_id, body)

    async def unsent_reply(self, user_id: int, update_id: int) -> Reply | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT user_id, update_id, body FROM outbox WHERE user_id = $1 AND update_id = $2",
                user_id,
                update_id,
            )
        return None if row is None else self._reply(row)

    async def unsent_replies(
        self, older_than: datetime, limit: int, *, taken_at: datetime | None = None
    ) -> list[Reply]:
        async with self._connection() as conn:  # one statement: its own transaction
            if taken_at is None:
                rows = await conn.fetch(
                    "SELECT user_id, update_id, body FROM outbox WHERE created_at <= $1"
                    " ORDER BY created_at, user_id, update_id LIMIT $2",
                    utc(older_than),
                    int(limit),
                )
            else:
                rows = await conn.fetch(TAKE_UNSENT, utc(older_than), int(limit), utc(taken_at))
        return [self._reply(row) for row in rows]

    async def reply_sent(self, user_id: int, update_id: int) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "DELETE FROM outbox WHERE user_id = $1 AND update_id = $2", user_id, update_id
            )

    async def set_active(self, user_id: int, active: bool) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE users SET active = $1 WHERE user_id = $2", bool(active), user_id
            )

    async def delete_user(self, user_id: int) -> None:
        async with self._transaction() as conn:
            # Under the person's lock: a turn of theirs in flight lands before, not after.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", user_id)
            for table in self._user_tables:
                await conn.execute(f"DELETE FROM {quote(table)} WHERE user_id = $1", user_id)

    async def open_commitments(self, user_id: int) -> list[Commitment]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, text, due, status, created_at FROM commitments"
                " WHERE user_id = $1 AND status = 'open' ORDER BY created_at, id",
                user_id,
            )
        cipher = self._cipher
        return [
            Commitment(
                id=int(r["id"]),
                text=unseal(cipher, r["text"], COMMITMENT_TEXT.context(user_id)),
                due=unseal(cipher, r["due"], COMMITMENT_DUE.context(user_id)),
                created_at=r["created_at"],
                status=str(r["status"]),
            )
            for r in rows
        ]

    # -- encryption -------------------------------------------------------------------------

    async def reencrypt(self, old: TextCipher | None, new: TextCipher | None) -> int:
        """Every encrypted value from `old` (or plain) to `new` (or plain), in one
        transaction; the number of values changed. See `rotate_key`."""
        async with self._transaction() as conn:
            return await reencrypt(conn, old, new)


async def rotate_key(url: str, old: TextCipher | None, new: TextCipher | None) -> int:
    """`bot.store.sqlite.rotate_key` for PostgreSQL: re-encrypt the database at `url` from
    `old` to `new` in one transaction. Run it with the bot stopped. Values already under
    `new` are left alone; a value neither key opens raises CannotDecrypt, changing nothing."""
    store = PostgresStore(url, max_connections=1)
    store._check_key_at_open = False
    await store.open()
    try:
        return await store.reencrypt(old, new)
    finally:
        await store.close()


def _json(value: object) -> list[Any]:
    """A json_agg column: asyncpg gives json as text; NULL when there were no rows."""
    return [] if value is None else cast(list[Any], json.loads(str(value)))
