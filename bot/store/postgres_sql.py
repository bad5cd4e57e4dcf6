"""The PostgreSQL store's SQL and its conversions: migrations, statements built once, and
each effect of a turn as (statement, arguments).

Effects are turned into statements BEFORE the turn's transaction begins, so a turn that
fails validation (an unknown setting, a naive datetime) sends nothing to the server: no
identity value is consumed, as in SQLite. Nothing here logs: values are people's words.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from bot.core.session import SETTING_TYPES, Settings
from bot.store.codec import MAX_PROMISES, SETTING_NAMES, setting_to_db, utc_text
from bot.store.columns import (
    SETTING_COLUMNS,
    coded_columns,
    encrypted_columns,
    quote,
)
from bot.store.effect_writes import Dialect
from bot.store.migration_files import MigrationFile, load_numbered

_MIGRATION_NAME = re.compile(r"(\d{3})_[a-z0-9_]+\.sql")
CODED_SETTING = "safety"  # the only setting that says something about the person

# pg_advisory_xact_lock keys: a person's turns lock their user id (a positive Telegram id,
# or the console's -1); the store's own locks are large negative numbers no person has.
MIGRATION_LOCK = -0x4D454E44  # "MEND"


PgMigration = MigrationFile


def load_pg_migrations() -> tuple[PgMigration, ...]:
    """The migrations shipped in `bot.store.migrations_pg`, numbered 1, 2, 3... no gaps."""
    return tuple(load_numbered("bot.store.migrations_pg", _MIGRATION_NAME))


def utc(dt: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is refused (as the other stores refuse it)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("the store needs timezone-aware datetimes, got a naive one")
    return dt.astimezone(UTC)


def text_of(value: object) -> object:
    """A column value as the SQLite store exports it: datetimes and dates as ISO text."""
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def setting_value(name: str, value: object) -> str | bool:
    """A validated setting as its PostgreSQL column wants it (booleans as booleans)."""
    column_value = setting_to_db(name, value)
    if SETTING_TYPES[name] is bool:
        return bool(column_value)
    assert isinstance(column_value, str)
    return column_value


def setting_values(settings: Settings) -> tuple[str | bool, ...]:
    return tuple(setting_value(n, getattr(settings, n)) for n in SETTING_NAMES)


# -- the free-text columns, as SqliteStore has them (same tables, columns and contexts) --------

# The protected columns as PostgreSQL finds their rows (bot/store/columns.py has them all).
ENCRYPTED_COLUMNS = encrypted_columns(postgres=True)
CODED_COLUMNS = coded_columns(postgres=True)

# -- statements built once ---------------------------------------------------------------------


def _touch_user_sql(replan: bool) -> str:
    """A committed turn: create the person if new, else mark them active and seen now, and
    (`replan`) store their next check-in, clearing any claim on the previous one. Someone
    inactive who writes again is back, and a plan left from before is dropped (SET reads
    the row as it was before the update), as in SqliteStore."""
    n = len(SETTING_NAMES)
    columns = f"user_id, created_at, {SETTING_COLUMNS}, last_seen"
    values = ", ".join(f"${i}" for i in range(1, n + 4))
    update = "active = true, last_seen = excluded.last_seen"
    if replan:
        columns += ", next_checkin_at"
        values += f", ${n + 4}"
        update += ", next_checkin_at = excluded.next_checkin_at, checkin_claimed_at = NULL"
    else:
        update += (
            ", next_checkin_at = CASE WHEN users.active THEN users.next_checkin_at END"
            ", checkin_claimed_at = CASE WHEN users.active THEN users.checkin_claimed_at END"
        )
    return (
        f"INSERT INTO users ({columns}) VALUES ({values})"
        f" ON CONFLICT (user_id) DO UPDATE SET {update}"
    )


def turn_head_sql(replan: bool, with_update: bool) -> str:
    """The start of a turn in ONE statement (one round trip): touch the person, claim the
    update id (with_update), save the session. Arguments: the touch's, then the state,
    then the update id. Returns one row: 1 if applied, 0 if the update was seen before (the
    caller then rolls the transaction back, session write included). Rows inserted by one
    sub-statement satisfy the foreign keys of the others: checks run at the statement's end.
    """
    n = len(SETTING_NAMES) + (4 if replan else 3)
    state, update = f"${n + 1}", f"${n + 2}"
    head = f"WITH touched AS ({_touch_user_sql(replan)} RETURNING user_id)"
    source = "touched"
    if with_update:
        head += (
            ", claimed AS (INSERT INTO processed_updates (user_id, update_id)"
            f" SELECT user_id, {update} FROM touched ON CONFLICT DO NOTHING RETURNING user_id)"
        )
        source = "claimed"
    return (
        f"{head}, saved AS (INSERT INTO sessions (user_id, state, updated_at)"
        f" SELECT user_id, {state}, $2 FROM {source} ON CONFLICT (user_id) DO UPDATE"
        " SET state = excluded.state, updated_at = excluded.updated_at)"
        f" SELECT count(*) FROM {source}"
    )


TURN_HEAD = {(r, u): turn_head_sql(r, u) for r in (False, True) for u in (False, True)}

# The end of a turn with an update id: the reply into the outbox (when one is owed), and
# only the last KEEP_UPDATE_IDS update ids kept; one statement either way.
_PRUNE = (
    "DELETE FROM processed_updates WHERE user_id = $1 AND update_id < ("
    " SELECT update_id FROM processed_updates WHERE user_id = $1"
    " ORDER BY update_id DESC LIMIT 1 OFFSET $2)"
)
PRUNE_UPDATES = _PRUNE
SAVE_REPLY_AND_PRUNE = (
    "WITH saved AS (INSERT INTO outbox (user_id, update_id, body, created_at)"
    " VALUES ($1, $3, $4, $5)) " + _PRUNE
)

BULK_CREATE = (
    f"INSERT INTO users (user_id, created_at, {SETTING_COLUMNS}, next_checkin_at) VALUES ("
    + ", ".join(f"${i}" for i in range(1, len(SETTING_NAMES) + 4))
    + ")"
)

# Everything `load` needs in ONE statement, one row (one round trip, one snapshot):
# the JSON aggregates carry the answers, completions per flow (all, last 7 and 30 days:
# $2, $3), marks per name, and the open promises with the days they were kept from $4 on.
LOAD = f"""
SELECT u.created_at, {", ".join(f"u.{quote(n)}" for n in SETTING_NAMES)}, s.state,
  (SELECT count(*) FROM commitments WHERE user_id = $1) AS made,
  (SELECT count(*) FROM promise_checks WHERE user_id = $1) AS kept,
  (SELECT json_agg(json_build_array(name, value)) FROM answers WHERE user_id = $1) AS answers,
  (SELECT json_agg(json_build_array(flow, n, w, m)) FROM (
     SELECT flow, count(*) AS n, count(*) FILTER (WHERE completed_at >= $2) AS w,
            count(*) FILTER (WHERE completed_at >= $3) AS m
       FROM completions WHERE user_id = $1 GROUP BY flow) AS f) AS flows,
  (SELECT json_agg(json_build_array(name, n)) FROM (
     SELECT name, count(*) AS n FROM marks WHERE user_id = $1 GROUP BY name) AS k) AS marks,
  (SELECT json_agg(json_build_array(c.id, c.text, ARRAY(
       SELECT p.day::text FROM promise_checks AS p
        WHERE p.user_id = $1 AND p.commitment_id = c.id AND p.day >= $4))
     ORDER BY c.created_at, c.id) FROM (
     SELECT id, text, created_at FROM commitments WHERE user_id = $1 AND status = 'open'
      ORDER BY created_at, id LIMIT {MAX_PROMISES}) AS c) AS promises
  FROM users AS u LEFT JOIN sessions AS s ON s.user_id = u.user_id
 WHERE u.user_id = $1
