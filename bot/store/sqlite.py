"""The store on one SQLite file, through aiosqlite.

- WAL journal, `synchronous=NORMAL`, foreign keys on, a busy timeout, `secure_delete` on
  (erased rows are overwritten, not left in free pages).
- ONE connection, and an `asyncio.Lock` around every transaction: an aiosqlite connection
  shared by concurrent tasks would interleave their statements into each other's
  transactions. Reads go through the same connection under the same lock: simple and
  correct, and at this size the lock is never the bottleneck (a turn is a few hundred
  microseconds of SQLite work). A separate read-only connection could be added later.
- Every write is a `BEGIN IMMEDIATE ... COMMIT` transaction; any failure rolls it back, so a
  turn is written whole or not at all. A read-only or full disk surfaces as
  `StoreUnavailable`.
- `load` runs on every turn, so it is ONE read statement (its own consistent snapshot, no
  write lock) for a person already known: each statement is a round trip to aiosqlite's
  thread, and those round trips, not SQLite, are most of a call's cost.
- Numbered migrations (`bot/store/migrations/NNNN_*.sql`) run at `open()` inside one
  transaction, tracked by `PRAGMA user_version`. A newer database than the code knows
  raises `SchemaTooNew`.
- The file is created owner-only (0600) before SQLite touches it. A database that existed
  is never silently recreated, and one deleted while open is noticed (identity.py); the
  key is checked against every encrypted column at open (keycheck.py); an erasure's
  checkpoint is verified and retried (walcheck.py). One process per file: lockfile.py.
- With a `TextCipher`, every free-text value (answers, journal, commitments, the session
  state that holds a draft) is encrypted at rest; see `bot/store/crypto.py`. Plain values
  from before encryption was on are still read; `rotate_key` re-encrypts a database.
- The schedule lives here too: `next_checkin_at` per person and the `follow_ups` rows are
  what the dispatcher claims (`claim_due`) and completes.

Datetimes are stored as fixed-width ISO-8601 UTC text. Nothing here logs a person's words.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, assert_never

import aiosqlite

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
from bot.store.codec import (
    CHECKIN_FLOW,
    MAX_PROMISES,
    SETTING_NAMES,
    TALK_FLOW,
    check_day,
    decode_state,
    encode_state,
    local_today,
    parse_utc,
    position_to_dict,
    progress_facts,
    setting_to_db,
    settings_from_db,
    settings_to_db,
    settings_to_json,
    utc_text,
)
from bot.store.crypto import (
    CannotDecrypt,
    TextCipher,
    code,
    looks_encrypted,
    seal,
    uncode,
    unseal,
)
from bot.store.identity import FileWatch, reconcile, refuse_if_missing
from bot.store.keycheck import check_every_column
from bot.store.outbox import Reply, decode_reply, encode_reply, owes_reply
from bot.store.protocol import (
    KEEP_UPDATE_IDS,
    NOT_REPLANNED,
    CheckinState,
    Commitment,
    DueItem,
    NotReplanned,
    SchemaTooNew,
    StoreUnavailable,
)
from bot.store.walcheck import ATTEMPT_BUSY_MS, ATTEMPT_WAITS, WalTruncation

log = logging.getLogger(__name__)

CODED_SETTING = "safety"  # the only setting that says something about the person
_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_SIDECARS = ("-wal", "-shm")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        return split_sql(self.sql)


def load_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in `bot.store.migrations`, numbered 1, 2, 3... without gaps."""
    found: list[Migration] = []
    for entry in resources.files("bot.store.migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match and entry.is_file():
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    if not found:
        # Without this, an install missing its .sql files would open an empty database, or call
        # an existing one "too new".
        raise RuntimeError(
            "no SQL migrations found in bot.store.migrations: the package data (*.sql) is "
            "missing from this installation"
        )
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"store migrations must be numbered 1..n without gaps, found {numbers}")
    return tuple(found)


def split_sql(script: str) -> list[str]:
    """Split a script into statements (so they can run inside our own transaction)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    rest = [ln for ln in pending.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if rest:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest[0]!r}")
    return statements


def _unavailable(exc: sqlite3.Error, path: Path) -> StoreUnavailable | None:
    """A plain StoreUnavailable for errors of the environment; None for anything else."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        why = "is read-only (check the permissions of the file and its directory, and the mount)"
    elif name == "SQLITE_FULL" or "disk is full" in text:
        why = "cannot grow: the disk is full"
    elif name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        why = "cannot be opened"
    elif name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        why = "hit a disk I/O error"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        why = "is locked by another process"
    elif name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in text:
        why = "is not a SQLite database, or is damaged"
    else:
        return None
    return StoreUnavailable(f"the database {path} {why}")


def _quiet_aiosqlite() -> None:
    """aiosqlite's DEBUG records show every statement's parameters: people's words.

    Unless someone configured that logger on purpose, keep it above DEBUG, so that a root
    logger at DEBUG does not copy answers and journal entries into the logs.
    """
    logger = logging.getLogger("aiosqlite")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# -- SQL built once ----------------------------------------------------------------------------

_SETTING_COLUMNS = ", ".join(_quote(n) for n in SETTING_NAMES)


