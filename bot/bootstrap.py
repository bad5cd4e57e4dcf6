"""The one composition root: Mend's runtime built from the config, for every entry point.

`python -m bot run` (bot/telegram/app.py), the console, the benchmarks and the end-to-end
tests all start here, so the store, the clock, the script, the coach, the per-person locks,
the send pacing and the dispatcher are wired one way. Only the shell on top differs: the
Telegram shell sends through the Bot API, the console prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.coach import Clock, Coach, system_clock
from bot.config import Config
from bot.core.model import Script
from bot.locks import UserLocks
from bot.schedule.dispatcher import Dispatcher, DispatchSettings, Send
from bot.schedule.pacer import Pacer
from bot.schedule.shared_pacer import SharedPacer
from bot.script_loader import load_or_explain
from bot.store.crypto import BadKey
from bot.store.factory import make_store, shared_send_budget
from bot.store.protocol import Store

Complain = Callable[[str], None]


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass(frozen=True)
class Runtime:
    """What every entry point shares: one coach on one store, one set of locks, one pace."""

    config: Config
    script: Script
    store: Store
    clock: Clock
    coach: Coach
    locks: UserLocks
    pacer: Pacer | SharedPacer

    def dispatcher(self, send: Send, *, paced: bool = True) -> Dispatcher:
        """The dispatcher delivering through `send` (a shell's), with the config's timings."""
        return Dispatcher(
            self.coach,
            self.store,
            send,
            self.locks,
            self.pacer if paced else None,
            dispatch_settings(self.config),
        )


def build_runtime(
    config: Config, script: Script, store: Store, clock: Clock = system_clock
) -> Runtime:
    """Wire the parts; nothing is opened or started (the store opens with the shell)."""
    budget = shared_send_budget(store)  # replicas on PostgreSQL share one send rate
    coach = Coach(script, store, clock, shared_store=budget is not None)
    pacer = Pacer(config.send_rate) if budget is None else SharedPacer(budget, config.send_rate)
    return Runtime(config, script, store, clock, coach, UserLocks(), pacer)


def load_runtime(
    config: Config, who: str, complain: Complain = _to_stderr
) -> tuple[Runtime | None, int]:
    """Compile the dialogues and make the store the config names; (runtime, 0), or
    (None, exit code) after saying what is wrong in words a newcomer can act on."""
    script = load_or_explain(config.dialogues_dir, who, config.cache_dir)
    if script is None:
        return None, 1
    try:
        store = make_store(config)  # SQLite, or PostgreSQL with DATABASE_URL
    except BadKey as exc:
        complain(f"ENCRYPTION_KEY problem: {exc}")
        return None, 2
    return build_runtime(config, script, store), 0


def dispatch_settings(config: Config) -> DispatchSettings:
    return DispatchSettings(
        # Claim about two seconds' sending at a time: a replica that dies holding a claim
        # delays only those, and replicas share what is due.
        batch=max(20, min(200, int(config.send_rate * 2))),
        interval_seconds=config.dispatch_interval,
        reclaim_after=timedelta(seconds=config.checkin_reclaim),
        replan_seconds=config.replan_interval,
    )
