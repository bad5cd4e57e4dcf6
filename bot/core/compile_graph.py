"""Analysis of the whole script: references between nodes and flows, reachability, loops
that never wait, and the names each template shows."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.checks import TextCheck
from bot.core.compile_report import (
    BAD_VALUE,
    BUSY_LOOP,
    MISSING_FLOW,
    MISSING_STRING,
    UNKNOWN_FLOW,
    UNKNOWN_LIBRARY,
    UNKNOWN_NEXT,
    UNKNOWN_SLOT,
    UNREACHABLE,
    UNSET_NAME,
    Report,
    SourceLines,
    closest,
)
from bot.core.compile_requires import Requirements
from bot.core.model import (
    AnswerSpec,
    CommitmentSpec,
    EffectSpec,
    Flow,
    FollowUpSpec,
    JournalSpec,
    MarkSpec,
    Node,
    NodeKind,
    Script,
)
from bot.core.template import Template


def edges(node: Node) -> list[tuple[str, str]]:
    """`(key, node id)` for each node of the same flow this node can lead to; the key is
    where it was written, as `SourceLines` records it."""
    out = [("next", node.next)] if node.next else []
    if node.pause and node.pause.skip_to:
        out.append(("skip_to", node.pause.skip_to))
    if node.promises:
        out += [("promises.next", node.promises.next), ("promises.none", node.promises.none)]
        if node.promises.missed:
            out.append(("promises.missed_next", node.promises.missed[1]))
    out += [(f"choices.{i}.next", c.next) for i, c in enumerate(node.choices) if c.next]
    if node.or_type:
        out.append(("or_type", node.or_type))
    out += [(f"branch.{i}", arm.next) for i, arm in enumerate(node.arms)]
    return out


def successors(node: Node) -> list[str]:
    return [target for _, target in edges(node)]


def _specs(node: Node) -> list[EffectSpec]:
    """The node's effects and its choices'."""
    return list(node.effects) + [s for c in node.choices for s in c.effects]


def check_graph(flow: Flow, lines: SourceLines, report: Report) -> None:
    for node in flow.nodes.values():
        for key, target in edges(node):
            if target not in flow.nodes:
                line = lines.of(flow, node, key)
                message = f"node {node.id!r} leads to unknown node {target!r}"
                report.unknown(UNKNOWN_NEXT, flow.path, line, message, target, flow.nodes)
    seen = _reachable(flow, [flow.start])
    for node in flow.nodes.values():
        if node.id not in seen:
            message = f"node {node.id!r} is unreachable from {flow.start!r}"
            report.warn(UNREACHABLE, flow.path, node.line, message)
    _check_loops(flow, report)


def _reachable(flow: Flow, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in flow.nodes]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [t for t in successors(flow.nodes[current]) if t in flow.nodes]
    return seen


def _check_loops(flow: Flow, report: Report) -> None:
    """A loop must pass through a node that waits for the person, or it would spin forever."""
    passing = {NodeKind.MESSAGE, NodeKind.BRANCH, NodeKind.THOUGHT}

    def auto(node: Node) -> list[str]:
        if node.kind not in passing:
            return []
        return [t for t in successors(node) if t in flow.nodes]

    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node_id: str) -> bool:
        state[node_id] = 1
        for target in auto(flow.nodes[node_id]):
            if state.get(target) == 1 or (target not in state and visit(target)):
                return True
        state[node_id] = 2
        return False

    for node_id in flow.nodes:
        if node_id not in state and visit(node_id):
            message = f"node {node_id!r} starts a loop with no question or buttons in it"
            report.error(BUSY_LOOP, flow.path, flow.nodes[node_id].line, message)
            return


def check_references(script: Script, lines: SourceLines, report: Report) -> None:
    flows, libraries = script.flows, script.libraries
    for flow in flows.values():
        for node in flow.nodes.values():
            if node.library is not None and node.library not in libraries:
                line = lines.of(flow, node, "thought")
                message = f"node {node.id!r} names unknown library {node.library!r}"
                report.unknown(UNKNOWN_LIBRARY, flow.path, line, message, node.library, libraries)
            targets: list[tuple[str, str]] = []
            if node.target_flow:
                targets.append(("call" if node.kind is NodeKind.CALL else "goto", node.target_flow))
            targets += [
                (f"choices.{i}.start", c.start) for i, c in enumerate(node.choices) if c.start
            ]
            targets += [
                (f"follow_up.{s.flow}", s.flow) for s in _specs(node) if isinstance(s, FollowUpSpec)
            ]
            for key, target in targets:
                if target not in flows:
                    line = lines.of(flow, node, key)
                    message = f"node {node.id!r} names unknown flow {target!r}"
                    report.unknown(UNKNOWN_FLOW, flow.path, line, message, target, flows)


def check_required(
    script: Script,
    requires: Requirements,
    string_lines: dict[str, tuple[str, int]],
    default_path: str,
    report: Report,
) -> None:
    """The flows and strings the engine needs; a missing string is reported at the key
    most like it (a typo, most likely), else at the first strings file."""
    players: dict[str, list[Flow]] = {}
    for flow in script.flows.values():
        if flow.role:
            players.setdefault(flow.role, []).append(flow)
    for role, flows in players.items():
        for extra in flows[1:]:
            message = f"the {role!r} role is played by {flows[0].id!r} already"
            report.error(BAD_VALUE, extra.path, 1, message)
    for role in requires.roles:
        if role not in players:
            message = f"no flow plays the {role!r} role the coach needs (add 'role: {role}')"
            report.unknown(MISSING_FLOW, default_path, 1, message, role, script.flows)
    opened = {f.command for f in script.flows.values() if f.command}
    for command in requires.flow_commands:
        if command not in opened:
            message = f"no flow opens /{command} (add 'command: {command}' to its header)"
            report.unknown(MISSING_FLOW, default_path, 1, message, command, script.flows)
    needed = list(requires.needed_strings)
    for check in script.checks.values():
        needed += _check_strings(check, requires.check_variants)
    first = min(string_lines.values(), default=(default_path, 1))
    for key in needed:
        if key not in script.strings:
            near = closest(key, set(script.strings) - set(needed))
            if near:  # most likely a typo: report it where it is written, with the right key
                message = f"string {near!r} is not one the coach says, and {key!r} is missing"
                report.error(MISSING_STRING, *string_lines[near], message, suggest=key)
            else:
                message = f"missing string {key!r} (add it to a 'kind: strings' file)"
                report.error(MISSING_STRING, *first, message)
    allowed = {f"settings.{n}" for n in requires.settings} | requires.string_slots
    allowed |= requires.always_names
    for key, template in script.strings.items():
        for slot in template.slots:
            if slot.name not in allowed:
                path, line = string_lines.get(key, first)
                message = f"string {key!r} uses {{{slot.name}}}, which it is never given"
                report.unknown(UNKNOWN_SLOT, path, line, message, slot.name, allowed)


def _check_strings(check: TextCheck, variants: int) -> list[str]:
    """The feedback strings a text check needs: one a rule, praise and "thin" wordings."""
    prefix = f"check.{check.name}"
    out = [f"{prefix}.{rule}" for rule in check.rules]
    out += [f"{prefix}.thin.{n}" for n in range(1, variants)]
    out += [f"{prefix}.praise.{s}.{n}" for s in check.strength_ids for n in range(1, variants + 1)]
    return out


def check_templates(
    flows: dict[str, Flow], requires: Requirements, lines: SourceLines, report: Report
) -> None:
    saved_in: dict[str, set[str]] = {}
    for flow in flows.values():
        for node in flow.nodes.values():
            for name in _saves(node, requires.flagged_suffix):
                saved_in.setdefault(name, set()).add(flow.id)
    shown = {f"settings.{n}" for n in requires.settings} | requires.always_names | _marks(flows)
    for flow in flows.values():
        before = _saved_before(flow, requires.flagged_suffix)
        for node in flow.nodes.values():
            for key, template in _templates_of(node):
                for slot in template.slots:
                    if slot.name in shown or slot.name in before[node.id]:
                        continue
                    where = saved_in.get(slot.name)
                    if where and slot.fallback is not None:
                        continue  # from another flow, or maybe skipped: the fallback covers it
                    if where:
                        hint = f"set only in {', '.join(sorted(where))} or on another path; "
                        hint += f"write {{{slot.name}|fallback}}"
                    else:
                        hint = "no node saves it"
                    message = f"node {node.id!r} shows {{{slot.name}}}: {hint}"
                    known = (set(saved_in) | shown) - {slot.name}
                    line = lines.of(flow, node, key)
                    report.unknown(UNSET_NAME, flow.path, line, message, slot.name, known)


def _marks(flows: dict[str, Flow]) -> set[str]:
    """`progress.<mark>` for every mark a flow sets: the store counts them."""
    names: set[str] = set()
    for flow in flows.values():
        for node in flow.nodes.values():
            names |= {f"progress.{s.name}" for s in _specs(node) if isinstance(s, MarkSpec)}
    return names


def _templates_of(node: Node) -> list[tuple[str, Template]]:
    """`(key, template)` for each text the node shows or stores."""
    key = "ask" if node.kind is NodeKind.ASK else "say"
    out = [(key, node.say)] if node.say else []
    for spec in _specs(node):
        if isinstance(spec, JournalSpec):
            out.append(("do", spec.text))
        elif isinstance(spec, CommitmentSpec):
            out += [("do", spec.text)] + ([("do", spec.due)] if spec.due else [])
    return out


def _saves(node: Node, flagged_suffix: str) -> set[str]:
    """Answer names a node (or one of its choices) can store."""
    names = {node.ask.save} if node.ask else set()
    if node.ask is not None and node.ask.check:
        names.add(node.ask.save + flagged_suffix)  # marked when kept despite the check's notes
    return names | {s.name for s in _specs(node) if isinstance(s, AnswerSpec)}


def _saved_before(flow: Flow, flagged_suffix: str) -> dict[str, set[str]]:
    """For each node, the answers some node that can run before it saves (a fixed point)."""
    before: dict[str, set[str]] = {n: set() for n in flow.nodes}
    changed = True
    while changed:
        changed = False
        for node in flow.nodes.values():
            carried = before[node.id] | _saves(node, flagged_suffix)
            for target in successors(node):
                if target in before and not carried <= before[target]:
                    before[target] |= carried
                    changed = True
    return before