def _touch_user_sql(replan: bool) -> str:
    """A committed turn: create the person if new, else mark them active and seen now, and
    (`replan`) store their next check-in, clearing any claim on the previous one.

    Someone inactive (they had blocked the bot) who sends anything is back: active again,
    and any plan left from before is dropped, so the dispatcher's `plan_missing` plans
    their next check-in afresh (SET expressions read the row as it was before the update).
    """
    columns = f"user_id, created_at, {_SETTING_COLUMNS}, last_seen"
    values = f"?, ?{', ?' * len(SETTING_NAMES)}, ?"
    update = "active = 1, last_seen = excluded.last_seen"
    if replan:
        columns += ", next_checkin_at"
        values += ", ?"
        update += ", next_checkin_at = excluded.next_checkin_at, checkin_claimed_at = NULL"
    else:
        update += (
            ", next_checkin_at = CASE WHEN active = 1 THEN next_checkin_at END"
            ", checkin_claimed_at = CASE WHEN active = 1 THEN checkin_claimed_at END"
        )
    return (
        f"INSERT INTO users ({columns}) VALUES ({values})"
        f" ON CONFLICT (user_id) DO UPDATE SET {update}"
    )


_TOUCH_USER = _touch_user_sql(replan=False)
_TOUCH_USER_REPLAN = _touch_user_sql(replan=True)

# Everything `load` needs, in ONE statement (one round trip, one consistent snapshot). Rows
# (k, a, b, c, d) by kind k:
#   user     a: JSON [created_at, *settings]  b: session state  c: commitments  d: checks
#   answer   a: name  b: value
#   flow     a: flow  b: completions  c: in the last 7 days  d: in the last 30 days
#   mark     a: name  b: count
#   promise  a: id  b: text  c: created_at  d: the days it was kept, from :since on
# Local "today" is within a day of the UTC date in every zone, so the promise rows carry
# the checks of the last few days and Python picks the person's local date among them.
_LOAD = f"""
SELECT 'user' AS k, json_array(u.created_at, {", ".join(f"u.{_quote(n)}" for n in SETTING_NAMES)})
       AS a, s.state AS b,
       (SELECT count(*) FROM commitments WHERE user_id = :u) AS c,
       (SELECT count(*) FROM promise_checks WHERE user_id = :u) AS d
  FROM users AS u LEFT JOIN sessions AS s ON s.user_id = u.user_id
 WHERE u.user_id = :u
UNION ALL
SELECT 'answer', name, value, NULL, NULL FROM answers WHERE user_id = :u
UNION ALL
SELECT 'flow', flow, count(*), sum(completed_at >= :week), sum(completed_at >= :month)
  FROM completions WHERE user_id = :u GROUP BY flow
UNION ALL
SELECT 'mark', name, count(*), NULL, NULL FROM marks WHERE user_id = :u GROUP BY name
UNION ALL
SELECT 'promise', c.id, c.text, c.created_at,
       (SELECT group_concat(p.day) FROM promise_checks AS p
         WHERE p.user_id = :u AND p.commitment_id = c.id AND p.day >= :since)
  FROM (SELECT id, text, created_at FROM commitments
         WHERE user_id = :u AND status = 'open'
         ORDER BY created_at, id LIMIT {MAX_PROMISES}) AS c
"""

# Up to :limit due items of each of the four sources, each read in due order from its own
# index, then the :limit oldest of them all (kind, id: a stable order for equal times).
_CLAIMABLE = """
SELECT kind, id, user_id, flow, node, due_at FROM (
  SELECT * FROM (
    SELECT 'checkin' AS kind, user_id AS id, user_id, 'checkin' AS flow, '' AS node,
           next_checkin_at AS due_at
      FROM users
     WHERE next_checkin_at IS NOT NULL AND checkin_claimed_at IS NULL
       AND active = 1 AND checkins = 1 AND next_checkin_at <= :now
     ORDER BY next_checkin_at, user_id LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'checkin', user_id, user_id, 'checkin', '', next_checkin_at
      FROM users
     WHERE checkin_claimed_at IS NOT NULL AND checkin_claimed_at <= :stale
       AND next_checkin_at <= :now AND active = 1 AND checkins = 1
     ORDER BY next_checkin_at, user_id LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'follow_up', f.id, f.user_id, f.flow, f.node, f.due_at
      FROM follow_ups AS f JOIN users AS u ON u.user_id = f.user_id
     WHERE f.status = 'pending' AND f.due_at <= :now AND u.active = 1
     ORDER BY f.due_at, f.id LIMIT :limit)
  UNION ALL
  SELECT * FROM (
    SELECT 'follow_up', f.id, f.user_id, f.flow, f.node, f.due_at
      FROM follow_ups AS f JOIN users AS u ON u.user_id = f.user_id
     WHERE f.status = 'claimed' AND f.claimed_at <= :stale AND f.due_at <= :now
       AND u.active = 1
     ORDER BY f.due_at, f.id LIMIT :limit)
)
ORDER BY due_at, kind, id LIMIT :limit
"""

# The free-text columns encrypted at rest: (table, key columns, text columns).
ENCRYPTED_COLUMNS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("sessions", ("user_id",), ("state",)),
    ("answers", ("user_id", "name"), ("value",)),
    ("journal", ("id",), ("text",)),
    ("commitments", ("id",), ("text", "due")),
    ("outbox", ("user_id", "update_id"), ("body",)),
)
# Names the database groups or filters by, coded (deterministic) rather than encrypted: a
# crisis kind, a completed flow, a mark such as "debrief_danger" or the safety flag would
# otherwise say at rest what the person went through.
CODED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("completions", "rowid", "flow"),
    ("marks", "id", "name"),
    ("crisis_flags", "id", "kind"),
    ("follow_ups", "id", "flow"),
    ("users", "user_id", "safety"),
)


