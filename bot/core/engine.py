"""The dialogue engine: `step(script, session, event, now) -> Turn`. Pure.

The engine decides what to say and what to store; shells carry it out. It walks
message, branch, call and goto nodes in one turn and stops at the first node that
waits for the person (buttons or free text), or at the end of a flow.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import buttons
from bot.core.checks import TEXT_CHECKS, Finding
from bot.core.events import Cancel, Event, Hello, NotText, Press, SendText, ShowMenu, StartFlow
from bot.core.model import (
    AnswerSpec,
    BranchArm,
    Choice,
    CommitmentSpec,
    Condition,
    ConditionKind,
    EffectSpec,
    FollowUpSpec,
    JournalSpec,
    Node,
    NodeKind,
    Script,
    SettingSpec,
)
from bot.core.session import Frame, Position, Session
from bot.core.turn import (
    Button,
    ChangeSetting,
    CompleteFlow,
    Effect,
    OutMessage,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    Turn,
)

MENU_FLOW = "menu"
ONBOARDING_FLOW = "onboarding"
MAX_ANSWER_CHARS = 3000  # a long answer is welcome; past this we ask for the heart of it
_MAX_HOPS = 200
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
)
REQUIRED_FLOWS = (MENU_FLOW, ONBOARDING_FLOW, "help", "privacy", "settings", "progress")
# Slots the engine fills in strings besides answers and settings.
STRING_SLOTS = (
    "finding.quote",
    "limit.chars",
)  # the compiler forbids loops without a waiting node; this guards anyway


@dataclass
class _Builder:
    """Collects one turn's output while the engine walks."""

    script: Script
    session: Session
    now: datetime
    messages: list[OutMessage] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    trail: list[tuple[str, str]] = field(default_factory=list)

    def say(self, text: str, buttons_: tuple[Button, ...] = ()) -> None:
        if text.strip() or buttons_:
            self.messages.append(OutMessage(text, buttons_))

    def say_string(self, key: str, extra: dict[str, str] | None = None) -> None:
        values = self.session.values(self.now) | (extra or {})
        self.say(self.script.string(key).render(values))

    def effect(self, effect: Effect) -> None:
        self.effects.append(effect)
        # Keep the session in step with what is stored, so later nodes see it.
        if isinstance(effect, SaveAnswer):
            answers = dict(self.session.answers) | {effect.name: effect.value}
            self.session = dataclasses.replace(self.session, answers=answers)
        elif isinstance(effect, ChangeSetting):
            changes: dict[str, Any] = {effect.name: effect.value}
            settings = dataclasses.replace(self.session.settings, **changes)
            self.session = dataclasses.replace(self.session, settings=settings)
        elif isinstance(effect, CompleteFlow):
            completed = self.session.completed | {effect.flow}
            self.session = dataclasses.replace(self.session, completed=completed)

    def move(self, position: Position | None) -> None:
        self.session = dataclasses.replace(self.session, position=position)

    def button(self, label: str, flow: str, node: str, token: str) -> Button:
        code = buttons.ButtonCode(self.script.version, flow, node, token)
        return Button(label, code.encode())

    def label(self, key: str) -> str:
        return self.script.string(key).render({})

    def global_button(self, key: str, token: str) -> Button:
        return self.button(self.label(key), "", "", token)

    def turn(self) -> Turn:
        return Turn(tuple(self.messages), tuple(self.effects), self.session, tuple(self.trail))


def step(script: Script, session: Session, event: Event, now: datetime) -> Turn:
    b = _Builder(script, _valid(script, session), now)
    if b.session is not session:
        b.say_string("content_changed")
    match event:
        case Hello():
            _hello(b)
        case StartFlow(flow=flow):
            _start(b, flow if flow in script.flows else MENU_FLOW)
        case ShowMenu():
            _start(b, MENU_FLOW)
        case Cancel():
            b.move(None)
            _idle(b, "cancelled")
        case Press(data=data):
            _press(b, data)
        case SendText(text=text):
            _text(b, text)
        case NotText(edited=edited):
            _not_text(b, edited)
    return b.turn()


def show_current(script: Script, session: Session, now: datetime) -> Turn:
    """Show the step the person is on again, changing nothing (after a note from a shell)."""
    b = _Builder(script, _valid(script, session), now)
    _reshow(b)
    return b.turn()


