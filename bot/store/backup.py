"""`python -m bot backup PATH`: a consistent copy of the database, safe while the bot runs.

- SQLite's online backup API, all pages in ONE step: the copy is one read transaction, a
  single snapshot of the WAL database (a `cp` of a live file can miss or tear the newest
  turns). A writer is never blocked: in WAL mode readers and the writer do not wait for
  each other.
- So it takes NO process lock (bot/store/lockfile.py): it only reads, SQLite's own locks
  make the snapshot consistent, and holding the exclusive lock would make backing up a
  running bot impossible (a shared mode would still conflict with the bot's exclusive
  one). A concurrent `rotate-key` is one transaction: the copy sees all of it or none.
- The copy is written owner-only (0600) to a temporary file beside PATH, checked
  (`quick_check`), switched to a single self-contained file (journal_mode DELETE), then
  moved into place: PATH is never half-written. An existing PATH is refused unless
  `force`. Encrypted values are copied as they are: the key is neither needed nor copied.
- The database header's id goes with it, so a restored copy is recognised as the
  database created here (bot/store/identity.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from bot.store.protocol import StoreError, StoreUnavailable

BUSY_TIMEOUT_MS = 5000
_TEMP_SIDECARS = ("-journal", "-wal", "-shm")


class BackupExists(StoreError):
    """The target exists and `force` was not given."""


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def backup(database: Path, target: Path, *, force: bool = False) -> int:
    """Copy `database` to `target` (0600); the number of pages copied."""
    if not database.exists():
        raise StoreUnavailable(f"the database {database} does not exist: nothing to back up")
    if target.exists() or target.is_symlink():
        if _same_file(database, target) or any(
            _same_file(Path(f"{database}{s}"), target) for s in ("-wal", "-shm")
        ):
            raise StoreError(f"{target} is the database itself: choose another path")
        if not force:
            raise BackupExists(f"{target} exists already: choose another path, or add --force")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise StoreUnavailable(f"the backup {target} cannot be created: {exc.strerror}") from exc
    os.close(fd)
    try:
        pages = _copy(database, temporary)
        _move_into_place(temporary, target, force=force)
    except BaseException:
        for leftover in [temporary, *(Path(f"{temporary}{s}") for s in _TEMP_SIDECARS)]:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise
    return pages


def _copy(database: Path, temporary: Path) -> int:
    # mode=rw: open an existing file only; never create an empty one where it vanished.
    uri = f"file:{quote(str(database.resolve()))}?mode=rw"
    try:
        source = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"the database {database} cannot be opened: {exc}") from exc
    try:
        source.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        copy = sqlite3.connect(temporary, isolation_level=None)
        try:
            source.backup(copy, pages=-1)  # -1: every page in one step, one snapshot
            # The header still says WAL: make the copy one self-contained file.
            copy.execute("PRAGMA journal_mode = DELETE")
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise StoreUnavailable(f"the copy of {database} failed its check: {check}")
            (pages,) = copy.execute("PRAGMA page_count").fetchone()
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"the backup of {database} failed: {exc}") from exc
    finally:
        source.close()
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    return int(pages)


def _move_into_place(temporary: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(temporary, target)
        return
    try:
        # A hard link fails if the target appeared meanwhile: no overwrite, ever.
        os.link(temporary, target)
    except FileExistsError:
        raise BackupExists(
            f"{target} exists already: choose another path, or add --force"
        ) from None
    except OSError:
        # No hard links on this file system (FAT, some network mounts).
        if target.exists():
            raise BackupExists(
                f"{target} exists already: choose another path, or add --force"
            ) from None
        os.rename(temporary, target)
        return
    temporary.unlink()
