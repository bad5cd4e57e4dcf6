"""The store's schedule (claims, completions), the promise ledger, progress facts, and the
migration of a schema-1 database. Real SQLite files (tmp_path) and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from bot.core.session import Frame, Position, Promise, Session, Settings
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    Effect,
    FlagCrisis,
    KeepPromise,
    Mark,
    RecordCommitment,
    ScheduleFollowUp,
    Turn,
)
from bot.store import SqliteStore, Store
from bot.store.bulk import BulkStore
from bot.store.protocol import NOT_REPLANNED, CheckinState, DueItem
from bot.store.sqlite import _CLAIMABLE, load_migrations
from tests.pg import postgres_store

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
RECLAIM = timedelta(minutes=10)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def turn(position: Position | None = None, *effects: Effect) -> Turn:
    return Turn(messages=(), effects=effects, session=Session(position=position))


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "postgres":
        async with postgres_store() as pg:
            yield pg
        return
    s: Store = SqliteStore(tmp_path / "mend.sqlite3")
    await s.open()
    yield s
    await s.close()


async def user_doc(store: Store, user_id: int) -> dict[str, object]:
    user = (await store.export_user(user_id))["user"]
    assert isinstance(user, dict)
    return user


def keys(items: list[DueItem]) -> list[tuple[str, int]]:
    return [(item.kind, item.id) for item in items]


# -- next_checkin in commit --------------------------------------------------------------------


async def test_commit_stores_the_next_checkin_only_when_replanned(store: Store) -> None:
    assert await store.commit(1, turn(None), NOW, next_checkin=at(60))
    assert (await user_doc(store, 1))["next_checkin_at"] == "2025-03-01T13:00:00.000000+00:00"
    assert await store.commit(1, turn(None), at(1))  # NOT_REPLANNED by default
    assert await store.commit(1, turn(None), at(2), next_checkin=NOT_REPLANNED)
    assert (await user_doc(store, 1))["next_checkin_at"] == "2025-03-01T13:00:00.000000+00:00"
    # A claimed check-in that is replanned is no longer claimed.
    assert keys(await store.claim_due(at(61), 10, RECLAIM)) == [("checkin", 1)]
    assert (await user_doc(store, 1))["checkin_claimed_at"] is not None
    assert await store.commit(1, turn(None), at(62), next_checkin=at(120))
    doc = await user_doc(store, 1)
    assert doc["next_checkin_at"] == "2025-03-01T14:00:00.000000+00:00"
    assert doc["checkin_claimed_at"] is None
    assert await store.commit(1, turn(None), at(63), next_checkin=None)
    assert (await user_doc(store, 1))["next_checkin_at"] is None


async def test_a_duplicate_update_does_not_replan(store: Store) -> None:
    assert await store.commit(1, turn(None), NOW, update_id=7, next_checkin=at(60))
    assert not await store.commit(1, turn(None), NOW, update_id=7, next_checkin=at(90))
    assert (await user_doc(store, 1))["next_checkin_at"] == "2025-03-01T13:00:00.000000+00:00"


async def test_a_failed_turn_does_not_replan(store: Store) -> None:
    assert await store.commit(1, turn(None), NOW, next_checkin=at(60))
    with pytest.raises(ValueError):
        await store.commit(1, turn(None, ChangeSetting("checkins", "no")), NOW, next_checkin=at(90))
    assert (await user_doc(store, 1))["next_checkin_at"] == "2025-03-01T13:00:00.000000+00:00"


# -- claim_due ---------------------------------------------------------------------------------


async def test_claim_due_takes_what_is_due_oldest_first(store: Store) -> None:
    await store.commit(1, turn(None), NOW, next_checkin=at(5))
    await store.commit(2, turn(None), NOW, next_checkin=at(3))
    await store.commit(3, turn(None), NOW, next_checkin=at(30))  # not due yet
    await store.commit(
        4,
        turn(
            None,
            ScheduleFollowUp("debrief", at(4)),
            ScheduleFollowUp("breathing", at(1), node="exhale"),
            ScheduleFollowUp("later", at(40)),  # not due yet
        ),
        NOW,
    )
    due = await store.claim_due(at(10), 10, RECLAIM)
    assert due == [
        DueItem("follow_up", 2, 4, "breathing", "exhale", at(1)),
        DueItem("checkin", 2, 2, "checkin", "", at(3)),
        DueItem("follow_up", 1, 4, "debrief", "", at(4)),
        DueItem("checkin", 1, 1, "checkin", "", at(5)),
    ]
    # Claimed: nobody else takes them, until the claim is too old.
    assert await store.claim_due(at(11), 10, RECLAIM) == []
    assert keys(await store.claim_due(at(40), 10, RECLAIM)) == [
        ("follow_up", 2),
        ("checkin", 2),
        ("follow_up", 1),
        ("checkin", 1),
        ("checkin", 3),
        ("follow_up", 3),
    ]
    doc = await store.export_user(4)
    follow_ups = doc["follow_ups"]
    assert isinstance(follow_ups, list)
    assert {f["status"] for f in follow_ups} == {"claimed"}
    assert {f["claimed_at"] for f in follow_ups} == {"2025-03-01T12:40:00.000000+00:00"}


async def test_claim_due_respects_the_limit_and_equal_times(store: Store) -> None:
    for user_id in (5, 3, 9, 1, 7):
        await store.commit(user_id, turn(None), NOW, next_checkin=at(1))
    await store.commit(2, turn(None, ScheduleFollowUp("f", at(1))), NOW)
    first = await store.claim_due(at(2), 3, RECLAIM)
    assert keys(first) == [("checkin", 1), ("checkin", 3), ("checkin", 5)]
    second = await store.claim_due(at(2), 3, RECLAIM)
    assert keys(second) == [("checkin", 7), ("checkin", 9), ("follow_up", 1)]
    assert await store.claim_due(at(2), 3, RECLAIM) == []
    assert await store.claim_due(at(2), 0, RECLAIM) == []


async def test_a_stale_claim_is_claimed_again(store: Store) -> None:
    await store.commit(1, turn(None, ScheduleFollowUp("f", at(1))), NOW, next_checkin=at(1))
    assert len(await store.claim_due(at(2), 10, RECLAIM)) == 2
    assert await store.claim_due(at(2) + RECLAIM - MIN, 10, RECLAIM) == []
    again = await store.claim_due(at(2) + RECLAIM, 10, RECLAIM)
    assert keys(again) == [("checkin", 1), ("follow_up", 1)]
    assert await store.claim_due(at(2) + RECLAIM, 10, RECLAIM) == []


async def test_inactive_people_and_checkins_off_are_not_claimed(store: Store) -> None:
    await store.commit(1, turn(None, ScheduleFollowUp("f", at(1))), NOW, next_checkin=at(1))
    await store.commit(
        2,
        turn(None, ChangeSetting("checkins", False), ScheduleFollowUp("g", at(1))),
        NOW,
        next_checkin=at(1),
    )
    await store.commit(3, turn(None), NOW, next_checkin=at(1))
    await store.set_active(1, False)
    # Person 1: blocked the bot, nothing; person 2: check-ins off, but their follow-up is due.
    assert keys(await store.claim_due(at(5), 10, RECLAIM)) == [
        ("checkin", 3),
        ("follow_up", 2),
    ]
    await store.set_active(1, True)
    assert keys(await store.claim_due(at(5), 10, RECLAIM)) == [("checkin", 1), ("follow_up", 1)]


async def test_concurrent_claims_never_share_an_item(store: BulkStore) -> None:
    await store.bulk_create_users(
        [(user_id, NOW, Settings(), at(user_id % 7)) for user_id in range(1, 301)]
    )
    batches = await asyncio.gather(*(store.claim_due(at(10), 40, RECLAIM) for _ in range(10)))
    claimed = [item.user_id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 300


# -- completing --------------------------------------------------------------------------------


async def test_complete_checkin(store: Store) -> None:
    await store.commit(1, turn(None), NOW, next_checkin=at(1))
    assert await store.checkin_state(1) == CheckinState(1, Settings(), None, True)
    assert len(await store.claim_due(at(2), 10, RECLAIM)) == 1
    tomorrow = at(1) + timedelta(days=1)
    await store.complete_checkin(1, at(2), date(2025, 3, 1), tomorrow)
    doc = await user_doc(store, 1)
    assert doc["next_checkin_at"] == "2025-03-02T12:01:00.000000+00:00"
    assert doc["checkin_claimed_at"] is None
    assert doc["last_checkin_date"] == "2025-03-01"
    assert await store.checkin_state(1) == CheckinState(
        1, Settings(), date(2025, 3, 1), True, last_sent_at=at(2)
    )
    assert await store.claim_due(tomorrow - MIN, 10, RECLAIM) == []
    assert keys(await store.claim_due(tomorrow, 10, RECLAIM)) == [("checkin", 1)]
    # Skipped as too late: the last check-in sent stays what it was.
    await store.complete_checkin(1, tomorrow + timedelta(hours=4), None, None)
    state = await store.checkin_state(1)
    assert state is not None
    assert (state.last_local_date, state.last_sent_at) == (date(2025, 3, 1), at(2))
    assert (await user_doc(store, 1))["next_checkin_at"] is None
    assert await store.claim_due(tomorrow + timedelta(days=5), 10, RECLAIM) == []


async def test_complete_checkin_of_someone_who_left_plans_nothing(store: Store) -> None:
    await store.commit(1, turn(None), NOW, next_checkin=at(1))
    assert len(await store.claim_due(at(2), 10, RECLAIM)) == 1
    await store.stop_schedule(1)  # the send failed: they blocked the bot
    await store.complete_checkin(1, at(2), None, at(1) + timedelta(days=1))
    assert (await user_doc(store, 1))["next_checkin_at"] is None
    await store.complete_checkin(99, at(2), None, at(3))  # unknown: nothing happens
    assert (await store.export_user(99))["user"] is None


async def test_complete_follow_up(store: Store) -> None:
    await store.commit(
        1, turn(None, ScheduleFollowUp("a", at(1)), ScheduleFollowUp("b", at(1))), NOW
    )
    assert len(await store.claim_due(at(2), 10, RECLAIM)) == 2
    await store.complete_follow_up(1, at(3), sent=True)
    await store.complete_follow_up(2, at(3), sent=False)
    follow_ups = (await store.export_user(1))["follow_ups"]
    assert isinstance(follow_ups, list)
    assert [(f["status"], f["sent_at"], f["claimed_at"]) for f in follow_ups] == [
        ("sent", "2025-03-01T12:03:00.000000+00:00", None),
        ("dropped", None, None),
    ]
    assert await store.claim_due(at(60), 10, RECLAIM) == []


async def test_checkin_state(store: Store) -> None:
    assert await store.checkin_state(1) is None
    await store.commit(
        1,
        turn(
            None,
            ChangeSetting("timezone", "Europe/Berlin"),
            ChangeSetting("quiet_hours", "22:00-07:00"),
            ChangeSetting("paused_until", "2025-03-05"),
        ),
        NOW,
    )
    await store.set_active(1, False)
    assert await store.checkin_state(1) == CheckinState(
        1,
        Settings(timezone="Europe/Berlin", quiet_hours="22:00-07:00", paused_until="2025-03-05"),
        None,
        False,
    )


async def test_unplanned_checkins(store: BulkStore) -> None:
    await store.bulk_create_users(
        [
            (5, NOW, Settings(), None),
            (2, NOW, Settings(), None),
            (3, NOW, Settings(), at(5)),  # planned
            (4, NOW, Settings(checkins=False), None),  # off
            (1, NOW, Settings(), None),
            (6, NOW, Settings(), None),
        ]
    )
    await store.set_active(6, False)
    assert await store.unplanned_checkins(10) == [1, 2, 5]
    assert await store.unplanned_checkins(2) == [1, 2]
    assert await store.unplanned_checkins(0) == []
    await store.complete_checkin(1, NOW, None, at(60))  # planned now
    assert await store.unplanned_checkins(10) == [2, 5]


async def test_stop_schedule(store: Store) -> None:
    await store.commit(
        1,
        turn(
            None,
            ScheduleFollowUp("a", at(1)),
            ScheduleFollowUp("b", at(1)),
            ScheduleFollowUp("c", at(1)),
        ),
        NOW,
        next_checkin=at(1),
    )
    await store.commit(2, turn(None, ScheduleFollowUp("x", at(1))), NOW, next_checkin=at(1))
    assert len(await store.claim_due(at(2), 2, RECLAIM)) == 2  # check-in 1, follow-up 1
    await store.complete_follow_up(1, at(2), sent=True)
    await store.stop_schedule(1)
    doc = await store.export_user(1)
    user = doc["user"]
    assert isinstance(user, dict)
    assert (user["active"], user["next_checkin_at"], user["checkin_claimed_at"]) == (
        False,
        None,
        None,
    )
    follow_ups = doc["follow_ups"]
    assert isinstance(follow_ups, list)
    assert [f["status"] for f in follow_ups] == ["sent", "dropped", "dropped"]
    assert keys(await store.claim_due(at(60), 10, RECLAIM)) == [("checkin", 2), ("follow_up", 4)]
    await store.stop_schedule(99)  # unknown: nothing happens
    assert (await store.export_user(99))["user"] is None


async def test_bulk_create_users(store: BulkStore) -> None:
    berlin = Settings(timezone="Europe/Berlin", checkin_time="08:00")
    await store.bulk_create_users([(1, NOW, berlin, at(5)), (2, at(1), Settings(), None)])
    session = await store.load(1, at(10))
    assert (session.settings, session.started_at) == (berlin, NOW)
    assert (await user_doc(store, 1))["next_checkin_at"] == "2025-03-01T12:05:00.000000+00:00"
    assert (await user_doc(store, 2))["next_checkin_at"] is None
    with pytest.raises(ValueError, match="exists already"):
        await store.bulk_create_users([(3, NOW, Settings(), None), (2, NOW, Settings(), None)])
    assert (await store.export_user(3))["user"] is None  # the whole call wrote nothing
    with pytest.raises(ValueError, match="exists already"):
        await store.bulk_create_users([(4, NOW, Settings(), None), (4, NOW, Settings(), None)])
    assert (await store.export_user(4))["user"] is None


# -- the promise ledger and progress facts ----------------------------------------------------


async def test_promises_are_the_open_commitments_kept_by_local_date(store: Store) -> None:
    # 12:00 UTC on March 1st is already March 2nd in Auckland (UTC+13).
    await store.commit(1, turn(None, ChangeSetting("timezone", "Pacific/Auckland")), NOW)
    for n in range(10):
        await store.commit(1, turn(None, RecordCommitment(f"promise {n}", "")), at(n))
    await store.commit(2, turn(None, RecordCommitment("someone else's", "")), NOW)
    ids = [c.id for c in await store.open_commitments(1)]
    await store.commit(
        1,
        turn(
            None,
            KeepPromise(ids[0], "2025-03-02"),  # today, in Auckland
            KeepPromise(ids[0], "2025-03-02"),  # once a day
            KeepPromise(ids[1], "2025-03-01"),  # yesterday, in Auckland
            KeepPromise(ids[2], "2025-03-03"),
            KeepPromise(ids[2], "2025-03-02"),
            KeepPromise(11, "2025-03-02"),  # person 2's: ignored
        ),
        at(20),
    )
    session = await store.load(1, at(30))
    assert session.promises == tuple(
        Promise(ids[n], f"promise {n}", kept_today=n in (0, 2)) for n in range(8)
    )
    assert session.facts["progress.promises_made"] == "10"
    assert session.facts["progress.promises_kept"] == "4"
    assert (await store.load(2, at(30))).facts["progress.promises_kept"] == "0"
    # In UTC it is still March 1st: the promise kept "yesterday" in Auckland is today's.
    await store.commit(1, turn(None, ChangeSetting("timezone", "UTC")), at(31))
    kept = [p.kept_today for p in (await store.load(1, at(32))).promises]
    assert kept == [False, True, False, False, False, False, False, False]
    # A zone that cannot be loaded counts by the UTC date.
    await store.commit(1, turn(None, ChangeSetting("timezone", "Mars/Olympus")), at(33))
    assert [p.kept_today for p in (await store.load(1, at(34))).promises] == kept
    with pytest.raises(ValueError, match="ISO date"):
        await store.commit(1, turn(None, KeepPromise(ids[0], "tomorrow")), at(35))


async def test_progress_facts(store: Store) -> None:
    day = timedelta(days=1)
    await store.commit(1, turn(None, CompleteFlow("checkin")), NOW - 40 * day)
    await store.commit(1, turn(None, CompleteFlow("checkin")), NOW - 20 * day)
    await store.commit(1, turn(None, CompleteFlow("checkin")), NOW - 6 * day)
    await store.commit(1, turn(None, CompleteFlow("checkin"), CompleteFlow("prepare")), NOW)
    await store.commit(
        1,
        turn(
            None,
            CompleteFlow("prepare"),
            CompleteFlow("apology"),
            Mark("talk_went_well"),
            Mark("talk_went_well"),
            Mark("talk_hard"),
            FlagCrisis("self_harm"),  # not a fact
            RecordCommitment("a", ""),
        ),
        NOW,
    )
    await store.commit(2, turn(None, Mark("talk_hard"), CompleteFlow("prepare")), NOW)
    session = await store.load(1, NOW + timedelta(hours=1))
    assert session.facts == {
        "store.encrypted": "no",
        "progress.checkins_7d": "2",
        "progress.checkins_30d": "3",
        "progress.promises_made": "1",
        "progress.promises_kept": "0",
        "progress.talks": "2",
        "progress.talk_went_well": "2",
        "progress.talk_hard": "1",
    }
    assert session.completed == {"checkin", "prepare", "apology"}
    values = session.values(NOW + timedelta(hours=1))
    assert values["progress.talks"] == "2"


async def test_suspended_round_trip(store: Store) -> None:
    position = Position("safety", "start", (Frame("menu", "start"),))
    suspended = Position("apology", "draft", draft="what I wrote so far")
    t = Turn(messages=(), effects=(), session=Session(position=position, suspended=suspended))
    assert await store.commit(1, t, NOW)
    session = await store.load(1, NOW)
    assert (session.position, session.suspended) == (position, suspended)
    doc = await store.export_user(1)
    assert doc["session"] == {
        "position": {
            "flow": "safety",
            "node": "start",
            "stack": [{"flow": "menu", "node": "start"}],
            "draft": None,
        },
        "suspended": {
            "flow": "apology",
            "node": "draft",
            "stack": [],
            "draft": "what I wrote so far",
        },
        "updated_at": "2025-03-01T12:00:00.000000+00:00",
    }
    assert await store.commit(1, turn(Position("apology", "draft")), NOW)
    assert (await store.load(1, NOW)).suspended is None


async def test_new_effects_are_exported(store: Store) -> None:
    await store.commit(1, turn(None, RecordCommitment("call her", "tonight")), NOW)
    await store.commit(
        1,
        turn(
            None,
            KeepPromise(1, "2025-03-01"),
            FlagCrisis("self_harm"),
            Mark("talk"),
            ScheduleFollowUp("breathing", at(5), node="exhale"),
        ),
        at(1),
    )
    doc = await store.export_user(1)
    t1 = "2025-03-01T12:01:00.000000+00:00"
    assert doc["promise_checks"] == [{"commitment_id": 1, "day": "2025-03-01", "created_at": t1}]
    assert doc["crisis_flags"] == [{"kind": "self_harm", "created_at": t1}]
    assert doc["marks"] == [{"name": "talk", "created_at": t1}]
    follow_ups = doc["follow_ups"]
    assert isinstance(follow_ups, list)
    assert follow_ups[0]["node"] == "exhale"
    json.dumps(doc)


# -- SQLite only -------------------------------------------------------------------------------


async def test_claims_read_the_due_index(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "mend.sqlite3") as s:
        conn = s._conn
        assert conn is not None
        rows = await conn.execute_fetchall(
            "EXPLAIN QUERY PLAN " + _CLAIMABLE, {"now": "x", "stale": "y", "limit": 5}
        )
        plan = " | ".join(str(r[3]) for r in rows)
    assert "USING INDEX users_due" in plan
    assert "USING INDEX users_claimed" in plan
    assert "USING INDEX follow_ups_due" in plan
    assert "SCAN users" not in plan and "SCAN follow_ups" not in plan


async def test_many_claimed_and_unfinished_checkins_stay_cheap(tmp_path: Path) -> None:
    """Claims never re-read rows claimed before: batch after batch without completing."""
    async with SqliteStore(tmp_path / "mend.sqlite3") as s:
        await s.bulk_create_users([(u, NOW, Settings(), at(1)) for u in range(1, 5001)])
        seen: set[int] = set()
        while batch := await s.claim_due(at(2), 500, RECLAIM):
            seen.update(item.user_id for item in batch)
        assert len(seen) == 5000
        conn = s._conn
        assert conn is not None
        rows = await conn.execute_fetchall(
            "SELECT count(*) FROM users INDEXED BY users_due WHERE next_checkin_at IS NOT NULL"
            " AND checkin_claimed_at IS NULL AND active = 1 AND checkins = 1"
        )
        assert next(iter(rows))[0] == 0


def create_schema_1(path: Path) -> None:
    """A database as the first release left it: migration 0001 only, format-1 state."""
    first = resources.files("bot.store.migrations").joinpath("0001_init.sql").read_text()
    with sqlite3.connect(path) as conn:
        conn.executescript(first)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO users (user_id, created_at, timezone, checkin_time, discreet, checkins,"
            " country, active, last_seen)"
            " VALUES (1, ?, 'Europe/Berlin', '07:30', 0, 1, 'DE', 1, ?)",
            ("2025-01-01T10:00:00.000000+00:00", "2025-02-01T10:00:00.000000+00:00"),
        )
        state = {
            "v": 1,
            "flow": "apology",
            "node": "draft",
            "stack": [{"flow": "menu", "node": "start"}],
            "draft": "my old draft",
        }
        conn.execute(
            "INSERT INTO sessions VALUES (1, ?, '2025-02-01T10:00:00.000000+00:00')",
            (json.dumps(state),),
        )
        conn.execute(
            "INSERT INTO answers VALUES (1, 'partner', 'Sam', '2025-01-01T10:00:00.000000+00:00')"
        )
        conn.execute(
            "INSERT INTO commitments (user_id, text, due, status, created_at)"
            " VALUES (1, 'no secrets', '', 'open', '2025-01-02T10:00:00.000000+00:00')"
        )
        conn.execute(
            "INSERT INTO follow_ups (user_id, flow, due_at, status, created_at) VALUES"
            " (1, 'debrief', '2025-02-02T10:00:00.000000+00:00', 'pending',"
            " '2025-02-01T10:00:00.000000+00:00')"
        )
        conn.execute("INSERT INTO completions VALUES (1, 'checkin', ?)", (NOW.isoformat(),))
        conn.execute(
            "INSERT INTO users (user_id, created_at, timezone, checkin_time, discreet,"
            " checkins, country) VALUES (2, ?, 'UTC', '20:00', 1, 1, '')",
            (NOW.isoformat(),),
        )
        conn.execute("INSERT INTO sessions VALUES (2, 'null', ?)", (NOW.isoformat(),))
    conn.close()


async def test_a_schema_1_database_is_migrated_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    create_schema_1(path)
    async with SqliteStore(path) as s:
        session = await s.load(1, NOW)
        assert session.position == Position(
            "apology", "draft", (Frame("menu", "start"),), "my old draft"
        )
        assert session.suspended is None
        assert session.answers == {"partner": "Sam"}
        assert session.settings == Settings(
            timezone="Europe/Berlin", checkin_time="07:30", discreet=False, country="DE"
        )
        assert session.started_at == datetime(2025, 1, 1, 10, tzinfo=UTC)
        assert session.promises == (Promise(1, "no secrets", False),)
        assert session.facts["progress.checkins_7d"] == "1"
        assert session.facts["progress.promises_made"] == "1"
        assert (await s.load(2, NOW)).position is None
        # Nobody has a check-in planned yet: the scheduler plans them after the upgrade.
        assert await s.unplanned_checkins(10) == [1, 2]
        due = await s.claim_due(NOW, 10, RECLAIM)
        assert due == [
            DueItem("follow_up", 1, 1, "debrief", "", datetime(2025, 2, 2, 10, tzinfo=UTC))
        ]
        # A new commit writes format 2.
        await s.commit(1, turn(Position("apology", "done")), NOW)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(load_migrations())
        (state,) = conn.execute("SELECT state FROM sessions WHERE user_id = 1").fetchone()
    conn.close()
    assert json.loads(state) == {
        "v": 2,
        "position": {"flow": "apology", "node": "done", "stack": [], "draft": None},
        "suspended": None,
    }


async def test_unreadable_state_resets_both(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path) as s:
        t = Turn((), (), Session(position=Position("a", "b"), suspended=Position("c", "d")))
        await s.commit(1, t, NOW)
    for bad in ('{"v": 2, "position": {"flow": 1}}', '{"v": 2}', "[1]", "not json"):
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE sessions SET state = ? WHERE user_id = 1", (bad,))
        conn.close()
        async with SqliteStore(path) as s:
            session = await s.load(1, NOW)
        assert (session.position, session.suspended) == (None, None), bad


async def test_checkin_state_reads_the_coded_safety_setting_in_plain(tmp_path: Path) -> None:
    """With a key the safety flag is coded at rest; the schedule must see it as it is."""
    from bot.store.crypto import TextCipher, generate_key

    s = SqliteStore(tmp_path / "coded.sqlite3", TextCipher(generate_key()))
    await s.open()
    try:
        assert await s.commit(1, turn(None, ChangeSetting("safety", "flagged")), NOW)
        state = await s.checkin_state(1)
        assert state is not None and state.settings.safety == "flagged"
    finally:
        await s.close()


async def test_renewed_claims_stay_claimed_and_completed_ones_are_left_alone(store: Store) -> None:
    await store.commit(1, turn(None, ScheduleFollowUp("f", at(1))), NOW, next_checkin=at(1))
    await store.commit(2, turn(None), NOW, next_checkin=at(1))
    items = await store.claim_due(at(2), 10, RECLAIM)
    assert len(items) == 3
    await store.complete_checkin(2, at(3), None, at(500))
    await store.renew_claims(items, at(2) + RECLAIM - MIN)
    # Not stale at the first claim's reclaim time: renewed.
    assert await store.claim_due(at(2) + RECLAIM, 10, RECLAIM) == []
    # Stale once the renewal itself is old; person 2's completed check-in was not revived.
    again = await store.claim_due(at(2) + 2 * RECLAIM, 10, RECLAIM)
    assert keys(again) == [("checkin", 1), ("follow_up", 1)]
