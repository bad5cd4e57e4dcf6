"""Pace sends below Telegram's limits: about 30 messages a second overall, 1 a second per chat.

One token bucket for the whole bot. Replies to a person who just wrote take a token as
soon as there is one; scheduled sends leave `reserve` tokens untouched, so a large batch
of check-ins never makes someone in a conversation wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    def __init__(
        self,
        rate: float = 30.0,
        reserve: float = 5.0,
        per_chat_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.reserve = reserve
        self.per_chat = per_chat_seconds
        self.clock = clock
        self.sleep = sleep
        self._tokens = rate  # start full: a second's worth
        self._updated = clock()
        self._last_to_chat: dict[int, float] = {}

    async def interactive(self) -> None:
        """Before a reply in a conversation."""
        await self._take(need=1.0)

    async def scheduled(self, chat_id: int) -> None:
        """Before a scheduled send to `chat_id`."""
        while True:
            wait = self._last_to_chat.get(chat_id, -1e9) + self.per_chat - self.clock()
            if wait <= 0:
                break
            await self.sleep(wait)
        await self._take(need=1.0 + self.reserve)
        self._last_to_chat[chat_id] = self.clock()
        if len(self._last_to_chat) > 4 * self.rate:
            self._forget_old()

    async def _take(self, need: float) -> None:
        while True:
            self._refill()
            if self._tokens >= need - 1e-9:  # a tolerance: float dust must not spin forever
                self._tokens -= 1.0
                return
            await self.sleep(max((need - self._tokens) / self.rate, 0.001))

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.rate, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def _forget_old(self) -> None:
        """Only chats sent to within the last `per_chat` seconds need remembering."""
        cutoff = self.clock() - self.per_chat
        self._last_to_chat = {c: t for c, t in self._last_to_chat.items() if t > cutoff}
