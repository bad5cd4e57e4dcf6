"""One turn, durably: load the session, step the engine, store everything in one go.

Both shells (Telegram and the console) talk to the coach only through this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.engine import show_current, step
from bot.core.events import Event
from bot.core.model import Script
from bot.core.turn import Turn
from bot.store.protocol import Store

Clock = Callable[[], datetime]


class Coach:
    def __init__(self, script: Script, store: Store, clock: Clock) -> None:
        self.script = script
        self.store = store
        self.clock = clock

    async def handle(
        self, user_id: int, event: Event, *, update_id: int | None = None
    ) -> Turn | None:
        """The turn to show, or None when this update was already handled once."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        turn = step(self.script, session, event, now)
        if not await self.store.commit(user_id, turn, now, update_id=update_id):
            return None
        return turn

    async def current(self, user_id: int) -> Turn:
        """Where the person is, shown again without changing anything."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        return show_current(self.script, session, now)
