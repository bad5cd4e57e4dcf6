"""Our own intake of Telegram updates: fetched, parsed one by one, handled in order per person.

Why not PTB's Updater: it parses a whole getUpdates batch at once (one update it cannot read
stops polling for everyone, retried with no backoff and logged with people's words), and it
confirms the offset to Telegram before the updates were handled (a kill loses them).

Here each update is parsed alone (a bad one is skipped and logged by id only), the offset
sent to Telegram never passes an update whose handling has not finished, a person's updates
run one at a time and at most `per_person` of them wait (one person cannot fill the shared
concurrency), and shutdown is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from enum import Enum
from typing import Any

import httpx
from telegram import Bot, Update

from bot.locks import UserLocks
from bot.log_privacy import describe_error

log = logging.getLogger(__name__)

Handle = Callable[[Update], Awaitable[None]]
MIN_GAP = 0.05  # seconds between polls that brought nothing new
_REMEMBER_DONE = 10_000  # finished ids kept to recognise a redelivery; the window is ~100


class Outcome(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # already in hand or finished: not handled twice
    DROPPED = "dropped"  # its sender already has `per_person` waiting
    BUSY = "busy"  # closing, or too much in hand: ask Telegram to send it again later


def user_key(update: Update) -> int | None:
    """Whose order an update belongs to: the person, else the chat, else nobody's."""
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


