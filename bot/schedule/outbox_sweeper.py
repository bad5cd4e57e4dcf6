"""Sends what the outbox still holds: replies committed but never confirmed sent.

At start-up everything in it is owed (the last process died between a commit and its
send); while running, only replies older than `grace` (younger ones are still being sent
by the turn that made them, or waiting behind the person's lock). Each is sent under the
person's lock and looked up again inside it, so a reply the turn itself just sent is not
sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.coach import Clock, Coach
from bot.locks import UserLocks
from bot.log_privacy import describe_error
from bot.store.outbox import Reply

log = logging.getLogger(__name__)

Resend = Callable[[Reply], Awaitable[None]]


class OutboxSweeper:
    def __init__(
        self,
        coach: Coach,
        resend: Resend,
        locks: UserLocks,
        clock: Clock,
        *,
        grace: timedelta = timedelta(seconds=90),
        interval_seconds: float = 30.0,
        batch: int = 100,
    ) -> None:
        self.coach = coach
        self.resend = resend
        self.locks = locks
        self.clock = clock
        self.grace = grace
        self.interval_seconds = interval_seconds
        self.batch = batch
        self.sent = 0

    async def sweep(self, *, everything: bool = False) -> int:
        """Send what is owed; the number sent. `everything` at start-up, before intake."""
        cutoff = self.clock() - (timedelta(0) if everything else self.grace)
        done = 0
        failed: set[tuple[int, int]] = set()
        while True:
            owed = [
                r for r in await self.coach.unsent(cutoff, self.batch)
                if (r.user_id, r.update_id) not in failed
            ]  # fmt: skip
            if not owed:
                return done
            for reply in owed:
                async with self.locks.hold(reply.user_id):
                    still = await self.coach.unsent_reply(reply.user_id, reply.update_id)
                    if still is None:
                        continue
                    try:
                        await self.resend(still)
                    except Exception as exc:  # kept for the next sweep; others go on
                        log.warning("could not send an owed reply: %s", describe_error(exc))
                        failed.add((reply.user_id, reply.update_id))
                        continue
                done += 1
                self.sent += 1

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # a store fault must not end the loop
                log.error("outbox sweep failed: %s", describe_error(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval_seconds)
