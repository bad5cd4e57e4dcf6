"""One turn, durably: load the session, step the engine, store everything in one go.

Both shells (Telegram and the console) and the dispatcher talk to the coach only
through this.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.engine import show_current, step
from bot.core.events import Event
from bot.core.export_format import export_markdown
from bot.core.model import Script
from bot.core.planner import next_for
from bot.core.progress_history import Day, history, summary
from bot.core.session import SCHEDULE_SETTINGS
from bot.core.turn import ChangeSetting, CompleteFlow, Erase, Turn
from bot.store.outbox import Reply
from bot.store.protocol import NOT_REPLANNED, NotReplanned, Store

Clock = Callable[[], datetime]
CHART_LABELS = ("title", "steady", "hard", "slipped", "kept")
UNSTORED_UPDATES = 4096


def system_clock() -> datetime:
    """The real clock; shells pass it in, tests pass a fake one."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ExportFiles:
    markdown: bytes
    json: bytes


class Coach:
    def __init__(self, script: Script, store: Store, clock: Clock) -> None:
        self.script = script
        self.store = store
        self.clock = clock
        self._unstored: OrderedDict[int, None] = OrderedDict()  # recent update ids, not kept

    async def handle(
        self, user_id: int, event: Event, *, update_id: int | None = None
    ) -> Turn | None:
        """The turn to show, or None when this update was already handled once."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        turn = step(self.script, session, event, now)
        if not turn.persist:
            # No consent to storage (yet): nothing of this turn is kept. A redelivered
            # update is still answered once, from memory.
            if update_id is not None:
                if update_id in self._unstored:
                    return None
                self._unstored[update_id] = None
                while len(self._unstored) > UNSTORED_UPDATES:
                    self._unstored.popitem(last=False)
            return turn
        if any(isinstance(e, Erase) for e in turn.effects):
            await self.store.delete_user(user_id)  # they confirmed; nothing of them stays
            return turn
        next_checkin: datetime | NotReplanned | None = NOT_REPLANNED
        if _replans(turn):
            state = await self.store.checkin_state(user_id)
            last = state.last_local_date if state is not None else None
            next_checkin = next_for(turn.session.settings, now, last)
        if not await self.store.commit(
            user_id, turn, now, update_id=update_id, next_checkin=next_checkin
        ):
            # Seen before. If its reply never reached Telegram (a crash after the commit),
            # it is still in the outbox: answer with it now, once.
            reply = None if update_id is None else await self.store.unsent_reply(user_id, update_id)
            if reply is None:
                return None
            return Turn(reply.messages, reply.effects, session)
        return turn

    async def replied(self, user_id: int, update_id: int) -> None:
        """The reply to this update reached Telegram: the outbox forgets it."""
        await self.store.reply_sent(user_id, update_id)

    async def unsent(self, older_than: datetime, limit: int = 100) -> list[Reply]:
        """Replies committed at or before `older_than` that never reached Telegram."""
        return await self.store.unsent_replies(older_than, limit)

    async def current(self, user_id: int) -> Turn:
        """Where the person is, shown again without changing anything."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        return show_current(self.script, session, now)

    async def chart(self, user_id: int) -> tuple[tuple[Day, ...], str, dict[str, str]]:
        """The last 30 days, the caption (Telegram HTML) and the chart's axis labels."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        days = history(await self.store.export_user(user_id), session.settings.timezone, now)
        strings = self.script.strings
        caption = strings["chart.caption"].render(summary(days))
        labels = {k: strings[f"chart.{k}"].render({}) for k in CHART_LABELS}
        return days, caption, labels

    async def export(self, user_id: int) -> ExportFiles:
        data = await self.store.export_user(user_id)
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        return ExportFiles(export_markdown(data, self.script).encode(), text.encode())


def _replans(turn: Turn) -> bool:
    """Whether the turn changed when the daily check-in is due."""
    return any(
        (isinstance(e, ChangeSetting) and e.name in SCHEDULE_SETTINGS)
        or (isinstance(e, CompleteFlow) and e.flow == "onboarding")
        for e in turn.effects
    )
