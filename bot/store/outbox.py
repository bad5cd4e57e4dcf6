"""The outbox's rows: a turn's reply as text, and back.

A reply is what the shell must do for one update: the messages, and the shell's own
effects (export, chart, unpin). It is stored with the turn that made it and deleted once
sent (see `0003_outbox.sql`), so what was committed is always answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core.turn import Button, Effect, Export, OutMessage, ShowChart, Turn, Unpin

# The effects the shell carries out after sending, by the name stored for them.
SHELL_EFFECTS: dict[str, type[Export | ShowChart | Unpin]] = {
    "export": Export,
    "chart": ShowChart,
    "unpin": Unpin,
}


@dataclass(frozen=True)
class Reply:
    """What is still owed to a person for one update."""

    user_id: int
    update_id: int
    messages: tuple[OutMessage, ...]
    effects: tuple[Effect, ...]


_SHELL_EFFECT_TYPES = tuple(SHELL_EFFECTS.values())  # built once, not on every turn


def owes_reply(turn: Turn) -> bool:
    return bool(turn.messages) or any(isinstance(e, _SHELL_EFFECT_TYPES) for e in turn.effects)


def encode_reply(turn: Turn) -> str:
    messages = [
        {
            "text": m.text,
            "buttons": [[b.label, b.data, b.copy] for b in m.buttons],
            "pin": m.pin,
            "private": m.private,
        }
        for m in turn.messages
    ]
    effects = [
        name
        for name, kind in SHELL_EFFECTS.items()
        if any(isinstance(e, kind) for e in turn.effects)
    ]
    return json.dumps({"v": 1, "messages": messages, "effects": effects}, ensure_ascii=False)


def decode_reply(user_id: int, update_id: int, body: str) -> Reply:
    data: dict[str, Any] = json.loads(body)
    messages = tuple(
        OutMessage(
            text=str(m["text"]),
            buttons=tuple(Button(str(b[0]), str(b[1]), b[2]) for b in m["buttons"]),
            pin=bool(m["pin"]),
            private=bool(m["private"]),
        )
        for m in data["messages"]
    )
    effects = tuple(SHELL_EFFECTS[name]() for name in data["effects"] if name in SHELL_EFFECTS)
    return Reply(user_id, update_id, messages, effects)
