"""The dialogue engine: `step(script, session, event, now) -> Turn`. Pure.

The engine decides what to say and what to store; shells carry it out. This module
routes each event (a press, a command, a due check-in); walking the graph is in `walk`,
free-text answers in `free_text`, and words of danger in `crisis_response`.

Safety comes first: every piece of free text is screened for words of danger before
anything else reads it, and a match interrupts whatever the person was doing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from bot.core import buttons
from bot.core.commands import event_for_command
from bot.core.crisis_response import (
    ask_if_safe,
    consented,
    crisis,
    leave_after_crisis,
    offer_way_back,
    put_aside,
    safe,
)
from bot.core.engine_names import (
    CONSENT_ANSWER,
    KIND_CODES,
    MAX_ANSWER_CHARS,
    REQUIRED_ROLES,
    REQUIRED_STRINGS,
    SAFETY_FOLLOWUP_AFTER,
    STRING_SLOTS,
    VARIANTS,
)
from bot.core.events import (
    Cancel,
    ChooseLanguage,
    Command,
    Due,
    Event,
    Hello,
    NotText,
    Press,
    SendText,
    ShowMenu,
    StartFlow,
    Timer,
)
from bot.core.free_text import (
    accept,
    answer_text,
    not_text,
    set_from_text,
    suggestion,
)
from bot.core.languages import reading_language
from bot.core.model import (
    Choice,
    FollowUpSpec,
    Node,
    NodeKind,
    Script,
)
from bot.core.session import Position, Session
from bot.core.turn import (
    ChangeSetting,
    KeepPromise,
    SaveAnswer,
    ScheduleFollowUp,
    Turn,
)
from bot.core.turn_builder import TurnBuilder
from bot.core.walk import (
    apply_spec,
    continue_after,
    idle,
    local_day,
    reshow,
    run,
    start_flow,
    turned_off,
    valid_session,
)


def step(
    script: Script, session: Session, event: Event, now: datetime, *, telegram_language: str = ""
) -> Turn:
    """The turn for `event`. `telegram_language` is the language code Telegram sent with
    it: the person reads that language until they have chosen one."""
    root = script
    language = reading_language(root, session, telegram_language)
    script = root.for_language(language)
    b = TurnBuilder(script, valid_session(script, session), now, root=root)
    if b.session is not session and session.position is not None:
        b.say_string("content_changed")
    if isinstance(event, ChooseLanguage):
        # Says nothing: the next event is shown in it. Before consent nothing is stored;
        # the shell passes the language along as Telegram's code would be.
        known = consented(b.session)
        if known and event.code in {lang.code for lang in root.languages}:
            b.effect(ChangeSetting("language", event.code))
        return dataclasses.replace(b.turn(), persist=known)
    if isinstance(event, Command):
        routed = _command(script, event)
        if routed is None:
            b.say_string("unknown_command")
            return dataclasses.replace(b.turn(), persist=consented(b.session))
        event = routed
    if not consented(b.session):
        _before_consent(b, event)
        if not _consent_given(b):
            return dataclasses.replace(b.turn(), persist=False)
        b.session = dataclasses.replace(b.session, known=True)
        if not b.session.settings.language:
            b.effect(ChangeSetting("language", language))  # what they read when they said yes
        return b.turn()
    match event:
        case Hello():
            _hello(b)
        case StartFlow(flow=flow):
            _open(b, flow if flow in script.flows else script.role("menu"))
        case ShowMenu():
            b.suspend(None)
            start_flow(b, b.script.role("menu"))
        case Cancel():
            b.move(None)
            b.suspend(None)
            idle(b, "cancelled")
        case Press(data=data):
            _press(b, data)
        case SendText(text=text):
            signal = script.screen.screen(text)
            if signal is None:
                answer_text(b, text)
            elif signal.clear:
                crisis(b, signal.kind)
            else:
                ask_if_safe(b, signal, text)
        case NotText(edited=edited):
            not_text(b, edited)
        case Due(flow=flow):
            _due(b, flow)
        case Timer(flow=flow, node=node):
            _timer(b, flow, node)
    return b.turn()


def _consent_given(b: TurnBuilder) -> bool:
    return SaveAnswer(CONSENT_ANSWER, "yes") in b.effects


def _before_consent(b: TurnBuilder, event: Event) -> None:
    """Before consent only the welcome flow runs, and the crisis screen always does."""
    if isinstance(event, Press):
        code = buttons.decode(event.data)
        flow = b.script.flows.get(code.flow) if code is not None else None
        if (
            code is not None
            and code.version == b.script.version
            and flow is not None
            and flow.before_consent
            and code.node in flow.nodes
        ):
            b.move(Position(code.flow, code.node))  # the button names its own step
            _press(b, event.data)
            return
    flows = b.script.flows
    if isinstance(event, StartFlow) and event.flow in flows and flows[event.flow].before_consent:
        start_flow(b, event.flow)  # /help and /privacy, to read before saying yes
        return
    if isinstance(event, SendText):
        signal = b.script.screen.screen(event.text)
        if signal is not None:
            crisis(b, signal.kind)  # shown, never stored: the turn is not persisted
            return
        pos = b.session.position
        if pos is not None:
            b.say_string("use_buttons")
            reshow(b)
            return
    start_flow(b, b.script.role("welcome"))


def _command(script: Script, command: Command) -> Event | None:
    """What a command means; words of danger after it come first, whatever the command."""
    if command.args and script.screen.screen(command.args) is not None:
        return SendText(command.args)
    return event_for_command(command.name, script)


def show_current(
    script: Script,
    session: Session,
    now: datetime,
    *,
    telegram_language: str = "",
    note: str = "",
) -> Turn:
    """Show the step the person is on again, changing nothing; after the string `note`, in
    the person's language, when a shell has one to say first."""
    script = script.for_language(reading_language(script, session, telegram_language))
    b = TurnBuilder(script, valid_session(script, session), now)
    if note:
        b.say_string(note)
    reshow(b)
    return b.turn()


