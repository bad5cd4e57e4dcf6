"""The coach in a terminal: numbered buttons, free text, the same SQLite file.

Try every dialogue without Telegram: `make console`. Type a number to press a
button, anything else to answer; /menu, /cancel, /start and /quit work anywhere, and
so do the bot's other commands (/prepare, /checkin, /settings…). Scheduled things
(a breathing exercise's pauses, a debrief) arrive while the console is open.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import sys
import textwrap
from datetime import date
from pathlib import Path

from bot.bootstrap import load_runtime
from bot.coach import Coach
from bot.config import ConfigError, load_config
from bot.core.commands import parse_command
from bot.core.events import ChooseLanguage, Command, Event, Hello, Press, SendText
from bot.core.progress_history import sparkline
from bot.core.turn import Button, Export, OutMessage, ShowChart, Turn
from bot.locks import UserLocks
from bot.store.protocol import SchemaTooNew, StoreUnavailable

CONSOLE_USER = -1  # Telegram user ids are positive, so the local person never collides
_TAG = re.compile(r"<[^>]+>")


def to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


_OWN_NUMBER = re.compile(r"^\d+\.\s+")  # "1. Listen…": the console numbers buttons itself


def wrap(text: str, width: int) -> str:
    """Fold each line at word boundaries, never inside a word or a number."""
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or line
        for line in text.split("\n")
    )


def render(messages: tuple[OutMessage, ...], width: int | None = None) -> tuple[str, list[Button]]:
    width = width or max(40, min(100, shutil.get_terminal_size((80, 24)).columns - 1))
    lines: list[str] = []
    shown: list[Button] = []
    for message in messages:
        lines.append(wrap(to_plain(message.text), width))
        for button in message.buttons:
            if button.copy is not None:
                continue  # a copy button only means something on a phone
            shown.append(button)
            lines.append(f"  {len(shown)}) {_OWN_NUMBER.sub('', button.label)}")
        lines.append("")
    return "\n".join(lines), shown


def to_event(line: str, shown: list[Button]) -> Event:
    """What a typed line means: a command, a press of a numbered button, or text."""
    word = line.strip()
    command = parse_command(word)
    if command is not None:
        return Command(*command)
    if word.isdigit() and 1 <= int(word) <= len(shown):
        return Press(shown[int(word) - 1].data)
    return SendText(line)


class Console:
    def __init__(
        self, coach: Coach, locks: UserLocks, user_id: int = CONSOLE_USER, language: str = ""
    ) -> None:
        self.coach = coach
        self.locks = locks
        self.user_id = user_id
        self.language = language  # --lang: read like Telegram's language code, and chosen
        self.shown: list[Button] = []

    async def deliver(self, user_id: int, messages: tuple[OutMessage, ...]) -> None:
        """Scheduled messages (the dispatcher's send): printed as they arrive, on their own
        lines rather than after the waiting prompt, which is shown again below them."""
        print("\r  \r", end="")
        self.show(messages)
        print("> ", end="", flush=True)

    def show(self, messages: tuple[OutMessage, ...]) -> None:
        text, shown = render(messages)
        if shown or not self.shown:
            self.shown = shown
        print(text, flush=True)

    async def turn(self, event: Event) -> None:
        async with self.locks.hold(self.user_id):
            turn = await self.coach.handle(self.user_id, event, telegram_language=self.language)
        if turn is not None:
            self.show(turn.messages)
            await self._export(turn)
            await self._chart(turn)

    async def _chart(self, turn: Turn) -> None:
        if not any(isinstance(e, ShowChart) for e in turn.effects):
            return
        days, caption, _, _ = await self.coach.chart(self.user_id)
        print(f"[{sparkline(days)}]", flush=True)  # one character a day, oldest first
        text, _ = render((OutMessage(caption),))
        print(text, flush=True)

    async def _export(self, turn: Turn) -> None:
        if not any(isinstance(e, Export) for e in turn.effects):
            return
        files = await self.coach.export(self.user_id)
        stem = Path.cwd() / f"mend-export-{date.today().isoformat()}"
        for suffix, content in ((".md", files.markdown), (".json", files.json)):
            path = stem.with_suffix(suffix)
            path.write_bytes(content)
            path.chmod(0o600)
            print(f"(saved {path})")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        if self.language:
            await self.turn(ChooseLanguage(self.language))
        await self.turn(Hello())
        while True:
            line = await loop.run_in_executor(None, _read)
            if line is None or line.strip().lower() in ("/quit", "/exit"):
                return
            await self.turn(to_event(line, self.shown))


def _read() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None


async def _main(language: str) -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    runtime, code = load_runtime(config, "coach")
    if runtime is None:
        return code
    store = runtime.store
    try:
        await store.open()
    except (SchemaTooNew, StoreUnavailable) as exc:
        print(f"Database problem: {exc}", file=sys.stderr)
        return 1
    console = Console(runtime.coach, runtime.locks, language=language)
    stop = asyncio.Event()
    # Unpaced: one person at a terminal is far below any rate limit.
    dispatcher = runtime.dispatcher(console.deliver, paced=False)
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        print("Mend console. Numbers press buttons; /menu, /cancel, /quit.\n")
        await console.run()
    finally:
        stop.set()
        await task
        await store.close()
    return 0


def main(language: str = "") -> int:
    """`language`: a code such as "es" or "pt-BR" (--lang): the console reads and writes it."""
    try:
        return asyncio.run(_main(language))
    except KeyboardInterrupt:
        return 130
