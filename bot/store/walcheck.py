"""Emptying the WAL after an erasure, verified, and retried until it is done.

`delete_user` zeroes a person's rows in place (`secure_delete`), but the WAL still holds
the pages as they were before, words included, until a checkpoint copies the new pages
into the main file and TRUNCATE empties the WAL. A reader in a read transaction (a backup,
someone's `sqlite3` shell) stops that: the checkpoint then reports `busy`, and ignoring
that would leave the words on disk. So its result is checked; it is retried a few times
with short waits, and then left *pending*: the store retries at its next use (throttled),
until it succeeds. The dispatcher's claim loop uses the store every second or so, which
makes that retry periodic while the bot runs; `SqliteStore.flush_erasures` retries on
demand. (At close, SQLite itself checkpoints and removes the WAL if it is the last
connection.)
"""

from __future__ import annotations

import time

import aiosqlite

# Waits (seconds) before each attempt at erasure time; the store's lock is free meanwhile.
ATTEMPT_WAITS = (0.0, 0.05, 0.2, 0.5)
ATTEMPT_BUSY_MS = 100  # how long one attempt waits for readers (not the 5 s busy timeout)
RETRY_EVERY = 5.0  # seconds between later attempts, so a long reader costs turns nothing


async def truncate_wal(conn: aiosqlite.Connection, wait_ms: int, restore_ms: int) -> bool:
    """One `wal_checkpoint(TRUNCATE)`; True when it completed (no reader in the way)."""
    await conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        rows = list(await conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await conn.execute(f"PRAGMA busy_timeout = {int(restore_ms)}")
    busy, frames, copied = (int(v) for v in rows[0])
    # (0, -1, -1): not in WAL mode (":memory:"), nothing to empty.
    return busy == 0 and frames == copied


class WalTruncation:
    """Whether an erasure's WAL is still to be emptied, and when to try again."""

    def __init__(self, retry_every: float = RETRY_EVERY) -> None:
        self.retry_every = retry_every
        self.pending = False
        self._next_at = 0.0

    def due(self) -> bool:
        return self.pending and time.monotonic() >= self._next_at

    async def attempt(self, conn: aiosqlite.Connection, wait_ms: int, restore_ms: int) -> bool:
        done = await truncate_wal(conn, wait_ms, restore_ms)
        self.pending = not done
        if not done:
            self._next_at = time.monotonic() + self.retry_every
        return done
