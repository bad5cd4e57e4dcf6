"""How a turn's effects are written: one table keyed by effect type, for both stores.

The core emits effects; each is one statement here, written once, with the person's
words sealed and the revealing names coded (bot/store/columns.py). A store's `Dialect`
renders it: SQLite numbers nothing and keeps times as ISO text, PostgreSQL numbers its
parameters and keeps times and dates as such. Effects the shell carries out (export,
erase, chart, unpin) have no statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    Effect,
    Erase,
    Export,
    FlagCrisis,
    KeepPromise,
    Mark,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    ShowChart,
    Unpin,
)
from bot.store.codec import check_day
from bot.store.columns import (
    ANSWER_VALUE,
    CODED_SETTING,
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    COMPLETION_FLOW,
    CRISIS_KIND,
    FOLLOW_UP_FLOW,
    JOURNAL_TEXT,
    MARK_NAME,
    USER_SAFETY,
    Protected,
    quote,
)
from bot.store.crypto import TextCipher, code, seal

Statement = tuple[str, tuple[object, ...]]


@dataclass(frozen=True)
class Dialect:
    numbered: bool  # "$1, $2" (PostgreSQL) or "?" in order (SQLite)
    time: Callable[[datetime], object]  # a UTC time as its column wants it
    day: Callable[[str], object]  # an ISO date as its column wants it
    setting: Callable[[str, object], object]  # a validated setting as its column wants it

    def render(self, template: str, params: tuple[object, ...]) -> Statement:
        """`{1}`, `{2}`... in `template` as this dialect's parameters."""
        sql, order = _rendered(template, self.numbered)
        return sql, params if order is None else tuple(params[i] for i in order)


_MARK = re.compile(r"\{(\d+)\}")


@cache
def _rendered(template: str, numbered: bool) -> tuple[str, tuple[int, ...] | None]:
    """A template's SQL, and for "?" the parameter index of each mark in order. Templates
    are a fixed few (one a setting name at most), so each is parsed once, not every turn."""
    if numbered:
        return _MARK.sub(lambda m: "$" + m.group(1), template), None
    order = tuple(int(i) - 1 for i in _MARK.findall(template))
    return _MARK.sub("?", template), order


@dataclass(frozen=True)
class _Write:
    cipher: TextCipher | None
    user_id: int
    now: datetime
    dialect: Dialect


def _answer(w: _Write, e: SaveAnswer) -> Statement:
    return (
        "INSERT INTO answers (user_id, name, value, updated_at) VALUES ({1}, {2}, {3}, {4})"
        " ON CONFLICT (user_id, name) DO UPDATE"
        " SET value = excluded.value, updated_at = excluded.updated_at",
        (w.user_id, e.name, seal(w.cipher, e.value, ANSWER_VALUE.context(w.user_id)), w.now),
    )


def _journal(w: _Write, e: SaveJournal) -> Statement:
    return (
        "INSERT INTO journal (user_id, flow, text, created_at) VALUES ({1}, {2}, {3}, {4})",
        (w.user_id, e.flow, seal(w.cipher, e.text, JOURNAL_TEXT.context(w.user_id)), w.now),
    )


def _commitment(w: _Write, e: RecordCommitment) -> Statement:
    return (
        "INSERT INTO commitments (user_id, text, due, status, created_at)"
        " VALUES ({1}, {2}, {3}, 'open', {4})",
        (
            w.user_id,
            seal(w.cipher, e.text, COMMITMENT_TEXT.context(w.user_id)),
            seal(w.cipher, e.due, COMMITMENT_DUE.context(w.user_id)),
            w.now,
        ),
    )


def _setting(w: _Write, e: ChangeSetting) -> Statement:
    value = w.dialect.setting(e.name, e.value)  # validates the name: safe to splice
    if e.name == CODED_SETTING and isinstance(value, str):
        value = code(w.cipher, value, USER_SAFETY.context(w.user_id))
    return f"UPDATE users SET {quote(e.name)} = {{1}} WHERE user_id = {{2}}", (value, w.user_id)


def _follow_up(w: _Write, e: ScheduleFollowUp) -> Statement:
    flow = code(w.cipher, e.flow, FOLLOW_UP_FLOW.context(w.user_id))
    return (
        "INSERT INTO follow_ups (user_id, flow, node, due_at, status, created_at)"
        " VALUES ({1}, {2}, {3}, {4}, 'pending', {5})",
        (w.user_id, flow, e.node, e.due_at, w.now),
    )


def _kept(w: _Write, e: KeepPromise) -> Statement:
    # Once per promise and day; a promise that is not the person's is ignored.
    return (
        "INSERT INTO promise_checks (user_id, commitment_id, day, created_at)"
        " SELECT {1}, {2}, {3}, {4} WHERE EXISTS ("
        " SELECT 1 FROM commitments WHERE id = {2} AND user_id = {1})"
        " ON CONFLICT DO NOTHING",
        (w.user_id, e.commitment_id, _Day(check_day(e.day)), w.now),
    )


def _named(protected: Protected, time: str, name: str, w: _Write) -> Statement:
    """A row of a coded name and its time, in the table and column `protected` names."""
    table, column = protected.table, protected.column
    sql = f"INSERT INTO {table} (user_id, {column}, {time}) VALUES ({{1}}, {{2}}, {{3}})"
    return sql, (w.user_id, code(w.cipher, name, protected.context(w.user_id)), w.now)


class _Day(str):
    """A promise check's day: the dialect decides how its column wants it."""


_WRITES: dict[type, Callable[[_Write, Any], Statement]] = {
    SaveAnswer: _answer,
    SaveJournal: _journal,
    RecordCommitment: _commitment,
    ChangeSetting: _setting,
    ScheduleFollowUp: _follow_up,
    KeepPromise: _kept,
    CompleteFlow: lambda w, e: _named(COMPLETION_FLOW, "completed_at", e.flow, w),
    FlagCrisis: lambda w, e: _named(CRISIS_KIND, "created_at", e.kind, w),
    Mark: lambda w, e: _named(MARK_NAME, "created_at", e.name, w),
}
SHELL_ONLY = (Export, Erase, ShowChart, Unpin)  # carried out by the caller, not the store


def effect_statement(
    dialect: Dialect, cipher: TextCipher | None, user_id: int, effect: Effect, now: datetime
) -> Statement | None:
    """The statement that applies one effect, rendered for `dialect` (None: the shell's).
    Validates and seals first: a bad effect raises ValueError before anything is written."""
    if isinstance(effect, SHELL_ONLY):
        return None
    write = _WRITES.get(type(effect))
    if write is None:
        raise ValueError(f"no store write for {type(effect).__name__}")
    template, params = write(_Write(cipher, user_id, now, dialect), effect)
    values = tuple(_column_value(dialect, p) for p in params)
    return dialect.render(template, values)


def _column_value(dialect: Dialect, value: object) -> object:
    if isinstance(value, _Day):
        return dialect.day(str(value))
    if isinstance(value, datetime):
        return dialect.time(value)
    return value
