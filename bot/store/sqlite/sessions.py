"""A person's turn: `load` their session, `commit` a turn, and `_apply` its effects.

`load` runs on every turn, so it is ONE read statement (its own consistent snapshot, no
write lock) for a person already known: each statement is a round trip to aiosqlite's
thread, and those round trips, not SQLite, are most of a call's cost. `commit` writes the
whole turn (the person, the update id, the state, the effects, the outbox row) in one
`BEGIN IMMEDIATE ... COMMIT`, or nothing.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime, timedelta

from bot.core.session import ENCRYPTED_FACT, Promise, Session
from bot.core.turn import (
    Turn,
)
from bot.store.codec import (
    CHECKIN_FLOW,
    MAX_PROMISES,
    SETTING_NAMES,
    TALK_FLOW,
    decode_state,
    encode_state,
    local_today,
    parse_utc,
    progress_facts,
    setting_to_db,
    utc_text,
)
from bot.store.columns import (
    ANSWER_VALUE,
    COMMITMENT_TEXT,
    COMPLETION_FLOW,
    MARK_NAME,
    SESSION_STATE,
    SETTING_COLUMNS,
    quote,
    read_settings,
)
from bot.store.crypto import seal, uncode, unseal
from bot.store.effect_writes import Dialect, effect_statement
from bot.store.protocol import KEEP_UPDATE_IDS, NOT_REPLANNED, NotReplanned
from bot.store.sqlite.connection import SqliteBase, begun
from bot.store.sqlite.outbox import keep_reply


def _touch_user_sql(replan: bool) -> str:
    """A committed turn: create the person if new, else mark them active and seen now, and
    (`replan`) store their next check-in, clearing any claim on the previous one.

    Someone inactive (they had blocked the bot) who sends anything is back: active again,
    and any plan left from before is dropped, so the dispatcher's `plan_missing` plans
    their next check-in afresh (SET expressions read the row as it was before the update).
    """
    columns = f"user_id, created_at, {SETTING_COLUMNS}, last_seen"
    values = f"?, ?{', ?' * len(SETTING_NAMES)}, ?"
    update = "active = 1, last_seen = excluded.last_seen"
    if replan:
        columns += ", next_checkin_at"
        values += ", ?"
        update += ", next_checkin_at = excluded.next_checkin_at, checkin_claimed_at = NULL"
    else:
        update += (
            ", next_checkin_at = CASE WHEN active = 1 THEN next_checkin_at END"
            ", checkin_claimed_at = CASE WHEN active = 1 THEN checkin_claimed_at END"
        )
    return (
        f"INSERT INTO users ({columns}) VALUES ({values})"
        f" ON CONFLICT (user_id) DO UPDATE SET {update}"
    )


_TOUCH_USER = _touch_user_sql(replan=False)
_TOUCH_USER_REPLAN = _touch_user_sql(replan=True)

# Everything `load` needs, in ONE statement (one round trip, one consistent snapshot). Rows
# (k, a, b, c, d) by kind k:
#   user     a: JSON [created_at, *settings]  b: session state  c: commitments  d: checks
#   answer   a: name  b: value
#   flow     a: flow  b: completions  c: in the last 7 days  d: in the last 30 days
#   mark     a: name  b: count
#   promise  a: id  b: text  c: created_at  d: the days it was kept, from :since on
# Local "today" is within a day of the UTC date in every zone, so the promise rows carry
# the checks of the last few days and Python picks the person's local date among them.
_LOAD = f"""
SELECT 'user' AS k, json_array(u.created_at, {", ".join(f"u.{quote(n)}" for n in SETTING_NAMES)})
       AS a, s.state AS b,
       (SELECT count(*) FROM commitments WHERE user_id = :u) AS c,
       (SELECT count(*) FROM promise_checks WHERE user_id = :u) AS d
  FROM users AS u LEFT JOIN sessions AS s ON s.user_id = u.user_id
 WHERE u.user_id = :u
UNION ALL
SELECT 'answer', name, value, NULL, NULL FROM answers WHERE user_id = :u
UNION ALL
SELECT 'flow', flow, count(*), sum(completed_at >= :week), sum(completed_at >= :month)
  FROM completions WHERE user_id = :u GROUP BY flow
UNION ALL
SELECT 'mark', name, count(*), NULL, NULL FROM marks WHERE user_id = :u GROUP BY name
UNION ALL
SELECT 'promise', c.id, c.text, c.created_at,
       (SELECT group_concat(p.day) FROM promise_checks AS p
         WHERE p.user_id = :u AND p.commitment_id = c.id AND p.day >= :since)
  FROM (SELECT id, text, created_at FROM commitments
         WHERE user_id = :u AND status = 'open'
         ORDER BY created_at, id LIMIT {MAX_PROMISES}) AS c
"""


class _Duplicate(Exception):
    """Raised inside a commit's transaction to roll it back: the update was seen before."""


