"""Walking the dialogue graph within one turn, and showing where the person is.

`run` walks message, branch, call and goto nodes and stops at the first node that waits
for the person (buttons, free text, a pause) or at the end of a flow; `reshow` shows the
waiting node again without entering it.
"""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date, timedelta

from bot.core import buttons
from bot.core.engine_names import (
    MAX_PROMISE_LABEL,
)
from bot.core.model import (
    AnswerSpec,
    BranchArm,
    ChartSpec,
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
from bot.core.session import FLAGGED_SUFFIX, Frame, Position, Session
from bot.core.timezones import load_zone
from bot.core.turn import (
    Button,
    ChangeSetting,
    CompleteFlow,
    Erase,
    Export,
    Mark,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
    ShowChart,
    Unpin,
)
from bot.core.turn_builder import TurnBuilder

_MAX_HOPS = 200  # the compiler forbids loops without a waiting node; this guards anyway


# The words the engine itself says; the compiler refuses a script that lacks any of them.
def start_flow(b: TurnBuilder, flow: str) -> None:
    b.move(None)
    run(b, flow, b.script.flows[flow].start, ())


def continue_after(b: TurnBuilder, node: Node, stack: tuple[Frame, ...]) -> None:
    assert node.next is not None
    b.move(None)
    run(b, node.flow, node.next, stack)


# --- walking the graph --------------------------------------------------------------------


def run(b: TurnBuilder, flow: str, node_id: str, stack: tuple[Frame, ...]) -> None:
    for _ in range(_MAX_HOPS):
        node = b.script.flows[flow].nodes[node_id]
        b.trail.append((flow, node_id))
        for spec in node.effects:
            apply_spec(b, flow, spec)
        text = node.say.render(b.values()) if node.say else ""
        match node.kind:
            case NodeKind.CHOICES | NodeKind.ASK | NodeKind.PAUSE:
                if node.pause is not None:
                    b.effect(ScheduleFollowUp(flow, b.now + node.pause.wait, node.id))
                wait_at(b, node, text, stack)
                return
            case NodeKind.PROMISES:
                assert node.promises is not None
                if not b.session.promises:
                    node_id = node.promises.none  # nothing to ask about: skip the question
                    continue
                wait_at(b, node, text, stack)
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
                finish(b)
                return
    raise RuntimeError(f"no waiting node within {_MAX_HOPS} steps from {flow}.{node_id}")


def wait_at(b: TurnBuilder, node: Node, text: str, stack: tuple[Frame, ...]) -> None:
    """Show a node that waits for the person and stop there."""
    keys = (*_copy(b, node, text), *keys_for(b, node))
    b.say(text, keys, pin=node.pin, private=_quotes(b, node))
    b.move(Position(node.flow, node.id, stack))


def keys_for(b: TurnBuilder, node: Node) -> tuple[Button, ...]:
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
        if not turned_off(b, c.start)
    )


def turned_off(b: TurnBuilder, flow: str | None) -> bool:
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


def _thought(b: TurnBuilder, library: str) -> str:
    """One item a day, rotating, so none comes back sooner than the library is long; a
    second check-in on the same day moves on to the next item instead of repeating."""
    items = b.script.libraries[library]
    today = local_day(b)
    name = f"thought.{library}"  # "<date>:<how many shown that day>"
    day, _, count = b.session.answers.get(name, "").partition(":")
    shown = int(count) if day == today.isoformat() and count.isdigit() else 0
    b.effect(SaveAnswer(name, f"{today.isoformat()}:{shown + 1}"))
    return items[(today.toordinal() + shown) % len(items)]


def local_day(b: TurnBuilder) -> date:
    try:
        zone = load_zone(b.session.settings.timezone)
    except (KeyError, ValueError):
        return b.now.date()
    return b.now.astimezone(zone).date()


def finish(b: TurnBuilder) -> None:
    """The top flow ended: offer to go back to what was put aside, or the menu."""
    suspended = b.session.suspended
    if suspended is None or b.script.node(suspended.flow, suspended.node) is None:
        b.suspend(None)
        offer_menu(b)
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


def apply_spec(b: TurnBuilder, flow: str, spec: EffectSpec) -> None:
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


def reshow(b: TurnBuilder) -> None:
    pos = b.session.position
    if pos is None:
        offer_menu(b, "where_now")
        return
    node = b.script.flows[pos.flow].nodes[pos.node]
    if node.ask is not None and node.ask.setting and pos.draft is not None:
        text = node.say.render(b.values()) if node.say else ""
        keys = tuple(
            b.button(option, pos.flow, pos.node, f"s{i}")
            for i, option in enumerate(pos.draft.split(SUGGESTION_SEP)[:MAX_SUGGESTIONS])
        )
        b.say(text, (*keys, *keys_for(b, node)))
        return
    if node.ask is not None and pos.draft is not None:
        offer_revision(b, pos)
        return
    # Shown again, not entered again: its effects already ran when the person arrived.
    text = node.say.render(b.values()) if node.say else ""
    wait_at(b, node, text, pos.stack)


def idle(b: TurnBuilder, key: str) -> None:
    b.say_string(key)
    offer_menu(b)


def offer_menu(b: TurnBuilder, key: str | None = None) -> None:
    """Attach a menu button to the last message, or send `key` with one."""
    menu = b.global_button("menu_button", buttons.MENU)
    if key is None and b.messages and not b.messages[-1].buttons:
        last = b.messages.pop()
        b.messages.append(dataclasses.replace(last, buttons=(menu,)))
    else:
        b.say(b.script.string(key or "where_now").render(b.values()), (menu,))


def offer_revision(b: TurnBuilder, pos: Position) -> None:
    revise = b.button(b.label("revise_button"), pos.flow, pos.node, buttons.REVISE)
    keep = b.button(b.label("keep_button"), pos.flow, pos.node, buttons.KEEP)
    b.say(b.label("check_choice"), (revise, keep))


SUGGESTION_SEP = "\n"
MAX_SUGGESTIONS = 4


def valid_session(script: Script, session: Session) -> Session:
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
