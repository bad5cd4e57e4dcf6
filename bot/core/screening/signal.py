"""What the screen says about a message: a kind of danger, how clear it is, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CrisisKind(Enum):
    """In urgency order: when a message speaks of several, the first names it."""

    SUICIDE = "suicide"  # suicide, wanting to die, not wanting to be here, indirect forms
    SELF_HARM = "self_harm"
    HARM_OTHERS = "harm_others"  # intent to hurt someone
    ABUSE = "abuse"  # being hurt, threatened, controlled or made afraid at home


class Level(Enum):
    CLEAR = "clear"  # interrupts at once with the crisis lines
    UNCLEAR = "unclear"  # worrying: ask "are you safe right now?" first


@dataclass(frozen=True)
class Signal:
    kind: CrisisKind
    level: Level
    source: str  # "rule:<language>.<rule id>" or "model:<probability>", for review only

    @property
    def clear(self) -> bool:
        return self.level is Level.CLEAR


KIND_ORDER: tuple[CrisisKind, ...] = tuple(CrisisKind)
KINDS_BY_NAME = {k.value: k for k in CrisisKind}
LEVELS_BY_NAME = {lv.value: lv for lv in Level}
