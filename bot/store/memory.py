"""An in-memory `Store` with the same behaviour as `SqliteStore`, for fast tests.

Rows are kept in the same shapes the SQLite store exports, the session state as the same
JSON, ids counted the same way (from 1, never reused), so `export_user` gives identical
documents. Each call runs without awaiting, so calls never interleave; a commit works on a
copy and swaps it in only when every effect succeeded.

Nothing is at rest here: a `cipher` is accepted, for the same constructor as SqliteStore,
and not used. `claim_due` looks at every person: fine for tests, not for 100,000 people.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, assert_never

from bot.core.session import ENCRYPTED_FACT, Promise, Session, Settings
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
    Turn,
    Unpin,
)
from bot.store.bulk import BulkUser
from bot.store.codec import (
    CHECKIN_FLOW,
    MAX_PROMISES,
    TALK_FLOW,
    check_day,
    decode_state,
    encode_state,
    local_today,
    parse_utc,
    position_to_dict,
    progress_facts,
    setting_to_db,
    settings_to_db,
    settings_to_json,
    utc_text,
)
from bot.store.crypto import TextCipher
from bot.store.outbox import Reply, decode_reply, encode_reply, owes_reply
from bot.store.protocol import (
    KEEP_UPDATE_IDS,
    NOT_REPLANNED,
    CheckinState,
    Commitment,
    DueItem,
    NotReplanned,
)


@dataclass
class _Person:
    created_at: str
    settings: Settings = field(default_factory=Settings)
    active: bool = True
    last_seen: str | None = None
    state: str | None = None  # the session state JSON, as SQLite keeps it
    state_updated_at: str | None = None
    next_checkin_at: str | None = None
    checkin_claimed_at: str | None = None
    last_checkin_date: str | None = None
    last_checkin_at: str | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    promise_checks: dict[tuple[int, str], str] = field(default_factory=dict)  # -> created_at
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    completions: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    crisis_flags: list[dict[str, Any]] = field(default_factory=list)
    updates: list[int] = field(default_factory=list)  # ascending
    outbox: dict[int, tuple[str, str]] = field(default_factory=dict)  # update id -> body, at


_TABLES = ("journal", "commitments", "follow_ups", "marks", "crisis_flags")


class MemoryStore:
    def __init__(self, cipher: TextCipher | None = None, defaults: Settings | None = None) -> None:
        self._defaults = defaults or Settings()
        self._people: dict[int, _Person] = {}
        self._last_id: dict[str, int] = dict.fromkeys(_TABLES, 0)
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
        utc_text(now)  # refuses a naive datetime, as every method does
        person = self._people.get(user_id)
        if person is None:  # not known: nothing is kept until they agree to storage
            return Session(settings=self._defaults, known=False, facts={ENCRYPTED_FACT: "no"})
        position, suspended = decode_state(person.state, user_id)
        week, month = utc_text(now - timedelta(days=7)), utc_text(now - timedelta(days=30))
        checkins = [r["completed_at"] for r in person.completions if r["flow"] == CHECKIN_FLOW]
        today = local_today(now, person.settings.timezone).isoformat()
        open_rows = sorted(
            (r for r in person.commitments if r["status"] == "open"),
            key=lambda r: (r["created_at"], r["id"]),
        )[:MAX_PROMISES]
        return Session(
            position=position,
            answers={name: str(row["value"]) for name, row in person.answers.items()},
            settings=person.settings,
            completed=frozenset(str(row["flow"]) for row in person.completions),
            started_at=parse_utc(person.created_at),
            suspended=suspended,
            promises=tuple(
                Promise(int(r["id"]), str(r["text"]), (r["id"], today) in person.promise_checks)
                for r in open_rows
            ),
            facts={
                ENCRYPTED_FACT: "no",
                **progress_facts(
                    checkins_7d=sum(1 for t in checkins if t >= week),
                    checkins_30d=sum(1 for t in checkins if t >= month),
                    promises_made=len(person.commitments),
                    promises_kept=len(person.promise_checks),
                    talks=sum(1 for r in person.completions if r["flow"] == TALK_FLOW),
                    marks=Counter(str(r["name"]) for r in person.marks),
                ),
            },
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
        self._check_open()
        now_text = utc_text(now)
        state = encode_state(turn.session.position, turn.session.suspended)
        next_text = (
            None
            if next_checkin is None or next_checkin is NOT_REPLANNED
            else utc_text(next_checkin)
        )
        existing = self._people.get(user_id)
        if update_id is not None and existing is not None and update_id in existing.updates:
            return False
        # Work on copies: any failure leaves the stored person and the id counters untouched.
        person = (
            copy.deepcopy(existing)
            if existing
            else _Person(created_at=now_text, settings=self._defaults)
        )
        last_id = dict(self._last_id)
        if not person.active:  # back after blocking the bot: planned afresh (as in SQLite)
            person.next_checkin_at = person.checkin_claimed_at = None
        person.active = True
        person.last_seen = now_text
        if next_checkin is not NOT_REPLANNED:
            person.next_checkin_at, person.checkin_claimed_at = next_text, None
        person.state, person.state_updated_at = state, now_text
        for effect in turn.effects:
            self._apply(person, last_id, effect, now_text)
        if update_id is not None:
            person.updates = sorted([*person.updates, update_id])[-KEEP_UPDATE_IDS:]
            if owes_reply(turn):
                person.outbox[update_id] = (encode_reply(turn), now_text)
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
            case ScheduleFollowUp(flow=flow, due_at=due_at, node=node):
                person.follow_ups.append(
                    {
                        "id": next_id("follow_ups"),
                        "flow": flow,
                        "node": node,
                        "due_at": utc_text(due_at),
                        "status": "pending",
                        "created_at": now_text,
                        "claimed_at": None,
                        "sent_at": None,
                    }
                )
            case CompleteFlow(flow=flow):
                person.completions.append({"flow": flow, "completed_at": now_text})
            case KeepPromise(commitment_id=commitment_id, day=day):
                check_day(day)
                if any(r["id"] == commitment_id for r in person.commitments):
                    person.promise_checks.setdefault((commitment_id, day), now_text)
            case FlagCrisis(kind=kind):
                person.crisis_flags.append(
                    {"id": next_id("crisis_flags"), "kind": kind, "created_at": now_text}
                )
            case Mark(name=name):
                person.marks.append({"id": next_id("marks"), "name": name, "created_at": now_text})
            case Export() | Erase() | ShowChart() | Unpin():
                pass  # carried out by the caller (the Coach), not by the store
            case _:
                assert_never(effect)

    async def unsent_reply(self, user_id: int, update_id: int) -> Reply | None:
        self._check_open()
        person = self._people.get(user_id)
        if person is None or update_id not in person.outbox:
            return None
        return decode_reply(user_id, update_id, person.outbox[update_id][0])

    async def unsent_replies(
        self, older_than: datetime, limit: int, *, taken_at: datetime | None = None
    ) -> list[Reply]:
        self._check_open()
        cutoff = utc_text(older_than)
        rows = sorted(
            (at, user_id, update_id, body)
            for user_id, person in self._people.items()
            for update_id, (body, at) in person.outbox.items()
            if at <= cutoff
        )[:limit]
        if taken_at is not None:
            for at, user_id, update_id, body in rows:
                self._people[user_id].outbox[update_id] = (body, max(at, utc_text(taken_at)))
        return [decode_reply(u, i, body) for _, u, i, body in rows]

    async def reply_sent(self, user_id: int, update_id: int) -> None:
        self._check_open()
        person = self._people.get(user_id)
        if person is not None:
            person.outbox.pop(update_id, None)

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
                "promise_checks": [],
                "follow_ups": [],
                "completions": [],
                "marks": [],
                "crisis_flags": [],
                "processed_updates": [],
            }
        session: dict[str, object] | None = None
        if person.state_updated_at is not None:
            position, suspended = decode_state(person.state, user_id)
            session = {
                "position": position_to_dict(position),
                "suspended": position_to_dict(suspended),
                "updated_at": person.state_updated_at,
            }
        return {
            "user_id": user_id,
            "user": {
                "created_at": person.created_at,
                "last_seen": person.last_seen,
                "active": person.active,
                "settings": settings_to_json(person.settings),
                "next_checkin_at": person.next_checkin_at,
                "checkin_claimed_at": person.checkin_claimed_at,
                "last_checkin_date": person.last_checkin_date,
                "last_checkin_at": person.last_checkin_at,
            },
            "session": session,
            "answers": [dict(person.answers[name]) for name in sorted(person.answers)],
            "journal": [dict(row) for row in person.journal],
            "commitments": [dict(row) for row in person.commitments],
            "promise_checks": [
                {"commitment_id": commitment_id, "day": day, "created_at": created_at}
                for (commitment_id, day), created_at in sorted(person.promise_checks.items())
            ],
            "follow_ups": [dict(row) for row in person.follow_ups],
            "completions": sorted(
                (dict(row) for row in person.completions), key=lambda r: r["completed_at"]
            ),
            "marks": [{"name": r["name"], "created_at": r["created_at"]} for r in person.marks],
            "crisis_flags": [
                {"kind": r["kind"], "created_at": r["created_at"]} for r in person.crisis_flags
            ],
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

    # -- the schedule -----------------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int, reclaim_after: timedelta) -> list[DueItem]:
        self._check_open()
        if limit <= 0:
            return []
        now_text, stale = utc_text(now), utc_text(now - reclaim_after)
        due: list[tuple[str, str, int, int, str, str]] = []  # the same order as SQLite's
        for user_id, p in self._people.items():
            if not p.active:
                continue
            claimable = p.checkin_claimed_at is None or p.checkin_claimed_at <= stale
            if (
                p.settings.checkins
                and p.next_checkin_at is not None
                and p.next_checkin_at <= now_text
                and claimable
            ):
                due.append((p.next_checkin_at, "checkin", user_id, user_id, "checkin", ""))
            for f in p.follow_ups:
                if f["due_at"] <= now_text and (
                    f["status"] == "pending"
                    or (f["status"] == "claimed" and f["claimed_at"] <= stale)
                ):
                    due.append((f["due_at"], "follow_up", f["id"], user_id, f["flow"], f["node"]))
        due.sort()
        items: list[DueItem] = []
        for due_at, kind, item_id, user_id, flow, node in due[:limit]:
            person = self._people[user_id]
            if kind == "checkin":
                person.checkin_claimed_at = now_text
            else:
                row = next(f for f in person.follow_ups if f["id"] == item_id)
                row["status"], row["claimed_at"] = "claimed", now_text
            items.append(DueItem(kind, item_id, user_id, flow, node, parse_utc(due_at)))
        return items

    async def renew_claims(self, items: Sequence[DueItem], now: datetime) -> None:
        self._check_open()
        now_text = utc_text(now)
        for item in items:
            person = self._people.get(item.user_id)
            if person is None:
                continue
            if item.kind == "checkin":
                if person.checkin_claimed_at is not None:
                    person.checkin_claimed_at = now_text
                continue
            for row in person.follow_ups:
                if row["id"] == item.id and row["status"] == "claimed":
                    row["claimed_at"] = now_text

    async def complete_checkin(
        self, user_id: int, sent_at: datetime, local_date: date | None, next_at: datetime | None
    ) -> None:
        self._check_open()
        next_text = None if next_at is None else utc_text(next_at)
        sent_text = utc_text(sent_at)
        person = self._people.get(user_id)
        if person is None:
            return
        person.checkin_claimed_at = None
        person.next_checkin_at = next_text if person.active else None
        if local_date is not None:
            person.last_checkin_date = local_date.isoformat()
            person.last_checkin_at = sent_text

    async def complete_follow_up(self, item_id: int, now: datetime, sent: bool) -> None:
        self._check_open()
        now_text = utc_text(now)
        for person in self._people.values():
            for row in person.follow_ups:
                if row["id"] == item_id:
                    row["status"] = "sent" if sent else "dropped"
                    row["sent_at"] = now_text if sent else None
                    row["claimed_at"] = None
                    return

    async def checkin_state(self, user_id: int) -> CheckinState | None:
        self._check_open()
        person = self._people.get(user_id)
        if person is None:
            return None
        last_date, last_at = person.last_checkin_date, person.last_checkin_at
        return CheckinState(
            user_id=user_id,
            settings=person.settings,
            last_local_date=None if last_date is None else date.fromisoformat(last_date),
            active=person.active,
            last_sent_at=None if last_at is None else parse_utc(last_at),
        )

    async def unplanned_checkins(self, limit: int) -> list[int]:
        self._check_open()
        found = sorted(
            user_id
            for user_id, p in self._people.items()
            if p.active and p.settings.checkins and p.next_checkin_at is None
        )
        return found[: max(0, limit)]

    async def stop_schedule(self, user_id: int) -> None:
        self._check_open()
        person = self._people.get(user_id)
        if person is None:
            return
        person.active = False
        person.next_checkin_at = person.checkin_claimed_at = None
        for row in person.follow_ups:
            if row["status"] in ("pending", "claimed"):
                row["status"], row["claimed_at"] = "dropped", None

    async def bulk_create_users(self, rows: list[BulkUser]) -> None:
        """`BulkLoad` (bot/store/bulk.py), for benchmarks: not part of `Store`."""
        self._check_open()
        created: dict[int, _Person] = {}
        for user_id, created_at, settings, next_at in rows:
            if user_id in self._people or user_id in created:
                raise ValueError("bulk_create_users: a user id exists already, or is given twice")
            settings_to_db(settings)  # the same validation as SQLite
            created[user_id] = _Person(
                created_at=utc_text(created_at),
                settings=settings,
                next_checkin_at=None if next_at is None else utc_text(next_at),
            )
        self._people.update(created)
