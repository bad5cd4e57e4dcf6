"""The dispatcher: claims what is due in the database, in batches, and delivers it.

Claim, send, mark done. A claim never completed (the process died mid-send) is claimed
again after `reclaim_after`, so nothing is lost and at most the messages in flight at a
crash are repeated. A batch still being delivered (slow sends, a long `retry_after`)
renews its claims well before they go stale, so a live dispatcher's items are never taken
by another replica and sent twice. No per-person jobs live in memory: start-up and memory
do not grow with the number of people.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.coach import Coach
from bot.core.events import Due, Event, Timer
from bot.core.planner import LATE_GRACE, late_policy, local_date, next_for, replan
from bot.core.turn import OutMessage
from bot.locks import UserLocks
from bot.log_privacy import describe_error
from bot.schedule.blocked import Blocked
from bot.schedule.pacer import Pacer
from bot.store.protocol import DueItem, Store

log = logging.getLogger(__name__)

# Raises `Blocked` once `record_blocked` has stopped the person's schedule, so nothing
# more is sent this turn.
Send = Callable[[int, tuple[OutMessage, ...]], Awaitable[None]]


@dataclass(frozen=True)
class DispatchSettings:
    batch: int = 200
    interval_seconds: float = 1.0  # how often to look for due items when idle
    reclaim_after: timedelta = timedelta(minutes=5)
    grace: timedelta = LATE_GRACE  # a check-in later than this is skipped, not sent
    # How often people with check-ins on but none planned get one: someone who blocked the
    # bot and wrote again is active but unplanned, and must not wait for a restart.
    replan_seconds: float = 60.0


class Dispatcher:
    def __init__(
        self,
        coach: Coach,
        store: Store,
        send: Send,
        locks: UserLocks,
        pacer: Pacer | None = None,
        settings: DispatchSettings | None = None,
    ) -> None:
        self.coach = coach
        self.store = store
        self.send = send
        self.locks = locks
        self.pacer = pacer
        self.settings = settings or DispatchSettings()
        self.delivered = 0
        self.skipped = 0
        self.lag_seconds = 0.0  # how late the last check-in went out after it fell due
        self.backlog = 0  # due items claimed in the last round (a full batch: more waiting)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set. Errors are logged and the loop goes on."""
        loop = asyncio.get_running_loop()
        planned_at: float | None = None
        while not stop.is_set():
            try:
                if planned_at is None or loop.time() - planned_at >= self.settings.replan_seconds:
                    planned_at = loop.time()
                    await self.plan_missing()
                handled = await self.run_once()
            except Exception as exc:  # one bad item must not stop everyone's check-ins
                log.error("dispatch round failed: %s", describe_error(exc))
                handled = 0
            if handled < self.settings.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.interval_seconds)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; the number of items handled."""
        now = self.coach.clock()
        items = await self.store.claim_due(now, self.settings.batch, self.settings.reclaim_after)
        self.backlog = len(items)
        pending = dict.fromkeys(items)
        renewing = asyncio.create_task(self._renew(pending))
        try:
            results = await asyncio.gather(
                *(self._deliver_then_release(i, pending) for i in items), return_exceptions=True
            )
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        for result in results:
            if isinstance(result, Exception):
                # Left claimed: it is tried again after `reclaim_after`, so nothing is lost.
                log.warning("delivery failed, will retry: %s", describe_error(result))
        return len(items)

    async def plan_missing(self) -> None:
        """People with check-ins on but nothing planned get a plan: after an upgrade, and
        anyone who blocked the bot and came back (their update made them active again)."""
        for user_id in await self.store.unplanned_checkins(10_000):
            # Under their lock, so a turn of theirs that plans at the same time is not undone.
            async with self.locks.hold(user_id):
                state = await self.store.checkin_state(user_id)
                if state is not None and state.active:
                    now = self.coach.clock()
                    # Their zone may have changed since the last check-in: as for a turn.
                    next_at = replan(state.settings, now, state.last_sent_at, state.last_local_date)
                    await self.store.complete_checkin(user_id, now, None, next_at)

    async def _renew(self, pending: dict[DueItem, None]) -> None:
        """Renew the claims of the items not yet delivered, at a third of the reclaim time."""
        every = max(self.settings.reclaim_after.total_seconds() / 3, 0.01)
        while pending:
            await asyncio.sleep(every)
            try:
                await self.store.renew_claims(list(pending), self.coach.clock())
            except Exception as exc:  # a missed renewal only risks a repeat, never a loss
                log.warning("renewing claims failed: %s", describe_error(exc))

    async def _deliver_then_release(self, item: DueItem, pending: dict[DueItem, None]) -> None:
        try:
            await self._deliver(item)
        finally:
            pending.pop(item, None)

    async def _deliver(self, item: DueItem) -> None:
        async with self.locks.hold(item.user_id):
            if item.kind == "checkin":
                await self._checkin(item)
            else:
                await self._follow_up(item)

    async def _checkin(self, item: DueItem) -> None:
        now = self.coach.clock()
        state = await self.store.checkin_state(item.user_id)
        if state is None:
            return
        day = local_date(item.due_at, state.settings.timezone)
        if late_policy(item.due_at, now, self.settings.grace) == "skip":
            # Down too long: this day's check-in is gone; plan the next, send nothing.
            next_at = next_for(state.settings, now, day)
            await self.store.complete_checkin(item.user_id, now, None, next_at)
            self.skipped += 1
            return
        sent = await self._send_turn(item.user_id, Due(item.flow))
        if sent:
            self.lag_seconds = max((self.coach.clock() - item.due_at).total_seconds(), 0.0)
        next_at = next_for(state.settings, max(now, item.due_at), day) if sent else None
        await self.store.complete_checkin(item.user_id, now, day if sent else None, next_at)

    async def _follow_up(self, item: DueItem) -> None:
        event: Event = Timer(item.flow, item.node) if item.node else Due(item.flow)
        sent = await self._send_turn(item.user_id, event)
        await self.store.complete_follow_up(item.id, self.coach.clock(), sent)

    async def _send_turn(self, user_id: int, event: Event) -> bool:
        turn = await self.coach.handle(user_id, event)
        if turn is None or not turn.messages:
            return turn is not None
        try:
            for message in turn.messages:
                if self.pacer is not None:
                    await self.pacer.scheduled(user_id)
                await self.send(user_id, (message,))
        except Blocked:
            return False  # already recorded by whoever raised it: their schedule is stopped
        self.delivered += 1
        return True
