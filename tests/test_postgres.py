"""PostgreSQL only: several replicas (two stores, two pools) on one database, the schema's
migrations, and encrypted values that move from SQLite unchanged.

The store's shared behaviour is tested in test_store.py and test_store_schedule.py, which
run against PostgreSQL too. Every test here gets a throwaway database (tests/pg.py).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.config import ConfigError, load_config
from bot.core.session import Position, Session, Settings
from bot.core.turn import (
    CompleteFlow,
    Effect,
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
from bot.store import SchemaTooNew, SqliteStore, StoreUnavailable
from bot.store.crypto import CannotDecrypt, KeyMissing, TextCipher, generate_key, looks_encrypted
from bot.store.factory import make_store
from bot.store.postgres import PostgresStore, rotate_key
from bot.store.postgres_base import describe
from bot.store.postgres_sql import PgMigration, load_pg_migrations
from tests.pg import throwaway_database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
RECLAIM = timedelta(minutes=10)
SECRET = "I lied about Tuesday night"
KEY = generate_key()


def turn(position: Position | None = None, *effects: Effect) -> Turn:
    return Turn(messages=(), effects=effects, session=Session(position=position))


def everything(text: str) -> Turn:
    effects: tuple[Effect, ...] = (
        SaveAnswer("what_happened", text),
        SaveJournal("evening", text),
        RecordCommitment(text, "by " + text),
        ScheduleFollowUp("debrief", LATER),
        CompleteFlow("checkin"),
        FlagCrisis("self_harm"),
        Mark("talk_hard"),
    )
    return Turn((OutMessage(text),), effects, Session(position=Position("f", "n", draft=text)))


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with throwaway_database() as name:
        yield name


@pytest.fixture
async def replicas(url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores with a pool each on one database: two bot processes behind a balancer."""
    one, two = PostgresStore(url), PostgresStore(url)
    await asyncio.gather(one.open(), two.open())  # replicas start together: one migration
    yield one, two
    await asyncio.gather(one.close(), two.close())


# -- replicas ----------------------------------------------------------------------------------