def _ctx(column: str, user_id: int) -> str:
    """What an encrypted value is bound to: its column and its person ("answers.value/7")."""
    return f"{column}/{user_id}"


class _Duplicate(Exception):
    """Raised inside a commit's transaction to roll it back: the update was seen before."""


class SqliteStore:
    """`Store` on a SQLite file. `await store.open()` before use, `await store.close()` after.

    With a `cipher`, the person's words are encrypted at rest (bot/store/crypto.py).
    """

    def __init__(
        self,
        path: str | Path,
        cipher: TextCipher | None = None,
        *,
        busy_timeout_ms: int = 5000,
        migrations: Sequence[Migration] | None = None,
        defaults: Settings | None = None,
    ) -> None:
        self._path = Path(path)
        # Settings a person starts with (DEFAULT_TIMEZONE lands here).
        self._defaults = tuple(settings_to_db(defaults or Settings()).values())
        self._default_settings = defaults or Settings()
        self._cipher = cipher
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._migrations = tuple(migrations) if migrations is not None else None
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._user_tables: tuple[str, ...] = ()
        self._check_key_at_open = True
        self._watch: FileWatch | None = None  # notices the file deleted under us
        self._wal = WalTruncation()  # an erasure's WAL not yet emptied

    @property
    def path(self) -> Path:
        return self._path

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- life cycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._conn is not None:
            return
        migrations = self._migrations if self._migrations is not None else load_migrations()
        _quiet_aiosqlite()
        in_memory = str(self._path) == ":memory:"
        if not in_memory:
            refuse_if_missing(self._path)  # never recreate, empty, a database that existed
            self._create_file()
        try:
            conn = await aiosqlite.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            raise (_unavailable(exc, self._path) or exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            await self._configure(conn, in_memory)
            await self._migrate(conn, migrations)
            self._user_tables = await self._find_user_tables(conn)
            if self._check_key_at_open:
                await self._check_key(conn)
            if not in_memory:
                await reconcile(conn, self._path)
                self._watch = FileWatch(self._path)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise (_unavailable(exc, self._path) or exc) from exc
            raise
        self._conn = conn
        if not in_memory:
            self._protect_sidecars()

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            self._watch = None
            if conn is not None:
                await conn.close()

    def _create_file(self) -> None:
        """Create the database file owner-only before SQLite does (SQLite would use 0644)."""
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreUnavailable(
                f"the database {self._path} cannot be created or opened: {exc.strerror}"
            ) from exc
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        if mode & 0o077:
            log.warning("database file %s is readable by others (mode %o)", self._path, mode)

    def _protect_sidecars(self) -> None:
        for suffix in _SIDECARS:
            sidecar = Path(f"{self._path}{suffix}")
            with suppress(FileNotFoundError):
                os.chmod(sidecar, 0o600)

    async def _configure(self, conn: aiosqlite.Connection, in_memory: bool) -> None:
        # busy_timeout first, so that the statements after it wait for a busy file.
        await conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA secure_delete = ON")
        # 32 MiB of page cache (the default is 2 MiB): the users table and its schedule
        # indexes stay in memory with 100,000 people; a claim batch updates twice as fast.
        await conn.execute("PRAGMA cache_size = -32768")
        rows = await conn.execute_fetchall("PRAGMA journal_mode = WAL")
        mode = str(next(iter(rows))[0]).lower()
        if mode != "wal" and not in_memory:
            log.warning("database %s could not switch to WAL (journal_mode=%s)", self._path, mode)
        await conn.execute("PRAGMA synchronous = NORMAL")

    async def _migrate(self, conn: aiosqlite.Connection, migrations: Sequence[Migration]) -> None:
        latest = migrations[-1].version if migrations else 0
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await _scalar(conn, "PRAGMA user_version")
            if current > latest:
                raise SchemaTooNew(
                    f"the database {self._path} has schema version {current}, but this version "
                    f"of Mend knows only up to {latest}: it was written by a newer Mend. "
                    "Refusing to start; run the newer code or restore a backup that matches."
                )
            applied: list[str] = []
            for migration in migrations:
                if migration.version <= current:
                    continue
                for statement in migration.statements():
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {int(migration.version)}")
                applied.append(migration.name)
            await conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        if applied:
            log.info("database %s migrated to schema %d (%s)", self._path, latest, applied)

    @staticmethod
    async def _find_user_tables(conn: aiosqlite.Connection) -> tuple[str, ...]:
        """Every table with a `user_id` column, `users` last (the others refer to it)."""
        rows = await conn.execute_fetchall(
            "SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c"
            " WHERE m.type = 'table' AND c.name = 'user_id' ORDER BY m.name"
        )
        names = [str(r[0]) for r in rows]
        return (*(n for n in names if n != "users"), *(n for n in names if n == "users"))

    async def _check_key(self, conn: aiosqlite.Connection) -> None:
        """Fail at start, not on someone's turn, when the key does not fit the database:
        encrypted but no key (KeyMissing), or another key (CannotDecrypt), in ANY column."""
        await check_every_column(
            conn, self._cipher, ENCRYPTED_COLUMNS, CODED_COLUMNS, set(self._user_tables), _ctx
        )

    # -- transactions -----------------------------------------------------------------------

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, alone (under the lock); SQLite's environment errors made plain."""
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("the store is not open: await store.open() first")
            if self._watch is not None:
                self._watch.check()  # one stat: never write into a deleted file's inode
            try:
                yield conn
            except sqlite3.Error as exc:
                unavailable = _unavailable(exc, self._path)
                if unavailable is not None:
                    raise unavailable from exc
                raise
            if self._wal.due():
                await self._retry_checkpoint(conn)

    @asynccontextmanager
    async def _transaction(self, *, write: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction, alone on the connection; committed on success, else rolled back."""
        async with self._connection() as conn, _begun(conn, write=write):
            yield conn

    # -- the Store interface ----------------------------------------------------------------

    async def load(self, user_id: int, now: datetime) -> Session:
        params = {
            "u": user_id,
            "week": utc_text(now - timedelta(days=7)),
            "month": utc_text(now - timedelta(days=30)),
            "since": (now.astimezone(UTC) - timedelta(days=2)).date().isoformat(),
        }
        async with self._connection() as conn:
            rows = list(await conn.execute_fetchall(_LOAD, params))
        if not any(row[0] == "user" for row in rows):
            # Not known (new, or deleted): nothing is written until they agree to storage;
            # the turn that records their consent creates them.
            return Session(settings=self._default_settings, known=False, facts=self._facts())
        session = self._session(user_id, now, rows)
        return dataclasses.replace(session, facts={**session.facts, **self._facts()})

    def _facts(self) -> dict[str, str]:
        """What the coach may tell the person about this store (shown by /privacy)."""
        return {ENCRYPTED_FACT: "yes" if self._cipher is not None else "no"}

    def _settings(self, user_id: int, row: dict[str, Any]) -> Settings:
        coded = str(row[CODED_SETTING])
        row = {**row, CODED_SETTING: uncode(self._cipher, coded, _ctx("users.safety", user_id))}
        return settings_from_db(row)

    def _session(self, user_id: int, now: datetime, rows: list[sqlite3.Row]) -> Session:
        cipher = self._cipher
        head: sqlite3.Row | None = None
        answers: dict[str, str] = {}
        flows: dict[str, tuple[int, int, int]] = {}
        marks: dict[str, int] = {}
        open_rows: list[sqlite3.Row] = []
        answer_ctx = _ctx("answers.value", user_id)
        for row in rows:
            kind = row[0]
            if kind == "answer":
                answers[row[1]] = unseal(cipher, row[2], answer_ctx)
            elif kind == "flow":
                # Plain rows from before the key and coded ones may both be there: add up.
                flow = uncode(cipher, row[1], _ctx("completions.flow", user_id))
                counts = flows.get(flow, (0, 0, 0))
                flows[flow] = (counts[0] + int(row[2]), counts[1] + int(row[3]),
                               counts[2] + int(row[4]))  # fmt: skip
            elif kind == "mark":
                mark = uncode(cipher, row[1], _ctx("marks.name", user_id))
                marks[mark] = marks.get(mark, 0) + int(row[2])
            elif kind == "promise":
                open_rows.append(row)
            else:
                head = row
        assert head is not None
        created_at, *setting_values = json.loads(head[1])
        settings = self._settings(user_id, dict(zip(SETTING_NAMES, setting_values, strict=True)))
        stored_state = head[2]
        state = (
            None
            if stored_state is None
            else unseal(cipher, stored_state, _ctx("sessions.state", user_id))
        )
        position, suspended = decode_state(state, user_id)
        today = local_today(now, settings.timezone).isoformat()
        open_rows.sort(key=lambda r: (r[3], r[1]))
        promise_ctx = _ctx("commitments.text", user_id)
        promises = tuple(
            Promise(
                id=int(r[1]),
                text=unseal(cipher, r[2], promise_ctx),
                kept_today=r[4] is not None and today in r[4].split(","),
            )
            for r in open_rows
        )
        no_flow = (0, 0, 0)
        return Session(
            position=position,
            answers=answers,
            settings=settings,
            completed=frozenset(flows),
            started_at=parse_utc(created_at),
            suspended=suspended,
            promises=promises,
            facts=progress_facts(
                checkins_7d=flows.get(CHECKIN_FLOW, no_flow)[1],
                checkins_30d=flows.get(CHECKIN_FLOW, no_flow)[2],
                promises_made=int(head[3]),
                promises_kept=int(head[4]),
                talks=flows.get(TALK_FLOW, no_flow)[0],
                marks=marks,
            ),
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
        now_text = utc_text(now)
        session = turn.session
        state = seal(
            self._cipher,
            encode_state(session.position, session.suspended),
            _ctx("sessions.state", user_id),
        )
        touch: tuple[object, ...] = (user_id, now_text, *self._defaults, now_text)
        if isinstance(next_checkin, NotReplanned):
            touch_sql = _TOUCH_USER
        else:
            touch_sql = _TOUCH_USER_REPLAN
            touch = (*touch, None if next_checkin is None else utc_text(next_checkin))
        async with self._connection() as conn:
            try:
                async with _begun(conn, write=True):
                    await conn.execute(touch_sql, touch)
                    if update_id is not None:
                        cursor = await conn.execute(
                            "INSERT INTO processed_updates (user_id, update_id) VALUES (?, ?)"
                            " ON CONFLICT DO NOTHING",
                            (user_id, update_id),
                        )
                        if cursor.rowcount == 0:
                            raise _Duplicate
                    await conn.execute(
                        "INSERT INTO sessions (user_id, state, updated_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (user_id) DO UPDATE"
                        " SET state = excluded.state, updated_at = excluded.updated_at",
                        (user_id, state, now_text),
                    )
                    for effect in turn.effects:
                        await _apply(conn, self._cipher, user_id, effect, now_text)
                    if update_id is not None and owes_reply(turn):
                        await conn.execute(
                            "INSERT INTO outbox (user_id, update_id, body, created_at)"
                            " VALUES (?, ?, ?, ?)",
                            (user_id, update_id, self._seal_reply(user_id, turn), now_text),
                        )
                    if update_id is not None:
                        await conn.execute(
                            "DELETE FROM processed_updates WHERE user_id = ? AND update_id < ("
                            " SELECT update_id FROM processed_updates WHERE user_id = ?"
                            " ORDER BY update_id DESC LIMIT 1 OFFSET ?)",
                            (user_id, user_id, KEEP_UPDATE_IDS - 1),
                        )
            except _Duplicate:
                return False
        return True

    def _seal_reply(self, user_id: int, turn: Turn) -> str:
        return seal(self._cipher, encode_reply(turn), _ctx("outbox.body", user_id))

    def _reply(self, row: sqlite3.Row) -> Reply:
        user_id, update_id = int(row[0]), int(row[1])
        body = unseal(self._cipher, str(row[2]), _ctx("outbox.body", user_id))
        return decode_reply(user_id, update_id, body)

    async def unsent_reply(self, user_id: int, update_id: int) -> Reply | None:
        async with self._connection() as conn:
            row = await _one(
                conn,
                "SELECT user_id, update_id, body FROM outbox WHERE user_id = ? AND update_id = ?",
                user_id,
                update_id,
            )
        return None if row is None else self._reply(row)

    async def unsent_replies(self, older_than: datetime, limit: int) -> list[Reply]:
        async with self._connection() as conn:
            rows = await conn.execute_fetchall(
                "SELECT user_id, update_id, body FROM outbox WHERE created_at <= ?"
                " ORDER BY created_at, user_id, update_id LIMIT ?",
                (utc_text(older_than), limit),
            )
        return [self._reply(row) for row in rows]

    async def reply_sent(self, user_id: int, update_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "DELETE FROM outbox WHERE user_id = ? AND update_id = ?", (user_id, update_id)
            )

    async def set_active(self, user_id: int, active: bool) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET active = ? WHERE user_id = ?", (int(active), user_id)
            )

    async def export_user(self, user_id: int) -> dict[str, object]:
        async with self._transaction(write=False) as conn:
            user = await _one(conn, "SELECT * FROM users WHERE user_id = ?", user_id)
            session = await _one(
                conn, "SELECT state, updated_at FROM sessions WHERE user_id = ?", user_id
            )
            answers = await _all(
                conn,
                "SELECT name, value, updated_at FROM answers WHERE user_id = ? ORDER BY name",
                user_id,
            )
            journal = await _all(
                conn,
                "SELECT id, flow, text, created_at FROM journal WHERE user_id = ? ORDER BY id",
                user_id,
            )
            commitments = await _all(
                conn,
                "SELECT id, text, due, status, created_at, resolved_at FROM commitments"
                " WHERE user_id = ? ORDER BY id",
                user_id,
            )
            promise_checks = await _all(
                conn,
                "SELECT commitment_id, day, created_at FROM promise_checks"
                " WHERE user_id = ? ORDER BY commitment_id, day",
                user_id,
            )
            follow_ups = await _all(
                conn,
                "SELECT id, flow, node, due_at, status, created_at, claimed_at, sent_at"
                " FROM follow_ups WHERE user_id = ? ORDER BY id",
                user_id,
            )
            completions = await _all(
                conn,
                "SELECT flow, completed_at FROM completions WHERE user_id = ?"
                " ORDER BY completed_at, rowid",
                user_id,
            )
            marks = await _all(
                conn, "SELECT name, created_at FROM marks WHERE user_id = ? ORDER BY id", user_id
            )
            crisis_flags = await _all(
                conn,
                "SELECT kind, created_at FROM crisis_flags WHERE user_id = ? ORDER BY id",
                user_id,
            )
            updates = await conn.execute_fetchall(
                "SELECT update_id FROM processed_updates WHERE user_id = ? ORDER BY update_id",
                (user_id,),
            )
        cipher = self._cipher
        for row in answers:
            row["value"] = unseal(cipher, row["value"], _ctx("answers.value", user_id))
        for row in journal:
            row["text"] = unseal(cipher, row["text"], _ctx("journal.text", user_id))
        for rows, column in (
            (completions, "completions.flow"),
            (marks, "marks.name"),
            (crisis_flags, "crisis_flags.kind"),
            (follow_ups, "follow_ups.flow"),
        ):
            for row in rows:
                name = column.split(".")[1]
                row[name] = uncode(cipher, row[name], _ctx(column, user_id))
        for row in commitments:
            row["text"] = unseal(cipher, row["text"], _ctx("commitments.text", user_id))
            row["due"] = unseal(cipher, row["due"], _ctx("commitments.due", user_id))
        user_doc: dict[str, object] | None = None
        if user is not None:
            user_doc = {
                "created_at": user["created_at"],
                "last_seen": user["last_seen"],
                "active": bool(user["active"]),
                "settings": settings_to_json(self._settings(user_id, dict(user))),
                "next_checkin_at": user["next_checkin_at"],
                "checkin_claimed_at": user["checkin_claimed_at"],
                "last_checkin_date": user["last_checkin_date"],
                "last_checkin_at": user["last_checkin_at"],
            }
        session_doc: dict[str, object] | None = None
        if session is not None:
            state = unseal(cipher, session["state"], _ctx("sessions.state", user_id))
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

    async def delete_user(self, user_id: int) -> None:
        async with self._transaction() as conn:
            for table in self._user_tables:
                await conn.execute(f"DELETE FROM {_quote(table)} WHERE user_id = ?", (user_id,))
        await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Move pages out of the WAL into the (zeroing, secure_delete) main file and empty
        the WAL, verified; a reader in the way: retried, then left pending (walcheck.py)."""
        for wait in ATTEMPT_WAITS:
            await asyncio.sleep(wait)  # the lock is free meanwhile: turns go on
            async with self._connection() as conn:
                if await self._wal.attempt(conn, ATTEMPT_BUSY_MS, self._busy_timeout_ms):
                    return
        log.warning("database %s: a reader keeps the WAL from emptying; retrying", self._path)

    async def _retry_checkpoint(self, conn: aiosqlite.Connection) -> None:
        """The pending checkpoint, at the store's next use: no waiting, never failing it."""
        try:
            done = await self._wal.attempt(conn, 0, self._busy_timeout_ms)
        except sqlite3.Error as exc:
            self._wal.pending = True
            log.warning("database %s: checkpoint failed (%s)", self._path, type(exc).__name__)
            return
        if done:
            log.info("database %s: the pending checkpoint is done", self._path)

    async def flush_erasures(self) -> bool:
        """Retry a pending checkpoint now (a periodic call may use it); True if none is left."""
        if self._wal.pending:
            async with self._connection() as conn:
                if self._wal.pending:
                    await self._retry_checkpoint(conn)
        return not self._wal.pending

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
                text=unseal(cipher, r["text"], _ctx("commitments.text", user_id)),
                due=unseal(cipher, r["due"], _ctx("commitments.due", user_id)),
                created_at=parse_utc(r["created_at"]),
                status=str(r["status"]),
            )
            for r in rows
        ]

    # -- the schedule -----------------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int, reclaim_after: timedelta) -> list[DueItem]:
        if limit <= 0:
            return []
        now_text = utc_text(now)
        params = {"now": now_text, "stale": utc_text(now - reclaim_after), "limit": int(limit)}
        async with self._transaction() as conn:
            rows = list(await conn.execute_fetchall(_CLAIMABLE, params))
            checkins = [(now_text, r[1]) for r in rows if r[0] == "checkin"]
            follow_ups = [(now_text, r[1]) for r in rows if r[0] != "checkin"]
            if checkins:
                await conn.executemany(
                    "UPDATE users SET checkin_claimed_at = ? WHERE user_id = ?", checkins
                )
            if follow_ups:
                await conn.executemany(
                    "UPDATE follow_ups SET status = 'claimed', claimed_at = ? WHERE id = ?",
                    follow_ups,
                )
        return [
            DueItem(
                kind=str(r[0]),
                id=int(r[1]),
                user_id=int(r[2]),
                flow=uncode(self._cipher, str(r[3]), _ctx("follow_ups.flow", int(r[2]))),
                node=str(r[4]),
                due_at=parse_utc(r[5]),
            )
            for r in rows
        ]

    async def complete_checkin(
        self, user_id: int, sent_at: datetime, local_date: date | None, next_at: datetime | None
    ) -> None:
        # Someone inactive (they blocked the bot meanwhile) gets no next check-in: a stopped
        # schedule stays stopped until they come back and it is planned again.
        next_text = None if next_at is None else utc_text(next_at)
        sent_text = utc_text(sent_at)
        if local_date is None:
            sql = (
                "UPDATE users SET checkin_claimed_at = NULL,"
                " next_checkin_at = CASE WHEN active = 1 THEN ? END WHERE user_id = ?"
            )
            params: tuple[object, ...] = (next_text, user_id)
        else:
            sql = (
                "UPDATE users SET checkin_claimed_at = NULL,"
                " next_checkin_at = CASE WHEN active = 1 THEN ? END,"
                " last_checkin_date = ?, last_checkin_at = ? WHERE user_id = ?"
            )
            params = (next_text, local_date.isoformat(), sent_text, user_id)
        async with self._transaction() as conn:
            await conn.execute(sql, params)

    async def complete_follow_up(self, item_id: int, now: datetime, sent: bool) -> None:
        now_text = utc_text(now)
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE follow_ups SET status = ?, sent_at = ?, claimed_at = NULL WHERE id = ?",
                ("sent" if sent else "dropped", now_text if sent else None, item_id),
            )

    async def checkin_state(self, user_id: int) -> CheckinState | None:
        async with self._connection() as conn:
            row = await _one(
                conn,
                f"SELECT {_SETTING_COLUMNS}, active, last_checkin_date, last_checkin_at"
                " FROM users WHERE user_id = ?",
                user_id,
            )
        if row is None:
            return None
        last_date, last_at = row["last_checkin_date"], row["last_checkin_at"]
        return CheckinState(
            user_id=user_id,
            settings=settings_from_db(dict(row)),
            last_local_date=None if last_date is None else date.fromisoformat(last_date),
            active=bool(row["active"]),
            last_sent_at=None if last_at is None else parse_utc(last_at),
        )

    async def unplanned_checkins(self, limit: int) -> list[int]:
        if limit <= 0:
            return []
        async with self._connection() as conn:
            rows = await conn.execute_fetchall(
                "SELECT user_id FROM users"
                " WHERE next_checkin_at IS NULL AND active = 1 AND checkins = 1"
                " ORDER BY user_id LIMIT ?",
                (int(limit),),
            )
        return [int(r[0]) for r in rows]

    async def stop_schedule(self, user_id: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE users SET active = 0, next_checkin_at = NULL, checkin_claimed_at = NULL"
                " WHERE user_id = ?",
                (user_id,),
            )
            await conn.execute(
                "UPDATE follow_ups SET status = 'dropped', claimed_at = NULL"
                " WHERE user_id = ? AND status IN ('pending', 'claimed')",
                (user_id,),
            )

    async def bulk_create_users(
        self, rows: list[tuple[int, datetime, Settings, datetime | None]]
    ) -> None:
        values = [
            (
                user_id,
                utc_text(created_at),
                *settings_to_db(settings).values(),
                None if next_at is None else utc_text(next_at),
            )
            for user_id, created_at, settings, next_at in rows
        ]
        try:
            async with self._transaction() as conn:
                await conn.executemany(
                    f"INSERT INTO users (user_id, created_at, {_SETTING_COLUMNS}, next_checkin_at)"
                    f" VALUES (?, ?{', ?' * len(SETTING_NAMES)}, ?)",
                    values,
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(
                "bulk_create_users: a user id exists already, or is given twice"
            ) from exc

    # -- encryption -------------------------------------------------------------------------

    async def _reencrypt(self, old: TextCipher | None, new: TextCipher | None) -> int:
        """Every encrypted column's values from `old` (or plain) to `new` (or plain), in one
        transaction; the number of values changed."""
        changed = 0
        async with self._transaction() as conn:
            for table, keys, columns in ENCRYPTED_COLUMNS:
                selected = ", ".join(_quote(c) for c in ("user_id", *keys, *columns))
                rows = await conn.execute_fetchall(f"SELECT {selected} FROM {_quote(table)}")
                updates: list[tuple[object, ...]] = []
                for row in rows:
                    user_id = int(row[0])
                    key_values = tuple(row[1 : 1 + len(keys)])
                    stored = [str(v) for v in row[1 + len(keys) :]]
                    values = [
                        _rekey(old, new, value, _ctx(f"{table}.{column}", user_id))
                        for column, value in zip(columns, stored, strict=True)
                    ]
                    n = sum(a != b for a, b in zip(stored, values, strict=True))
                    if n:
                        changed += n
                        updates.append((*values, *key_values))
                if updates:
                    assignments = ", ".join(f"{_quote(c)} = ?" for c in columns)
                    where = " AND ".join(f"{_quote(k)} = ?" for k in keys)
                    await conn.executemany(
                        f"UPDATE {_quote(table)} SET {assignments} WHERE {where}", updates
                    )
            for table, key, column in CODED_COLUMNS:
                rows = await conn.execute_fetchall(
                    f"SELECT user_id, {key}, {_quote(column)} FROM {_quote(table)}"
                    f" WHERE {_quote(column)} != ''"
                )
                recoded: list[tuple[object, ...]] = []
                for user_id, row_key, value in rows:
                    context = _ctx(f"{table}.{column}", int(user_id))
                    new_value = _recode(old, new, str(value), context)
                    if new_value != value:
                        recoded.append((new_value, row_key))
                if recoded:
                    changed += len(recoded)
                    await conn.executemany(
                        f"UPDATE {_quote(table)} SET {_quote(column)} = ? WHERE {key} = ?",
                        recoded,
                    )
        await self._checkpoint()
        return changed


async def rotate_key(path: str | Path, old: TextCipher | None, new: TextCipher | None) -> int:
    """Re-encrypt every encrypted value of the database at `path` from `old` to `new`, in one
    transaction; the number of values changed. Run it with the bot stopped.

    `old` None: the database is plain (encrypting it for the first time); `new` None:
    decrypt it. Values already under `new` are left alone, so running it twice is harmless.
    A value neither key decrypts raises `CannotDecrypt` and nothing is changed.
    """
    store = SqliteStore(path)
    store._check_key_at_open = False
    await store.open()
    try:
        return await store._reencrypt(old, new)
    finally:
        await store.close()


def _rekey(old: TextCipher | None, new: TextCipher | None, value: str, context: str) -> str:
    if looks_encrypted(value):
        try:
            if old is None:
                raise CannotDecrypt("no old key given")
            plain = old.decrypt(value, context)
        except CannotDecrypt:
            if new is not None:
                with suppress(CannotDecrypt):
                    new.decrypt(value, context)
                    return value  # already under the new key
            raise CannotDecrypt(
                "a stored value decrypts with neither the old nor the new key: "
                "check the keys given; nothing was changed"
            ) from None
    else:
        plain = value
    return seal(new, plain, context)


def _recode(old: TextCipher | None, new: TextCipher | None, value: str, context: str) -> str:
    try:
        name = uncode(old, value, context)
    except CannotDecrypt:
        if new is not None:
            with suppress(CannotDecrypt):
                new.uncode(value, context)
                return value  # already under the new key
        raise CannotDecrypt(
            "a stored name decodes with neither the old nor the new key: "
            "check the keys given; nothing was changed"
        ) from None
    return code(new, name, context)


# -- helpers (run inside a transaction) -------------------------------------------------------


@asynccontextmanager
async def _begun(conn: aiosqlite.Connection, *, write: bool) -> AsyncIterator[None]:
    """BEGIN (IMMEDIATE when it writes) ... COMMIT, or ROLLBACK on any failure."""
    await conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        await conn.execute("COMMIT")
    except BaseException:
        # Queued before the lock is released, so it runs before anyone's next BEGIN.
        # SQLite may already have rolled back (e.g. on a full disk): ignore that.
        with suppress(sqlite3.Error, ValueError):
            await conn.execute("ROLLBACK")
        raise


async def _scalar(conn: aiosqlite.Connection, sql: str, *params: object) -> int:
    rows = list(await conn.execute_fetchall(sql, params))
    return int(rows[0][0])


async def _one(conn: aiosqlite.Connection, sql: str, *params: object) -> sqlite3.Row | None:
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


async def _all(conn: aiosqlite.Connection, sql: str, *params: object) -> list[dict[str, Any]]:
    rows: Iterable[sqlite3.Row] = await conn.execute_fetchall(sql, params)
    return [dict(r) for r in rows]


async def _apply(
    conn: aiosqlite.Connection,
    cipher: TextCipher | None,
    user_id: int,
    effect: Effect,
    now_text: str,
) -> None:
    match effect:
        case SaveAnswer(name=name, value=value):
            await conn.execute(
                "INSERT INTO answers (user_id, name, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, name) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (user_id, name, seal(cipher, value, _ctx("answers.value", user_id)), now_text),
            )
        case SaveJournal(flow=flow, text=text):
            await conn.execute(
                "INSERT INTO journal (user_id, flow, text, created_at) VALUES (?, ?, ?, ?)",
                (user_id, flow, seal(cipher, text, _ctx("journal.text", user_id)), now_text),
            )
        case RecordCommitment(text=text, due=due):
            await conn.execute(
                "INSERT INTO commitments (user_id, text, due, status, created_at)"
                " VALUES (?, ?, ?, 'open', ?)",
                (
                    user_id,
                    seal(cipher, text, _ctx("commitments.text", user_id)),
                    seal(cipher, due, _ctx("commitments.due", user_id)),
                    now_text,
                ),
            )
        case ChangeSetting(name=name, value=value):
            column_value = setting_to_db(name, value)  # validates the name: safe to splice
            if name == CODED_SETTING and isinstance(column_value, str):
                column_value = code(cipher, column_value, _ctx("users.safety", user_id))
            await conn.execute(
                f"UPDATE users SET {_quote(name)} = ? WHERE user_id = ?", (column_value, user_id)
            )
        case ScheduleFollowUp(flow=flow, due_at=due_at, node=node):
            await conn.execute(
                "INSERT INTO follow_ups (user_id, flow, node, due_at, status, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)",
                (
                    user_id,
                    code(cipher, flow, _ctx("follow_ups.flow", user_id)),
                    node,
                    utc_text(due_at),
                    now_text,
                ),
            )
        case CompleteFlow(flow=flow):
            await conn.execute(
                "INSERT INTO completions (user_id, flow, completed_at) VALUES (?, ?, ?)",
                (user_id, code(cipher, flow, _ctx("completions.flow", user_id)), now_text),
            )
        case KeepPromise(commitment_id=commitment_id, day=day):
            # Once per promise and day; a promise that is not the person's is ignored.
            await conn.execute(
                "INSERT INTO promise_checks (user_id, commitment_id, day, created_at)"
                " SELECT ?, ?, ?, ? WHERE EXISTS ("
                " SELECT 1 FROM commitments WHERE id = ? AND user_id = ?)"
                " ON CONFLICT DO NOTHING",
                (user_id, commitment_id, check_day(day), now_text, commitment_id, user_id),
            )
        case FlagCrisis(kind=kind):
            await conn.execute(
                "INSERT INTO crisis_flags (user_id, kind, created_at) VALUES (?, ?, ?)",
                (user_id, code(cipher, kind, _ctx("crisis_flags.kind", user_id)), now_text),
            )
        case Mark(name=name):
            await conn.execute(
                "INSERT INTO marks (user_id, name, created_at) VALUES (?, ?, ?)",
                (user_id, code(cipher, name, _ctx("marks.name", user_id)), now_text),
            )
        case Export() | Erase() | ShowChart() | Unpin():
            pass  # carried out by the caller (the Coach), not by the store
        case _:
            assert_never(effect)