"""

# Claim up to $3 due items ($1: now, $2: claims older than this are stale) in one
# statement. Each source is read from its own partial index and locked FOR UPDATE SKIP
# LOCKED: a row another replica is claiming is passed over, never waited for, and a row
# it claimed and committed meanwhile is re-checked against the WHERE (so never handed out
# twice). The oldest $3 of them all are claimed; rows locked but not picked are freed at
# the end of the statement's transaction.
CLAIM_DUE = """
WITH fresh AS (
  SELECT user_id, next_checkin_at FROM users
   WHERE next_checkin_at IS NOT NULL AND checkin_claimed_at IS NULL AND active AND checkins
     AND next_checkin_at <= $1
   ORDER BY next_checkin_at, user_id LIMIT $3 FOR UPDATE SKIP LOCKED
), stale AS (
  SELECT user_id, next_checkin_at FROM users
   WHERE checkin_claimed_at IS NOT NULL AND checkin_claimed_at <= $2
     AND next_checkin_at <= $1 AND active AND checkins
   ORDER BY next_checkin_at, user_id LIMIT $3 FOR UPDATE SKIP LOCKED
), pending AS (
  SELECT f.id, f.user_id, f.flow, f.node, f.due_at
    FROM follow_ups AS f JOIN users AS u ON u.user_id = f.user_id
   WHERE f.status = 'pending' AND f.due_at <= $1 AND u.active
   ORDER BY f.due_at, f.id LIMIT $3 FOR UPDATE OF f SKIP LOCKED
), reclaim AS (
  SELECT f.id, f.user_id, f.flow, f.node, f.due_at
    FROM follow_ups AS f JOIN users AS u ON u.user_id = f.user_id
   WHERE f.status = 'claimed' AND f.claimed_at <= $2 AND f.due_at <= $1 AND u.active
   ORDER BY f.due_at, f.id LIMIT $3 FOR UPDATE OF f SKIP LOCKED
), picked AS (
  SELECT * FROM (
    SELECT 'checkin' AS kind, user_id AS id, user_id, 'checkin' AS flow, '' AS node,
           next_checkin_at AS due_at FROM fresh
    UNION ALL
    SELECT 'checkin', user_id, user_id, 'checkin', '', next_checkin_at FROM stale
    UNION ALL
    SELECT 'follow_up', id, user_id, flow, node, due_at FROM pending
    UNION ALL
    SELECT 'follow_up', id, user_id, flow, node, due_at FROM reclaim
  ) AS due ORDER BY due_at, kind, id LIMIT $3
), claimed_checkins AS (
  UPDATE users SET checkin_claimed_at = $1
    FROM picked WHERE picked.kind = 'checkin' AND users.user_id = picked.id
), claimed_follow_ups AS (
  UPDATE follow_ups SET status = 'claimed', claimed_at = $1
    FROM picked WHERE picked.kind = 'follow_up' AND follow_ups.id = picked.id
)
SELECT kind, id, user_id, flow, node, due_at FROM picked ORDER BY due_at, kind, id
"""

Statement = tuple[str, tuple[object, ...]]


# How the shared effect table (bot/store/effect_writes.py) is written for PostgreSQL.
POSTGRES = Dialect(numbered=True, time=utc, day=date.fromisoformat, setting=setting_value)


# The outbox sweeper's take: owed replies, locked SKIP LOCKED so two replicas' sweepers
# never take one reply, their age restarted so neither takes it again before it is owed.
TAKE_UNSENT = """
WITH owed AS (
  SELECT user_id, update_id, created_at FROM outbox WHERE created_at <= $1
   ORDER BY created_at, user_id, update_id LIMIT $2 FOR UPDATE SKIP LOCKED
), taken AS (
  UPDATE outbox AS o SET created_at = GREATEST(o.created_at, $3)
    FROM owed WHERE o.user_id = owed.user_id AND o.update_id = owed.update_id
  RETURNING o.user_id, o.update_id, o.body, owed.created_at AS was
)
SELECT user_id, update_id, body FROM taken ORDER BY was, user_id, update_id
"""
