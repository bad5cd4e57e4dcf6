""" "The person blocked the bot", written down in one place for every way of sending.

The Telegram sender raises `Blocked` on a 403 once `record_blocked` has stopped the
person's schedule; the dispatcher catches the same class and sends nothing more that turn.
Their next update to the coach makes them active again (see the store's commit and
`Dispatcher.plan_missing`).
"""

from __future__ import annotations

import logging

from bot.store.protocol import Store

log = logging.getLogger(__name__)


class Blocked(Exception):
    """The person blocked the bot; stop talking to them (already recorded in the store)."""


async def record_blocked(store: Store, user_id: int) -> None:
    """Inactive, no check-in planned, pending follow-ups dropped."""
    log.info("user blocked the bot; stopping their schedule")
    await store.stop_schedule(user_id)
