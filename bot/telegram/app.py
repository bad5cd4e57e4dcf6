"""The Telegram bot: python-telegram-bot and our intake on top of the shared runtime.

The runtime (store, clock, script, coach, locks, pacing, dispatcher) is wired in
`bot.bootstrap`, the one composition root; here only the Telegram shell is added.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.bootstrap import Runtime, build_runtime, load_runtime
from bot.coach import Clock, system_clock
from bot.config import Config, ConfigError, load_config
from bot.core.commands import COMMANDS
from bot.core.model import Script
from bot.log_privacy import describe_error, install_on_root
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.outbox_sweeper import OutboxSweeper
from bot.store.protocol import SchemaTooNew, Store, StoreUnavailable
from bot.telegram.intake import Intake, Poller
from bot.telegram.metrics import Metrics, Reading
from bot.telegram.sender import Sender
from bot.telegram.shell import TelegramShell
from bot.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0  # seconds in-flight turns get to finish at SIGTERM

NO_TOKEN = """\
Mend needs a Telegram bot token to run.

  1. In Telegram, open @BotFather, send /newbot and follow its questions.
  2. Copy the token it gives you (it looks like 123456789:AA...).
  3. cp .env.example .env   and put the token after TELEGRAM_BOT_TOKEN=
  4. make run

