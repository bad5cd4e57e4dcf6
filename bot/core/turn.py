"""What `step` returns: messages to show, effects to carry out, the new session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.session import Session


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes


@dataclass(frozen=True)
class OutMessage:
    text: str  # Telegram HTML; the person's words inside it are escaped
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class SaveAnswer:
    name: str
    value: str


@dataclass(frozen=True)
class SaveJournal:
    flow: str
    text: str


@dataclass(frozen=True)
class RecordCommitment:
    text: str
    due: str  # as the person said it ("by Friday"); may be empty


@dataclass(frozen=True)
class ChangeSetting:
    name: str
    value: str | bool | int


@dataclass(frozen=True)
class ScheduleFollowUp:
    flow: str
    due_at: datetime  # UTC


@dataclass(frozen=True)
class CompleteFlow:
    flow: str


Effect = (
    SaveAnswer | SaveJournal | RecordCommitment | ChangeSetting | ScheduleFollowUp | CompleteFlow
)


@dataclass(frozen=True)
class Turn:
    messages: tuple[OutMessage, ...]
    effects: tuple[Effect, ...]
    session: Session
    trail: tuple[tuple[str, str], ...] = ()  # (flow, node) entered this turn, in order
