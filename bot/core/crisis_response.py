"""The response to words of danger: a crisis card that interrupts anything, or for an
unclear signal "are you safe right now?", and the ways back afterwards."""

from __future__ import annotations

import dataclasses

from bot.core import buttons
from bot.core.engine_names import CODE_OF_KIND
from bot.core.free_text import (
    answer_text,
)
from bot.core.resources import resources_html
from bot.core.screening import CrisisKind, Signal
from bot.core.session import Session
from bot.core.turn import (
    Button,
    FlagCrisis,
)
from bot.core.turn_builder import TurnBuilder
from bot.core.walk import (
    offer_menu,
    reshow,
)


def consented(session: Session) -> bool:
    """Whether the person agreed to storage. Nothing is stored before they say yes, so a
    person the store does not know (new, or after /delete) has not, whatever old button
    or command they send; only the welcome flow runs for them."""
    return session.known


def crisis(b: TurnBuilder, kind: CrisisKind) -> None:
    """Words of danger: pause whatever was happening, and show help before anything else."""
    may_follow_up = consented(b.session)  # a follow-up would have to be stored
    put_aside(b, b.script.role("safety"))
    b.move(None)
    b.effect(FlagCrisis(kind.value))  # a kind and a time; the words themselves are never kept
    b.say_string(f"crisis.{kind.value}")
    lines = {"safety.resources": resources_html(b.script, b.session.settings.country, kind)}
    follow: tuple[Button, ...] = ()
    if may_follow_up:
        follow = (b.global_button("crisis.followup_button", buttons.FOLLOW_UP),)
    leave = b.global_button("crisis.leave_button", buttons.LEAVE)
    if b.session.suspended is not None:
        keys: tuple[Button, ...] = (b.global_button("resume_button", buttons.RESUME), leave)
    else:
        keys = (b.global_button("menu_button", buttons.MENU),)
    b.say(b.script.string("crisis.resources").render(b.values() | lines), (*keys, *follow))


def put_aside(b: TurnBuilder, coming: str) -> None:
    """An interruption puts the exercise in progress aside, to come back to (without any
    words held for a question); the menu, or the flow that is coming, is simply left."""
    pos = b.session.position
    if pos is not None and pos.flow not in (b.script.role("menu"), coming):
        b.suspend(dataclasses.replace(pos, held=None))


def leave_after_crisis(b: TurnBuilder) -> None:
    """ "Leave it for now" after a crisis card: a warm goodbye that keeps the lines at hand."""
    b.suspend(None)
    b.say_string("crisis.leave")
    offer_menu(b)


def offer_way_back(b: TurnBuilder) -> None:
    if b.session.suspended is not None:
        keys = (
            b.global_button("resume_button", buttons.RESUME),
            b.global_button("crisis.leave_button", buttons.LEAVE),
        )
        b.say(b.label("where_next"), keys)
    else:
        offer_menu(b)


def ask_if_safe(b: TurnBuilder, signal: Signal, text: str) -> None:
    """A worrying but unclear message: ask before showing crisis lines, and hold the words
    so that "I'm safe" carries on with them as if nothing had interrupted."""
    pos = b.session.position
    if pos is not None:
        b.move(dataclasses.replace(pos, held=text))
    code = CODE_OF_KIND[signal.kind]
    keys = (
        b.global_button("safety.safe_button", buttons.SAFE),
        b.global_button("safety.unsure_button", buttons.UNSURE + code),
        b.global_button("safety.unsafe_button", buttons.UNSAFE + code),
    )
    b.say(b.label("safety.ask"), keys)


def safe(b: TurnBuilder) -> None:
    b.say_string("safety.safe_reply")
    pos = b.session.position
    if pos is not None and pos.held is not None:
        held = pos.held
        b.move(dataclasses.replace(pos, held=None))
        answer_text(b, held)
    else:
        reshow(b)
