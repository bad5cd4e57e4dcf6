"""One send budget for several replicas: Telegram's limit is per bot, not per process.

Each replica keeps its own `Pacer` (per-chat spacing, smooth local pacing), and before
every send also takes a place in a budget shared through the database: at most `rate`
sends in any one-second window across all replicas (a sliding window, on the database's
clock). N independent pacers would allow N times the limit. Scheduled sends stop at
`rate - reserve` in the window, leaving room for replies, as the local pacer does.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.schedule.pacer import Pacer


class SendBudget(Protocol):
    async def take(self, limit: int) -> float:
        """A place for one send now if fewer than `limit` were sent in the last second
        (0.0), else how many seconds until the oldest of them leaves the window."""
        ...


class SharedPacer(Pacer):
    def __init__(
        self,
        budget: SendBudget,
        rate: float = 30.0,
        reserve: float = 5.0,
        per_chat_seconds: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(rate, reserve, per_chat_seconds, sleep=sleep)
        self.budget = budget
        self.limit = max(1, math.floor(rate))
        self.scheduled_limit = max(1, math.floor(rate - reserve))
        # One place asked for at a time, in arrival order (asyncio.Lock is fair): waiters
        # woken together would otherwise race, and an unlucky turn could wait a minute.
        # Two queues, so a scheduled send waiting for room never holds up a reply.
        self._queues = {self.limit: asyncio.Lock(), self.scheduled_limit: asyncio.Lock()}

    async def interactive(self) -> None:
        await super().interactive()
        await self._place(self.limit)

    async def scheduled(self, chat_id: int) -> None:
        await super().scheduled(chat_id)
        await self._place(self.scheduled_limit)

    async def _place(self, limit: int) -> None:
        async with self._queues.setdefault(limit, asyncio.Lock()):
            while (wait := await self.budget.take(limit)) > 0:
                await self.sleep(max(wait, 0.001))  # the window is full across the replicas
