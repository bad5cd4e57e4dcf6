"""The store: a real SQLite file (tmp_path), and PostgreSQL held to the same behaviour."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.core.session import Frame, Position, Session, Settings
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    Effect,
    Erase,
    Export,
    FlagCrisis,
    KeepPromise,
    Mark,
    OutMessage,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    Turn,
)
from bot.store import (
    Commitment,
    SchemaTooNew,
    SqliteStore,
    Store,
    StoreUnavailable,
)
from bot.store.postgres import PostgresStore
from bot.store.sqlite import Migration, load_migrations
from tests.pg import postgres_store

NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
SECRET = "I lied about Tuesday night"  # stands for a person's words: must never leak
UNKNOWN_FACTS = {"store.encrypted": "no"}
NO_PROGRESS = {
    "store.encrypted": "no",
    "progress.checkins_7d": "0",
    "progress.checkins_30d": "0",
    "progress.promises_made": "0",
    "progress.promises_kept": "0",
    "progress.talks": "0",
}
EMPTY_EXPORT_LISTS: dict[str, list[object]] = {
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


def turn(position: Position | None = None, *effects: Effect) -> Turn:
    return Turn(messages=(), effects=effects, session=Session(position=position))


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mend.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "postgres":
        async with postgres_store() as pg:
            yield pg
        return
    s: Store = SqliteStore(db_path(tmp_path))
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(db_path(tmp_path))
    await s.open()
    yield s
    await s.close()


def raw(path: Path) -> sqlite3.Connection:
    """A second, plain connection, to look at the file from outside the store."""
    return sqlite3.connect(path)


# -- both implementations ----------------------------------------------------------------------


async def test_first_load_stores_nothing_until_a_turn_is_committed(store: Store) -> None:
    # Nothing is written before the person agrees to storage: loading is only reading.
    assert await store.load(1, NOW) == Session(known=False, facts=UNKNOWN_FACTS)
    assert (await store.export_user(1))["user"] is None
    await store.commit(1, turn(None), NOW)
    assert await store.load(1, NOW) == Session(started_at=NOW, facts=NO_PROGRESS)
    exported = await store.export_user(1)
    user = exported["user"]
    assert isinstance(user, dict) and user["created_at"] == "2025-03-01T12:00:00.123456+00:00"
    assert user["settings"]["timezone"] == "UTC"


async def test_session_round_trip(store: Store) -> None:
    position = Position(
        flow="apology",
        node="draft",
        stack=(Frame("menu", "start"), Frame("prepare", "step2")),
        draft="I'm sorry that you feel…",
    )
    effects: tuple[Effect, ...] = (
        SaveAnswer("partner", "Sam"),
        SaveAnswer("goal", "first version"),
        SaveAnswer("goal", "rebuild trust"),  # the latest value wins
        ChangeSetting("timezone", "Europe/Berlin"),
        ChangeSetting("checkin_time", "07:30"),
        ChangeSetting("discreet", False),
        ChangeSetting("checkins", False),
        ChangeSetting("country", "DE"),
        ChangeSetting("quiet_hours", "22:00-07:00"),
        ChangeSetting("paused_until", "2025-03-10"),
        ChangeSetting("safety", "clear"),
        CompleteFlow("intro"),
        CompleteFlow("intro"),
        CompleteFlow("values"),
    )
    assert await store.commit(7, turn(position, *effects), NOW)
    assert await store.load(7, LATER) == Session(
        position=position,
        answers={"partner": "Sam", "goal": "rebuild trust"},
        settings=Settings(
            timezone="Europe/Berlin",
            checkin_time="07:30",
            discreet=False,
            checkins=False,
            country="DE",
            quiet_hours="22:00-07:00",
            paused_until="2025-03-10",
            safety="clear",
        ),
        completed=frozenset({"intro", "values"}),
        started_at=NOW,  # first seen by the commit, not by this later load
        facts=NO_PROGRESS,
    )
    # Back to the menu.
    assert await store.commit(7, turn(None), LATER)
    assert (await store.load(7, LATER)).position is None


async def test_every_effect_kind(store: Store) -> None:
    berlin = timezone(timedelta(hours=1))
    effects: tuple[Effect, ...] = (
        SaveAnswer("name", "Alex"),
        SaveJournal("evening", SECRET),
        RecordCommitment("tell her about the messages", "by Friday"),
        RecordCommitment("no more secrets", ""),
        ChangeSetting("country", "FR"),
        ScheduleFollowUp("checkin", datetime(2025, 3, 2, 9, 0, tzinfo=berlin)),
        CompleteFlow("evening"),
    )
    assert await store.commit(3, turn(Position("evening", "end"), *effects), NOW)
    doc = await store.export_user(3)
    now = "2025-03-01T12:00:00.123456+00:00"
    assert doc["answers"] == [{"name": "name", "value": "Alex", "updated_at": now}]
    assert doc["journal"] == [{"id": 1, "flow": "evening", "text": SECRET, "created_at": now}]
    assert doc["commitments"] == [
        {
            "id": 1,
            "text": "tell her about the messages",
            "due": "by Friday",
            "status": "open",
            "created_at": now,
            "resolved_at": None,
        },
        {
            "id": 2,
            "text": "no more secrets",
            "due": "",
            "status": "open",
            "created_at": now,
            "resolved_at": None,
        },
    ]
    assert doc["follow_ups"] == [
        {
            "id": 1,
            "flow": "checkin",
            "node": "",
            "due_at": "2025-03-02T08:00:00.000000+00:00",  # stored in UTC
            "status": "pending",
            "created_at": now,
            "claimed_at": None,
            "sent_at": None,
        }
    ]
    assert doc["completions"] == [{"flow": "evening", "completed_at": now}]
    user = doc["user"]
    assert isinstance(user, dict)
    assert user["settings"]["country"] == "FR"
    assert user["last_seen"] == now
    assert await store.open_commitments(3) == [
        Commitment(1, "tell her about the messages", "by Friday", NOW, "open"),
        Commitment(2, "no more secrets", "", NOW, "open"),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        ChangeSetting("no_such_setting", "x"),
        ChangeSetting("discreet", "yes"),  # a bool setting needs a bool
        ChangeSetting("timezone", True),  # a str setting needs a str
        ChangeSetting("checkins", 1),
        ScheduleFollowUp("checkin", datetime(2025, 3, 2, 9, 0)),  # naive
    ],
)
async def test_a_failing_effect_writes_nothing_of_its_turn(store: Store, bad: Effect) -> None:
    assert await store.commit(5, turn(Position("a", "1"), SaveAnswer("x", "old")), NOW)
    before = await store.export_user(5)
    doomed = turn(
        Position("b", "2", draft="new draft"),
        SaveAnswer("x", "new"),
        SaveAnswer("y", "new"),
        SaveJournal("b", "entry"),
        RecordCommitment("promise", ""),
        ChangeSetting("country", "NL"),
        ScheduleFollowUp("b", LATER),
        CompleteFlow("b"),
        bad,  # fails after everything else was applied
    )
    with pytest.raises(ValueError):
        await store.commit(5, doomed, LATER, update_id=42)
    assert await store.export_user(5) == before
    # The update id was not recorded either: the same update can be processed again.
    assert await store.commit(
        5, turn(Position("b", "2"), SaveJournal("b", "entry")), LATER, update_id=42
    )
    journal = (await store.export_user(5))["journal"]
    assert journal == [
        {"id": 1, "flow": "b", "text": "entry", "created_at": "2025-03-01T12:05:00.123456+00:00"}
    ]  # and the failed turn consumed no id


async def test_duplicate_update_is_dropped(store: Store) -> None:
    assert await store.commit(
        1, turn(Position("a", "1"), SaveAnswer("k", "v1")), NOW, update_id=100
    )
    before = await store.export_user(1)
    again = turn(Position("a", "2"), SaveAnswer("k", "v2"), SaveJournal("a", "twice"))
    assert not await store.commit(1, again, LATER, update_id=100)
    assert await store.export_user(1) == before
    # Update ids are per person, and a commit without one is always applied.
    assert await store.commit(2, again, LATER, update_id=100)
    assert await store.commit(1, again, LATER)
    assert (await store.load(1, LATER)).answers == {"k": "v2"}


async def test_only_the_last_update_ids_are_kept(store: Store) -> None:
    for update_id in range(1, 61):
        assert await store.commit(1, turn(None), NOW, update_id=update_id)
        assert await store.commit(2, turn(None), NOW, update_id=1000 + update_id)
    assert (await store.export_user(1))["processed_updates"] == list(range(11, 61))
    assert (await store.export_user(2))["processed_updates"] == list(range(1011, 1061))
    assert not await store.commit(1, turn(None), NOW, update_id=11)


async def test_set_active(store: Store) -> None:
    await store.commit(1, turn(None), NOW)

    async def active() -> object:
        user = (await store.export_user(1))["user"]
        assert isinstance(user, dict)
        return user["active"]

    await store.set_active(1, False)
    assert await active() is False
    await store.set_active(1, True)
    assert await active() is True
    await store.set_active(1, False)
    assert await store.commit(1, turn(None), LATER)  # writing again reactivates
    assert await active() is True
    await store.set_active(99, False)  # an unknown person is not created
    assert (await store.export_user(99))["user"] is None


async def test_export_contains_everything_and_is_json(store: Store) -> None:
    position = Position("prepare", "rehearse", (Frame("menu", "start"),), draft=SECRET)
    await store.commit(
        4,
        turn(
            position,
            SaveAnswer("fear", "she leaves"),
            SaveJournal("prepare", "journal words"),
            RecordCommitment("commitment words", "tonight"),
            ScheduleFollowUp("prepare", LATER),
            CompleteFlow("intro"),
        ),
        NOW,
        update_id=9,
    )
    doc = await store.export_user(4)
    assert set(doc) == {"user_id", "user", "session", *EMPTY_EXPORT_LISTS}
    assert doc["user_id"] == 4
    assert doc["session"] == {
        "position": {
            "flow": "prepare",
            "node": "rehearse",
            "stack": [{"flow": "menu", "node": "start"}],
            "draft": SECRET,
        },
        "suspended": None,
        "updated_at": "2025-03-01T12:00:00.123456+00:00",
    }
    assert doc["processed_updates"] == [9]
    text = json.dumps(doc)  # JSON-able as it is
    for words in (SECRET, "she leaves", "journal words", "commitment words", "tonight"):
        assert json.dumps(words)[1:-1] in text
    empty = await store.export_user(12345)
    assert empty["user"] is None and empty["journal"] == []


async def test_delete_user_erases_the_person_only(store: Store) -> None:
    everything = (
        SaveAnswer("a", SECRET),
        SaveJournal("f", SECRET),
        RecordCommitment(SECRET, "soon"),
        ScheduleFollowUp("f", LATER),
        CompleteFlow("f"),
        ChangeSetting("country", "IT"),
        FlagCrisis("self_harm"),
        Mark("talks_went_well"),
    )
    for user_id in (1, 2):
        await store.commit(
            user_id, turn(Position("f", "n", draft=SECRET), *everything), NOW, update_id=1
        )
        promise = (await store.open_commitments(user_id))[0]
        await store.commit(user_id, turn(None, KeepPromise(promise.id, "2025-03-01")), NOW)
    kept = await store.export_user(2)
    await store.delete_user(1)
    assert await store.export_user(1) == {
        "user_id": 1,
        "user": None,
        "session": None,
        **EMPTY_EXPORT_LISTS,
    }
    assert await store.open_commitments(1) == []
    assert await store.export_user(2) == kept
    # Unknown again: nothing of them until they agree to storage once more.
    assert await store.load(1, LATER) == Session(known=False, facts=UNKNOWN_FACTS)


async def test_open_commitments(store: Store) -> None:
    assert await store.open_commitments(8) == []
    await store.commit(8, turn(None, RecordCommitment("first", "")), NOW)
    await store.commit(8, turn(None, RecordCommitment("second", "monday")), LATER)
    await store.commit(9, turn(None, RecordCommitment("someone else's", "")), NOW)
    assert [c.text for c in await store.open_commitments(8)] == ["first", "second"]
    assert (await store.open_commitments(8))[1].created_at == LATER


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.load(1, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.commit(1, turn(None), datetime(2025, 1, 1))


async def test_concurrent_commits_all_land(store: Store) -> None:
    async def person(user_id: int) -> None:
        await store.load(user_id, NOW)
        await asyncio.sleep(0)
        effects = (SaveAnswer("n", str(user_id)), SaveJournal("f", f"entry {user_id}"))
        assert await store.commit(
            user_id, turn(Position("f", str(user_id)), *effects), NOW, update_id=user_id
        )
        await store.commit(user_id, turn(Position("f", "end"), CompleteFlow("f")), LATER)

    await asyncio.gather(*(person(u) for u in range(1, 51)))
    journal_ids = []
    for user_id in range(1, 51):
        session = await store.load(user_id, LATER)
        assert session.answers == {"n": str(user_id)}
        assert session.position == Position("f", "end")
        assert session.completed == {"f"}
        journal = (await store.export_user(user_id))["journal"]
        assert isinstance(journal, list) and len(journal) == 1
        assert journal[0]["text"] == f"entry {user_id}"
        journal_ids.append(journal[0]["id"])
    assert sorted(journal_ids) == list(range(1, 51))


async def test_not_open_is_an_error(tmp_path: Path) -> None:
    pg = PostgresStore("postgresql://postgres@127.0.0.1:1/never")  # never connects
    for s in (SqliteStore(db_path(tmp_path)), pg):
        with pytest.raises(RuntimeError, match="not open"):
            await s.load(1, NOW)


async def export_script(s: Store) -> list[object]:
    """The same calls on any store; what they return and leave, to compare stores by."""
    await s.load(1, NOW)
    suspended = Position("breathing", "inhale", draft="half a thought")
    await s.commit(
        1,
        Turn(
            messages=(),
            effects=(
                SaveAnswer("x", "1"),
                SaveJournal("a", "j"),
                RecordCommitment("c", "d"),
                ChangeSetting("discreet", False),
                ChangeSetting("quiet_hours", "22:00-07:00"),
                ScheduleFollowUp("a", LATER),
                ScheduleFollowUp("a", LATER, node="resume"),
                CompleteFlow("a"),
                CompleteFlow("checkin"),
                CompleteFlow("prepare"),
                FlagCrisis("danger"),
                Mark("talk_calm"),
                Mark("talk_calm"),
                Export(),
                Erase(),
            ),
            session=Session(
                position=Position("a", "b", (Frame("m", "s"),), "d"), suspended=suspended
            ),
        ),
        NOW,
        update_id=5,
        next_checkin=LATER,
    )
    await s.commit(2, turn(None, SaveJournal("z", "k"), CompleteFlow("z")), LATER, update_id=5)
    await s.commit(
        1,
        turn(
            None,
            SaveAnswer("x", "2"),
            RecordCommitment("e", ""),
            KeepPromise(1, "2025-03-01"),
            KeepPromise(1, "2025-03-01"),  # once a day
            KeepPromise(2, "2025-03-02"),
            KeepPromise(99, "2025-03-01"),  # not theirs: ignored
        ),
        LATER,
        next_checkin=None,
    )
    await s.commit(3, turn(None), NOW, next_checkin=NOW)
    await s.set_active(2, False)
    claimed = await s.claim_due(LATER, 10, timedelta(minutes=1))
    await s.complete_checkin(3, LATER, date(2025, 3, 1), LATER + timedelta(days=1))
    await s.complete_follow_up(1, LATER, sent=True)
    await s.complete_follow_up(2, LATER, sent=False)
    loads = [await s.load(u, LATER) for u in (1, 2, 3)]
    states = [await s.checkin_state(u) for u in (1, 2, 3, 4)]
    return [claimed, loads, states, *[await s.export_user(u) for u in (1, 2, 3, 4)]]


async def test_postgres_store_exports_what_sqlite_exports(tmp_path: Path) -> None:
    async with SqliteStore(db_path(tmp_path)) as sqlite_store, postgres_store() as pg:
        assert await export_script(pg) == await export_script(sqlite_store)


# -- SQLite only -------------------------------------------------------------------------------


async def test_reopen_keeps_everything(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    position = Position("apology", "n3", (Frame("menu", "start"),), "draft")
    async with SqliteStore(path) as s:
        await s.commit(
            1,
            turn(
                position,
                SaveAnswer("a", "b"),
                ChangeSetting("timezone", "Asia/Tokyo"),
                CompleteFlow("x"),
            ),
            NOW,
            update_id=77,
        )
        await s.commit(1, turn(position, RecordCommitment("c", "")), LATER)
        before_session, before_doc = await s.load(1, LATER), await s.export_user(1)
    async with SqliteStore(path) as s:
        assert await s.load(1, LATER) == before_session
        assert await s.export_user(1) == before_doc
        assert not await s.commit(1, turn(None), LATER, update_id=77)


async def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = db_path(tmp_path)

    def schema() -> list[tuple[str, str]]:
        with raw(path) as conn:
            return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()

    async with SqliteStore(path):
        pass
    first = schema()
    for _ in range(2):
        async with SqliteStore(path):
            pass
    assert schema() == first
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(load_migrations()) >= 3
    tables = {name for name, sql in first if sql and sql.startswith("CREATE TABLE")}
    assert tables >= {
        "users",
        "sessions",
        "answers",
        "journal",
        "commitments",
        "follow_ups",
        "completions",
        "processed_updates",
        "promise_checks",
        "crisis_flags",
        "marks",
    }


async def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    async with SqliteStore(path) as s:
        await s.commit(1, turn(None, SaveAnswer("a", "b")), NOW)
    latest = len(load_migrations())
    bad = Migration(latest + 1, "bad.sql", "CREATE TABLE extra (x INTEGER);\nTHIS IS NOT SQL;\n")
    with pytest.raises(sqlite3.OperationalError):
        await SqliteStore(path, migrations=(*load_migrations(), bad)).open()
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest
        assert conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'extra'"
        ).fetchone() == (0,)
    async with SqliteStore(path) as s:
        assert (await s.load(1, NOW)).answers == {"a": "b"}


async def test_a_newer_schema_refuses_to_start(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    async with SqliteStore(path):
        pass
    with raw(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    s = SqliteStore(path)
    with pytest.raises(
        SchemaTooNew, match=rf"schema version 99.*knows only up to {len(load_migrations())}\b"
    ):
        await s.open()
    with pytest.raises(RuntimeError, match="not open"):
        await s.load(1, NOW)
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


async def test_file_is_owner_only_and_in_wal_mode(sqlite_store: SqliteStore) -> None:
    path = sqlite_store.path
    await sqlite_store.commit(1, turn(None, SaveAnswer("a", "b")), NOW)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert name.exists(), name
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_connection_settings(sqlite_store: SqliteStore) -> None:
    conn = sqlite_store._conn
    assert conn is not None

    async def pragma(name: str) -> object:
        rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
        return rows[0][0]

    assert await pragma("journal_mode") == "wal"
    assert await pragma("synchronous") == 1  # NORMAL
    assert await pragma("foreign_keys") == 1
    assert await pragma("busy_timeout") == 5000
    assert await pragma("secure_delete") == 1


async def test_unreadable_position_resets_to_the_menu(sqlite_store: SqliteStore) -> None:
    await sqlite_store.commit(1, turn(Position("a", "b"), SaveAnswer("k", "v")), NOW)
    with raw(sqlite_store.path) as conn:
        conn.execute("UPDATE sessions SET state = '{\"v\": 99}' WHERE user_id = 1")
    session = await sqlite_store.load(1, NOW)
    assert session.position is None
    assert session.answers == {"k": "v"}


async def test_delete_user_leaves_no_row_in_any_table(sqlite_store: SqliteStore) -> None:
    everything = (
        SaveAnswer("a", SECRET),
        SaveJournal("f", SECRET),
        RecordCommitment(SECRET, "soon"),
        ScheduleFollowUp("f", LATER),
        CompleteFlow("f"),
        FlagCrisis("self_harm"),
        Mark("talk"),
    )
    for user_id in (1, 2):
        for update_id in range(3):
            await sqlite_store.commit(
                user_id,
                turn(Position("f", "n", draft=SECRET), *everything),
                NOW,
                update_id=update_id,
            )
        promise = (await sqlite_store.open_commitments(user_id))[0]
        await sqlite_store.commit(user_id, turn(None, KeepPromise(promise.id, "2025-03-01")), NOW)
        unsent = Turn((OutMessage(SECRET),), (), Session())  # a reply never sent: the outbox
        await sqlite_store.commit(user_id, unsent, NOW, update_id=99)
    await sqlite_store.delete_user(1)
    with raw(sqlite_store.path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        assert len(tables) >= 11
        for table in tables:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            assert "user_id" in columns, (
                f"table {table} has no user_id: delete_user cannot reach it"
            )
            assert conn.execute(f'SELECT count(*) FROM "{table}" WHERE user_id = 1').fetchone() == (
                0,
            ), table
            assert conn.execute(f'SELECT count(*) FROM "{table}" WHERE user_id = 2').fetchone() != (
                0,
            ), table


async def test_deleted_words_are_gone_from_the_files(sqlite_store: SqliteStore) -> None:
    words = "unique-words-" + os.urandom(8).hex()
    await sqlite_store.commit(
        1,
        turn(Position("f", "n", draft=words), SaveAnswer("a", words), SaveJournal("f", words)),
        NOW,
    )
    await sqlite_store.commit(1, turn(None, RecordCommitment(words, "")), LATER)
    await sqlite_store.commit(2, turn(None, SaveAnswer("a", "other person")), NOW)
    path = sqlite_store.path
    files = (path, Path(f"{path}-wal"), Path(f"{path}-journal"))

    def found() -> list[Path]:
        return [f for f in files if f.exists() and words.encode() in f.read_bytes()]

    assert found()  # the words are on disk before
    await sqlite_store.delete_user(1)
    assert found() == []  # overwritten (secure_delete) and checkpointed out of the WAL


async def test_read_only_database_raises_store_unavailable(sqlite_store: SqliteStore) -> None:
    await sqlite_store.commit(1, turn(Position("a", "1"), SaveAnswer("k", "v")), NOW, update_id=1)
    before = await sqlite_store.export_user(1)
    conn = sqlite_store._conn
    assert conn is not None
    await conn.execute("PRAGMA query_only = ON")  # what a read-only file looks like to SQLite
    with pytest.raises(StoreUnavailable, match="read-only") as caught:
        await sqlite_store.commit(
            1,
            turn(Position("a", "2"), SaveAnswer("k", "w"), SaveJournal("a", "x")),
            LATER,
            update_id=2,
        )
    assert "w" not in str(caught.value).split() and "x" not in str(caught.value).split()
    await conn.execute("PRAGMA query_only = OFF")
    assert await sqlite_store.export_user(1) == before
    # The store is usable again: no transaction was left open, the lock was released.
    assert await sqlite_store.commit(
        1, turn(Position("a", "2"), SaveAnswer("k", "w")), LATER, update_id=2
    )


async def test_full_disk_raises_store_unavailable_and_writes_nothing(
    sqlite_store: SqliteStore,
) -> None:
    await sqlite_store.commit(1, turn(Position("a", "1"), SaveAnswer("k", "v")), NOW)
    before = await sqlite_store.export_user(1)
    conn = sqlite_store._conn
    assert conn is not None
    pages = next(iter(await conn.execute_fetchall("PRAGMA page_count")))[0]
    await conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now full
    big = turn(Position("a", "2"), SaveAnswer("k", "w"), SaveJournal("a", "x" * 200_000))
    with pytest.raises(StoreUnavailable, match="disk is full"):
        await sqlite_store.commit(1, big, LATER, update_id=5)
    await conn.execute("PRAGMA max_page_count = 1073741823")
    assert await sqlite_store.export_user(1) == before
    assert await sqlite_store.commit(1, big, LATER, update_id=5)
    assert (await sqlite_store.load(1, LATER)).answers == {"k": "w"}


async def test_missing_directory_raises_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="cannot be created"):
        await SqliteStore(tmp_path / "no" / "such" / "dir.sqlite3").open()


async def test_not_a_database_raises_store_unavailable(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    path.write_bytes(b"this is not sqlite at all, just some bytes " * 100)
    with pytest.raises(StoreUnavailable, match="not a SQLite database"):
        await SqliteStore(path).open()


async def test_no_personal_words_in_the_logs(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # Whatever earlier tests did to the aiosqlite logger, start from a fresh, unconfigured one.
    logging.getLogger("aiosqlite").setLevel(logging.NOTSET)
    await store.close()
    await store.open()
    caplog.set_level(logging.DEBUG)
    await store.load(1, NOW)
    await store.commit(
        1,
        turn(
            Position("f", "n", draft=SECRET),
            SaveAnswer("a", SECRET),
            SaveJournal("f", SECRET),
            RecordCommitment(SECRET, SECRET),
        ),
        NOW,
    )
    await store.load(1, NOW)
    await store.export_user(1)
    await store.open_commitments(1)
    await store.delete_user(1)
    assert SECRET not in caplog.text
