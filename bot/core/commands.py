"""Slash commands, the same in every shell: which event each one means.

Three are the engine's own (start, menu, cancel); every other one opens the flow whose
header says `command: <name>`, so which flow a command opens is written in the dialogues.
"""

from __future__ import annotations

from bot.core.events import Cancel, Event, Hello, ShowMenu, StartFlow
from bot.core.model import Script

# In the order Telegram's command menu shows them; `command.<name>` strings describe them.
COMMANDS = (
    "start", "menu", "prepare", "now", "checkin", "progress", "settings", "privacy", "export",
    "delete", "help", "cancel",
)  # fmt: skip
_FIXED: dict[str, Event] = {"start": Hello(), "menu": ShowMenu(), "cancel": Cancel()}
# Commands the coach cannot do without: the compiler insists some flow opens each.
FLOW_COMMANDS = ("help", "privacy", "settings", "progress")


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
    flow = script.command_flow(name)
    return StartFlow(flow) if name in COMMANDS and flow is not None else None