To try the coach without Telegram right now:  make console
"""


@dataclass
class MendBot:
    """The running bot: PTB's application (the Bot and the handlers), our intake, the
    store, the dispatcher, and their lifecycle."""

    app: Application  # type: ignore[type-arg]
    config: Config
    store: Store
    shell: TelegramShell
    dispatcher: Dispatcher
    intake: Intake
    sweeper: OutboxSweeper
    shutdown_grace: float = SHUTDOWN_GRACE
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _sweeping: asyncio.Task[None] | None = None
    _receiver: Poller | WebhookServer | None = None

    async def start(self) -> None:
        """Open the store first (a bad database stops us before any network), then connect
        to Telegram, register the command menu, receive updates and start the dispatcher."""
        await self.store.open()
        try:
            await self.app.initialize()
        except BaseException:
            await self.store.close()
            raise
        await self._register_commands()
        try:
            # What the last process committed and never sent goes first, before anything new.
            # Replicas share the store: only replies older than the sweeper's grace are owed;
            # younger ones belong to turns another replica is sending right now.
            owed = await self.sweeper.sweep(everything=not self.shell.coach.shared_store)
            if owed:
                log.info("sent %d reply(ies) the last process committed and never sent", owed)
            await self._receive()
        except BaseException:
            await self.stop()  # a busy port or a refused setWebhook: leave nothing open
            raise
        self._stopping.clear()
        self._task = asyncio.create_task(self.dispatcher.run(self._stopping), name="dispatcher")
        self._sweeping = asyncio.create_task(self.sweeper.run(self._stopping), name="outbox")

    async def _receive(self) -> None:
        bot, config = self.app.bot, self.config
        if config.webhook_url:
            log.info("webhook mode on %s:%d", config.webhook_listen, config.webhook_port)
            server = WebhookServer(
                bot,
                self.intake,
                listen=config.webhook_listen,
                port=config.webhook_port,
                secret=config.webhook_secret,
                metrics=Metrics(self.reading),
            )
            await server.start()  # listening before Telegram is told where to send
            self._receiver = server
            await bot.set_webhook(
                config.webhook_url,
                secret_token=config.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            log.info("long polling")
            await bot.delete_webhook()  # getUpdates answers 409 while a webhook is set
            poller = Poller(bot, self.intake, allowed_updates=list(Update.ALL_TYPES))
            poller.start()
            self._receiver = poller

    def reading(self) -> Reading:
        """The running figures, for /metrics (totals only: no person's id or words)."""
        intake, dispatcher, sender = self.intake, self.dispatcher, self.shell.sender
        return Reading(
            updates={
                "accepted": intake.accepted,
                "duplicate": intake.duplicates,
                "dropped": intake.dropped,
                "unparsable": intake.unparsable,
            },
            turns={"handled": intake.finished - intake.timed_out, "timed_out": intake.timed_out},
            sends=sender.sent,
            rate_limited=sender.rate_limited,
            checkins={"delivered": dispatcher.delivered, "skipped": dispatcher.skipped},
            resent=self.sweeper.sent,
            dispatcher_lag_seconds=dispatcher.lag_seconds,
            due_backlog=dispatcher.backlog,
            in_hand=intake.in_hand,
        )

    async def stop(self) -> None:
        """Stop receiving, finish the turns in hand for up to `shutdown_grace` seconds (the
        rest are cancelled; unconfirmed, Telegram serves them again), close the store."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.shutdown_grace
        self._stopping.set()
        if self._receiver is not None:
            await self._receiver.stop(self.shutdown_grace)
            self._receiver = None
        if self._task is not None:
            _, late = await asyncio.wait({self._task}, timeout=max(deadline - loop.time(), 0.5))
            if late:
                log.warning("the dispatcher did not stop in time; cancelling it")
                self._task.cancel()
                with suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._sweeping is not None:
            self._sweeping.cancel()  # what it was sending stays in the outbox for next time
            with suppress(asyncio.CancelledError):
                await self._sweeping
            self._sweeping = None
        await self.app.shutdown()
        await self.store.close()

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT, then shut down cleanly."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        try:
            await stopping.wait()
            log.info("stopping")
        finally:
            await self.stop()

    async def _register_commands(self) -> None:
        """The command menu and descriptions in every language: the source language as the
        default, each other one under its two-letter code (all Telegram takes: "pt")."""
        root = self.shell.coach.script
        for script in (root, *root.translations.values()):
            code = None if script is root else script.language.code.split("-", 1)[0]
            strings = script.strings
            commands = [BotCommand(n, strings[f"command.{n}"].render({})) for n in COMMANDS]
            try:
                await self.app.bot.set_my_commands(commands, language_code=code)
                await self.app.bot.set_my_short_description(
                    strings["short_description"].render({}), language_code=code
                )
                await self.app.bot.set_my_description(
                    strings["description"].render({}), language_code=code
                )
            except TelegramError as exc:  # cosmetic; the bot works without them
                log.warning(
                    "could not set the command menu (%s): %s",
                    code or "default",
                    describe_error(exc),
                )


def build_bot(config: Config, script: Script, store: Store, clock: Clock = system_clock) -> MendBot:
    return bot_on(build_runtime(config, script, store, clock))


def bot_on(runtime: Runtime) -> MendBot:
    """The Telegram shell, its intake and its outbox sweeper on a wired runtime."""
    silence_private_loggers()
    config, store, coach, locks = runtime.config, runtime.store, runtime.coach, runtime.locks
    # PTB's Application is kept for the Bot's lifecycle and the handlers (errors still reach
    # shell.on_error); its Updater and job queue are not used: updates come through ours.
    app = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.api_file_url)
        .updater(None)
        .job_queue(None)
        .build()
    )
    shell = TelegramShell(
        coach, Sender(store), app.bot, runtime.pacer, protect_content=config.protect_content
    )
    dispatcher = runtime.dispatcher(shell.deliver)
    app.add_handler(TypeHandler(Update, shell.on_update))
    app.add_error_handler(shell.on_error)
    intake = Intake(
        app.process_update,
        locks,
        max_concurrent=config.max_concurrent_updates,
        per_person=config.max_waiting_per_person,
        turn_timeout=config.turn_timeout,
    )
    sweeper = OutboxSweeper(
        coach,
        shell.resend,
        locks,
        runtime.clock,
        grace=timedelta(seconds=config.outbox_grace),
        interval_seconds=config.outbox_sweep_interval,
    )
    return MendBot(app, config, store, shell, dispatcher, intake, sweeper)


# Libraries that log what people write, or the token, below these levels: python-telegram-bot
# logs every request's parameters at DEBUG, httpx every URL (with the token) at INFO, and
# aiosqlite every statement's parameters at DEBUG. Even LOG_LEVEL=DEBUG never lowers them.
PRIVATE_LOGGERS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "apscheduler": logging.WARNING,
}


def silence_private_loggers() -> None:
    for name, level in PRIVATE_LOGGERS.items():
        logging.getLogger(name).setLevel(level)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    silence_private_loggers()
    install_on_root()  # levels are not enough: even their CRITICAL may quote an update


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    if not config.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    runtime, code = load_runtime(config, "bot")
    if runtime is None:
        return code
    bot = bot_on(runtime)
    try:
        asyncio.run(bot.serve())
    except (SchemaTooNew, StoreUnavailable) as exc:
        print(f"Database problem: {exc}", file=sys.stderr)
        return 1
    except InvalidToken:
        print("Telegram refused the token: check TELEGRAM_BOT_TOKEN in .env.", file=sys.stderr)
        return 1
    except NetworkError as exc:
        print(
            f"Could not reach Telegram ({type(exc).__name__}); is the network up?", file=sys.stderr
        )
        return 1
    return 0
