"""An in-memory `Store` with the same behaviour as `SqliteStore`, for fast tests.

Rows are kept in the same shapes the SQLite store exports, positions as the same JSON, ids
counted the same way (from 1, never reused), so `export_user` gives identical documents.
Each call runs without awaiting, so calls never interleave; a commit works on a copy and
swaps it in only when every effect succeeded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, assert_never

from bot.core.session import Session, Settings
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    Effect,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    Turn,
)
from bot.store.codec import (
    decode_position,
    encode_position,
    parse_utc,
    position_to_dict,
    setting_to_db,
    settings_to_json,
    utc_text,
)
from bot.store.protocol import KEEP_UPDATE_IDS, Commitment


@dataclass
class _Person:
    created_at: str
    settings: Settings = field(default_factory=Settings)
    active: bool = True
    last_seen: str | None = None
    state: str | None = None  # position JSON, as SQLite keeps it
    state_updated_at: str | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    completions: list[dict[str, Any]] = field(default_factory=list)
    updates: list[int] = field(default_factory=list)  # ascending


class MemoryStore:
    def __init__(self) -> None:
        self._people: dict[int, _Person] = {}
        self._last_id: dict[str, int] = {"journal": 0, "commitments": 0, "follow_ups": 0}
        self._open = False

    async def __aenter__(self) -> MemoryStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("the store is not open: await store.open() first")

    async def load(self, user_id: int, now: datetime) -> Session:
        self._check_open()
        now_text = utc_text(now)
        person = self._people.setdefault(user_id, _Person(created_at=now_text))
        return Session(
            position=decode_position(person.state, user_id),
            answers={name: str(row["value"]) for name, row in person.answers.items()},
            settings=person.settings,
            completed=frozenset(str(row["flow"]) for row in person.completions),
            started_at=parse_utc(person.created_at),
        )

    async def commit(
        self, user_id: int, turn: Turn, now: datetime, *, update_id: int | None = None
    ) -> bool:
        self._check_open()
        now_text = utc_text(now)
        state = encode_position(turn.session.position)
        existing = self._people.get(user_id)
        if update_id is not None and existing is not None and update_id in existing.updates:
            return False
        # Work on copies: any failure leaves the stored person and the id counters untouched.
        person = copy.deepcopy(existing) if existing else _Person(created_at=now_text)
        last_id = dict(self._last_id)
        person.active = True
        person.last_seen = now_text
        person.state, person.state_updated_at = state, now_text
        for effect in turn.effects:
            self._apply(person, last_id, effect, now_text)
        if update_id is not None:
            person.updates = sorted([*person.updates, update_id])[-KEEP_UPDATE_IDS:]
        self._people[user_id] = person
        self._last_id = last_id
        return True

    @staticmethod
    def _apply(person: _Person, last_id: dict[str, int], effect: Effect, now_text: str) -> None:
        def next_id(table: str) -> int:
            last_id[table] += 1
            return last_id[table]

        match effect:
            case SaveAnswer(name=name, value=value):
                person.answers[name] = {"name": name, "value": value, "updated_at": now_text}
            case SaveJournal(flow=flow, text=text):
                person.journal.append(
                    {"id": next_id("journal"), "flow": flow, "text": text, "created_at": now_text}
                )
            case RecordCommitment(text=text, due=due):
                person.commitments.append(
                    {
                        "id": next_id("commitments"),
                        "text": text,
                        "due": due,
                        "status": "open",
                        "created_at": now_text,
                        "resolved_at": None,
                    }
                )
            case ChangeSetting(name=name, value=value):
                setting_to_db(name, value)  # the same validation as SQLite
                changes: dict[str, Any] = {name: value}
                person.settings = replace(person.settings, **changes)
            case ScheduleFollowUp(flow=flow, due_at=due_at):
                person.follow_ups.append(
                    {
                        "id": next_id("follow_ups"),
                        "flow": flow,
                        "due_at": utc_text(due_at),
                        "status": "pending",
                        "created_at": now_text,
                        "claimed_at": None,
                        "sent_at": None,
                    }
                )
            case CompleteFlow(flow=flow):
                person.completions.append({"flow": flow, "completed_at": now_text})
            case _:
                assert_never(effect)

    async def set_active(self, user_id: int, active: bool) -> None:
        self._check_open()
        person = self._people.get(user_id)
        if person is not None:
            person.active = active

    async def export_user(self, user_id: int) -> dict[str, object]:
        self._check_open()
        person = self._people.get(user_id)
        if person is None:
            return {
                "user_id": user_id,
                "user": None,
                "session": None,
                "answers": [],
                "journal": [],
                "commitments": [],
                "follow_ups": [],
                "completions": [],
                "processed_updates": [],
            }
        session: dict[str, object] | None = None
        if person.state_updated_at is not None:
            session = {
                "position": position_to_dict(decode_position(person.state, user_id)),
                "updated_at": person.state_updated_at,
            }
        return {
            "user_id": user_id,
            "user": {
                "created_at": person.created_at,
                "last_seen": person.last_seen,
                "active": person.active,
                "settings": settings_to_json(person.settings),
            },
            "session": session,
            "answers": [dict(person.answers[name]) for name in sorted(person.answers)],
            "journal": [dict(row) for row in person.journal],
            "commitments": [dict(row) for row in person.commitments],
            "follow_ups": [dict(row) for row in person.follow_ups],
            "completions": sorted(
                (dict(row) for row in person.completions), key=lambda r: r["completed_at"]
            ),
            "processed_updates": list(person.updates),
        }

    async def delete_user(self, user_id: int) -> None:
        self._check_open()
        self._people.pop(user_id, None)

    async def open_commitments(self, user_id: int) -> list[Commitment]:
        self._check_open()
        person = self._people.get(user_id)
        rows = [] if person is None else [r for r in person.commitments if r["status"] == "open"]
        rows.sort(key=lambda r: (r["created_at"], r["id"]))
        return [
            Commitment(
                id=int(r["id"]),
                text=str(r["text"]),
                due=str(r["due"]),
                created_at=parse_utc(str(r["created_at"])),
                status=str(r["status"]),
            )
            for r in rows
        ]