# --- events -----------------------------------------------------------------------------


def _hello(b: _Builder) -> None:
    if ONBOARDING_FLOW not in b.session.completed and b.session.position is None:
        _start(b, ONBOARDING_FLOW)
    elif b.session.position is not None:
        b.say_string("welcome_back")
        _reshow(b)
    else:
        _start(b, MENU_FLOW)


def _start(b: _Builder, flow: str) -> None:
    b.move(None)
    _run(b, flow, b.script.flows[flow].start, ())


def _press(b: _Builder, data: str) -> None:
    code = buttons.decode(data)
    if code is None or code.version != b.script.version:
        b.say_string("stale_button")
        _reshow(b)
        return
    if code.flow == "":
        if code.token == buttons.MENU:
            _start(b, MENU_FLOW)
        else:
            _reshow(b)
        return
    pos = b.session.position
    if pos is None or (pos.flow, pos.node) != (code.flow, code.node):
        b.say_string("stale_button")
        _reshow(b)
        return
    node = b.script.flows[pos.flow].nodes[pos.node]
    if (
        node.kind is NodeKind.CHOICES
        and code.token.isdigit()
        and int(code.token) < len(node.choices)
    ):
        _choose(b, node, node.choices[int(code.token)], pos)
    elif node.kind is NodeKind.ASK and code.token == buttons.KEEP and pos.draft is not None:
        _accept(b, node, pos, pos.draft)
    elif node.kind is NodeKind.ASK and code.token == buttons.REVISE and pos.draft is not None:
        b.move(dataclasses.replace(pos, draft=None))
        b.say_string("revise_prompt")
        _reshow(b)
    elif node.ask is not None and node.ask.optional and code.token == buttons.SKIP:
        b.effect(SaveAnswer(node.ask.save, ""))  # skipped this time: an old answer must not show
        _continue(b, node, pos.stack)
    else:
        b.say_string("stale_button")
        _reshow(b)


def _choose(b: _Builder, node: Node, choice: Choice, pos: Position) -> None:
    for spec in choice.effects:
        _apply(b, node.flow, spec)
    if choice.start is not None:
        _start(b, choice.start)
    else:
        assert choice.next is not None  # the compiler guarantees one of the two
        b.move(None)
        _run(b, node.flow, choice.next, pos.stack)


def _text(b: _Builder, raw: str) -> None:
    text = raw.strip()
    pos = b.session.position
    node = b.script.flows[pos.flow].nodes[pos.node] if pos else None
    if node is None or pos is None:
        _idle(b, "idle_text")
        return
    if node.kind is not NodeKind.ASK or node.ask is None:
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
    check = TEXT_CHECKS.get(node.ask.check) if node.ask.check else None
    if check is None:
        _accept(b, node, pos, text)
        return
    findings = check.run(text)
    if not findings:
        b.say_string(f"check.{check.name}.ok")
        _accept(b, node, pos, text)
        return
    _feedback(b, check.name, findings)
    b.move(dataclasses.replace(pos, draft=text))
    _offer_revision(b, pos)


def _offer_revision(b: _Builder, pos: Position) -> None:
    revise = b.button(b.label("revise_button"), pos.flow, pos.node, buttons.REVISE)
    keep = b.button(b.label("keep_button"), pos.flow, pos.node, buttons.KEEP)
    b.say(b.label("check_choice"), (revise, keep))


def _feedback(b: _Builder, check: str, findings: tuple[Finding, ...]) -> None:
    seen: set[str] = set()
    for finding in findings:
        if finding.rule in seen:
            continue  # one note per kind of slip is plenty on a phone screen
        seen.add(finding.rule)
        b.say_string(f"check.{check}.{finding.rule}", {"finding.quote": finding.quote})


def _not_text(b: _Builder, edited: bool) -> None:
    pos = b.session.position
    node = b.script.flows[pos.flow].nodes[pos.node] if pos else None
    asking = node is not None and node.kind is NodeKind.ASK
    b.say_string("edited_note" if edited else "text_only" if asking else "not_text")
    _reshow(b)


def _accept(b: _Builder, node: Node, pos: Position, text: str) -> None:
    assert node.ask is not None
    b.effect(SaveAnswer(node.ask.save, text))
    _continue(b, node, pos.stack)


