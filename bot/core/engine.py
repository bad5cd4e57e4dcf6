"""The dialogue engine: `step(script, session, event, now) -> Turn`. Pure.

The engine decides what to say and what to store; shells carry it out. It walks
message, branch, call and goto nodes in one turn and stops at the first node that
waits for the person (buttons, free text, a pause), or at the end of a flow.

Safety comes first: every piece of free text is screened for words of danger before
anything else reads it, and a match interrupts whatever the person was doing.
"""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date, datetime, timedelta

from bot.core import buttons
from bot.core.checks import Finding
from bot.core.events import (
    Cancel,
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
from bot.core.export_format import EXPORT_STRINGS
from bot.core.model import (
    AnswerSpec,
    BranchArm,
    ChartSpec,
    Choice,
    CommitmentSpec,
    Condition,
    ConditionKind,
    EffectSpec,
    EraseSpec,
    ExportSpec,
    FollowUpSpec,
    JournalSpec,
    MarkSpec,
    Node,
    NodeKind,
    PauseSpec,
    Script,
    SettingSpec,
    UnpinSpec,
)
from bot.core.resources import resources_html
from bot.core.screening import CrisisKind, Signal
from bot.core.session import FLAGGED_SUFFIX, Frame, Position, Session
from bot.core.setting_parsers import PARSERS, Parsed
from bot.core.timezones import load_zone
from bot.core.turn import (
    Button,
    ChangeSetting,
    CompleteFlow,
    Erase,
    Export,
    FlagCrisis,
    KeepPromise,
    Mark,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    ShowChart,
    Turn,
    Unpin,
)
from bot.core.turn_builder import TurnBuilder

MENU_FLOW = "menu"
ONBOARDING_FLOW = "onboarding"
WELCOME_FLOW = "welcome"  # before consent: stores nothing
CONSENT_ANSWER = "onboarding.consent"
SAFETY_FLOW = "safety"
MAX_ANSWER_CHARS = 3000  # a long answer is welcome; past this we ask for the heart of it
MAX_PROMISE_LABEL = 60
_MAX_HOPS = 200  # the compiler forbids loops without a waiting node; this guards anyway

# The words the engine itself says; the compiler refuses a script that lacks any of them.
REQUIRED_STRINGS = (
    "answer_too_long",
    "cancelled",
    "check_choice",
    "content_changed",
    "empty_answer",
    "idle_text",
    "keep_button",
    "menu_button",
    "not_text",
    "revise_button",
    "revise_prompt",
    "skip_button",
    "stale_button",
    "text_only",
    "use_buttons",
    "welcome_back",
    "where_now",
    "unknown_command",
    "error_note",
    "edited_note",
    "short_description",
    "chose_prefix",
    "resume_prompt",
    "resume_button",
    "drop_button",
    "dropped",
    "notify_discreet",
    "open_button",
    "couples_talk_off",
    "crisis.resources",
    "crisis.leave",
    "crisis.leave_button",
    "crisis.followup_button",
    "crisis.followup_set",
    "safety.ask",
    "safety.safe_button",
    "safety.unsure_button",
    "safety.unsafe_button",
    "safety.safe_reply",
    "privacy.encrypted",
    "chart.caption",
    "copy_button",
    "progress.finished",
    "chart.title",
    "chart.steady",
    "chart.hard",
    "chart.slipped",
    "chart.kept",
    "privacy.not_encrypted",
    *(f"crisis.{kind.value}" for kind in CrisisKind),
    *(f"parse.{name}" for name in PARSERS),
    *EXPORT_STRINGS,
)
CHECKIN_FLOW = "checkin"  # planned daily by the store's schedule
SAFETY_FOLLOWUP_FLOW = "safety_followup"  # the gentle message the day after a crisis card
SAFETY_FOLLOWUP_AFTER = timedelta(days=1)
REQUIRED_FLOWS = (MENU_FLOW, ONBOARDING_FLOW, WELCOME_FLOW, "help", "privacy", "settings",
                  "progress", SAFETY_FOLLOWUP_FLOW)  # fmt: skip
# One letter a crisis kind, inside the answer buttons of "are you safe right now?".
KIND_CODES = {"s": CrisisKind.SUICIDE, "h": CrisisKind.SELF_HARM, "o": CrisisKind.HARM_OTHERS,
              "a": CrisisKind.ABUSE}  # fmt: skip
CODE_OF_KIND = {kind: code for code, kind in KIND_CODES.items()}
# Slots the engine fills in strings besides answers, settings and progress.
STRING_SLOTS = ("progress.titles", "chart.checkins", "chart.steady", "chart.kept",
                "finding.quote", "limit.chars", "suspended.title", "parse.suggestions")  # fmt: skip


def step(script: Script, session: Session, event: Event, now: datetime) -> Turn:
    b = TurnBuilder(script, _valid(script, session), now)
    if b.session is not session and session.position is not None:
        b.say_string("content_changed")
    if not consented(b.session):
        _before_consent(b, event)
        if not _consent_given(b):
            return dataclasses.replace(b.turn(), persist=False)
        b.session = dataclasses.replace(b.session, known=True)
        return b.turn()
    match event:
        case Hello():
            _hello(b)
        case StartFlow(flow=flow):
            _open(b, flow if flow in script.flows else MENU_FLOW)
        case ShowMenu():
            b.suspend(None)
            _start(b, MENU_FLOW)
        case Cancel():
            b.move(None)
            b.suspend(None)
            _idle(b, "cancelled")
        case Press(data=data):
            _press(b, data)
        case SendText(text=text):
            signal = script.screen.screen(text)
            if signal is None:
                _text(b, text)
            elif signal.clear:
                _crisis(b, signal.kind)
            else:
                _ask_if_safe(b, signal, text)
        case NotText(edited=edited):
            _not_text(b, edited)
        case Due(flow=flow):
            _due(b, flow)
        case Timer(flow=flow, node=node):
            _timer(b, flow, node)
    return b.turn()


def consented(session: Session) -> bool:
    """Whether the person agreed to storage. Nothing is stored before they say yes, so a
    person the store does not know (new, or after /delete) has not, whatever old button
    or command they send; only the welcome flow runs for them."""
    return session.known


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
        _start(b, event.flow)  # /help and /privacy, to read before saying yes
        return
    if isinstance(event, SendText):
        signal = b.script.screen.screen(event.text)
        if signal is not None:
            _crisis(b, signal.kind)  # shown, never stored: the turn is not persisted
            return
        pos = b.session.position
        if pos is not None:
            b.say_string("use_buttons")
            _reshow(b)
            return
    _start(b, WELCOME_FLOW)


def show_current(script: Script, session: Session, now: datetime) -> Turn:
    """Show the step the person is on again, changing nothing (after a note from a shell)."""
    b = TurnBuilder(script, _valid(script, session), now)
    _reshow(b)
    return b.turn()


# --- events -----------------------------------------------------------------------------


def _hello(b: TurnBuilder) -> None:
    if ONBOARDING_FLOW not in b.session.completed and b.session.position is None:
        _start(b, ONBOARDING_FLOW)
    elif b.session.position is not None:
        b.say_string("welcome_back")
        _reshow(b)
    else:
        _start(b, MENU_FLOW)


def _open(b: TurnBuilder, flow_id: str) -> None:
    """Start a flow on request; an interrupting one puts the current exercise aside."""
    flow = b.script.flows[flow_id]
    if flow.couples_talk and b.session.settings.safety == "flagged":
        _idle(b, "couples_talk_off")
        return
    if flow.interrupts:
        _put_aside(b, flow_id)
    _start(b, flow_id)


def _start(b: TurnBuilder, flow: str) -> None:
    b.move(None)
    _run(b, flow, b.script.flows[flow].start, ())


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
    _start(b, flow)


def _timer(b: TurnBuilder, flow: str, node_id: str) -> None:
    pos = b.session.position
    node = b.script.node(flow, node_id)
    if pos is None or (pos.flow, pos.node) != (flow, node_id) or node is None or not node.next:
        return  # skipped, or the person moved on: a late timer says nothing
    _continue(b, node, pos.stack)


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
        if _turned_off(b, choice.start):  # an old or forged button: it stays off
            _idle(b, "couples_talk_off")
            return
        _choose(b, node, choice, pos)
    elif node.ask is not None and pos.draft is not None and token == buttons.KEEP:
        _accept(b, node, pos, pos.draft, flagged=True)  # kept as written, despite the notes
    elif node.ask is not None and pos.draft is not None and token == buttons.REVISE:
        b.move(dataclasses.replace(pos, draft=None))
        b.say_string("revise_prompt")
        _reshow(b)
    elif node.ask is not None and node.ask.setting and pos.draft and _suggestion(pos, token):
        chosen = _suggestion(pos, token)
        assert chosen is not None
        b.move(dataclasses.replace(pos, draft=None))
        _set_from_text(b, node, dataclasses.replace(pos, draft=None), node.ask.setting, chosen)
    elif node.ask is not None and node.ask.optional and token == buttons.SKIP:
        if node.ask.save:
            b.effect(SaveAnswer(node.ask.save, ""))  # skipped: an old answer must not show
        _continue(b, node, pos.stack)
    elif node.pause is not None and token == buttons.SKIP:
        b.move(None)
        _run(b, node.flow, node.pause.skip_to or node.next or "", pos.stack)
    elif node.promises is not None and token == buttons.DONE:
        b.move(None)
        _run(b, node.flow, node.promises.next, pos.stack)
    elif node.promises is not None and node.promises.missed and token == buttons.MISSED:
        b.move(None)
        _run(b, node.flow, node.promises.missed[1], pos.stack)
    elif node.promises is not None and (_keep(b, token) or _already_kept(b, token)):
        _reshow(b)
    else:
        _stale(b)


def _global_press(b: TurnBuilder, code: buttons.ButtonCode) -> None:
    if code.token == buttons.MENU:
        b.suspend(None)
        _start(b, MENU_FLOW)
    elif code.token == buttons.OPEN and code.flow in _arriving_flows(b.script):
        _arrive(b, code.flow)
    elif code.token == buttons.RESUME and b.session.suspended is not None:
        pos = b.session.suspended
        b.move(pos)
        b.suspend(None)
        node = b.script.flows[pos.flow].nodes[pos.node]
        if node.pause is not None:  # its timer may have fired while it was put aside
            b.effect(ScheduleFollowUp(pos.flow, b.now + node.pause.wait, pos.node))
        _reshow(b)
    elif code.token == buttons.DROP and b.session.suspended is not None:
        b.suspend(None)
        _idle(b, "dropped")
    elif code.token == buttons.LEAVE:
        _leave_after_crisis(b)
    elif code.token == buttons.FOLLOW_UP:
        b.effect(ScheduleFollowUp(SAFETY_FOLLOWUP_FLOW, b.now + SAFETY_FOLLOWUP_AFTER))
        b.say_string("crisis.followup_set")
        _offer_way_back(b)
    elif code.token == buttons.SAFE:
        _safe(b)
    elif code.token[:-1] in (buttons.UNSURE, buttons.UNSAFE) and code.token[-1] in KIND_CODES:
        _crisis(b, KIND_CODES[code.token[-1]])
    else:
        _reshow(b)


def _arriving_flows(script: Script) -> frozenset[str]:
    """The flows that may arrive by schedule, the only ones an "Open" button may start:
    the daily check-in and every flow some node plans as a follow-up."""
    targets = {CHECKIN_FLOW, SAFETY_FOLLOWUP_FLOW}
    for flow in script.flows.values():
        for node in flow.nodes.values():
            specs = [*node.effects, *(s for c in node.choices for s in c.effects)]
            targets |= {s.flow for s in specs if isinstance(s, FollowUpSpec)}
    return frozenset(targets & set(script.flows))


def _stale(b: TurnBuilder) -> None:
    b.say_string("stale_button")
    _reshow(b)


def _keep(b: TurnBuilder, token: str) -> bool:
    """A tap on a promise: kept today. False when the token names no open promise."""
    if not (token.startswith("p") and token[1:].isdigit()):
        return False
    promise_id = int(token[1:])
    if not any(p.id == promise_id and not p.kept_today for p in b.session.promises):
        return False
    b.effect(KeepPromise(promise_id, _local_day(b).isoformat()))
    return True


def _choose(b: TurnBuilder, node: Node, choice: Choice, pos: Position) -> None:
    for spec in choice.effects:
        _apply(b, node.flow, spec)
    if choice.start is not None:
        _start(b, choice.start)
    else:
        assert choice.next is not None  # the compiler guarantees one of the two
        b.move(None)
        _run(b, node.flow, choice.next, pos.stack)


def _text(b: TurnBuilder, raw: str) -> None:
    text = raw.strip()
    pos = b.session.position
    node = b.script.flows[pos.flow].nodes[pos.node] if pos else None
    if node is None or pos is None:
        _idle(b, "idle_text")
        return
    if node.ask is None and node.or_type is not None:
        # Typing instead of tapping ("Lisbon" where the zone buttons are): the answer to
        # the question the buttons stand for.
        pos = dataclasses.replace(pos, node=node.or_type, draft=None)
        b.move(pos)
        node = b.script.flows[pos.flow].nodes[pos.node]
    if node.ask is None:
        b.say_string("use_buttons")
        _reshow(b)
        return
    if not text:
        b.say_string("empty_answer")
        _reshow(b)
        return
    if len(text) > MAX_ANSWER_CHARS:
        b.say_string("answer_too_long", {"limit.chars": str(MAX_ANSWER_CHARS)})
        _reshow(b)
        return
    if node.ask.setting is not None:
        _set_from_text(b, node, pos, node.ask.setting, text)
        return
    check = b.script.checks.get(node.ask.check) if node.ask.check else None
    if check is None:
        _accept(b, node, pos, text)
        return
    verdict = check.verdict(text)
    if verdict.findings:
        _feedback(b, check.name, verdict.findings)
    elif verdict.thin:  # nothing wrong, nothing to praise yet: ask for a little more
        b.say_string(f"check.{check.name}.thin.{_variant(b, VARIANTS - 1)}")
    else:
        if verdict.strengths:  # praise what they wrote, in their words
            strength = verdict.strengths[0]
            key = f"check.{check.name}.praise.{strength.rule}.{_variant(b, VARIANTS)}"
            b.say_string(key, {"finding.quote": strength.quote})
        _accept(b, node, pos, text)
        return
    b.move(dataclasses.replace(pos, draft=text))
    _offer_revision(b, pos)


VARIANTS = 3  # wordings of each praise (and one fewer of "thin"), see compiler.CHECK_VARIANTS


def _variant(b: TurnBuilder, count: int) -> int:
    """Which wording to use: it moves on with every answer, so one conversation does not
    hear the same sentence twice in a row, and stays pure (no randomness)."""
    return len(b.session.answers) % count + 1


def _set_from_text(b: TurnBuilder, node: Node, pos: Position, setting: str, text: str) -> None:
    result = PARSERS[setting](text, b.now)
    if isinstance(result, Parsed):
        b.effect(ChangeSetting(result.setting, result.value))
        _continue(b, node, pos.stack)
        return
    suggestions = ", ".join(html.escape(s) for s in result.suggestions)
    b.say_string(f"parse.{setting}", {"parse.suggestions": suggestions})
    # Each suggestion is a button too, remembered with the place until one is tapped.
    held = dataclasses.replace(pos, draft=SUGGESTION_SEP.join(result.suggestions) or None)
    b.move(held)
    _reshow(b)


SUGGESTION_SEP = "\n"
MAX_SUGGESTIONS = 4


def _suggestion(pos: Position, token: str) -> str | None:
    """The suggestion a "did you mean" button stands for (tokens s0, s1, ...)."""
    if not (token.startswith("s") and token[1:].isdigit() and pos.draft):
        return None
    options = pos.draft.split(SUGGESTION_SEP)
    index = int(token[1:])
    return options[index] if index < len(options) else None


def _offer_revision(b: TurnBuilder, pos: Position) -> None:
    revise = b.button(b.label("revise_button"), pos.flow, pos.node, buttons.REVISE)
    keep = b.button(b.label("keep_button"), pos.flow, pos.node, buttons.KEEP)
    b.say(b.label("check_choice"), (revise, keep))


def _feedback(b: TurnBuilder, check: str, findings: tuple[Finding, ...]) -> None:
    seen: set[str] = set()
    for finding in findings:
        if finding.rule in seen:
            continue  # one note per kind of slip is plenty on a phone screen
        seen.add(finding.rule)
        b.say_string(f"check.{check}.{finding.rule}", {"finding.quote": finding.quote})


def _not_text(b: TurnBuilder, edited: bool) -> None:
    pos = b.session.position
    node = b.script.flows[pos.flow].nodes[pos.node] if pos else None
    asking = node is not None and node.kind is NodeKind.ASK
    b.say_string("edited_note" if edited else "text_only" if asking else "not_text")
    _reshow(b)


def _crisis(b: TurnBuilder, kind: CrisisKind) -> None:
    """Words of danger: pause whatever was happening, and show help before anything else."""
    may_follow_up = consented(b.session)  # a follow-up would have to be stored
    _put_aside(b, SAFETY_FLOW)
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


def _put_aside(b: TurnBuilder, coming: str) -> None:
    """An interruption puts the exercise in progress aside, to come back to (without any
    words held for a question); the menu, or the flow that is coming, is simply left."""
    pos = b.session.position
    if pos is not None and pos.flow not in (MENU_FLOW, coming):
        b.suspend(dataclasses.replace(pos, held=None))


def _leave_after_crisis(b: TurnBuilder) -> None:
    """ "Leave it for now" after a crisis card: a warm goodbye that keeps the lines at hand."""
    b.suspend(None)
    b.say_string("crisis.leave")
    _offer_menu(b)


def _offer_way_back(b: TurnBuilder) -> None:
    if b.session.suspended is not None:
        keys = (
            b.global_button("resume_button", buttons.RESUME),
            b.global_button("crisis.leave_button", buttons.LEAVE),
        )
        b.say(b.label("where_next"), keys)
    else:
        _offer_menu(b)


def _ask_if_safe(b: TurnBuilder, signal: Signal, text: str) -> None:
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


def _safe(b: TurnBuilder) -> None:
    b.say_string("safety.safe_reply")
    pos = b.session.position
    if pos is not None and pos.held is not None:
        held = pos.held
        b.move(dataclasses.replace(pos, held=None))
        _text(b, held)
    else:
        _reshow(b)


def _accept(b: TurnBuilder, node: Node, pos: Position, text: str, *, flagged: bool = False) -> None:
    """Store an answer. One a check had notes on is marked, so that it is never quoted
    back later as the person's line (a pocket card shows its fallback instead)."""
    assert node.ask is not None
    b.effect(SaveAnswer(node.ask.save, text))
    mark = node.ask.save + FLAGGED_SUFFIX
    if flagged:
        b.effect(SaveAnswer(mark, "1"))
    elif b.session.answers.get(mark):
        b.effect(SaveAnswer(mark, ""))
    _continue(b, node, pos.stack)


def _continue(b: TurnBuilder, node: Node, stack: tuple[Frame, ...]) -> None:
    assert node.next is not None
    b.move(None)
    _run(b, node.flow, node.next, stack)


# --- walking the graph --------------------------------------------------------------------


def _run(b: TurnBuilder, flow: str, node_id: str, stack: tuple[Frame, ...]) -> None:
    for _ in range(_MAX_HOPS):
        node = b.script.flows[flow].nodes[node_id]
        b.trail.append((flow, node_id))
        for spec in node.effects:
            _apply(b, flow, spec)
        text = node.say.render(b.values()) if node.say else ""
        match node.kind:
            case NodeKind.CHOICES | NodeKind.ASK | NodeKind.PAUSE:
                if node.pause is not None:
                    b.effect(ScheduleFollowUp(flow, b.now + node.pause.wait, node.id))
                _wait_at(b, node, text, stack)
                return
            case NodeKind.PROMISES:
                assert node.promises is not None
                if not b.session.promises:
                    node_id = node.promises.none  # nothing to ask about: skip the question
                    continue
                _wait_at(b, node, text, stack)
                return
            case NodeKind.MESSAGE | NodeKind.BRANCH | NodeKind.THOUGHT:
                b.say(text, _copy(b, node, text), pin=node.pin, private=_quotes(b, node))
                if node.library is not None:
                    b.say(_thought(b, node.library))
                node_id = _pick(b.session, node.arms) if node.arms else node.next or ""
            case NodeKind.CALL:
                b.say(text)
                assert node.target_flow is not None and node.next is not None
                stack = (*stack, Frame(flow, node.next))
                flow, node_id = node.target_flow, b.script.flows[node.target_flow].start
            case NodeKind.GOTO:
                b.say(text)
                assert node.target_flow is not None
                b.effect(CompleteFlow(flow))
                stack = ()
                flow, node_id = node.target_flow, b.script.flows[node.target_flow].start
            case NodeKind.END:
                b.say(text, pin=node.pin)
                b.effect(CompleteFlow(flow))
                if stack:
                    frame, stack = stack[-1], stack[:-1]
                    flow, node_id = frame.flow, frame.node
                    continue
                b.move(None)
                _finish(b)
                return
    raise RuntimeError(f"no waiting node within {_MAX_HOPS} steps from {flow}.{node_id}")


def _wait_at(b: TurnBuilder, node: Node, text: str, stack: tuple[Frame, ...]) -> None:
    """Show a node that waits for the person and stop there."""
    keys = (*_copy(b, node, text), *_keys(b, node))
    b.say(text, keys, pin=node.pin, private=_quotes(b, node))
    b.move(Position(node.flow, node.id, stack))


def _keys(b: TurnBuilder, node: Node) -> tuple[Button, ...]:
    flow, at = node.flow, node.id
    if node.ask is not None:
        if node.ask.optional:
            return (b.button(b.label("skip_button"), flow, at, buttons.SKIP),)
        return ()
    if node.pause is not None:
        label = node.pause.skip_label or b.label("skip_button")
        return (b.button(label, flow, at, buttons.SKIP),)
    if node.promises is not None:
        keys = [
            b.button(_promise_label(p.text, p.kept_today), flow, at, f"p{p.id}")
            for p in b.session.promises
        ]
        keys.append(b.button(node.promises.done, flow, at, buttons.DONE))
        if node.promises.missed and not any(p.kept_today for p in b.session.promises):
            keys.append(b.button(node.promises.missed[0], flow, at, buttons.MISSED))
        return tuple(keys)
    return tuple(
        b.button(c.label, flow, at, str(i))
        for i, c in enumerate(node.choices)
        if not _turned_off(b, c.start)
    )


def _turned_off(b: TurnBuilder, flow: str | None) -> bool:
    """A practice the safety screen turned off is not offered at all (not a dead end)."""
    if flow is None or b.session.settings.safety != "flagged":
        return False
    return b.script.flows[flow].couples_talk


def _quotes(b: TurnBuilder, node: Node) -> bool:
    """Whether the node's message shows the person's own words back to them."""
    if node.say is None or not b.session.settings.protect:
        return False  # no quote, or the person chose to be able to forward their words
    answers = b.session.answers
    return any(answers.get(slot.name) for slot in node.say.slots)


MAX_COPY = 256  # Telegram's limit for a copy button's text
_TAG = re.compile(r"<[^>]{0,200}>")
_QUOTE_BLOCK = re.compile(r"<blockquote>(.{0,4000}?)</blockquote>", re.S)


def _copy(b: TurnBuilder, node: Node, text: str) -> tuple[Button, ...]:
    """A button that copies the card: the message's quoted block, else its first paragraph."""
    if not node.copy:
        return ()
    block = _QUOTE_BLOCK.search(text)
    card = block.group(1) if block else text.split("\n\n", 1)[0]
    plain = html.unescape(_TAG.sub("", card)).strip()
    if not plain or len(plain) > MAX_COPY:
        return ()
    return (Button(b.label("copy_button"), "", copy=plain),)


def _promise_label(text: str, kept: bool) -> str:
    """An empty box until tapped, a ticked one after: kept or not can't be mistaken."""
    words = " ".join(text.split())
    if len(words) > MAX_PROMISE_LABEL:
        words = words[: MAX_PROMISE_LABEL - 1].rstrip() + "…"
    return f"{'☑' if kept else '☐'} {words}"


def _already_kept(b: TurnBuilder, token: str) -> bool:
    """A second tap on a ticked promise changes nothing and is not a stale button."""
    if not (token.startswith("p") and token[1:].isdigit()):
        return False
    return any(p.id == int(token[1:]) and p.kept_today for p in b.session.promises)


def _thought(b: TurnBuilder, library: str) -> str:
    """One item a day, rotating, so none comes back sooner than the library is long; a
    second check-in on the same day moves on to the next item instead of repeating."""
    items = b.script.libraries[library]
    today = _local_day(b)
    name = f"thought.{library}"  # "<date>:<how many shown that day>"
    day, _, count = b.session.answers.get(name, "").partition(":")
    shown = int(count) if day == today.isoformat() and count.isdigit() else 0
    b.effect(SaveAnswer(name, f"{today.isoformat()}:{shown + 1}"))
    return items[(today.toordinal() + shown) % len(items)]


def _local_day(b: TurnBuilder) -> date:
    try:
        zone = load_zone(b.session.settings.timezone)
    except (KeyError, ValueError):
        return b.now.date()
    return b.now.astimezone(zone).date()


def _finish(b: TurnBuilder) -> None:
    """The top flow ended: offer to go back to what was put aside, or the menu."""
    suspended = b.session.suspended
    if suspended is None or b.script.node(suspended.flow, suspended.node) is None:
        b.suspend(None)
        _offer_menu(b)
        return
    outer = suspended.stack[0].flow if suspended.stack else suspended.flow  # the flow they chose
    title = html.escape(b.script.flows[outer].title)
    keys = (
        b.global_button("resume_button", buttons.RESUME),
        b.global_button("drop_button", buttons.DROP),
    )
    b.say(b.script.string("resume_prompt").render({"suspended.title": title}), keys)


def _pick(session: Session, arms: tuple[BranchArm, ...]) -> str:
    for arm in arms:
        if arm.condition is None or _holds(session, arm.condition):
            return arm.next
    return arms[-1].next  # the compiler requires an else arm; this is only a guard


def _holds(session: Session, c: Condition) -> bool:
    result: bool
    if c.kind is ConditionKind.ANSWER:
        result = session.answers.get(c.name) == c.value
    elif c.kind is ConditionKind.HAS:  # an answer kept despite a check's notes is not shown
        flagged = session.answers.get(c.name + FLAGGED_SUFFIX)
        result = bool(session.answers.get(c.name, "").strip()) and not flagged
    elif c.kind is ConditionKind.SETTING:
        result = getattr(session.settings, c.name) == c.value
    else:
        result = c.name in session.completed
    return result != c.negate


def _apply(b: TurnBuilder, flow: str, spec: EffectSpec) -> None:
    values = b.values(flagged=True)  # what is stored keeps the person's words as written
    match spec:
        case JournalSpec(text=t):
            b.effect(SaveJournal(flow, _unescape(t.render(values))))
        case CommitmentSpec(text=t, due=due):
            due_text = _unescape(due.render(values)) if due else ""
            b.effect(RecordCommitment(_unescape(t.render(values)), due_text))
        case SettingSpec(name=name, value=value):
            b.effect(ChangeSetting(name, value))
        case FollowUpSpec(flow=target, after=after):
            b.effect(ScheduleFollowUp(target, b.now + after))
        case AnswerSpec(name=name, value=value):
            b.effect(SaveAnswer(name, value))
        case MarkSpec(name=name):
            b.effect(Mark(name))
        case ExportSpec():
            b.effect(Export())
        case EraseSpec():
            b.effect(Erase())
        case ChartSpec():
            b.effect(ShowChart())
        case UnpinSpec():
            b.effect(Unpin())
        case PauseSpec(days=days):
            until = (b.now + timedelta(days=days)).date().isoformat()
            b.effect(ChangeSetting("paused_until", until))


def _unescape(rendered: str) -> str:
    """Stored text is the person's words, not HTML: undo the escaping templates add."""
    return html.unescape(rendered)


# --- showing where the person is ----------------------------------------------------------


def _reshow(b: TurnBuilder) -> None:
    pos = b.session.position
    if pos is None:
        _offer_menu(b, "where_now")
        return
    node = b.script.flows[pos.flow].nodes[pos.node]
    if node.ask is not None and node.ask.setting and pos.draft is not None:
        text = node.say.render(b.values()) if node.say else ""
        keys = tuple(
            b.button(option, pos.flow, pos.node, f"s{i}")
            for i, option in enumerate(pos.draft.split(SUGGESTION_SEP)[:MAX_SUGGESTIONS])
        )
        b.say(text, (*keys, *_keys(b, node)))
        return
    if node.ask is not None and pos.draft is not None:
        _offer_revision(b, pos)
        return
    # Shown again, not entered again: its effects already ran when the person arrived.
    text = node.say.render(b.values()) if node.say else ""
    _wait_at(b, node, text, pos.stack)


def _idle(b: TurnBuilder, key: str) -> None:
    b.say_string(key)
    _offer_menu(b)


def _offer_menu(b: TurnBuilder, key: str | None = None) -> None:
    """Attach a menu button to the last message, or send `key` with one."""
    menu = b.global_button("menu_button", buttons.MENU)
    if key is None and b.messages and not b.messages[-1].buttons:
        last = b.messages.pop()
        b.messages.append(dataclasses.replace(last, buttons=(menu,)))
    else:
        b.say(b.script.string(key or "where_now").render(b.values()), (menu,))


def _valid(script: Script, session: Session) -> Session:
    """A place that no longer exists (the dialogues changed) becomes no place at all."""

    def exists(pos: Position | None) -> bool:
        if pos is None:
            return True
        places = [(pos.flow, pos.node), *((f.flow, f.node) for f in pos.stack)]
        return all(script.node(flow, node) is not None for flow, node in places)

    if exists(session.position) and exists(session.suspended):
        return session
    return dataclasses.replace(
        session,
        position=session.position if exists(session.position) else None,
        suspended=session.suspended if exists(session.suspended) else None,
    )
