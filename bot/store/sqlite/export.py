"""A person's records: everything stored about them (`export_user`), their open
commitments, and erasing them (`delete_user`, then a verified checkpoint, so the erased
rows are out of the WAL too; secure_delete overwrites them in the main file)."""

from __future__ import annotations

from bot.store.codec import decode_state, parse_utc, position_to_dict, settings_to_json
from bot.store.columns import (
    ANSWER_VALUE,
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    COMPLETION_FLOW,
    CRISIS_KIND,
    FOLLOW_UP_FLOW,
    JOURNAL_TEXT,
    MARK_NAME,
    SESSION_STATE,
    quote,
    read_settings,
)
from bot.store.crypto import uncode, unseal
from bot.store.protocol import Commitment
from bot.store.sqlite.connection import SqliteBase, every, one


class Records(SqliteBase):
    async def export_user(self, user_id: int) -> dict[str, object]:
        async with self._transaction(write=False) as conn:
            user = await one(conn, "SELECT * FROM users WHERE user_id = ?", user_id)
            session = await one(
                conn, "SELECT state, updated_at FROM sessions WHERE user_id = ?", user_id
            )
            answers = await every(
                conn,
                "SELECT name, value, updated_at FROM answers WHERE user_id = ? ORDER BY name",
                user_id,
            )
            journal = await every(
                conn,
                "SELECT id, flow, text, created_at FROM journal WHERE user_id = ? ORDER BY id",
                user_id,
            )
            commitments = await every(
                conn,
                "SELECT id, text, due, status, created_at, resolved_at FROM commitments"
                " WHERE user_id = ? ORDER BY id",
                user_id,
            )
            promise_checks = await every(
                conn,
                "SELECT commitment_id, day, created_at FROM promise_checks"
                " WHERE user_id = ? ORDER BY commitment_id, day",
                user_id,
            )
            follow_ups = await every(
                conn,
                "SELECT id, flow, node, due_at, status, created_at, claimed_at, sent_at"
                " FROM follow_ups WHERE user_id = ? ORDER BY id",
                user_id,
            )
            completions = await every(
                conn,
                "SELECT flow, completed_at FROM completions WHERE user_id = ?"
                " ORDER BY completed_at, rowid",
                user_id,
            )
            marks = await every(
                conn, "SELECT name, created_at FROM marks WHERE user_id = ? ORDER BY id", user_id
            )
            crisis_flags = await every(
                conn,
                "SELECT kind, created_at FROM crisis_flags WHERE user_id = ? ORDER BY id",
                user_id,
            )
            updates = await conn.execute_fetchall(
                "SELECT update_id FROM processed_updates WHERE user_id = ? ORDER BY update_id",
                (user_id,),
            )
        cipher = self._cipher
        for rows, sealed in ((answers, ANSWER_VALUE), (journal, JOURNAL_TEXT)):
            for row in rows:
                row[sealed.column] = unseal(cipher, row[sealed.column], sealed.context(user_id))
        for rows, coded in (
            (completions, COMPLETION_FLOW),
            (marks, MARK_NAME),
            (crisis_flags, CRISIS_KIND),
            (follow_ups, FOLLOW_UP_FLOW),
        ):
            for row in rows:
                row[coded.column] = uncode(cipher, row[coded.column], coded.context(user_id))
        for row in commitments:
            row["text"] = unseal(cipher, row["text"], COMMITMENT_TEXT.context(user_id))
            row["due"] = unseal(cipher, row["due"], COMMITMENT_DUE.context(user_id))
        user_doc: dict[str, object] | None = None
        if user is not None:
            user_doc = {
                "created_at": user["created_at"],
                "last_seen": user["last_seen"],
                "active": bool(user["active"]),
                "settings": settings_to_json(read_settings(cipher, user_id, dict(user))),
                "next_checkin_at": user["next_checkin_at"],
                "checkin_claimed_at": user["checkin_claimed_at"],
                "last_checkin_date": user["last_checkin_date"],
                "last_checkin_at": user["last_checkin_at"],
            }
        session_doc: dict[str, object] | None = None
        if session is not None:
            state = unseal(cipher, session["state"], SESSION_STATE.context(user_id))
            position, suspended = decode_state(state, user_id)
            session_doc = {
                "position": position_to_dict(position),
                "suspended": position_to_dict(suspended),
                "updated_at": session["updated_at"],
            }
        return {
            "user_id": user_id,
            "user": user_doc,
            "session": session_doc,
            "answers": answers,
            "journal": journal,
            "commitments": commitments,
            "promise_checks": promise_checks,
            "follow_ups": follow_ups,
            "completions": completions,
            "marks": marks,
            "crisis_flags": crisis_flags,
            "processed_updates": [int(r[0]) for r in updates],
        }

    async def open_commitments(self, user_id: int) -> list[Commitment]:
        async with self._transaction(write=False) as conn:
            rows = await conn.execute_fetchall(
                "SELECT id, text, due, status, created_at FROM commitments"
                " WHERE user_id = ? AND status = 'open' ORDER BY created_at, id",
                (user_id,),
            )
        cipher = self._cipher
        return [
            Commitment(
                id=int(r["id"]),
                text=unseal(cipher, r["text"], COMMITMENT_TEXT.context(user_id)),
                due=unseal(cipher, r["due"], COMMITMENT_DUE.context(user_id)),
                created_at=parse_utc(r["created_at"]),
                status=str(r["status"]),
            )
            for r in rows
        ]

    async def delete_user(self, user_id: int) -> None:
        async with self._transaction() as conn:
            for table in self._user_tables:
                await conn.execute(f"DELETE FROM {quote(table)} WHERE user_id = ?", (user_id,))
        await self._checkpoint()
