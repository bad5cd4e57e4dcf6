"""Slash commands, the same in every shell: which event each one means."""

from __future__ import annotations

from bot.core.events import Cancel, Event, Hello, ShowMenu, StartFlow
from bot.core.model import Script

# In the order Telegram's command menu shows them; `command.<name>` strings describe them.
COMMANDS = (
    "start",
    "menu",
    "prepare",
    "checkin",
    "progress",
    "settings",
    "privacy",
    "help",
    "cancel",
)
_FIXED: dict[str, Event] = {"start": Hello(), "menu": ShowMenu(), "cancel": Cancel()}


def parse_command(text: str) -> tuple[str, str] | None:
    """`/name@bot args` -> (name, args); None when the text is not a command."""
    if not text.startswith("/"):
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, args.strip()) if name else None


def event_for_command(name: str, script: Script) -> Event | None:
    """The event a command means, or None for a command this coach does not know."""
    if name in _FIXED:
        return _FIXED[name]
    if name in COMMANDS and name in script.flows:
        return StartFlow(name)
    return None
