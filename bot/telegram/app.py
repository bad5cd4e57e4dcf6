"""The composition root: one function builds the whole bot from settings.

Only here are the store, the clock, the script and python-telegram-bot wired together.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import UTC, datetime

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.coach import Clock, Coach
from bot.config import Config, ConfigError, load_config
from bot.core.commands import COMMANDS
from bot.core.model import Script
from bot.script_loader import load_script
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


def system_clock() -> datetime:
    return datetime.now(UTC)


def build_application(
    config: Config, script: Script, store: Store, clock: Clock = system_clock
) -> Application:  # type: ignore[type-arg]
    coach = Coach(script, store, clock)

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        await store.open()
        commands = [BotCommand(n, script.string(f"command.{n}").render({})) for n in COMMANDS]
        try:
            await app.bot.set_my_commands(commands)
            await app.bot.set_my_short_description(script.string("short_description").render({}))
        except TelegramError as exc:  # cosmetic; the bot works without them
            log.warning("could not set the command menu: %s", type(exc).__name__)

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        await store.close()

    app = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.api_file_url)
        .concurrent_updates(PerUserUpdateProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    shell = TelegramShell(coach, Sender(store), app.bot)
    app.add_handler(TypeHandler(Update, shell.on_update))
    app.add_error_handler(shell.on_error)
    return app


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


async def start(app: Application, config: Config) -> None:  # type: ignore[type-arg]
    """Initialise, connect the store, and begin receiving updates (polling or webhook)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    if config.webhook_url:
        log.info("webhook mode on %s:%d", config.webhook_listen, config.webhook_port)
        await app.updater.start_webhook(
            listen=config.webhook_listen,
            port=config.webhook_port,
            url_path=WEBHOOK_PATH,
            webhook_url=config.webhook_url,
            secret_token=config.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        log.info("long polling")
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)


async def stop(app: Application) -> None:  # type: ignore[type-arg]
    """Stop receiving, finish what is in hand, close the store."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()


async def serve(app: Application, config: Config) -> None:  # type: ignore[type-arg]
    """Run until SIGTERM or SIGINT, then shut down cleanly."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await start(app, config)
    try:
        await stopping.wait()
        log.info("stopping")
    finally:
        await stop(app)


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
    result = load_script(config.dialogues_dir)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if result.script is None:
        print("The dialogues have errors; the bot will not start.", file=sys.stderr)
        return 1
    app = build_application(config, result.script, SqliteStore(config.database_path))
    try:
        asyncio.run(serve(app, config))
    except (SchemaTooNew, StoreUnavailable) as exc:
        print(f"Database problem: {exc}", file=sys.stderr)
        return 1
    return 0
