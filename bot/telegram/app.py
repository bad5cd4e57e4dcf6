"""The composition root: one function builds the whole bot from settings.

Only here are the store, the clock, the script and python-telegram-bot wired together.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.coach import Clock, Coach, system_clock
from bot.config import Config, ConfigError, load_config
from bot.core.commands import COMMANDS
from bot.core.model import Script
from bot.locks import UserLocks
from bot.schedule.dispatcher import Dispatcher, DispatchSettings
from bot.schedule.pacer import Pacer
from bot.script_loader import load_or_explain
from bot.store.crypto import BadKey
from bot.store.protocol import SchemaTooNew, Store, StoreUnavailable
from bot.store.sqlite import SqliteStore
from bot.telegram.ordering import PerUserUpdateProcessor
from bot.telegram.sender import Sender
from bot.telegram.shell import TelegramShell

log = logging.getLogger(__name__)
WEBHOOK_PATH = "telegram"

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
    """The running bot: the PTB application, the store, the dispatcher, and their lifecycle."""

    app: Application  # type: ignore[type-arg]
    config: Config
    store: Store
    shell: TelegramShell
    dispatcher: Dispatcher
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

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
        await self.app.start()
        assert self.app.updater is not None
        config = self.config
        if config.webhook_url:
            log.info("webhook mode on %s:%d", config.webhook_listen, config.webhook_port)
            await self.app.updater.start_webhook(
                listen=config.webhook_listen,
                port=config.webhook_port,
                url_path=WEBHOOK_PATH,
                webhook_url=config.webhook_url,
                secret_token=config.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            log.info("long polling")
            await self.app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        self._stopping.clear()
        self._task = asyncio.create_task(self.dispatcher.run(self._stopping), name="dispatcher")

    async def stop(self) -> None:
        """Stop receiving, finish what is in hand, close the store."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        app = self.app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
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
        script = self.shell.coach.script
        commands = [BotCommand(n, script.string(f"command.{n}").render({})) for n in COMMANDS]
        try:
            await self.app.bot.set_my_commands(commands)
            description = script.string("short_description").render({})
            await self.app.bot.set_my_short_description(description)
        except TelegramError as exc:  # cosmetic; the bot works without them
            log.warning("could not set the command menu: %s", type(exc).__name__)


def build_bot(config: Config, script: Script, store: Store, clock: Clock = system_clock) -> MendBot:
    silence_private_loggers()
    coach = Coach(script, store, clock)
    locks = UserLocks()
    pacer = Pacer(rate=config.send_rate)
    app = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.api_file_url)
        .concurrent_updates(PerUserUpdateProcessor(locks))
        .build()
    )
    shell = TelegramShell(
        coach, Sender(store), app.bot, pacer, protect_content=config.protect_content
    )
    dispatcher = Dispatcher(
        coach,
        store,
        shell.deliver,
        locks,
        pacer,
        DispatchSettings(interval_seconds=config.dispatch_interval),
    )
    app.add_handler(TypeHandler(Update, shell.on_update))
    app.add_error_handler(shell.on_error)
    return MendBot(app, config, store, shell, dispatcher)


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
    script = load_or_explain(config.dialogues_dir, "bot", config.cache_dir)
    if script is None:
        return 1
    try:
        store = SqliteStore(config.database_path, config.cipher(), defaults=config.defaults())
    except BadKey as exc:
        print(f"ENCRYPTION_KEY problem: {exc}", file=sys.stderr)
        return 2
    bot = build_bot(config, script, store)
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
