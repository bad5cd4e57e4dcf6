"""`export_user` on PostgreSQL: everything stored about a person, in one snapshot, as the
same document SqliteStore gives (datetimes as fixed-width ISO-8601 UTC text)."""

from __future__ import annotations

from typing import Any

from bot.store.codec import decode_state, position_to_dict, settings_to_json, utc_text
from bot.store.columns import (
    ANSWER_VALUE,
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    JOURNAL_TEXT,
    SESSION_STATE,
    context_of,
)
from bot.store.crypto import uncode, unseal
from bot.store.postgres_base import PostgresBase, Row
from bot.store.postgres_sql import text_of


class PostgresExport(PostgresBase):
    async def export_user(self, user_id: int) -> dict[str, object]:
        u = user_id
        async with self._snapshot() as conn:
            user = await conn.fetchrow("SELECT * FROM users WHERE user_id = $1", u)
            session = await conn.fetchrow(
                "SELECT state, updated_at FROM sessions WHERE user_id = $1", u
            )
            lists = {name: [_doc(r) for r in await conn.fetch(sql, u)] for name, sql in _EXPORT}
        cipher = self._cipher
        for row in lists["answers"]:
            row["value"] = unseal(cipher, row["value"], ANSWER_VALUE.context(u))
        for row in lists["journal"]:
            row["text"] = unseal(cipher, row["text"], JOURNAL_TEXT.context(u))
        for row in lists["commitments"]:
            row["text"] = unseal(cipher, row["text"], COMMITMENT_TEXT.context(u))
            row["due"] = unseal(cipher, row["due"], COMMITMENT_DUE.context(u))
        for table, column in _CODED_EXPORT:
            for row in lists[table]:
                row[column] = uncode(cipher, row[column], context_of(f"{table}.{column}", u))
        user_doc: dict[str, object] | None = None
        if user is not None:
            user_doc = {
                "created_at": text_of(user["created_at"]),
                "last_seen": text_of(user["last_seen"]),
                "active": bool(user["active"]),
                "settings": settings_to_json(self._settings(u, dict(user))),
                "next_checkin_at": text_of(user["next_checkin_at"]),
                "checkin_claimed_at": text_of(user["checkin_claimed_at"]),
                "last_checkin_date": text_of(user["last_checkin_date"]),
                "last_checkin_at": text_of(user["last_checkin_at"]),
            }
        session_doc: dict[str, object] | None = None
        if session is not None:
            state = unseal(cipher, str(session["state"]), SESSION_STATE.context(u))
            position, suspended = decode_state(state, u)
            session_doc = {
                "position": position_to_dict(position),
                "suspended": position_to_dict(suspended),
                "updated_at": utc_text(session["updated_at"]),
            }
        updates = [int(r["update_id"]) for r in lists.pop("processed_updates")]
        return {
            "user_id": u,
            "user": user_doc,
            "session": session_doc,
            **lists,
            "processed_updates": updates,
        }


def _doc(row: Row) -> dict[str, Any]:
    return {key: text_of(value) for key, value in row.items()}


# Export: each list of the document, read in the snapshot (the order SqliteStore gives).
_EXPORT: tuple[tuple[str, str], ...] = (
    ("answers", "SELECT name, value, updated_at FROM answers WHERE user_id = $1 ORDER BY name"),
    ("journal", "SELECT id, flow, text, created_at FROM journal WHERE user_id = $1 ORDER BY id"),
    (
        "commitments",
        "SELECT id, text, due, status, created_at, resolved_at FROM commitments"
        " WHERE user_id = $1 ORDER BY id",
    ),
    (
        "promise_checks",
        "SELECT commitment_id, day, created_at FROM promise_checks"
        " WHERE user_id = $1 ORDER BY commitment_id, day",
    ),
    (
        "follow_ups",
        "SELECT id, flow, node, due_at, status, created_at, claimed_at, sent_at"
        " FROM follow_ups WHERE user_id = $1 ORDER BY id",
    ),
    (
        "completions",
        "SELECT flow, completed_at FROM completions WHERE user_id = $1 ORDER BY completed_at, id",
    ),
    ("marks", "SELECT name, created_at FROM marks WHERE user_id = $1 ORDER BY id"),
    ("crisis_flags", "SELECT kind, created_at FROM crisis_flags WHERE user_id = $1 ORDER BY id"),
    (
        "processed_updates",
        "SELECT update_id FROM processed_updates WHERE user_id = $1 ORDER BY update_id",
    ),
)
_CODED_EXPORT = (
    ("completions", "flow"),
    ("marks", "name"),
    ("crisis_flags", "kind"),
    ("follow_ups", "flow"),
)
