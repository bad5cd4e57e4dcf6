"""A person's place in the coach: one small record, saved with every turn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    checkin_time: str = "20:00"  # local HH:MM
    discreet: bool = True  # notifications that reveal nothing on a lock screen
    checkins: bool = True  # daily check-ins on or off
    country: str = ""  # ISO code, for crisis resources; "" means the international list


# What a dialogue may read or change with `setting:`; the compiler checks names and types.
SETTING_TYPES: Mapping[str, type] = MappingProxyType(
    {"timezone": str, "checkin_time": str, "discreet": bool, "checkins": bool, "country": str}
)


# Names a template may use besides answers: the compiler allows exactly these.
PROGRESS_NAMES = ("progress.days", "progress.practices")
# Flows that are not practices, for counting how many practices a person finished.
NOT_PRACTICES = frozenset(
    {"menu", "onboarding", "checkin", "settings", "help", "privacy", "progress"}
)


@dataclass(frozen=True)
class Frame:
    """Where to come back to when a called flow ends."""

    flow: str
    node: str


@dataclass(frozen=True)
class Position:
    flow: str
    node: str
    stack: tuple[Frame, ...] = ()
    draft: str | None = None  # text a check gave feedback on, waiting for keep or revise


@dataclass(frozen=True)
class Session:
    position: Position | None = None
    answers: Mapping[str, str] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    completed: frozenset[str] = frozenset()
    started_at: datetime | None = None  # when the person first met the coach (UTC)

    def values(self, now: datetime | None = None) -> dict[str, str]:
        """Everything a template may show: answers, `settings.*` and `progress.*`."""
        out = dict(self.answers)
        practices = self.completed - NOT_PRACTICES
        out["progress.practices"] = str(len(practices))
        if now is not None and self.started_at is not None:
            out["progress.days"] = str(max(0, (now - self.started_at).days))
        for name in SETTING_TYPES:
            value = getattr(self.settings, name)
            out[f"settings.{name}"] = _show(value)
        return out


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
