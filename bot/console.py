"""The coach in a terminal: numbered buttons, free text, the same SQLite file.

Try every dialogue without Telegram: `make console`. Type a number to press a
button, anything else to answer; /menu, /cancel, /start and /quit work anywhere.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from bot.coach import Coach
from bot.config import load_config
from bot.core.events import Cancel, Event, Hello, Press, SendText, ShowMenu
from bot.core.turn import Button, Turn
from bot.script_loader import load_script
from bot.store.sqlite import SqliteStore

CONSOLE_USER = -1  # Telegram user ids are positive, so the local person never collides
_TAG = re.compile(r"<[^>]+>")
COMMANDS: dict[str, Callable[[], Event]] = {"/menu": ShowMenu, "/cancel": Cancel, "/start": Hello}


def to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def render(turn: Turn) -> tuple[str, list[Button]]:
    lines: list[str] = []
    shown: list[Button] = []
    for message in turn.messages:
        lines.append(to_plain(message.text))
        for button in message.buttons:
            shown.append(button)
            lines.append(f"  {len(shown)}) {button.label}")
        lines.append("")
    return "\n".join(lines), shown


def to_event(line: str, shown: list[Button]) -> Event:
    word = line.strip()
    if word.lower() in COMMANDS:
        return COMMANDS[word.lower()]()
    if word.isdigit() and 1 <= int(word) <= len(shown):
        return Press(shown[int(word) - 1].data)
    return SendText(line)


async def run(coach: Coach, user_id: int = CONSOLE_USER) -> None:
    shown: list[Button] = []
    event: Event = Hello()
    loop = asyncio.get_running_loop()
    while True:
        turn = await coach.handle(user_id, event)
        if turn is not None:
            text, shown = render(turn)
            print(text, flush=True)
        line = await loop.run_in_executor(None, _read)
        if line is None or line.strip().lower() in ("/quit", "/exit"):
            return
        event = to_event(line, shown)


def _read() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None


async def _main() -> int:
    config = load_config()
    result = load_script(config.dialogues_dir)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if result.script is None:
        print("The dialogues have errors; the coach will not start.", file=sys.stderr)
        return 1
    store = SqliteStore(config.database_path)
    await store.open()
    try:
        print("Mend console. Numbers press buttons; /menu, /cancel, /quit.\n")
        await run(Coach(result.script, store, lambda: datetime.now(UTC)))
    finally:
        await store.close()
    return 0


def main() -> int:
    try:
        return asyncio.run(_main())
    except KeyboardInterrupt:
        return 130
