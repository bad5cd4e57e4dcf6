"""A person tapping and typing through the real engine, keeping the session between turns."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.engine import step
from bot.core.events import Event, Press
from bot.core.model import Script
from bot.core.session import Session
from bot.core.turn import Turn

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


class Person:
    def __init__(self, script: Script, session: Session | None = None, now: datetime = NOW):
        self.script = script
        self.session = session or Session()
        self.now = now
        self.turn: Turn | None = None
        self.taps = 0

    def send(self, event: Event) -> Turn:
        self.turn = step(self.script, self.session, event, self.now)
        self.session = self.turn.session
        return self.turn

    def tap(self, label: str) -> Turn:
        """Press the button labelled `label` in the last turn."""
        assert self.turn is not None
        for message in self.turn.messages:
            for button in message.buttons:
                if button.label == label:
                    self.taps += 1
                    return self.send(Press(button.data))
        raise AssertionError(f"no button {label!r} in {self.labels()}")

    def labels(self) -> list[str]:
        assert self.turn is not None
        return [b.label for m in self.turn.messages for b in m.buttons]

    def text(self) -> str:
        assert self.turn is not None
        return "\n".join(m.text for m in self.turn.messages)

    def at(self) -> tuple[str, str] | None:
        pos = self.session.position
        return (pos.flow, pos.node) if pos else None