async def test_an_update_delivered_to_both_replicas_is_applied_once(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    one, two = replicas
    for update_id in range(1, 21):
        t = turn(Position("f", str(update_id)), SaveJournal("f", f"entry {update_id}"))
        results = await asyncio.gather(
            one.commit(7, t, NOW, update_id=update_id),
            two.commit(7, t, NOW, update_id=update_id),
            one.commit(7, t, NOW, update_id=update_id),
        )
        assert sorted(results) == [False, False, True], update_id
    journal = (await two.export_user(7))["journal"]
    assert isinstance(journal, list)
    assert sorted(j["text"] for j in journal) == sorted(f"entry {n}" for n in range(1, 21))
    assert (await one.export_user(7))["processed_updates"] == list(range(1, 21))


async def test_one_persons_turns_are_applied_in_order_across_replicas(
    url: str, replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    one, two = replicas
    await one.commit(1, turn(None), NOW)
    await one.commit(2, turn(None), NOW)
    holder = await asyncpg.connect(url)
    try:
        # Another process is in the middle of person 1's turn: it holds their lock.
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT pg_advisory_xact_lock(1)")
        first = asyncio.create_task(
            one.commit(1, turn(Position("f", "1"), SaveJournal("f", "a")), NOW)
        )
        await asyncio.sleep(0.3)
        second = asyncio.create_task(
            two.commit(1, turn(Position("f", "2"), SaveJournal("f", "b")), NOW)
        )
        # Someone else is not held up by person 1's lock.
        assert await asyncio.wait_for(two.commit(2, turn(Position("x", "y")), NOW), 5)
        await asyncio.sleep(0.3)
        assert not first.done() and not second.done()  # both wait for the lock, in order
        await tx.rollback()
        assert await asyncio.wait_for(first, 5) and await asyncio.wait_for(second, 5)
    finally:
        await holder.close()
    doc = await one.export_user(1)
    journal = doc["journal"]
    assert isinstance(journal, list)
    assert [j["text"] for j in journal] == ["a", "b"]  # ids: the order they were applied
    assert (await two.load(1, NOW)).position == Position("f", "2")


async def test_a_turn_given_up_while_it_waits_for_the_lock_leaves_nothing(
    url: str, replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    one, two = replicas
    await one.commit(1, turn(None), NOW)
    holder = await asyncpg.connect(url)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT pg_advisory_xact_lock(1)")
        doomed = one.commit(
            1, turn(Position("f", "x"), SaveJournal("f", "given up")), NOW, update_id=9
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(doomed, 0.5)  # what the intake's turn timeout does
        await tx.rollback()
    finally:
        await holder.close()
    # Nothing of it landed, the update can be applied again, and every connection works.
    assert (await two.export_user(1))["journal"] == []
    results = await asyncio.gather(
        *(
            one.commit(1, turn(None, SaveJournal("f", str(n))), NOW, update_id=n)
            for n in range(9, 30)
        )
    )
    assert all(results)


async def test_concurrent_turns_of_one_person_on_two_replicas_all_land(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    one, two = replicas

    async def act(store: PostgresStore, n: int) -> bool:
        return await store.commit(3, turn(None, SaveJournal("f", str(n))), NOW, update_id=n)

    results = await asyncio.gather(*(act(one if n % 2 else two, n) for n in range(1, 41)))
    assert all(results)
    journal = (await one.export_user(3))["journal"]
    assert isinstance(journal, list) and len(journal) == 40


async def test_claims_on_two_replicas_never_share_an_item(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    one, two = replicas
    due = NOW + timedelta(minutes=1)
    await one.bulk_create_users([(u, NOW, Settings(), due) for u in range(1, 401)])
    for user_id in range(1, 101):
        await two.commit(user_id, turn(None, ScheduleFollowUp("f", due)), NOW)
    batches = await asyncio.gather(
        *(store.claim_due(due, 25, RECLAIM) for _ in range(10) for store in (one, two))
    )
    claimed = [(item.kind, item.id) for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed))
    while batch := await one.claim_due(due, 50, RECLAIM):  # what is left, if anything
        claimed += [(item.kind, item.id) for item in batch]
    assert len(claimed) == len(set(claimed)) == 500
    # Claimed by now: neither replica takes anything again until the claims are stale.
    assert await two.claim_due(due, 50, RECLAIM) == []
    stale = await asyncio.gather(
        one.claim_due(due + RECLAIM, 500, RECLAIM), two.claim_due(due + RECLAIM, 500, RECLAIM)
    )
    again = [(i.kind, i.id) for batch in stale for i in batch]
    assert len(again) == len(set(again)) == 500


async def test_replicas_starting_together_migrate_once(url: str) -> None:
    stores = [PostgresStore(url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    await asyncio.gather(*(s.close() for s in stores))
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
    finally:
        await conn.close()
    assert [r[0] for r in rows] == [m.version for m in load_pg_migrations()]


# -- choosing the store ---------------------------------------------------------------------


def test_database_url_chooses_postgres(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "x.sqlite3")}
    sqlite_config = load_config(env, env_file=tmp_path / "none")
    assert sqlite_config.database_url == ""
    assert isinstance(make_store(sqlite_config), SqliteStore)
    pg_config = load_config(
        {**env, "DATABASE_URL": "postgresql://u:secret@db/mend"}, tmp_path / "none"
    )
    store = make_store(pg_config)
    assert isinstance(store, PostgresStore) and store.where == "db/mend"
    with pytest.raises(ConfigError, match="postgresql://") as caught:
        load_config({"DATABASE_URL": "mysql://u:secret@db/mend"}, env_file=tmp_path / "none")
    assert "secret" not in str(caught.value)


# -- the schema --------------------------------------------------------------------------------


async def test_reopen_keeps_everything(url: str) -> None:
    async with PostgresStore(url) as s:
        await s.commit(1, everything(SECRET), NOW, update_id=77)
        before = (await s.load(1, LATER), await s.export_user(1))
    async with PostgresStore(url) as s:
        assert (await s.load(1, LATER), await s.export_user(1)) == before
        assert not await s.commit(1, turn(None), LATER, update_id=77)


async def test_a_newer_schema_refuses_to_start(url: str) -> None:
    async with PostgresStore(url):
        pass
    conn = await asyncpg.connect(url)
    await conn.execute("INSERT INTO schema_version (version, name) VALUES (99, 'future.sql')")
    await conn.close()
    s = PostgresStore(url)
    latest = len(load_pg_migrations())
    with pytest.raises(SchemaTooNew, match=rf"schema version 99.*knows only up to {latest}\b"):
        await s.open()
    with pytest.raises(RuntimeError, match="not open"):
        await s.load(1, NOW)


async def test_a_failing_migration_leaves_the_schema_as_it_was(url: str) -> None:
    async with PostgresStore(url) as s:
        await s.commit(1, turn(None, SaveAnswer("a", "b")), NOW)
    latest = len(load_pg_migrations())
    bad = PgMigration(latest + 1, "bad.sql", "CREATE TABLE extra (x integer);\nTHIS IS NOT SQL;\n")
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await PostgresStore(url, migrations=(*load_pg_migrations(), bad)).open()
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT max(version) FROM schema_version") == latest
        assert await conn.fetchval("SELECT to_regclass('extra')") is None
    finally:
        await conn.close()
    async with PostgresStore(url) as s:
        assert (await s.load(1, NOW)).answers == {"a": "b"}


async def test_delete_user_leaves_no_row_in_any_table(url: str) -> None:
    async with PostgresStore(url) as s:
        for user_id in (1, 2):
            for update_id in range(3):
                await s.commit(user_id, everything(SECRET), NOW, update_id=update_id)
            promise = (await s.open_commitments(user_id))[0]
            await s.commit(user_id, turn(None, KeepPromise(promise.id, "2025-03-01")), NOW)
        await s.delete_user(1)
    conn = await asyncpg.connect(url)
    try:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                " AND table_name NOT IN ('schema_version', 'send_log')"
            )
        ]
        assert len(tables) >= 12
        # The shared send budget holds times only: nothing that could name a person.
        send_log = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'send_log'"
        )
        assert [r[0] for r in send_log] == ["sent_at"]
        for table in tables:
            count = f'SELECT count(*) FROM "{table}" WHERE user_id = $1'
            assert await conn.fetchval(count, 1) == 0, table
            assert await conn.fetchval(count, 2) > 0, table
    finally:
        await conn.close()


async def test_unreadable_state_resets_to_the_menu(url: str) -> None:
    async with PostgresStore(url) as s:
        await s.commit(1, turn(Position("a", "b"), SaveAnswer("k", "v")), NOW)
        conn = await asyncpg.connect(url)
        await conn.execute("UPDATE sessions SET state = '{\"v\": 99}' WHERE user_id = 1")
        await conn.close()
        session = await s.load(1, NOW)
    assert (session.position, session.answers) == (None, {"k": "v"})


async def test_no_server_raises_store_unavailable_without_the_password() -> None:
    s = PostgresStore("postgresql://mend:hunter2@127.0.0.1:1/mend", connect_timeout=2)
    with pytest.raises(StoreUnavailable, match="cannot be reached") as caught:
        await s.open()
    assert "hunter2" not in str(caught.value) and "127.0.0.1:1/mend" in str(caught.value)
    assert describe("postgresql://u:p@db.example:5433/x") == "db.example:5433/x"


async def test_a_read_only_database_raises_store_unavailable(url: str) -> None:
    async with PostgresStore(url) as s:
        await s.commit(1, turn(Position("a", "1"), SaveAnswer("k", "v")), NOW, update_id=1)
        before = await s.export_user(1)
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(url)
    await conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    await conn.close()  # what a standby looks like to a client
    with pytest.raises(StoreUnavailable, match="read-only") as caught:
        await PostgresStore(url).open()
    assert SECRET not in str(caught.value)
    conn = await asyncpg.connect(url)
    await conn.execute("SET default_transaction_read_only = off")
    await conn.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
    await conn.close()
    async with PostgresStore(url) as s:
        assert await s.export_user(1) == before


async def test_two_replicas_sweepers_never_take_the_same_owed_reply(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    one, two = replicas
    reply = Turn((OutMessage("hello"),), (), Session())
    for user_id in range(1, 41):
        await one.commit(user_id, reply, NOW, update_id=user_id)
    taken = await asyncio.gather(
        *(store.unsent_replies(NOW, 5, taken_at=LATER) for store in (one, two) for _ in range(6))
    )  # twelve sweeps at once on two replicas, each taking what is older than its grace
    ids = [r.user_id for batch in taken for r in batch]
    assert len(ids) == len(set(ids)) == 40
    assert await one.unsent_replies(NOW, 50, taken_at=LATER) == []


async def test_the_pool_keeps_to_database_pool_size(url: str, tmp_path: Path) -> None:
    from bot.config import load_config
    from bot.store.factory import make_store

    config = load_config({"DATABASE_URL": url, "DATABASE_POOL_SIZE": "3"}, tmp_path / "none")
    store = make_store(config)
    assert isinstance(store, PostgresStore)
    await store.open()
    try:
        # Twelve people at once share three connections: all served, never more than three.
        await asyncio.gather(*(store.load(user_id, NOW) for user_id in range(12)))
        admin = await asyncpg.connect(url)
        held = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid != pg_backend_pid()"
        )
        await admin.close()
        assert 1 <= held <= 3
    finally:
        await store.close()


async def test_connections_the_server_dropped_are_replaced(url: str) -> None:
    async with PostgresStore(url, max_connections=2) as s:
        await s.commit(1, turn(None, SaveAnswer("k", "v")), NOW, update_id=1)
        admin = await asyncpg.connect(url)
        await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid != pg_backend_pid()"
        )  # a restart or failover of the server, as the pool sees it
        await admin.close()
        outcomes: list[object] = []
        for update_id in range(2, 6):
            try:
                outcomes.append(
                    await s.commit(1, turn(None, SaveJournal("f", "x")), NOW, update_id=update_id)
                )
            except StoreUnavailable as exc:
                assert "cannot be reached" in str(exc)
                outcomes.append("unavailable")
        # At most one failed call per dead connection, nothing half-written, then it works.
        assert outcomes[-2:] == [True, True]
        journal = (await s.export_user(1))["journal"]
        assert isinstance(journal, list) and len(journal) == outcomes.count(True)


async def test_a_missing_database_raises_store_unavailable(url: str) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        await PostgresStore(url + "_missing").open()


async def test_no_personal_words_in_the_logs(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with PostgresStore(url) as s:
        await s.commit(1, everything(SECRET), NOW, update_id=1)
        await s.load(1, NOW)
        await s.export_user(1)
        await s.unsent_replies(LATER, 10)
        await s.delete_user(1)
    assert SECRET not in caplog.text


# -- encryption at rest ------------------------------------------------------------------------


async def copy_sqlite_rows(path: Path, url: str) -> None:
    """Copy every row of a SQLite database into the PostgreSQL store's tables, stored
    values as they are (ciphertext included); only datetimes, dates and booleans change
    type."""
    conn = await asyncpg.connect(url)
    source = sqlite3.connect(path)
    source.row_factory = sqlite3.Row
    try:
        types = {
            (r["table_name"], r["column_name"]): r["data_type"]
            for r in await conn.fetch(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema()"
            )
        }
        order = ["users", "sessions", "answers", "journal", "commitments", "follow_ups"]
        order += ["completions", "processed_updates", "promise_checks", "crisis_flags"]
        order += ["marks", "outbox"]
        for table in order:
            rows = source.execute(f'SELECT * FROM "{table}"').fetchall()
            if not rows:
                continue
            columns = list(rows[0].keys())

            def convert(column: str, value: Any, table: str = table) -> Any:
                kind = types[(table, column)]
                if value is None:
                    return None
                if kind == "timestamp with time zone":
                    return datetime.fromisoformat(value)
                if kind == "date":
                    return date.fromisoformat(value)
                if kind == "boolean":
                    return bool(value)
                return value

            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            await conn.executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                [tuple(convert(c, r[c]) for c in columns) for r in rows],
            )
    finally:
        source.close()
        await conn.close()


async def test_ciphertext_written_by_sqlite_opens_in_postgres(tmp_path: Path, url: str) -> None:
    cipher = TextCipher(KEY)
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path, cipher) as lite:
        await lite.commit(1, everything(SECRET), NOW, update_id=5, next_checkin=LATER)
        await lite.commit(1, turn(None, KeepPromise(1, "2025-03-01")), NOW)
        await lite.commit(2, everything("someone else"), NOW)
        expected = [await lite.export_user(u) for u in (1, 2)]
        expected_load = await lite.load(1, LATER)
        expected_reply = await lite.unsent_reply(1, 5)
    with sqlite3.connect(path) as raw:
        (stored,) = raw.execute("SELECT text FROM journal WHERE user_id = 1").fetchone()
    raw.close()
    assert looks_encrypted(stored)
    async with PostgresStore(url):
        pass  # the schema
    await copy_sqlite_rows(path, url)
    conn = await asyncpg.connect(url)
    assert await conn.fetchval("SELECT text FROM journal WHERE user_id = 1") == stored
    await conn.close()
    async with PostgresStore(url, cipher) as pg:
        assert [await pg.export_user(u) for u in (1, 2)] == expected
        assert await pg.load(1, LATER) == expected_load
        assert await pg.unsent_reply(1, 5) == expected_reply
        due = await pg.claim_due(LATER, 10, RECLAIM)
        assert [(i.kind, i.user_id, i.flow) for i in due] == [
            ("checkin", 1, "checkin"),
            ("follow_up", 1, "debrief"),  # a coded name, decoded with the same context
            ("follow_up", 2, "debrief"),
        ]
    with pytest.raises(KeyMissing):
        await PostgresStore(url).open()
    with pytest.raises(CannotDecrypt):
        await PostgresStore(url, TextCipher(generate_key())).open()


async def test_nothing_of_the_words_is_stored_plain(url: str) -> None:
    async with PostgresStore(url, TextCipher(KEY)) as s:
        await s.commit(1, everything(SECRET), NOW, update_id=3)
        assert (await s.load(1, NOW)).answers == {"what_happened": SECRET}
    conn = await asyncpg.connect(url)
    try:
        for table in ("sessions", "answers", "journal", "commitments", "outbox"):
            text = await conn.fetchval(f"SELECT string_agg(t::text, '|') FROM \"{table}\" AS t")
            assert SECRET not in text and "Tuesday" not in text, table
        kinds = await conn.fetchval("SELECT string_agg(kind || name, '') FROM crisis_flags, marks")
        assert "self_harm" not in kinds and "talk_hard" not in kinds
    finally:
        await conn.close()


async def test_rotate_key(url: str) -> None:
    old, new = TextCipher(KEY), TextCipher(generate_key())
    async with PostgresStore(url, old) as s:
        await s.commit(1, everything(SECRET), NOW, update_id=3)
        before = await s.export_user(1)
    assert await rotate_key(url, old, new) > 0
    assert await rotate_key(url, old, new) == 0  # twice: harmless
    with pytest.raises(CannotDecrypt):
        await PostgresStore(url, old).open()
    async with PostgresStore(url, new) as s:
        assert await s.export_user(1) == before
    assert await rotate_key(url, new, None) > 0  # back to plain
    async with PostgresStore(url) as s:
        assert await s.export_user(1) == before


async def test_replicas_share_one_send_budget_on_the_servers_clock(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    from bot.schedule.shared_pacer import SharedPacer
    from bot.store.factory import shared_send_budget
    from tests.harness import most_in_one_second

    budgets = [shared_send_budget(store) for store in replicas]
    pacers = [SharedPacer(budget, rate=10.0, reserve=2.0) for budget in budgets if budget]
    assert len(pacers) == 2
    sent: list[float] = []

    async def replica(pacer: SharedPacer) -> None:
        for _ in range(12):  # 24 sends at 10/s between two replicas: over two seconds
            await pacer.interactive()
            sent.append(time.monotonic())

    began = time.monotonic()
    await asyncio.gather(*(replica(p) for p in pacers))
    assert len(sent) == 24
    # Alone, each replica's local pacer would allow 10 at once: 20 in the first second.
    assert most_in_one_second(sent) <= 10 + 1  # +1: our clock is not the server's
    assert time.monotonic() - began >= 1.9