def parse_update(data: object, bot: Bot) -> Update | None:
    """One update alone, or None if PTB cannot read it (logged by its id, never its content)."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    try:
        if not isinstance(data, dict) or not isinstance(update_id, int):
            raise TypeError("not an update")
        return Update.de_json(data, bot)
    except Exception as exc:  # any malformed field: PTB raises KeyError, TypeError, ValueError...
        log.warning("skipped update %s that could not be read (%s)", update_id, type(exc).__name__)
        return None


class Intake:
    """Runs updates through per-person order and a global limit; knows what has finished."""

    def __init__(
        self,
        handle: Handle,
        locks: UserLocks,
        *,
        max_concurrent: int = 128,
        per_person: int = 8,
        max_pending: int = 2_000,
        turn_timeout: float = 60.0,
    ) -> None:
        self._handle = handle
        self._locks = locks
        self._slots = asyncio.Semaphore(max_concurrent)
        self.per_person = per_person
        self.max_pending = max_pending
        self.turn_timeout = turn_timeout
        self._unfinished: set[int] = set()  # accepted, not finished (or abandoned at close)
        self._done: OrderedDict[int, None] = OrderedDict()
        self._highest: int | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._started: set[int] = set()
        self._waiting: dict[int, int] = {}  # per person: running or queued
        self._progress = asyncio.Event()
        self._closing = False
        self._abandon_queued = False
        self.generation = 0  # counts finished updates: the poller waits for it to move
        self.unparsable = 0
        self.dropped = 0
        self.timed_out = 0
        self.accepted = 0
        self.duplicates = 0
        self.finished = 0

    @property
    def offset(self) -> int:
        """What to confirm to Telegram: every update below it has finished."""
        if self._unfinished:
            return min(self._unfinished)
        return self._highest + 1 if self._highest is not None else 0

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def in_hand(self) -> int:
        """Updates running or waiting to run."""
        return len(self._tasks)

    def known(self, update_id: int) -> bool:
        return update_id in self._unfinished or update_id in self._done

    def skip(self, update_id: int) -> None:
        """An update we could not read: counted, and confirmed so it is not served again."""
        self.unparsable += 1
        self._mark_done(update_id)

    def submit(self, update: Update) -> Outcome:
        update_id = update.update_id
        if self.known(update_id):
            self.duplicates += 1
            return Outcome.DUPLICATE
        if self._closing or len(self._tasks) >= self.max_pending:
            return Outcome.BUSY
        key = user_key(update)
        if key is not None and self._waiting.get(key, 0) >= self.per_person:
            # One person flooding would otherwise hold the shared pacer and slots for minutes.
            self.dropped += 1
            log.warning("dropped update %d: its sender has %d waiting", update_id, self.per_person)
            self._mark_done(update_id)
            return Outcome.DROPPED
        if key is not None:
            self._waiting[key] = self._waiting.get(key, 0) + 1
        self.accepted += 1
        self._unfinished.add(update_id)
        self._tasks[update_id] = asyncio.create_task(
            self._run(update, key), name=f"update-{update_id}"
        )
        return Outcome.ACCEPTED

    async def wait_progress(self, since: int, timeout: float) -> None:
        """Until an update finishes after `generation` was `since`, or `timeout` seconds."""
        if self.generation != since:
            return
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout)

    async def close(self, grace: float, *, abandon_queued: bool) -> int:
        """Take nothing more; let running turns finish for up to `grace` seconds, then cancel.

        With `abandon_queued` (polling) updates not yet started are dropped at once: they
        stay unconfirmed, so Telegram serves them again after the restart. Returns how many
        were left unfinished."""
        self._closing = True
        self._abandon_queued = abandon_queued
        if abandon_queued:
            for update_id, task in self._tasks.items():
                if update_id not in self._started:
                    task.cancel()
        tasks = set(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        left = len(self._unfinished)
        if left:
            log.info("stopped with %d update(s) unfinished", left)
        return left

    async def _run(self, update: Update, key: int | None) -> None:
        update_id = update.update_id
        finished = False
        hold: AbstractAsyncContextManager[Any] = (
            self._locks.hold(key) if key is not None else contextlib.nullcontext()
        )
        try:
            # The person's lock before a slot: their queued updates wait without holding one.
            async with hold, self._slots:
                if self._abandon_queued:
                    return
                self._started.add(update_id)
                try:
                    # A turn stuck on a hung call would hold the person's lock and the offset
                    # forever; cancelled, its transaction rolls back and nothing is half-done.
                    await asyncio.wait_for(self._handle(update), self.turn_timeout)
                except TimeoutError:
                    self.timed_out += 1
                    log.error("update %d gave up after %.0f s", update_id, self.turn_timeout)
                except Exception as exc:  # the handler's own error path already ran
                    log.error("update %d failed: %s", update_id, describe_error(exc))
            finished = True
        finally:
            self._started.discard(update_id)
            self._tasks.pop(update_id, None)
            if key is not None:
                left = self._waiting.get(key, 1) - 1
                if left > 0:
                    self._waiting[key] = left
                else:
                    self._waiting.pop(key, None)
            if finished:
                self.finished += 1
                self._unfinished.discard(update_id)
                self._mark_done(update_id)
            else:
                self.generation += 1
                self._progress.set()

    def _mark_done(self, update_id: int) -> None:
        self._done[update_id] = None
        if len(self._done) > _REMEMBER_DONE:
            self._done.popitem(last=False)
        if self._highest is None or update_id > self._highest:
            self._highest = update_id
        self.generation += 1
        self._progress.set()


class Poller:
    """Long polling by calling getUpdates ourselves and reading the raw JSON."""

    def __init__(
        self,
        bot: Bot,
        intake: Intake,
        *,
        allowed_updates: list[str] | None = None,
        timeout: float = 30.0,
        repoll: float = 0.2,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.bot = bot
        self.intake = intake
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.repoll = repoll  # pause when Telegram serves only what is still in hand
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.failures = 0
        self._url = f"{bot.base_url}/getUpdates"  # holds the token: never logged
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=self.timeout + 10.0))
        self._task = asyncio.create_task(self._loop(), name="poller")

    async def stop(self, grace: float) -> None:
        """Stop fetching, let running turns finish within `grace`, confirm what finished."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.intake.close(grace, abandon_queued=True)
        if self._client is None:
            return
        try:  # timeout 0: only tells Telegram the new offset, waits for nothing
            await asyncio.wait_for(self._fetch(0.0, limit=1), 3.0)
        except Exception as exc:  # the next start is served them again: the store dedups
            log.info("could not confirm the last updates: %s", type(exc).__name__)
        await self._client.aclose()
        self._client = None

    async def _fetch(self, timeout: float, limit: int = 100) -> list[object]:
        assert self._client is not None
        params: dict[str, object] = {
            "offset": self.intake.offset,
            "timeout": int(timeout),
            "limit": limit,
        }
        if self.allowed_updates is not None:
            params["allowed_updates"] = self.allowed_updates
        response = await self._client.post(self._url, json=params)
        try:
            body = response.json()
        except ValueError:
            raise FetchError(response.status_code) from None
        if not isinstance(body, dict) or body.get("ok") is not True:
            retry = body.get("parameters", {}).get("retry_after") if isinstance(body, dict) else 0
            raise FetchError(response.status_code, retry if isinstance(retry, int) else 0)
        result = body.get("result")
        if not isinstance(result, list):
            raise FetchError(response.status_code)
        return result

    async def _loop(self) -> None:
        while True:
            generation = self.intake.generation
            try:
                batch = await self._fetch(self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network, 409 another instance, 5xx, garbage
                self.failures += 1
                delay = min(self.max_backoff, self.backoff * 2 ** (self.failures - 1))
                delay *= random.uniform(0.8, 1.0)  # many bots must not retry in step
                if isinstance(exc, FetchError) and exc.retry_after:
                    delay = max(delay, float(exc.retry_after))
                what = str(exc) if isinstance(exc, FetchError) else type(exc).__name__
                log.warning("getUpdates failed (%s); again in %.1f s", what, delay)
                await asyncio.sleep(delay)
                continue
            self.failures = 0
            fresh = self._take(batch)
            if not fresh and self.intake.in_hand:
                # Telegram serves again what we have not confirmed: wait for one to finish,
                # then a moment more so a busy minute is not a getUpdates per finished turn.
                await self.intake.wait_progress(generation, self.repoll)
                await asyncio.sleep(MIN_GAP)
            elif not fresh and batch:
                await asyncio.sleep(self.repoll)  # closing or full: nothing taken

    def _take(self, batch: list[object]) -> int:
        fresh = 0
        floor = self.intake.offset
        for data in batch:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if isinstance(update_id, int) and (update_id < floor or self.intake.known(update_id)):
                continue  # in hand or finished: never dispatched twice
            update = parse_update(data, self.bot)
            if update is None:
                if isinstance(update_id, int):
                    self.intake.skip(update_id)
                else:
                    self.intake.unparsable += 1
                continue
            if self.intake.submit(update) is Outcome.BUSY:
                break  # unconfirmed, so served again once there is room
            fresh += 1
        return fresh


class FetchError(Exception):
    """getUpdates answered with an error; only its status is kept (no URL, no body)."""

    def __init__(self, status: int, retry_after: int = 0) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
