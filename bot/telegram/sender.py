"""Calls to the Bot API that survive what Telegram does: flood limits, timeouts, blocks.

Every Bot API call the shell and the dispatcher make goes through `Sender.call`. What each
failure means, and what is done about it:

- `RetryAfter` (429): wait as long as Telegram asks, then try again, a bounded number of
  times. A wait longer than `MAX_RETRY_AFTER` is not waited out: the call fails with
  `SendFailed` (carrying `retry_after`) rather than hold the person's queue.
- `Forbidden` (403): the person blocked the bot. `record_blocked` (bot/schedule/blocked.py)
  is the one place that writes it down (inactive, schedule stopped); the call raises
  `Blocked`, the class the dispatcher catches too. Their next
  update makes them active again and their check-in is planned again (see the store's
  commit and `Dispatcher.plan_missing`).
- `BadRequest` (400): our request is wrong; it is re-raised as is, repeating cannot help.
- `TimedOut` after the request was sent: Telegram may have carried it out. For methods
  where doing it twice is harmless (answerCallbackQuery, edits, sendChatAction, unpin) it
  is retried like any network error. For those that would show the person something twice
  (`NOT_IDEMPOTENT`: sendMessage, sendPhoto, sendDocument, pinChatMessage...) it is NOT
  retried: the call raises `MaybeSent`. A reply that may have arrived is less harmful than
  the same reply twice (an attack run got a duplicate for 5 of 5 people); callers treat
  `MaybeSent` as delivered and never resend it. A timeout before anything left (no free
  connection in the pool, or connecting timed out) is retried: nothing reached Telegram.
- Any other `NetworkError` (connection refused, 5xx): retried with a growing pause, at
  most `MAX_ATTEMPTS` calls in all. When they are used up the call raises `SendFailed`:
  nothing was delivered, so the caller may keep the reply and try it again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

# Re-exported: the shell catches `Blocked` from here (one class, shared with the dispatcher).
from bot.schedule.blocked import Blocked as Blocked
from bot.schedule.blocked import record_blocked as record_blocked
from bot.store.protocol import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER = 60.0  # past this, give up the message rather than hold the person's queue

# Methods whose repetition the person would see twice. Any other method starting with
# "send" counts too, except sendChatAction (a typing indicator shown again is harmless).
NOT_IDEMPOTENT = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "pinChatMessage", "copyMessage", "forwardMessage"}
)


class MaybeSent(Exception):
    """A send timed out after it left: it may have arrived. Treat it as delivered."""

    def __init__(self, method: str) -> None:
        super().__init__(f"{method} timed out; it may have been delivered")
        self.method = method


class SendFailed(Exception):
    """The call failed every time it was tried; nothing was delivered. Safe to try again
    later (`retry_after`: not before that many seconds, when Telegram said so)."""

    def __init__(self, method: str, attempts: int, retry_after: float | None = None) -> None:
        super().__init__(f"{method} failed after {attempts} attempt(s)")
        self.method = method
        self.attempts = attempts
        self.retry_after = retry_after


def resending_may_duplicate(method: str) -> bool:
    return method in NOT_IDEMPOTENT or (method.startswith("send") and method != "sendChatAction")


class Sender:
    def __init__(self, store: Store, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.store = store
        self.sleep = sleep
        self.sent = 0  # calls Telegram accepted (for /metrics)
        self.rate_limited = 0  # 429 answers

    async def call(self, chat_id: int, method: str, send: Callable[[], Awaitable[T]]) -> T:
        """`send()`, retried as the module docstring says. Raises `Blocked`, `MaybeSent`,
        `SendFailed`, or `BadRequest` (and `TelegramError`s that are none of these)."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                result = await send()
                self.sent += 1
                return result
            except RetryAfter as exc:
                self.rate_limited += 1
                wait = _seconds(exc.retry_after)
                log.warning(
                    "flood limit on %s: retry after %.1fs (attempt %d)", method, wait, attempt
                )
                if wait > MAX_RETRY_AFTER or attempt == MAX_ATTEMPTS:
                    raise SendFailed(method, attempt, retry_after=wait) from exc
                await self.sleep(wait)
            except Forbidden:
                await record_blocked(self.store, chat_id)
                raise Blocked from None
            except BadRequest:
                raise  # our request is wrong; repeating it will not help
            except NetworkError as exc:
                log.warning("%s on %s (attempt %d)", type(exc).__name__, method, attempt)
                if (
                    isinstance(exc, TimedOut)
                    and not _never_left(exc)
                    and resending_may_duplicate(method)
                ):
                    raise MaybeSent(method) from exc
                if attempt == MAX_ATTEMPTS:
                    raise SendFailed(method, attempt) from exc
                await self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def _never_left(exc: TimedOut) -> bool:
    """PTB raises TimedOut also when the request never left: no free pooled connection, or
    the connection itself timed out. Then nothing reached Telegram and a retry is safe."""
    return isinstance(exc.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout)


def _seconds(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(value)  # type: ignore[arg-type]
