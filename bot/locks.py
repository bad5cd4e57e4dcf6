"""One lock per person, alive only while someone holds or waits for it.

Shared by the Telegram update processor and the dispatcher, so a person's scheduled
check-in and their own messages never change their session at the same time. Memory
follows the number of people active right now, not everyone ever seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class UserLocks:
    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        lock, waiting = self._locks.get(user_id, (asyncio.Lock(), 0))
        self._locks[user_id] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._locks[user_id]
            if waiting <= 1:
                del self._locks[user_id]
            else:
                self._locks[user_id] = (lock, waiting - 1)
