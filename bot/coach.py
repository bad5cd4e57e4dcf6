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
from bot.core.languages import reading_language
from bot.core.model import Script
from bot.core.planner import replan, replans
from bot.core.progress_history import Day, history, summary
from bot.core.session import Session
from bot.core.turn import Turn
from bot.store.outbox import Reply
from bot.store.protocol import Store

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
    def __init__(
        self, script: Script, store: Store, clock: Clock, *, shared_store: bool = False
    ) -> None:
        self.script = script
        self.store = store
        self.clock = clock
        # Replicas on one database: a redelivered update may reach another replica while
        # the first is still sending its reply, so a redelivery is never answered from the
        # outbox there; a reply whose process died is sent by the outbox sweep instead.
        self.shared_store = shared_store
        self._unstored: OrderedDict[int, None] = OrderedDict()  # recent update ids, not kept

    async def handle(
        self,
        user_id: int,
        event: Event,
        *,
        update_id: int | None = None,
        telegram_language: str = "",
    ) -> Turn | None:
        """The turn to show, or None when this update was already handled once.
        `telegram_language`: the code Telegram sent, read until the person chooses one."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        turn = step(self.script, session, event, now, telegram_language=telegram_language)
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
        if turn.erases:
            await self.store.delete_user(user_id)  # they confirmed; nothing of them stays
            return turn
        if not await self._commit(user_id, turn, now, update_id):
            # Seen before. If its reply never reached Telegram (a crash after the commit),
            # it is still in the outbox: answer with it now, once.
            if update_id is None or self.shared_store:
                return None
            reply = await self.unsent_reply(user_id, update_id)
            if reply is None:
                return None
            return Turn(reply.messages, reply.effects, session)
        return turn

    async def _commit(self, user_id: int, turn: Turn, now: datetime, update_id: int | None) -> bool:
        """The store's commit, with the next check-in when the core says the turn moved it."""
        if not replans(turn, self.script):
            return await self.store.commit(user_id, turn, now, update_id=update_id)
        # The planner decides from when the last check-in went out; the store knows that.
        state = await self.store.checkin_state(user_id)
        next_checkin = replan(
            turn.session.settings,
            now,
            None if state is None else state.last_sent_at,
            None if state is None else state.last_local_date,
        )
        return await self.store.commit(
            user_id, turn, now, update_id=update_id, next_checkin=next_checkin
        )

    async def unsent_reply(self, user_id: int, update_id: int) -> Reply | None:
        """The reply committed for this update, if it never reached Telegram."""
        return await self.store.unsent_reply(user_id, update_id)

    async def replied(self, user_id: int, update_id: int) -> None:
        """The reply to this update reached Telegram: the outbox forgets it."""
        await self.store.reply_sent(user_id, update_id)

    async def unsent(self, older_than: datetime, limit: int = 100) -> list[Reply]:
        """Replies committed at or before `older_than` that never reached Telegram, taken
        for sending now: no other replica's sweeper takes them until they are owed again."""
        return await self.store.unsent_replies(older_than, limit, taken_at=self.clock())

    async def current(self, user_id: int, telegram_language: str = "", note: str = "") -> Turn:
        """Where the person is, shown again without changing anything; after the string
        `note` (a shell's own, such as "error_note") when one is given."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        return show_current(
            self.script, session, now, telegram_language=telegram_language, note=note
        )

    def _script(self, session: Session, telegram_language: str = "") -> Script:
        return self.script.for_language(reading_language(self.script, session, telegram_language))

    async def chart(self, user_id: int) -> tuple[tuple[Day, ...], str, dict[str, str], str]:
        """The last 30 days, the caption (Telegram HTML), the chart's axis labels and the
        CLDR locale its dates are written in."""
        now = self.clock()
        session = await self.store.load(user_id, now)
        data = await self.store.export_user(user_id)
        days = history(data, session.settings.timezone, now, self.script)
        script = self._script(session)
        strings = script.strings
        caption = strings["chart.caption"].render(summary(days))
        labels = {k: strings[f"chart.{k}"].render({}) for k in CHART_LABELS}
        return days, caption, labels, script.language.locale

    async def export(self, user_id: int) -> ExportFiles:
        session = await self.store.load(user_id, self.clock())
        data = await self.store.export_user(user_id)
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        markdown = export_markdown(data, self._script(session))
        return ExportFiles(markdown.encode(), text.encode())
