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
    quiet_hours: str = ""  # "22:00-07:00", or "" for none
    paused_until: str = ""  # ISO date (UTC); no check-in before it; "" when not paused
    safety: str = ""  # the abuse screening: "", "clear" or "flagged"
    protect: bool = True  # messages quoting the person's words cannot be forwarded or saved
    language: str = ""  # dialogues/locales/ code; "" until chosen (Telegram's code is used)


# What a dialogue may read or change with `setting:`; the compiler checks names and types.
SETTING_TYPES: Mapping[str, type] = MappingProxyType(
    {
        "timezone": str,
        "checkin_time": str,
        "discreet": bool,
        "checkins": bool,
        "country": str,
        "quiet_hours": str,
        "paused_until": str,
        "safety": str,
        "protect": bool,
        "language": str,
    }
)
BOOL_SETTINGS = tuple(name for name, kind in SETTING_TYPES.items() if kind is bool)
# Settings that decide when the daily check-in is due; changing one replans it.
SCHEDULE_SETTINGS = frozenset(
    {"timezone", "checkin_time", "checkins", "quiet_hours", "paused_until"}
)

# Names a template may use besides answers; the store provides the counts.
PROGRESS_NAMES = (
    "progress.days",
    "progress.practices",
    "progress.checkins_7d",
    "progress.checkins_30d",
    "progress.promises_made",
    "progress.promises_kept",
    "progress.talks",
)
ALWAYS_NAMES = (*PROGRESS_NAMES, "safety.resources", "privacy.encryption", "progress.practice_list",
                "settings.paused_until_text", "settings.language_name",
                "progress.days_text")  # fmt: skip
# `<answer>.flagged` is "1" when the person kept an answer a text check had notes on:
# such an answer is never shown back (templates fall back to their default words).
FLAGGED_SUFFIX = ".flagged"
# A fact the store adds to every session: "yes" when it encrypts what people write.
ENCRYPTED_FACT = "store.encrypted"


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
    held: str | None = None  # text held while the coach asks "are you safe right now?"


@dataclass(frozen=True)
class Promise:
    """An open commitment from the person's ledger, as the check-in shows it."""

    id: int
    text: str
    kept_today: bool = False


@dataclass(frozen=True)
class Session:
    position: Position | None = None
    answers: Mapping[str, str] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    completed: frozenset[str] = frozenset()
    started_at: datetime | None = None  # when the person first met the coach (UTC)
    suspended: Position | None = None  # an exercise put aside by an interrupting flow
    promises: tuple[Promise, ...] = ()  # open commitments (loaded by the store)
    facts: Mapping[str, str] = field(default_factory=dict)  # progress counts from the store
    # False when the store holds nothing about the person (new, or after /delete): they
    # have not agreed to storage, so only the welcome flow runs and nothing is stored.
    known: bool = True

    def values(self, now: datetime | None = None, *, flagged: bool = False) -> dict[str, str]:
        """Everything a template may show: answers, `settings.*` and `progress.*` (the
        engine adds what needs the script, such as `progress.practices`).

        Answers kept despite a check's notes are left out unless `flagged` (for effects
        that store the person's words, such as a journal entry, rather than show them)."""
        answers = self.answers
        out = {k: v for k, v in answers.items() if flagged or not answers.get(k + FLAGGED_SUFFIX)}
        out.update(self.facts)
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
