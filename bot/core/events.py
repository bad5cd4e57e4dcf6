"""What can happen to a session: the only inputs `step` takes besides the clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hello:
    """/start: onboarding the first time, otherwise back to where the person was."""


@dataclass(frozen=True)
class StartFlow:
    flow: str


@dataclass(frozen=True)
class Press:
    data: str  # the button's callback data, as it came back


@dataclass(frozen=True)
class SendText:
    text: str


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class ShowMenu:
    pass


@dataclass(frozen=True)
class NotText:
    """A photo, sticker, voice note… where the coach can only read text; or an edit."""

    edited: bool = False


@dataclass(frozen=True)
class Due:
    """A scheduled follow-up or the daily check-in has come due."""

    flow: str


@dataclass(frozen=True)
class Timer:
    """A pause has run its time."""

    flow: str
    node: str


@dataclass(frozen=True)
class ChooseLanguage:
    """The person picks the language they read (the console's --lang); ignored if unknown."""

    code: str


@dataclass(frozen=True)
class Command:
    """A slash command as typed ("/menu", "/start@bot words"): the core screens its words
    and decides what it means, the same for every shell."""

    name: str
    args: str = ""


Event = (
    Command
    | ChooseLanguage
    | Hello
    | StartFlow
    | Press
    | SendText
    | Cancel
    | ShowMenu
    | NotText
    | Due
    | Timer
)
