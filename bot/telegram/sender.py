"""Calls to the Bot API that survive what Telegram does: flood limits, timeouts, blocks.

`RetryAfter` waits as long as Telegram asks, then tries again. `TimedOut` and
`NetworkError` retry with a growing pause, a bounded number of times. `Forbidden`
means the person blocked the bot: they are marked inactive and nothing more is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.store.protocol import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER = 60.0  # past this, give up the message rather than hold the person's queue


class Blocked(Exception):
    """The person blocked the bot; stop talking to them."""


class Sender:
    def __init__(self, store: Store, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.store = store
        self.sleep = sleep

    async def call(self, chat_id: int, method: str, send: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await send()
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("flood limit on %s: waiting %.1fs (attempt %d)", method, wait, attempt)
                if wait > MAX_RETRY_AFTER or attempt == MAX_ATTEMPTS:
                    raise
                await self.sleep(wait)
            except Forbidden:
                log.info("user blocked the bot; marking inactive")
                await self.store.set_active(chat_id, False)
                raise Blocked from None
            except BadRequest:
                raise  # our request is wrong; repeating it will not help
            except NetworkError as exc:  # includes TimedOut
                log.warning("%s on %s (attempt %d)", type(exc).__name__, method, attempt)
                if attempt == MAX_ATTEMPTS:
                    raise
                await self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def _seconds(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(value)  # type: ignore[arg-type]