# --- events -----------------------------------------------------------------------------


def _hello(b: TurnBuilder) -> None:
    onboarding = b.script.role("onboarding")
    if onboarding not in b.session.completed and b.session.position is None:
        start_flow(b, onboarding)
    elif b.session.position is not None:
        b.say_string("welcome_back")
        reshow(b)
    else:
        start_flow(b, b.script.role("menu"))


def _open(b: TurnBuilder, flow_id: str) -> None:
    """Start a flow on request; an interrupting one puts the current exercise aside."""
    flow = b.script.flows[flow_id]
    if flow.couples_talk and b.session.settings.safety == "flagged":
        idle(b, "couples_talk_off")
        return
    if flow.interrupts:
        put_aside(b, flow_id)
    start_flow(b, flow_id)


def _due(b: TurnBuilder, flow: str) -> None:
    """A scheduled flow arrives. In discreet mode the notification says nothing personal."""
    if flow not in b.script.flows:
        return
    if b.session.settings.discreet:
        b.say(b.label("notify_discreet"), (b.global_button("open_button", buttons.OPEN, flow),))
        return
    _arrive(b, flow)


def _arrive(b: TurnBuilder, flow: str) -> None:
    """A follow-up never throws away an exercise in progress: it is put aside instead."""
    pos = b.session.position
    if pos is not None and pos.flow != flow:
        b.suspend(pos)
    start_flow(b, flow)


def _timer(b: TurnBuilder, flow: str, node_id: str) -> None:
    pos = b.session.position
    node = b.script.node(flow, node_id)
    if pos is None or (pos.flow, pos.node) != (flow, node_id) or node is None or not node.next:
        return  # skipped, or the person moved on: a late timer says nothing
    continue_after(b, node, pos.stack)


def _press(b: TurnBuilder, data: str) -> None:
    code = buttons.decode(data)
    if code is None or code.version != b.script.version:
        _stale(b)
        return
    if code.node == "":
        _global_press(b, code)
        return
    pos = b.session.position
    if pos is None or (pos.flow, pos.node) != (code.flow, code.node):
        _stale(b)
        return
    node = b.script.flows[pos.flow].nodes[pos.node]
    token = code.token
    if node.kind is NodeKind.CHOICES and token.isdigit() and int(token) < len(node.choices):
        choice = node.choices[int(token)]
        if turned_off(b, choice.start):  # an old or forged button: it stays off
            idle(b, "couples_talk_off")
            return
        _choose(b, node, choice, pos)
    elif node.ask is not None and pos.draft is not None and token == buttons.KEEP:
        accept(b, node, pos, pos.draft, flagged=True)  # kept as written, despite the notes
    elif node.ask is not None and pos.draft is not None and token == buttons.REVISE:
        b.move(dataclasses.replace(pos, draft=None))
        b.say_string("revise_prompt")
        reshow(b)
    elif node.ask is not None and node.ask.setting and pos.draft and suggestion(pos, token):
        chosen = suggestion(pos, token)
        assert chosen is not None
        b.move(dataclasses.replace(pos, draft=None))
        set_from_text(b, node, dataclasses.replace(pos, draft=None), node.ask.setting, chosen)
    elif node.ask is not None and node.ask.optional and token == buttons.SKIP:
        if node.ask.save:
            b.effect(SaveAnswer(node.ask.save, ""))  # skipped: an old answer must not show
        continue_after(b, node, pos.stack)
    elif node.pause is not None and token == buttons.SKIP:
        b.move(None)
        run(b, node.flow, node.pause.skip_to or node.next or "", pos.stack)
    elif node.promises is not None and token == buttons.DONE:
        b.move(None)
        run(b, node.flow, node.promises.next, pos.stack)
    elif node.promises is not None and node.promises.missed and token == buttons.MISSED:
        b.move(None)
        run(b, node.flow, node.promises.missed[1], pos.stack)
    elif node.promises is not None and (_keep(b, token) or _already_kept(b, token)):
        reshow(b)
    else:
        _stale(b)


