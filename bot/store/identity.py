"""A database is never silently recreated where one existed, nor written after it vanished.

SQLite creates a missing file without a word: a database deleted by mistake (or a volume
that failed to mount) would come back empty, and the bot would greet everyone as new. So:

- At first creation a random id is put in the database header (`PRAGMA application_id`:
  copied by backups, no table needed) and in a marker beside it, `<database>.id` (0600),
  with the date. If the marker exists but the database does not, `open` refuses
  (`DatabaseMissing`): restore a backup, or delete the marker to start empty.
- A database whose id differs from the marker's is another database put in its place:
  refused too (`DatabaseReplaced`). A database without an id (from before this check, or a
  backup of one) takes the marker's id.
- While running, `FileWatch` compares the file's device and inode before each use: a
  deleted or replaced file raises StoreUnavailable instead of writing into an unlinked inode
  that disappears at exit.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.store.protocol import StoreUnavailable

log = logging.getLogger(__name__)

_ID_KEY = "id"
_CREATED_KEY = "created"


class DatabaseMissing(StoreUnavailable):
    """The marker says a database was created here, but its file is gone."""


class DatabaseReplaced(StoreUnavailable):
    """The file at the database's path is another database than the one created here."""


def marker_path(database: str | Path) -> Path:
    return Path(f"{database}.id")


@dataclass(frozen=True)
class Marker:
    database_id: int
    created: str  # ISO date-time (UTC), or "" if unreadable


def read_marker(database: str | Path) -> Marker | None:
    """The marker beside `database`, or None if there is none (or it is unreadable)."""
    path = marker_path(database)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnavailable(f"the marker {path} cannot be read: {exc.strerror}") from exc
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    try:
        unsigned = int(values[_ID_KEY], 16)
        # Written as 8 hex digits; the header holds the same 32 bits as a signed number.
        signed = int.from_bytes(unsigned.to_bytes(4, "big"), "big", signed=True)
        return Marker(signed, values.get(_CREATED_KEY, ""))
    except (KeyError, ValueError, OverflowError):
        raise StoreUnavailable(
            f"the marker {path} is damaged; delete it if {database} is the right database"
        ) from None


def refuse_if_missing(database: Path) -> None:
    """Before SQLite may create the file: refuse if a database was created here before."""
    if database.exists():
        return
    marker = read_marker(database)
    if marker is None:
        return  # the very first start: create it
    when = marker.created[:10] or "an unknown date"
    raise DatabaseMissing(
        f"{database} is missing but was created here on {when}; restore it from a backup "
        f"(see README, Backups), or delete {marker_path(database)} to start empty"
    )


def new_id() -> int:
    """A random non-zero signed 32-bit number (what `PRAGMA application_id` holds)."""
    while True:
        value = int.from_bytes(os.urandom(4), "big", signed=True)
        if value:
            return value


async def reconcile(conn: aiosqlite.Connection, database: Path) -> None:
    """Make the database's id and its marker agree, or refuse a database put in its place."""
    rows = list(await conn.execute_fetchall("PRAGMA application_id"))
    stored = int(rows[0][0])
    marker = read_marker(database)
    if marker is not None and stored and stored != marker.database_id:
        raise DatabaseReplaced(
            f"{database} is not the database created here (its id differs from "
            f"{marker_path(database)}); if it was put there on purpose, delete "
            f"{marker_path(database)} and start again"
        )
    if not stored:
        stored = marker.database_id if marker is not None else new_id()
        await conn.execute(f"PRAGMA application_id = {int(stored)}")
    if marker is None:
        _write_marker(database, stored)


def _write_marker(database: Path, database_id: int) -> None:
    path = marker_path(database)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    text = (
        "# Mend: the id of the database beside this file. If the database is missing, Mend\n"
        "# refuses to start rather than create an empty one (see README, Backups).\n"
        f"{_ID_KEY}={database_id & 0xFFFFFFFF:08x}\n{_CREATED_KEY}={created}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return  # another opener wrote it first
    except OSError as exc:
        # Not fatal: the database itself works; only this protection is missing.
        log.warning("cannot write the marker %s (%s)", path, exc.strerror)
        return
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


class FileWatch:
    """Notices the database file being deleted or replaced while the store is open."""

    def __init__(self, database: Path) -> None:
        self._database = database
        st = os.stat(database)
        self._identity = (st.st_dev, st.st_ino)

    def check(self) -> None:
        try:
            st = os.stat(self._database)
        except FileNotFoundError:
            raise StoreUnavailable(
                f"the database {self._database} was deleted or moved while Mend was running; "
                "nothing more is written. Stop Mend and restore it from a backup"
            ) from None
        except OSError as exc:
            raise StoreUnavailable(
                f"the database {self._database} cannot be checked: {exc.strerror}"
            ) from exc
        if (st.st_dev, st.st_ino) != self._identity:
            raise StoreUnavailable(
                f"the database {self._database} was replaced by another file while Mend was "
                "running; nothing more is written. Restart Mend to use the new file"
            )
