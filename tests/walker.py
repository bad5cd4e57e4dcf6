"""Explore every path through a flow with the real engine, as a person tapping and typing.

Used by the walkthrough tests (every node of every flow is reached, every flow can
finish) and to measure how many taps and answers each flow takes.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.engine import step
from bot.core.events import Event, Press, SendText, StartFlow, Timer
from bot.core.model import ConditionKind, NodeKind, Script
from bot.core.screening import Screen
from bot.core.session import Promise, Session, Settings
from bot.core.turn import Turn

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
PLAIN_ANSWER = "I broke your trust, and that was my choice. I am changing how I show up."
# Answers that make each text check speak, so the feedback path is walked too.
FLAGGED = {
    "apology": "I'm sorry if you were hurt, but we both made mistakes.",
    "defensiveness": "But you also lied to me, and I already said sorry.",
    "validation": "You shouldn't feel that way, calm down.",
}


SETTING_ANSWERS = {
    "timezone": "Berlin",
    "checkin_time": "8.30 pm",
    "quiet_hours": "22:00-07:00",
    "pause_days": "7",
    "country": "UK",
}


@dataclass
class Exploration:
    visited: set[tuple[str, str]] = field(default_factory=set)  # (flow, node) shown
    pressed: set[tuple[str, str, int]] = field(default_factory=set)
    finished_paths: int = 0
    shortest_finish: int | None = None  # interactions (taps + answers) on the shortest path
    longest_finish: int = 0
    turns: list[Turn] = field(default_factory=list)


BROAD_SEEDS = 4  # the first sessions of `seeded_sessions`: newcomer, veteran and two variants


def seeded_sessions(script: Script) -> list[Session]:
    """A newcomer, a veteran with every answer and flow done, and one per answer value tested."""
    names = {n.ask.save for f in script.flows.values() for n in f.nodes.values() if n.ask}
    veteran = Session(
        answers={name: PLAIN_ANSWER for name in names},
        completed=frozenset(script.flows),
        started_at=datetime(2026, 10, 1, tzinfo=UTC),
        promises=(Promise(1, "Home by seven on weekdays"), Promise(2, "Call at lunch")),
    )
    sessions = [Session(started_at=NOW), veteran]
    sessions.append(dataclasses.replace(veteran, settings=Settings(discreet=False, checkins=False)))
    sessions.append(dataclasses.replace(veteran, settings=Settings(safety="flagged")))
    conditions = [
        arm.condition
        for flow in script.flows.values()
        for node in flow.nodes.values()
        for arm in node.arms
        if arm.condition is not None
    ]
    # Everything done but one flow, so suggestions that depend on what is left are reached:
    # only for flows some branch asks about (the rest would walk the veteran's walk again).
    asked = {c.name for c in conditions if c.kind is ConditionKind.DONE}
    sessions += [
        dataclasses.replace(veteran, completed=frozenset(script.flows) - {flow})
        for flow in sorted(asked & set(script.flows))
    ]
    sessions += [
        Session(answers={c.name: str(c.value)}, started_at=NOW)
        for c in conditions
        if c.kind is ConditionKind.ANSWER
    ]
    return sessions


def _moves(script: Script, turn: Turn) -> Iterator[tuple[Event, tuple[str, str, int] | None]]:
    pos = turn.session.position
    if pos is None:
        return
    node = script.flows[pos.flow].nodes[pos.node]
    buttons = [b for m in turn.messages for b in m.buttons if f":{pos.flow}:{pos.node}:" in b.data]
    if node.kind is NodeKind.ASK and node.ask is not None and pos.draft is None:
        yield SendText(SETTING_ANSWERS.get(node.ask.setting or "", PLAIN_ANSWER)), None
        if node.ask.setting:
            yield SendText("no such thing"), None
        already = any(k.endswith(".flagged") and v for k, v in turn.session.answers.items())
        if node.ask.check in FLAGGED and not already:  # one kept-anyway answer per walk
            yield SendText(FLAGGED[node.ask.check]), None
    if node.kind is NodeKind.PAUSE:
        yield Timer(pos.flow, pos.node), None
    for button in buttons:
        token = button.data.rsplit(":", 1)[1]
        index = int(token) if token.isdigit() else -1
        yield Press(button.data), (pos.flow, pos.node, index)


def _answers_key(session: Session) -> tuple[object, ...]:
    """What of the answers can change where a walk goes: their values, and which were kept
    despite a check (marks that otherwise multiply the states 2^n); not the thought counter."""
    answers = session.answers
    plain = tuple(
        sorted(
            (k, v)
            for k, v in answers.items()
            if not k.endswith(".flagged") and not k.startswith("thought.")
        )
    )
    flagged = frozenset(k for k, v in answers.items() if k.endswith(".flagged") and v)
    return plain, flagged


def explore(script: Script, flow: str, max_states: int = 4000) -> Exploration:
    # The walk is about the dialogue's shape; the crisis screen (tested on its own, and
    # the costliest thing a text meets) is left out so thousands of answers stay quick.
    script = dataclasses.replace(script, screen=Screen())
    result = Exploration()
    for n, session in enumerate(seeded_sessions(script)):
        first = step(script, session, StartFlow(flow), NOW)
        queue: deque[tuple[Turn, int]] = deque([(first, 0)])
        seen: set[object] = set()
        # The four broad seeds walk far; the rest are there to open one branch each (a flow
        # left undone, an answer a branch asks about), which lies near the start.
        limit = max_states if n < BROAD_SEEDS else max_states // 8
        while queue and len(seen) < limit:
            turn, depth = queue.popleft()
            result.turns.append(turn)
            result.visited |= set(turn.trail)
            pos = turn.session.position
            if pos is None:
                result.finished_paths += 1
                shortest = result.shortest_finish
                result.shortest_finish = depth if shortest is None else min(shortest, depth)
                result.longest_finish = max(result.longest_finish, depth)
                continue
            session = turn.session
            key = (pos, _answers_key(session), session.settings, session.promises)
            if key in seen:
                continue
            seen.add(key)
            for event, press in _moves(script, turn):
                if press is not None:
                    result.pressed.add(press)
                queue.append((step(script, turn.session, event, NOW), depth + 1))
    return result
