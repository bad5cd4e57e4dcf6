"""What `step` returns: messages to show, effects to carry out, the new session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.session import Session


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes ("" for a copy button)
    copy: str | None = None  # plain text Telegram copies to the clipboard when tapped


@dataclass(frozen=True)
class OutMessage:
    text: str  # Telegram HTML; the person's words inside it are escaped
    buttons: tuple[Button, ...] = ()
    pin: bool = False  # the shell pins this message in the chat
    private: bool = False  # quotes the person's own words: sent protected from forwarding


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
    node: str = ""  # set for a pause: continue from this node of `flow` when due


@dataclass(frozen=True)
class KeepPromise:
    commitment_id: int
    day: str  # the person's local date, ISO


@dataclass(frozen=True)
class FlagCrisis:
    """Words of danger were seen: stored as a kind and a time, never the text."""

    kind: str


@dataclass(frozen=True)
class Mark:
    """Something worth counting over time (a talk prepared, how a debrief went)."""

    name: str


@dataclass(frozen=True)
class Export:
    """Send the person everything stored about them."""


@dataclass(frozen=True)
class Unpin:
    """Unpin every message the coach pinned in this chat."""


@dataclass(frozen=True)
class ShowChart:
    """Send the person a picture of their last 30 days, with a caption."""


@dataclass(frozen=True)
class Erase:
    """Delete every row about the person; they confirmed."""


@dataclass(frozen=True)
class CompleteFlow:
    flow: str


Effect = (
    SaveAnswer
    | SaveJournal
    | RecordCommitment
    | ChangeSetting
    | ScheduleFollowUp
    | CompleteFlow
    | KeepPromise
    | FlagCrisis
    | Mark
    | Export
    | Erase
    | ShowChart
    | Unpin
)


@dataclass(frozen=True)
class Turn:
    messages: tuple[OutMessage, ...]
    effects: tuple[Effect, ...]
    session: Session
    trail: tuple[tuple[str, str], ...] = ()  # (flow, node) entered this turn, in order
    # False while the person has not agreed to storage: the shell must store nothing of
    # this turn (not the session, not the update id, not a crisis flag).
    persist: bool = True
    # The press this turn answers belonged to an earlier step: a shell must not show it
    # as chosen.
    stale_press: bool = False

    @property
    def erases(self) -> bool:
        """The person confirmed erasure: nothing of them is kept, this turn included."""
        return any(isinstance(e, Erase) for e in self.effects)
