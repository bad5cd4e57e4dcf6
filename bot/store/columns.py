"""The protected columns of both stores: what each holds, and the associated data its
values are bound to (the same in SQLite and PostgreSQL, so a moved value still decrypts).

A value's context ("answers.value/7": the column and the person) is part of its
encryption, so it is spelled in exactly one place, here; `tests/test_store_contexts.py`
pins the literal text. Free text is *sealed* (AES-GCM, a random nonce); names the database
groups or filters by are *coded* (deterministic AES-SIV): a crisis kind, a completed flow, a
mark such as "debrief_danger" or the safety flag would otherwise say at rest what the
person went through. See bot/store/crypto.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from bot.core.session import Settings
from bot.store.codec import SETTING_NAMES, settings_from_db
from bot.store.crypto import TextCipher, uncode

CODED_SETTING = "safety"  # the only setting that says something about the person


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


SETTING_COLUMNS = ", ".join(quote(n) for n in SETTING_NAMES)


@dataclass(frozen=True)
class Protected:
    """One encrypted or coded column, and the key columns that find its rows."""

    table: str
    column: str
    keys: tuple[str, ...]
    coded: bool = False
    postgres_keys: tuple[str, ...] | None = None  # where PostgreSQL finds the rows otherwise

    def keys_in(self, postgres: bool) -> tuple[str, ...]:
        return (self.postgres_keys or self.keys) if postgres else self.keys

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    def context(self, user_id: int) -> str:
        """The associated data of this column's value for one person."""
        return f"{self.name}/{user_id}"


SESSION_STATE = Protected("sessions", "state", ("user_id",))
ANSWER_VALUE = Protected("answers", "value", ("user_id", "name"))
JOURNAL_TEXT = Protected("journal", "text", ("id",))
COMMITMENT_TEXT = Protected("commitments", "text", ("id",))
COMMITMENT_DUE = Protected("commitments", "due", ("id",))
OUTBOX_BODY = Protected("outbox", "body", ("user_id", "update_id"))
# SQLite finds completions by rowid; PostgreSQL by its identity column.
COMPLETION_FLOW = Protected("completions", "flow", ("rowid",), coded=True, postgres_keys=("id",))
MARK_NAME = Protected("marks", "name", ("id",), coded=True)
CRISIS_KIND = Protected("crisis_flags", "kind", ("id",), coded=True)
FOLLOW_UP_FLOW = Protected("follow_ups", "flow", ("id",), coded=True)
USER_SAFETY = Protected("users", CODED_SETTING, ("user_id",), coded=True)

# Every protected column, sealed ones first; the order key checks and rotation walk them.
PROTECTED: tuple[Protected, ...] = (
    SESSION_STATE,
    ANSWER_VALUE,
    JOURNAL_TEXT,
    COMMITMENT_TEXT,
    COMMITMENT_DUE,
    OUTBOX_BODY,
    COMPLETION_FLOW,
    MARK_NAME,
    CRISIS_KIND,
    FOLLOW_UP_FLOW,
    USER_SAFETY,
)
_BY_NAME = {p.name: p for p in PROTECTED}

# The same columns as rows of a table, (table, coded, its columns): a table's sealed
# columns are rewritten by one UPDATE.
TABLES: tuple[tuple[str, bool, tuple[Protected, ...]], ...] = tuple(
    (table, coded, tuple(group))
    for (table, coded), group in groupby(PROTECTED, key=lambda p: (p.table, p.coded))
)


def encrypted_columns(
    postgres: bool = False,
) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(table, key columns, sealed columns), the shape keycheck.py takes."""
    return tuple(
        (table, group[0].keys_in(postgres), tuple(p.column for p in group))
        for table, coded, group in TABLES
        if not coded
    )


def coded_columns(postgres: bool = False) -> tuple[tuple[str, str, str], ...]:
    """(table, key column, coded column)."""
    return tuple((p.table, p.keys_in(postgres)[0], p.column) for p in PROTECTED if p.coded)


ENCRYPTED_COLUMNS = encrypted_columns()  # SQLite's
CODED_COLUMNS = coded_columns()


def context_of(name: str, user_id: int) -> str:
    """The context of a column given as "table.column" (as keycheck.py names them)."""
    return _BY_NAME[name].context(user_id)


def read_settings(cipher: TextCipher | None, user_id: int, row: dict[str, Any]) -> Settings:
    """A person's settings from their `users` row (or its setting columns)."""
    coded = str(row[CODED_SETTING])
    row = {**row, CODED_SETTING: uncode(cipher, coded, USER_SAFETY.context(user_id))}
    return settings_from_db(row)
