"""Three replicas' pacers share one budget: together they stay under the bot's send rate in
every one-second window, and scheduled sends leave room for replies."""

from __future__ import annotations

import asyncio
import time

from bot.schedule.shared_pacer import SharedPacer
from tests.harness import most_in_one_second


class WindowBudget:
    """The database's send log, in memory: the times of the sends in the last second."""

    def __init__(self, clock: float | None = None) -> None:
        self.sent: list[float] = []
        self.clock = clock

    def now(self) -> float:
        return time.monotonic() if self.clock is None else self.clock

    async def take(self, limit: int) -> float:
        now = self.now()
        window = [t for t in self.sent if t > now - 1.0]
        if len(window) >= limit:
            return window[-limit] + 1.0 - now
        self.sent.append(now)
        return 0.0


async def test_three_replicas_together_never_pass_the_rate() -> None:
    budget = WindowBudget()
    rate = 20.0
    pacers = [SharedPacer(budget, rate=rate, reserve=5.0) for _ in range(3)]
    sent: list[float] = []

    async def replica(pacer: SharedPacer, first_chat: int) -> None:
        for i in range(20):  # 60 sends: three seconds' worth at 20/s
            if i % 2:
                await pacer.interactive()
            else:
                await pacer.scheduled(first_chat + i)
            sent.append(time.monotonic())

    began = time.monotonic()
    await asyncio.gather(*(replica(p, 1000 * n) for n, p in enumerate(pacers)))
    assert len(sent) == 60
    # Each replica alone starts with a full local bucket of 20: 60 in the first second,
    # three times the limit, without the shared budget.
    assert most_in_one_second(budget.sent) <= rate
    assert time.monotonic() - began >= 2.0


async def test_scheduled_sends_leave_the_reserve_for_replies() -> None:
    budget = WindowBudget(clock=100.0)
    budget.sent = [99.5 + i * 0.01 for i in range(15)]  # 15 in the window: 20 - 5 reserved
    pacer = SharedPacer(budget, rate=20.0, reserve=5.0)
    await asyncio.wait_for(pacer.interactive(), 1.0)  # a reply still gets a place
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        budget.clock = 100.0 + seconds

    pacer.sleep = sleep
    await pacer.scheduled(42)
    assert len(slept) == 1 and 0.5 < slept[0] < 0.6  # until the oldest send leaves the window
    assert len(budget.sent) == 17
