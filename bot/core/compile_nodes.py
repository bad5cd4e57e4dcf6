"""Parsing a flow file: its header and each node into the engine's `Flow` and `Node`,
recording where every key was written (`SourceLines`) for the analysis that follows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.core.checks import TextCheck
from bot.core.compile_effects import ANSWER_NAME, COPY, PIN, Effects, duration
from bot.core.compile_files import ID, unknown_keys
from bot.core.compile_markup import MAX_LABEL, template
from bot.core.compile_report import (
    BAD_ID,
    BAD_VALUE,
    DEAD_END,
    DUPLICATE_KEY,
    DUPLICATE_NODE,
    EMPTY_NODE,
    LONG_LABEL,
    MISPLACED_SAY,
    MISSING_KEY,
    MIXED_NODE,
    NO_ELSE,
    UNKNOWN_CHECK,
    UNKNOWN_PARSER,
    UNKNOWN_SETTING,
    UNKNOWN_START,
    Code,
    Report,
    SourceLines,
)
from bot.core.compile_requires import Requirements
from bot.core.model import (
    ROLES,
    Ask,
    BranchArm,
    Choice,
    Condition,
    ConditionKind,
    Flow,
    Node,
    NodeKind,
    Pause,
    PromisesSpec,
)
from bot.core.template import Template
from bot.core.yamlsource import LineDict, LineList

FLOW_KEYS = {"version", "kind", "id", "title", "summary", "start", "nodes"}
FLOW_KEYS |= {"interrupts", "couples_talk", "before_consent", "role", "command", "practice"}
NODE_KEYS = {"say", "next", "choices", "ask", "save", "check", "optional", "branch"}
NODE_KEYS |= {"call", "goto", "end", "do", "wait", "skip", "skip_to", "promises", "thought", "set"}
NODE_KEYS |= {"or_type"}
CHOICE_KEYS = {"label", "next", "start", "do"}
_KIND_KEYS = ("choices", "ask", "branch", "call", "goto", "end", "wait", "promises", "thought")
_CONDITION = (
    "a condition is {answer|setting: name, is|is_not: value}, "
    "{has|lacks: name}, or {done|not_done: flow}"
)


class FlowParser:
    """Parses the flows of one script; `lines` collects key lines across all of them."""

    def __init__(
        self, report: Report, checks: Mapping[str, TextCheck], requires: Requirements
    ) -> None:
        self.report, self.checks, self.requires = report, checks, requires
        self.lines = SourceLines()
        self.path = ""

    def error(self, code: Code, line: int, message: str) -> None:
        self.report.error(code, self.path, line, message)

    def flow(self, path: str, doc: LineDict, duplicates: list[tuple[str, int]]) -> Flow | None:
        self.path = path
        raw_nodes = doc.get("nodes")
        for key, line in duplicates:
            if isinstance(raw_nodes, LineDict) and raw_nodes.key_lines.get(key) == line:
                self.error(DUPLICATE_NODE, line, f"duplicate node id {key!r} in this flow")
            else:
                self.error(DUPLICATE_KEY, line, f"duplicate key {key!r} (a key written twice)")
        unknown_keys(path, doc, FLOW_KEYS, self.report)
        missing = [k for k in ("id", "title", "summary", "start", "nodes") if k not in doc]
        for key in missing:
            self.error(MISSING_KEY, doc.line, f"missing required key {key!r}")
        if missing:
            return None
        flow_id = doc["id"]
        if not isinstance(flow_id, str) or not ID.match(flow_id):
            self.error(BAD_ID, doc.line_of("id"), f"flow id {flow_id!r}: use lower_case letters")
            return None
        if not isinstance(raw_nodes, LineDict) or not raw_nodes:
            message = "'nodes' must be a mapping of node id: node"
            self.error(BAD_VALUE, doc.line_of("nodes"), message)
            return None
        effects = Effects(path, self.report, self.requires)
        nodes: dict[str, Node] = {}
        for node_id, raw in raw_nodes.items():
            line = raw_nodes.line_of(node_id)
            at = self.lines.by_node.setdefault((path, str(node_id)), {})
            node = self._node(flow_id, str(node_id), raw, line, at, effects)
            if node is not None:
                nodes[node.id] = node
        start = doc["start"]
        if start not in raw_nodes:
            message = f"start node {start!r} is not in this flow"
            line = doc.line_of("start")
            self.report.unknown(UNKNOWN_START, path, line, message, start, map(str, raw_nodes))
            return None
        role, command = self._role(doc), self._command(doc)
        return Flow(
            flow_id,
            str(doc["title"]),
            str(doc["summary"]),
            str(start),
            nodes,
            path,
            interrupts=doc.get("interrupts") is True,
            couples_talk=doc.get("couples_talk") is True,
            before_consent=doc.get("before_consent") is True,
            role=role,
            command=command,
            practice=doc.get("practice") is True,
        )

    def _role(self, doc: LineDict) -> str:
        role = doc.get("role", "")
        if role == "" or role in ROLES:
            return str(role)
        line = doc.line_of("role")
        message = f"role {role!r} is not one the engine knows ({', '.join(ROLES)})"
        self.report.unknown(BAD_VALUE, self.path, line, message, str(role), ROLES)
        return ""

    def _command(self, doc: LineDict) -> str:
        command = doc.get("command", "")
        if command == "" or command in self.requires.commands:
            return str(command)
        line = doc.line_of("command")
        known = ", ".join(self.requires.commands)
        message = f"command {command!r} is not in the command menu ({known})"
        self.report.unknown(
            BAD_VALUE, self.path, line, message, str(command), self.requires.commands
        )
        return ""

    def _node(
        self, flow: str, node_id: str, raw: Any, line: int, at: dict[str, int], effects: Effects
    ) -> Node | None:
        if not ID.match(node_id):
            self.error(BAD_ID, line, f"node id {node_id!r}: use lower_case letters, digits, _")
        if not isinstance(raw, LineDict):
            self.error(BAD_VALUE, line, f"node {node_id!r} must be a mapping")
            return None
        at.update({str(key): raw.line_of(key) for key in raw})
        unknown_keys(self.path, raw, NODE_KEYS, self.report)
        where = f"node {node_id!r}"
        kinds = [k for k in _KIND_KEYS if k in raw]
        if len(kinds) > 1:
            self.error(
                MIXED_NODE, line, f"{where} mixes {' and '.join(kinds)}: a node does one thing"
            )
            return None
        say = self._text(raw, "say", where)
        specs = effects.of(raw, at)
        common: dict[str, Any] = {
            "id": node_id,
            "flow": flow,
            "line": line,
            "effects": tuple(e for e in specs if e is not PIN and e is not COPY),
            "pin": PIN in specs,
            "copy": COPY in specs,
        }
        nxt = raw.get("next")
        if nxt is not None and not isinstance(nxt, str):
            self.error(BAD_VALUE, at["next"], f"{where}: 'next' must be a node id")
            nxt = None
        kind = kinds[0] if kinds else "message"
        if kind == "choices":
            choices = self._choices(raw["choices"], at, effects)
            if say is None:
                self.error(MISPLACED_SAY, line, f"{where}: a node with choices needs 'say'")
            if nxt is not None:
                self.error(BAD_VALUE, at["next"], f"{where}: choices say where to go, not 'next'")
            or_type = raw.get("or_type")
            if or_type is not None and not isinstance(or_type, str):
                self.error(BAD_VALUE, at["or_type"], f"{where}: 'or_type' names an ask node")
                or_type = None
            return Node(kind=NodeKind.CHOICES, say=say, choices=choices, or_type=or_type, **common)
        if kind == "ask":
            self._need_next(where, nxt, line)
            question = self._text(raw, "ask", where)
            ask = self._ask(flow, raw, at, where, say)
            return Node(kind=NodeKind.ASK, say=question, next=nxt, ask=ask, **common)
        if kind == "branch":
            arms = self._arms(raw["branch"], at)
            return Node(kind=NodeKind.BRANCH, say=say, arms=arms, **common)
        if kind in ("call", "goto"):
            target = raw[kind]
            if not isinstance(target, str):
                self.error(BAD_VALUE, at[kind], f"{where}: '{kind}' names a flow id")
            if kind == "call":
                self._need_next(where, nxt, line)
            node_kind = NodeKind.CALL if kind == "call" else NodeKind.GOTO
            return Node(kind=node_kind, say=say, next=nxt, target_flow=str(target), **common)
        if kind == "end":
            return Node(kind=NodeKind.END, say=say, **common)
        if kind == "wait":
            self._need_next(where, nxt, line)
            return Node(
                kind=NodeKind.PAUSE, say=say, next=nxt, pause=self._pause(raw, at, where), **common
            )
        if kind == "promises":
            promises = self._promises(raw, at, where)
            if promises is None:
                return None
            if say is None:
                self.error(MISPLACED_SAY, line, f"{where}: a promises node needs 'say'")
            return Node(kind=NodeKind.PROMISES, say=say, promises=promises, **common)
        if kind == "thought":
            self._need_next(where, nxt, line)
            library = str(raw["thought"])
            return Node(kind=NodeKind.THOUGHT, say=say, next=nxt, library=library, **common)
        if nxt is None:
            self.error(
                DEAD_END, line, f"{where} is a dead end: give it 'next', choices, or 'end: true'"
            )
        if say is None and not common["effects"]:
            self.error(EMPTY_NODE, line, f"{where} says nothing and does nothing")
        return Node(kind=NodeKind.MESSAGE, say=say, next=nxt, **common)

    def _text(self, raw: LineDict, key: str, where: str) -> Template | None:
        return (
            template(self.path, raw.line_of(key), raw[key], self.report, where)
            if key in raw
            else None
        )

    def _ask(
        self, flow: str, raw: LineDict, at: dict[str, int], where: str, say: Template | None
    ) -> Ask:
        optional = bool(raw.get("optional", False))
        setting = raw.get("set")
        if setting is not None:
            parsers = self.requires.parsers
            if setting not in parsers or "save" in raw or "check" in raw:
                message = f"{where}: 'set' takes one of {', '.join(parsers)}, without save or check"
                self.report.unknown(UNKNOWN_PARSER, self.path, at["set"], message, setting, parsers)
            return Ask("", None, optional, str(setting))
        save = raw.get("save")
        if not isinstance(save, str) or not ANSWER_NAME.match(save):
            message = f"{where}: 'save' must name the answer, like {flow}.what"
            self.error(BAD_ID, at.get("save", raw.line), message)
            save = f"{flow}.invalid"
        check = raw.get("check")
        if check is not None and check not in self.checks:
            message = f"unknown text check {check!r} (known: {', '.join(sorted(self.checks))})"
            self.report.unknown(UNKNOWN_CHECK, self.path, at["check"], message, check, self.checks)
        if say is not None:
            self.error(MISPLACED_SAY, at["say"], f"{where}: the question goes in 'ask', not 'say'")
        return Ask(save, check, optional)

    def _pause(self, raw: LineDict, at: dict[str, int], where: str) -> Pause:
        wait = duration(str(raw["wait"]))
        if wait is None:
            self.error(BAD_VALUE, at["wait"], f"{where}: wait like 10s, 5m or 2h")
            wait = timedelta(seconds=1)
        label, skip_to = raw.get("skip"), raw.get("skip_to")
        if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
            self.error(BAD_VALUE, at["skip"], f"{where}: 'skip' is a short button label")
            label = None
        return Pause(wait, label, str(skip_to) if skip_to is not None else None)

    def _promises(self, raw: LineDict, at: dict[str, int], where: str) -> PromisesSpec | None:
        spec = raw["promises"]
        required, optional = {"done", "next", "none"}, {"missed", "missed_next"}
        if not isinstance(spec, LineDict) or not required <= set(spec) <= required | optional:
            message = (
                f"{where}: promises is {{done, next, none}}, and optionally missed, missed_next"
            )
            self.error(BAD_VALUE, at["promises"], message)
            return None
        if ("missed" in spec) != ("missed_next" in spec):
            self.error(BAD_VALUE, spec.line, f"{where}: 'missed' and 'missed_next' go together")
            return None
        at.update({f"promises.{key}": spec.line_of(key) for key in spec})
        missed = (str(spec["missed"]), str(spec["missed_next"])) if "missed" in spec else None
        return PromisesSpec(str(spec["done"]), str(spec["next"]), str(spec["none"]), missed)

    def _need_next(self, where: str, nxt: str | None, line: int) -> None:
        if nxt is None:
            self.error(DEAD_END, line, f"{where} is a dead end: it needs 'next'")

    def _choices(self, raw: Any, at: dict[str, int], effects: Effects) -> tuple[Choice, ...]:
        if not isinstance(raw, LineList) or not raw:
            self.error(BAD_VALUE, at["choices"], "'choices' must be a list of {label, next} items")
            return ()
        out: list[Choice] = []
        for index, item in enumerate(raw):
            item_line = raw.line_of_item(index)
            if not isinstance(item, LineDict):
                message = "a choice is a mapping with 'label' and 'next' or 'start'"
                self.error(BAD_VALUE, item_line, message)
                continue
            unknown_keys(self.path, item, CHOICE_KEYS, self.report)
            label = item.get("label")
            if not isinstance(label, str) or not label.strip():
                self.error(MISSING_KEY, item_line, "a choice needs a 'label'")
                continue
            if len(label) > MAX_LABEL:
                message = f"button label is {len(label)} characters; Telegram shows {MAX_LABEL}"
                self.error(LONG_LABEL, item.line_of("label"), message)
            if ("next" in item) == ("start" in item):
                message = f"choice {label!r} needs exactly one of 'next', 'start'"
                self.error(MISSING_KEY, item_line, message)
                continue
            for key in ("next", "start"):
                if key in item:
                    at[f"choices.{len(out)}.{key}"] = item.line_of(key)
            specs = effects.of(item, at)
            out.append(Choice(label.strip(), item.get("next"), item.get("start"), specs))
        return tuple(out)

    def _arms(self, raw: Any, at: dict[str, int]) -> tuple[BranchArm, ...]:
        line = at["branch"]
        if not isinstance(raw, LineList) or not raw:
            message = "'branch' must be a list of {if, next} arms ending with {else}"
            self.error(BAD_VALUE, line, message)
            return ()
        arms: list[BranchArm] = []
        for index, item in enumerate(raw):
            item_line = raw.line_of_item(index)
            if isinstance(item, LineDict) and set(item) == {"else"}:
                at[f"branch.{len(arms)}"] = item.line_of("else")
                arms.append(BranchArm(None, str(item["else"])))
                continue
            if not isinstance(item, LineDict) or set(item) != {"if", "next"}:
                message = "a branch arm is {if: condition, next: node} or {else: node}"
                self.error(BAD_VALUE, item_line, message)
                continue
            condition = self._condition(item["if"], item.line_of("if"))
            if condition is not None:
                at[f"branch.{len(arms)}"] = item.line_of("next")
                arms.append(BranchArm(condition, str(item["next"])))
        if not arms or arms[-1].condition is not None:
            self.error(
                NO_ELSE, line, "a branch needs a last {else: node} arm, so it is never stuck"
            )
        return tuple(arms)

    def _condition(self, raw: Any, line: int) -> Condition | None:
        if not isinstance(raw, LineDict):
            self.error(BAD_VALUE, line, _CONDITION)
            return None
        keys = set(raw)
        if keys in (
            {"answer", "is"},
            {"answer", "is_not"},
            {"setting", "is"},
            {"setting", "is_not"},
        ):
            kind = ConditionKind.ANSWER if "answer" in raw else ConditionKind.SETTING
            name = raw.get("answer", raw.get("setting"))
            value = raw.get("is", raw.get("is_not"))
            settings = self.requires.settings
            if kind is ConditionKind.SETTING and name not in settings:
                line = raw.line_of("setting")
                self.report.unknown(
                    UNKNOWN_SETTING, self.path, line, f"unknown setting {name!r}", name, settings
                )
            elif kind is ConditionKind.ANSWER and not ANSWER_NAME.match(str(name)):
                self.error(
                    BAD_ID, raw.line_of("answer"), f"answer name {name!r} looks like flow.answer"
                )
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            return Condition(kind, str(name), value, negate="is_not" in raw)
        for key, kind, negate in (
            ("has", ConditionKind.HAS, False),
            ("lacks", ConditionKind.HAS, True),
            ("done", ConditionKind.DONE, False),
            ("not_done", ConditionKind.DONE, True),
        ):
            if keys == {key}:
                return Condition(kind, str(raw[key]), None, negate)
        self.error(BAD_VALUE, line, _CONDITION)
        return None