class Sessions(SqliteBase):
    async def load(self, user_id: int, now: datetime) -> Session:
        params = {
            "u": user_id,
            "week": utc_text(now - timedelta(days=7)),
            "month": utc_text(now - timedelta(days=30)),
            "since": (now.astimezone(UTC) - timedelta(days=2)).date().isoformat(),
        }
        async with self._connection() as conn:
            rows = list(await conn.execute_fetchall(_LOAD, params))
        if not any(row[0] == "user" for row in rows):
            # Not known (new, or deleted): nothing is written until they agree to storage;
            # the turn that records their consent creates them.
            return Session(settings=self._default_settings, known=False, facts=self._facts())
        session = self._session(user_id, now, rows)
        return dataclasses.replace(session, facts={**session.facts, **self._facts()})

    def _facts(self) -> dict[str, str]:
        """What the coach may tell the person about this store (shown by /privacy)."""
        return {ENCRYPTED_FACT: "yes" if self._cipher is not None else "no"}

    def _session(self, user_id: int, now: datetime, rows: list[sqlite3.Row]) -> Session:
        cipher = self._cipher
        head: sqlite3.Row | None = None
        answers: dict[str, str] = {}
        flows: dict[str, tuple[int, int, int]] = {}
        marks: dict[str, int] = {}
        open_rows: list[sqlite3.Row] = []
        answer_ctx = ANSWER_VALUE.context(user_id)
        for row in rows:
            kind = row[0]
            if kind == "answer":
                answers[row[1]] = unseal(cipher, row[2], answer_ctx)
            elif kind == "flow":
                # Plain rows from before the key and coded ones may both be there: add up.
                flow = uncode(cipher, row[1], COMPLETION_FLOW.context(user_id))
                counts = flows.get(flow, (0, 0, 0))
                flows[flow] = (counts[0] + int(row[2]), counts[1] + int(row[3]),
                               counts[2] + int(row[4]))  # fmt: skip
            elif kind == "mark":
                mark = uncode(cipher, row[1], MARK_NAME.context(user_id))
                marks[mark] = marks.get(mark, 0) + int(row[2])
            elif kind == "promise":
                open_rows.append(row)
            else:
                head = row
        assert head is not None
        created_at, *setting_values = json.loads(head[1])
        settings = read_settings(
            cipher, user_id, dict(zip(SETTING_NAMES, setting_values, strict=True))
        )
        stored_state = head[2]
        state = (
            None
            if stored_state is None
            else unseal(cipher, stored_state, SESSION_STATE.context(user_id))
        )
        position, suspended = decode_state(state, user_id)
        today = local_today(now, settings.timezone).isoformat()
        open_rows.sort(key=lambda r: (r[3], r[1]))
        promise_ctx = COMMITMENT_TEXT.context(user_id)
        promises = tuple(
            Promise(
                id=int(r[1]),
                text=unseal(cipher, r[2], promise_ctx),
                kept_today=r[4] is not None and today in r[4].split(","),
            )
            for r in open_rows
        )
        no_flow = (0, 0, 0)
        return Session(
            position=position,
            answers=answers,
            settings=settings,
            completed=frozenset(flows),
            started_at=parse_utc(created_at),
            suspended=suspended,
            promises=promises,
            facts=progress_facts(
                checkins_7d=flows.get(CHECKIN_FLOW, no_flow)[1],
                checkins_30d=flows.get(CHECKIN_FLOW, no_flow)[2],
                promises_made=int(head[3]),
                promises_kept=int(head[4]),
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
        now_text = utc_text(now)
        session = turn.session
        state = seal(
            self._cipher,
            encode_state(session.position, session.suspended),
            SESSION_STATE.context(user_id),
        )
        touch: tuple[object, ...] = (user_id, now_text, *self._defaults, now_text)
        if isinstance(next_checkin, NotReplanned):
            touch_sql = _TOUCH_USER
        else:
            touch_sql = _TOUCH_USER_REPLAN
            touch = (*touch, None if next_checkin is None else utc_text(next_checkin))
        # Validated and sealed before the transaction: a bad effect fails the turn whole.
        statements = [
            s
            for e in turn.effects
            if (s := effect_statement(SQLITE, self._cipher, user_id, e, now)) is not None
        ]
        async with self._connection() as conn:
            try:
                async with begun(conn, write=True):
                    await conn.execute(touch_sql, touch)
                    if update_id is not None:
                        cursor = await conn.execute(
                            "INSERT INTO processed_updates (user_id, update_id) VALUES (?, ?)"
                            " ON CONFLICT DO NOTHING",
                            (user_id, update_id),
                        )
                        if cursor.rowcount == 0:
                            raise _Duplicate
                    await conn.execute(
                        "INSERT INTO sessions (user_id, state, updated_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (user_id) DO UPDATE"
                        " SET state = excluded.state, updated_at = excluded.updated_at",
                        (user_id, state, now_text),
                    )
                    for statement in statements:
                        await conn.execute(*statement)
                    if update_id is not None:
                        await keep_reply(conn, self._cipher, user_id, update_id, turn, now_text)
                        await conn.execute(
                            "DELETE FROM processed_updates WHERE user_id = ? AND update_id < ("
                            " SELECT update_id FROM processed_updates WHERE user_id = ?"
                            " ORDER BY update_id DESC LIMIT 1 OFFSET ?)",
                            (user_id, user_id, KEEP_UPDATE_IDS - 1),
                        )
            except _Duplicate:
                return False
        return True


# How the shared effect table (bot/store/effect_writes.py) is written for SQLite.
SQLITE = Dialect(numbered=False, time=utc_text, day=str, setting=setting_to_db)
