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
- With a `TextCipher`, every free-text value (answers, journal, commitments, the session
  state that holds a draft) is encrypted at rest; see `bot/store/crypto.py`. Plain values
  from before encryption was on are still read; `rotate_key` re-encrypts a database.

Datetimes are stored as fixed-width ISO-8601 UTC text. Nothing here logs a person's words.

By concept, one module each:
- connection.py: opening the file, migrations, error mapping, transactions, checkpoints;
- columns.py: the encrypted and coded columns and the context each value is bound to;
- sessions.py: `load`, `commit` and `_apply`, the effects of a turn;
- outbox.py: a turn's reply until it is sent;
- schedule.py: due check-ins and follow-ups (`claim_due`, `complete_checkin`...);
- export.py: a person's records, exported or erased;
- rekey.py: key rotation (`rotate_key`);
- bulk.py: loading many people at once, for benchmarks only.
"""

from __future__ import annotations

from bot.store.columns import CODED_COLUMNS, ENCRYPTED_COLUMNS
from bot.store.sqlite.bulk import Bulk
from bot.store.sqlite.connection import Migration, load_migrations, split_sql
from bot.store.sqlite.export import Records
from bot.store.sqlite.outbox import Outbox
from bot.store.sqlite.rekey import rotate_key
from bot.store.sqlite.schedule import _CLAIMABLE, Schedule
from bot.store.sqlite.sessions import Sessions

__all__ = [
    "CODED_COLUMNS",
    "ENCRYPTED_COLUMNS",
    "_CLAIMABLE",
    "Migration",
    "SqliteStore",
    "load_migrations",
    "rotate_key",
    "split_sql",
]


class SqliteStore(Sessions, Outbox, Schedule, Records, Bulk):
    """`Store` on a SQLite file. `await store.open()` before use, `await store.close()` after.

    With a `cipher`, the person's words are encrypted at rest (bot/store/crypto.py).
    """

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
