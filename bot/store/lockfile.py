"""One Mend process per database: an exclusive `flock` on `<database>.lock`.

SQLite itself lets many processes share a file, but two Mends on one database would both
claim and send the same check-ins, and `rotate-key` under a running bot would leave it
reading values under a key it no longer has. So `run`, `console` and `rotate-key` hold this
lock for their whole life; a second one is refused with the holder's pid and command.

- `flock`, not a pid file: the kernel drops the lock when the process dies, even on SIGKILL,
  so a crash never leaves a stale lock behind. The file's content (pid and command) is only
  for the message.
- The file is never deleted: unlinking a lock file races with a process that has just
  opened it (both would then "hold" a lock, on two different inodes).
- `backup` does not take it: it only reads, through SQLite's own locks (see backup.py).
- ":memory:" databases are private to their process: no lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from bot.store.protocol import StoreUnavailable

MEMORY = ":memory:"


class DatabaseInUse(StoreUnavailable):
    """Another Mend process holds the database's lock."""


def lock_path(database: str | Path) -> Path:
    return Path(f"{database}.lock")


def read_holder(path: Path) -> tuple[int | None, str]:
    """(pid, command) written by the holder; (None, "") if unreadable or not yet written."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None, ""
    pid, _, command = text.partition(" ")
    return (int(pid) if pid.isdigit() else None), command.strip()


class ProcessLock:
    """`with ProcessLock(database, "run"):` holds the lock, or raises `DatabaseInUse`."""

    def __init__(self, database: str | Path, command: str) -> None:
        self._database = Path(database)
        self._command = command
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return lock_path(self._database)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None or str(self._database) == MEMORY:
            return
        path = self.path
        try:
            # O_NOFOLLOW: a planted symlink must not make us truncate another file.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreUnavailable(
                f"the lock file {path} cannot be created or opened: {exc.strerror}"
            ) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StoreUnavailable(
                        f"the lock file {path} cannot be locked: {exc.strerror}"
                    ) from exc
                pid, command = read_holder(path)
                who = f"pid {pid}" if pid is not None else "pid unknown"
                raise DatabaseInUse(
                    f"Another Mend process ({who}, {command or 'unknown command'}) is using "
                    f"{self._database}; stop it first."
                ) from None
            # Ours now: only the owner may read who holds it (an umask may have been loose).
            os.fchmod(fd, 0o600)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {self._command}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # nobody holds it: say so before unlocking
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