def _continue(b: _Builder, node: Node, stack: tuple[Frame, ...]) -> None:
    assert node.next is not None
    b.move(None)
    _run(b, node.flow, node.next, stack)


# --- walking the graph --------------------------------------------------------------------


def _run(b: _Builder, flow: str, node_id: str, stack: tuple[Frame, ...]) -> None:
    for _ in range(_MAX_HOPS):
        node = b.script.flows[flow].nodes[node_id]
        b.trail.append((flow, node_id))
        for spec in node.effects:
            _apply(b, flow, spec)
        values = b.session.values(b.now)
        text = node.say.render(values) if node.say else ""
        match node.kind:
            case NodeKind.MESSAGE:
                b.say(text)
                assert node.next is not None
                node_id = node.next
            case NodeKind.CHOICES | NodeKind.ASK:
                _wait_at(b, node, text, stack)
                return
            case NodeKind.BRANCH:
                b.say(text)
                node_id = _pick(b.session, node.arms)
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
                b.say(text)
                b.effect(CompleteFlow(flow))
                if stack:
                    frame, stack = stack[-1], stack[:-1]
                    flow, node_id = frame.flow, frame.node
                    continue
                b.move(None)
                _offer_menu(b)
                return
    raise RuntimeError(f"no waiting node within {_MAX_HOPS} steps from {flow}.{node_id}")


def _wait_at(b: _Builder, node: Node, text: str, stack: tuple[Frame, ...]) -> None:
    """Show a node that waits for the person (its question or its buttons) and stop there."""
    keys: tuple[Button, ...] = tuple(
        b.button(c.label, node.flow, node.id, str(i)) for i, c in enumerate(node.choices)
    )
    if node.ask and node.ask.optional:
        keys = (b.button(b.label("skip_button"), node.flow, node.id, buttons.SKIP),)
    b.say(text, keys)
    b.move(Position(node.flow, node.id, stack))


def _pick(session: Session, arms: tuple[BranchArm, ...]) -> str:
    for arm in arms:
        if arm.condition is None or _holds(session, arm.condition):
            return arm.next
    return arms[-1].next  # the compiler requires an else arm; this is only a guard


def _holds(session: Session, c: Condition) -> bool:
    result: bool
    if c.kind is ConditionKind.ANSWER:
        result = session.answers.get(c.name) == c.value
    elif c.kind is ConditionKind.HAS:
        result = bool(session.answers.get(c.name, "").strip())
    elif c.kind is ConditionKind.SETTING:
        result = getattr(session.settings, c.name) == c.value
    else:
        result = c.name in session.completed
    return result != c.negate


def _apply(b: _Builder, flow: str, spec: EffectSpec) -> None:
    values = b.session.values(b.now)
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


def _unescape(rendered: str) -> str:
    """Stored text is the person's words, not HTML: undo the escaping templates add."""
    return html.unescape(rendered)


# --- showing where the person is ----------------------------------------------------------


def _reshow(b: _Builder) -> None:
    pos = b.session.position
    if pos is None:
        _offer_menu(b, "where_now")
        return
    node = b.script.flows[pos.flow].nodes[pos.node]
    if node.kind is NodeKind.ASK and pos.draft is not None:
        _offer_revision(b, pos)
        return
    # Shown again, not entered again: its effects already ran when the person arrived.
    text = node.say.render(b.session.values(b.now)) if node.say else ""
    _wait_at(b, node, text, pos.stack)


def _idle(b: _Builder, key: str) -> None:
    b.say_string(key)
    _offer_menu(b)


def _offer_menu(b: _Builder, key: str | None = None) -> None:
    """Attach a menu button to the last message, or send `key` with one."""
    menu = b.global_button("menu_button", buttons.MENU)
    if key is None and b.messages and not b.messages[-1].buttons:
        last = b.messages.pop()
        b.messages.append(OutMessage(last.text, (menu,)))
    else:
        b.say(b.script.string(key or "where_now").render(b.session.values(b.now)), (menu,))


def _valid(script: Script, session: Session) -> Session:
    """A place that no longer exists (the dialogues changed) becomes no place at all."""
    pos = session.position
    if pos is None:
        return session
    places = [(pos.flow, pos.node), *((f.flow, f.node) for f in pos.stack)]
    if all(script.node(flow, node) is not None for flow, node in places):
        return session
    return dataclasses.replace(session, position=None)