def _global_press(b: TurnBuilder, code: buttons.ButtonCode) -> None:
    if code.token == buttons.MENU:
        b.suspend(None)
        start_flow(b, b.script.role("menu"))
    elif code.token == buttons.OPEN and code.flow in _arriving_flows(b.script):
        _arrive(b, code.flow)
    elif code.token == buttons.RESUME and b.session.suspended is not None:
        pos = b.session.suspended
        b.move(pos)
        b.suspend(None)
        node = b.script.flows[pos.flow].nodes[pos.node]
        if node.pause is not None:  # its timer may have fired while it was put aside
            b.effect(ScheduleFollowUp(pos.flow, b.now + node.pause.wait, pos.node))
        reshow(b)
    elif code.token == buttons.DROP and b.session.suspended is not None:
        b.suspend(None)
        idle(b, "dropped")
    elif code.token == buttons.LEAVE:
        leave_after_crisis(b)
    elif code.token == buttons.FOLLOW_UP:
        b.effect(ScheduleFollowUp(b.script.role("safety_followup"), b.now + SAFETY_FOLLOWUP_AFTER))
        b.say_string("crisis.followup_set")
        offer_way_back(b)
    elif code.token == buttons.SAFE:
        safe(b)
    elif code.token[:-1] in (buttons.UNSURE, buttons.UNSAFE) and code.token[-1] in KIND_CODES:
        crisis(b, KIND_CODES[code.token[-1]])
    else:
        reshow(b)


def _arriving_flows(script: Script) -> frozenset[str]:
    """The flows that may arrive by schedule, the only ones an "Open" button may start:
    the daily check-in and every flow some node plans as a follow-up."""
    targets = {script.role("checkin"), script.role("safety_followup")}
    for flow in script.flows.values():
        for node in flow.nodes.values():
            specs = [*node.effects, *(s for c in node.choices for s in c.effects)]
            targets |= {s.flow for s in specs if isinstance(s, FollowUpSpec)}
    return frozenset(targets & set(script.flows))


def _stale(b: TurnBuilder) -> None:
    b.stale_press = True
    b.say_string("stale_button")
    reshow(b)


def _keep(b: TurnBuilder, token: str) -> bool:
    """A tap on a promise: kept today. False when the token names no open promise."""
    if not (token.startswith("p") and token[1:].isdigit()):
        return False
    promise_id = int(token[1:])
    if not any(p.id == promise_id and not p.kept_today for p in b.session.promises):
        return False
    b.effect(KeepPromise(promise_id, local_day(b).isoformat()))
    return True


def _choose(b: TurnBuilder, node: Node, choice: Choice, pos: Position) -> None:
    for spec in choice.effects:
        apply_spec(b, node.flow, spec)
    if choice.start is not None:
        start_flow(b, choice.start)
    else:
        assert choice.next is not None  # the compiler guarantees one of the two
        b.move(None)
        run(b, node.flow, choice.next, pos.stack)


def _already_kept(b: TurnBuilder, token: str) -> bool:
    """A second tap on a ticked promise changes nothing and is not a stale button."""
    if not (token.startswith("p") and token[1:].isdigit()):
        return False
    return any(p.id == int(token[1:]) and p.kept_today for p in b.session.promises)


__all__ = [
    "MAX_ANSWER_CHARS",
    "REQUIRED_ROLES",
    "REQUIRED_STRINGS",
    "STRING_SLOTS",
    "VARIANTS",
    "consented",
    "show_current",
    "step",
]
