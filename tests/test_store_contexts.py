"""The associated data every protected column is bound to, pinned as literal text.

The context is part of the encryption: a value written under "answers.value/7" decrypts
only under exactly that text. These tests read the raw rows of a real SQLite file and open
each value with a literal context, so any change to how the store spells a context (a
renamed column, another separator) fails here before it can strand existing databases.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.session import Session
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    FlagCrisis,
    Mark,
    OutMessage,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    Turn,
)
from bot.store import SqliteStore, TextCipher, generate_key

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
USER = 7

# (table, column, the literal context of person 7, the plain value written)
SEALED = (
    ("answers", "value", "answers.value/7", "an answer"),
    ("journal", "text", "journal.text/7", "a journal entry"),
    ("commitments", "text", "commitments.text/7", "call my sister"),
    ("commitments", "due", "commitments.due/7", "by Friday"),
)
CODED = (
    ("completions", "flow", "completions.flow/7", "checkin"),
    ("marks", "name", "marks.name/7", "debrief_danger"),
    ("crisis_flags", "kind", "crisis_flags.kind/7", "self_harm"),
    ("follow_ups", "flow", "follow_ups.flow/7", "safety_followup"),
    ("users", "safety", "users.safety/7", "flagged"),
)


def every_effect() -> Turn:
    effects = (
        SaveAnswer("what", "an answer"),
        SaveJournal("journal", "a journal entry"),
        RecordCommitment("call my sister", "by Friday"),
        CompleteFlow("checkin"),
        Mark("debrief_danger"),
        FlagCrisis("self_harm"),
        ScheduleFollowUp("safety_followup", NOW + timedelta(hours=1)),
        ChangeSetting("safety", "flagged"),
    )
    return Turn((OutMessage("hello"),), effects, Session())


def raw(path: Path, table: str, column: str) -> str:
    with sqlite3.connect(path) as conn:
        [(value,)] = conn.execute(f"SELECT {column} FROM {table} WHERE user_id = ?", (USER,))
    conn.close()
    return str(value)


async def test_every_protected_column_is_bound_to_its_literal_context(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    cipher = TextCipher(generate_key())
    async with SqliteStore(path, cipher) as store:
        assert await store.commit(USER, every_effect(), NOW, update_id=1)
    for table, column, context, plain in SEALED:
        assert cipher.decrypt(raw(path, table, column), context) == plain, context
    for table, column, context, plain in CODED:
        # Codes are deterministic: the stored text is exactly the code under that context.
        assert raw(path, table, column) == cipher.code(plain, context), context
    # The session state and the outbox body are JSON the store makes; they open only under
    # their own contexts.
    assert cipher.decrypt(raw(path, "sessions", "state"), "sessions.state/7").startswith("{")
    assert '"hello"' in cipher.decrypt(raw(path, "outbox", "body"), "outbox.body/7")
