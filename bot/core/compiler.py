"""Compile dialogue YAML into a `Script`, collecting every problem at once.

Pure: it takes file texts, not paths to open. Each diagnostic is `path:line: message`.
A script with any error is not returned; warnings (unreachable nodes) are.
"""

from __future__ import annotations

import hashlib
import html.parser
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, cast

import yaml

from bot.core import buttons
from bot.core.checks import TextCheck, compile_check
from bot.core.commands import COMMANDS
from bot.core.engine import REQUIRED_FLOWS, REQUIRED_STRINGS, STRING_SLOTS
from bot.core.model import (
    AnswerSpec,
    Ask,
    BranchArm,
    ChartSpec,
    Choice,
    CommitmentSpec,
    Condition,
    ConditionKind,
    EffectSpec,
    EraseSpec,
    ExportSpec,
    Flow,
    FollowUpSpec,
    JournalSpec,
    MarkSpec,
    Node,
    NodeKind,
    Pause,
    PauseSpec,
    PromisesSpec,
    Script,
    SettingSpec,
    UnpinSpec,
)
from bot.core.resources import check_resources
from bot.core.screening import Screen
from bot.core.screening.corpus import Example, parse_corpus
from bot.core.screening.lexicon import Lexicon, compile_lexicon
from bot.core.screening.model_settings import ModelSettings, compile_model_settings
from bot.core.session import ALWAYS_NAMES, FLAGGED_SUFFIX, SETTING_TYPES
from bot.core.setting_parsers import PARSERS
from bot.core.template import NAME, Template, TemplateError, parse_template
from bot.core.yamlsource import LineDict, LineList, parse_yaml

FORMAT_VERSION = 1
CHECK_VARIANTS = 3  # praise comes in this many wordings a strength, "thin" in one fewer
MAX_MESSAGE = 4096  # Telegram's limit for one message
MAX_LABEL = 64  # longer button labels are cut off on phones
VERSION_CHARS = 6
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_NAME = re.compile(rf"^{NAME}$")
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"}

FLOW_KEYS = {"version", "kind", "id", "title", "summary", "start", "nodes"}
FLOW_KEYS |= {"interrupts", "couples_talk", "before_consent"}
NODE_KEYS = {"say", "next", "choices", "ask", "save", "check", "optional", "branch"}
NODE_KEYS |= {"call", "goto", "end", "do", "wait", "skip", "skip_to", "promises", "thought", "set"}
NODE_KEYS |= {"or_type"}
SAFETY_VALUES = ("clear", "flagged")
_PIN = object()  # `- pin: true` marks the node, it is not an effect to carry out
_COPY = object()  # `- copy: true` too: the message gets a copy button
CHOICE_KEYS = {"label", "next", "start", "do"}
DATA_KINDS = {"crisis_resources": "resources"}


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass
class CompileResult:
    script: Script | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    corpus: tuple[Example, ...] = ()  # the crisis screen's labelled rows, for training
    model_settings: ModelSettings = field(default_factory=ModelSettings)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


class _Report:
    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, message))

    def warn(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, message, "warning"))


def compile_script(sources: Mapping[str, str]) -> CompileResult:
    """`sources` maps a file's display path to its text."""
    report = _Report()
    flows: dict[str, Flow] = {}
    strings: dict[str, Template] = {}
    data: dict[str, object] = {}
    libraries: dict[str, tuple[str, ...]] = {}
    flow_docs: list[tuple[str, LineDict]] = []
    lexicons: dict[str, Lexicon] = {}
    checks: dict[str, TextCheck] = {}
    corpus: list[Example] = []
    model_settings = ModelSettings()
    for path in sorted(sources):
        if path.endswith(CORPUS_SUFFIX):
            corpus += _corpus(path, sources[path], report)
            continue
        doc = _load(path, sources[path], report)
        if doc is None:
            continue
        kind = doc.get("kind", "flow")
        if kind == "flow":
            flow_docs.append((path, doc))
        elif kind == "strings":
            _strings(path, doc, strings, report)
        elif kind in DATA_KINDS:
            _data(path, doc, kind, data, report)
        elif kind == "library":
            _library(path, doc, libraries, report)
        elif kind == "crisis_lexicon":
            _lexicon(path, sources[path], doc, lexicons, report)
        elif kind == "text_check":
            _text_check(path, sources[path], doc, checks, report)
        elif kind == "screen_model":
            model_settings, problems = compile_model_settings(doc)
            for line, message in problems:
                report.error(path, line, message)
        else:
            known = ", ".join(["flow", "strings", "library", "crisis_lexicon", "screen_model",
                               *DATA_KINDS])  # fmt: skip
            report.error(path, doc.line_of("kind"), f"unknown kind {kind!r} (known: {known})")
    for path, doc in flow_docs:
        flow = _flow(path, doc, report, checks)
        if flow is None:
            continue
        if flow.id in flows:
            other = flows[flow.id].path
            report.error(
                path, doc.line_of("id"), f"duplicate flow id {flow.id!r} (also in {other})"
            )
            continue
        flows[flow.id] = flow
    _check_references(flows, libraries, report)
    _check_strings(strings, checks, report, _default_path(sources))
    _check_templates(flows, strings, report)
    version = _version(sources)
    _check_limits(flows, version, report)
    for name in REQUIRED_FLOWS:
        if name not in flows:
            report.error(_default_path(sources), 1, f"missing the {name!r} flow the coach needs")
    report.items.sort(key=lambda d: (d.path, d.line, d.message))
    if not lexicons:
        report.error(_default_path(sources), 1, "no crisis lexicon: the coach must screen text")
    script: Script | None = None
    if not any(d.severity == "error" for d in report.items):
        script = Script(flows, strings, version, data, libraries, Screen(lexicons), checks)
    return CompileResult(script, report.items, tuple(corpus), model_settings)


def _default_path(sources: Mapping[str, str]) -> str:
    return min(sources) if sources else "dialogues"


def _version(sources: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(sources):
        digest.update(path.encode() + b"\0" + sources[path].encode() + b"\0")
    return digest.hexdigest()[:VERSION_CHARS]


# --- files --------------------------------------------------------------------------------


def _load(path: str, text: str, report: _Report) -> LineDict | None:
    try:
        parsed = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        report.error(path, line, f"YAML syntax: {problem}")
        return None
    for key, line in parsed.duplicates:
        report.error(path, line, f"duplicate key {key!r} (a node or key written twice)")
    doc = parsed.data
    if not isinstance(doc, LineDict):
        report.error(path, 1, "a dialogue file is a mapping with version, id, title, … at the top")
        return None
    if doc.get("version") != FORMAT_VERSION:
        if "version" not in doc:
            report.error(path, doc.line, f"missing required key 'version' (use {FORMAT_VERSION})")
        else:
            got = doc["version"]
            msg = f"unsupported version {got!r}: this coach reads version {FORMAT_VERSION}"
            report.error(path, doc.line_of("version"), msg)
        return None
    return doc


def _strings(path: str, doc: LineDict, out: dict[str, Template], report: _Report) -> None:
    _unknown_keys(path, doc, {"version", "kind", "strings"}, report)
    table = doc.get("strings")
    if not isinstance(table, LineDict):
        report.error(path, doc.line_of("strings"), "'strings' must be a mapping of key: text")
        return
    for key, text in table.items():
        line = table.line_of(key)
        if key in out:
            report.error(path, line, f"duplicate string {key!r}")
            continue
        template = _template(path, line, text, report, f"string {key!r}")
        if template is not None:
            out[key] = template


def _data(path: str, doc: LineDict, kind: str, out: dict[str, object], report: _Report) -> None:
    field_name = DATA_KINDS[kind]
    _unknown_keys(path, doc, {"version", "kind", field_name}, report)
    if field_name not in doc:
        report.error(path, doc.line, f"missing required key {field_name!r}")
    elif kind in out:
        report.error(path, doc.line_of("kind"), f"a second {kind!r} file")
    else:
        if kind == "crisis_resources":
            for line, message in check_resources(doc):
                report.error(path, line, message)
        out[kind] = _plain(doc[field_name])


CORPUS_SUFFIX = ".tsv"


def _corpus(path: str, text: str, report: _Report) -> list[Example]:
    """A corpus file is named `<language>.<anything>.tsv`."""
    language = path.rsplit("/", 1)[-1].split(".", 1)[0]
    rows, problems = parse_corpus(language, text)
    for line, message in problems:
        report.error(path, line, message)
    return rows


T = TypeVar("T")


def _keep(
    path: str,
    doc: LineDict,
    compiled: tuple[T | None, list[tuple[int, str]]],
    out: dict[str, T],
    key: str,
    name: str,
    report: _Report,
) -> None:
    """Report a content file's problems; keep what it compiled to under `name`, once."""
    value, problems = compiled
    for line, message in problems:
        report.error(path, line, message)
    if value is None:
        return
    if name in out:
        report.error(path, doc.line_of(key), f"a second {key} {name!r}")
        return
    out[name] = value


# Compiling thousands of patterns takes seconds; the same text always compiles to the same
# value, so a process that compiles the script again (tests, `check` then `run`) reuses it.
_COMPILED: dict[tuple[str, str, str], Any] = {}
_COMPILED_MAX = 64


def _memo(kind: str, path: str, text: str, compile_it: Callable[[], T]) -> T:
    key = (kind, path, text)
    if key not in _COMPILED:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compile_it()
    result: T = _COMPILED[key]
    return result


def _text_check(
    path: str, text: str, doc: LineDict, out: dict[str, TextCheck], report: _Report
) -> None:
    compiled = _memo("check", path, text, lambda: compile_check(path, doc))
    name = compiled[0].name if compiled[0] is not None else ""
    _keep(path, doc, compiled, out, "check", name, report)


def _lexicon(path: str, text: str, doc: LineDict, out: dict[str, Lexicon], report: _Report) -> None:
    compiled = _memo("lexicon", path, text, lambda: compile_lexicon(doc))
    name = compiled[0].language if compiled[0] is not None else ""
    _keep(path, doc, compiled, out, "language", name, report)


def _library(path: str, doc: LineDict, out: dict[str, tuple[str, ...]], report: _Report) -> None:
    _unknown_keys(path, doc, {"version", "kind", "name", "items"}, report)
    name, items = doc.get("name"), doc.get("items")
    if not isinstance(name, str) or not _ID.match(name):
        report.error(path, doc.line_of("name"), "a library needs a lower_case 'name'")
        return
    if not isinstance(items, LineList) or not items:
        report.error(path, doc.line_of("items"), "a library needs a list of 'items'")
        return
    if name in out:
        report.error(path, doc.line_of("name"), f"a second library named {name!r}")
        return
    texts: list[str] = []
    for item in items:
        template = _template(path, items.line, item, report, f"an item of {name!r}")
        if template is not None and template.slots:
            report.error(path, items.line, f"library {name!r}: items cannot show answers")
        texts.append(template.render({}) if template is not None else "")
    out[name] = tuple(texts)


def _plain(value: Any) -> Any:
    """Drop line bookkeeping from data tables the core hands out as they are."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _unknown_keys(path: str, doc: LineDict, allowed: set[str], report: _Report) -> None:
    for key in doc:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            report.error(path, doc.line_of(key), f"unknown key {key!r} (allowed: {hint})")


def _template(path: str, line: int, text: Any, report: _Report, what: str) -> Template | None:
    if not isinstance(text, str):
        report.error(path, line, f"{what} must be text")
        return None
    try:
        template = parse_template(text.strip())
    except TemplateError as exc:
        report.error(path, line, f"{what}: {exc}")
        return None
    markup_problem = _markup_problem(text)
    if markup_problem:
        report.error(path, line, f"{what}: {markup_problem}")
    return template


class _TagCheck(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS and not self.problem:
            self.problem = f"<{tag}> is not a tag Telegram accepts"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if (not self.open or self.open[-1] != tag) and not self.problem:
            self.problem = f"</{tag}> closes a tag that is not open"
        elif self.open:
            self.open.pop()


def _markup_problem(text: str) -> str:
    parser = _TagCheck()
    parser.feed(text)
    parser.close()
    if parser.problem:
        return parser.problem
    if parser.open:
        return f"<{parser.open[-1]}> is never closed"
    if re.search(r"&(?![a-z]+;|#\d+;)", text):
        return "a bare '&' (write &amp;)"
    if re.search(r"<(?![/a-z])", text):
        return "a bare '<' (write &lt;)"
    return ""


# --- flows --------------------------------------------------------------------------------


def _flow(
    path: str, doc: LineDict, report: _Report, checks: Mapping[str, TextCheck]
) -> Flow | None:
    _unknown_keys(path, doc, FLOW_KEYS, report)
    ok = True
    for key in ("id", "title", "summary", "start", "nodes"):
        if key not in doc:
            report.error(path, doc.line, f"missing required key {key!r}")
            ok = False
    if not ok:
        return None
    flow_id = doc["id"]
    if not isinstance(flow_id, str) or not _ID.match(flow_id):
        report.error(path, doc.line_of("id"), f"flow id {flow_id!r}: use lower_case letters")
        return None
    raw_nodes = doc["nodes"]
    if not isinstance(raw_nodes, LineDict) or not raw_nodes:
        report.error(path, doc.line_of("nodes"), "'nodes' must be a mapping of node id: node")
        return None
    nodes: dict[str, Node] = {}
    for node_id, raw in raw_nodes.items():
        line = raw_nodes.line_of(node_id)
        node = _node(path, flow_id, str(node_id), raw, line, report, checks)
        if node is not None:
            nodes[node.id] = node
    start = doc["start"]
    if start not in raw_nodes:
        report.error(path, doc.line_of("start"), f"start node {start!r} is not in this flow")
        return None
    flow = Flow(
        flow_id,
        str(doc["title"]),
        str(doc["summary"]),
        str(start),
        nodes,
        path,
        interrupts=doc.get("interrupts") is True,
        couples_talk=doc.get("couples_talk") is True,
        before_consent=doc.get("before_consent") is True,
    )
    _check_graph(flow, report)
    return flow


_KIND_KEYS = ("choices", "ask", "branch", "call", "goto", "end", "wait", "promises", "thought")


def _node(
    path: str,
    flow: str,
    node_id: str,
    raw: Any,
    line: int,
    report: _Report,
    checks: Mapping[str, TextCheck],
) -> Node | None:
    if not _ID.match(node_id):
        report.error(path, line, f"node id {node_id!r}: use lower_case letters, digits, _")
    if not isinstance(raw, LineDict):
        report.error(path, line, f"node {node_id!r} must be a mapping")
        return None
    _unknown_keys(path, raw, NODE_KEYS, report)
    where = f"node {node_id!r}"
    kinds = [k for k in _KIND_KEYS if k in raw]
    if len(kinds) > 1:
        report.error(path, line, f"{where} mixes {' and '.join(kinds)}: a node does one thing")
        return None
    say = _template(path, raw.line_of("say"), raw["say"], report, where) if "say" in raw else None
    effects = _effects(path, raw, report)
    pin, copy = _PIN in effects, _COPY in effects
    effects = tuple(e for e in effects if e is not _PIN and e is not _COPY)
    nxt = raw.get("next")
    if nxt is not None and not isinstance(nxt, str):
        report.error(path, raw.line_of("next"), f"{where}: 'next' must be a node id")
        nxt = None
    common: dict[str, Any] = {
        "id": node_id,
        "flow": flow,
        "line": line,
        "effects": effects,
        "pin": pin,
        "copy": copy,
    }
    kind = kinds[0] if kinds else "message"

    if kind == "choices":
        choices = _choices(path, raw["choices"], raw.line_of("choices"), report)
        if say is None:
            report.error(path, line, f"{where}: a node with choices needs 'say'")
        if nxt is not None:
            report.error(path, raw.line_of("next"), f"{where}: choices say where to go, not 'next'")
        or_type = raw.get("or_type")
        if or_type is not None and not isinstance(or_type, str):
            report.error(path, raw.line_of("or_type"), f"{where}: 'or_type' names an ask node")
            or_type = None
        return Node(kind=NodeKind.CHOICES, say=say, choices=choices, or_type=or_type, **common)
    if kind == "ask":
        question = _template(path, raw.line_of("ask"), raw["ask"], report, where)
        save = raw.get("save")
        setting = raw.get("set")
        if setting is not None:
            if setting not in PARSERS or "save" in raw or "check" in raw:
                known = ", ".join(PARSERS)
                msg = f"{where}: 'set' takes one of {known}, without save or check"
                report.error(path, raw.line_of("set"), msg)
            _need_next(path, where, nxt, line, report)
            ask = Ask("", None, bool(raw.get("optional", False)), str(setting))
            return Node(kind=NodeKind.ASK, say=question, next=nxt, ask=ask, **common)
        if not isinstance(save, str) or not _NAME.match(save):
            report.error(
                path,
                raw.line_of("save") if "save" in raw else line,
                f"{where}: 'save' must name the answer, like {flow}.what",
            )
            save = f"{flow}.invalid"
        check = raw.get("check")
        if check is not None and check not in checks:
            known = ", ".join(sorted(checks))
            report.error(
                path, raw.line_of("check"), f"unknown text check {check!r} (known: {known})"
            )
        if say is not None:
            report.error(
                path, raw.line_of("say"), f"{where}: the question goes in 'ask', not 'say'"
            )
        _need_next(path, where, nxt, line, report)
        ask = Ask(save, check, bool(raw.get("optional", False)))
        return Node(kind=NodeKind.ASK, say=question, next=nxt, ask=ask, **common)
    if kind == "branch":
        arms = _arms(path, raw["branch"], raw.line_of("branch"), report)
        return Node(kind=NodeKind.BRANCH, say=say, arms=arms, **common)
    if kind in ("call", "goto"):
        target = raw[kind]
        if not isinstance(target, str):
            report.error(path, raw.line_of(kind), f"{where}: '{kind}' names a flow id")
        if kind == "call":
            _need_next(path, where, nxt, line, report)
        node_kind = NodeKind.CALL if kind == "call" else NodeKind.GOTO
        return Node(kind=node_kind, say=say, next=nxt, target_flow=str(target), **common)
    if kind == "end":
        return Node(kind=NodeKind.END, say=say, **common)
    if kind == "wait":
        return _pause_node(path, where, raw, say, nxt, line, common, report)
    if kind == "promises":
        spec = raw["promises"]
        required, optional = {"done", "next", "none"}, {"missed", "missed_next"}
        if not isinstance(spec, LineDict) or not required <= set(spec) <= required | optional:
            msg = f"{where}: promises is {{done, next, none}}, and optionally missed, missed_next"
            report.error(path, raw.line_of("promises"), msg)
            return None
        if ("missed" in spec) != ("missed_next" in spec):
            report.error(path, spec.line, f"{where}: 'missed' and 'missed_next' go together")
            return None
        if say is None:
            report.error(path, line, f"{where}: a promises node needs 'say'")
        missed = (str(spec["missed"]), str(spec["missed_next"])) if "missed" in spec else None
        promises = PromisesSpec(str(spec["done"]), str(spec["next"]), str(spec["none"]), missed)
        return Node(kind=NodeKind.PROMISES, say=say, promises=promises, **common)
    if kind == "thought":
        _need_next(path, where, nxt, line, report)
        library = str(raw["thought"])
        return Node(kind=NodeKind.THOUGHT, say=say, next=nxt, library=library, **common)
    if nxt is None:
        report.error(path, line, f"{where} is a dead end: give it 'next', choices, or 'end: true'")
    if say is None and not effects:
        report.error(path, line, f"{where} says nothing and does nothing")
    return Node(kind=NodeKind.MESSAGE, say=say, next=nxt, **common)


def _pause_node(
    path: str,
    where: str,
    raw: LineDict,
    say: Template | None,
    nxt: str | None,
    line: int,
    common: dict[str, Any],
    report: _Report,
) -> Node:
    wait = _duration(str(raw["wait"]))
    if wait is None:
        report.error(path, raw.line_of("wait"), f"{where}: wait like 10s, 5m or 2h")
        wait = timedelta(seconds=1)
    _need_next(path, where, nxt, line, report)
    label, skip_to = raw.get("skip"), raw.get("skip_to")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
        report.error(path, raw.line_of("skip"), f"{where}: 'skip' is a short button label")
        label = None
    pause = Pause(wait, label, str(skip_to) if skip_to is not None else None)
    return Node(kind=NodeKind.PAUSE, say=say, next=nxt, pause=pause, **common)


def _need_next(path: str, where: str, nxt: str | None, line: int, report: _Report) -> None:
    if nxt is None:
        report.error(path, line, f"{where} is a dead end: it needs 'next'")


def _choices(path: str, raw: Any, line: int, report: _Report) -> tuple[Choice, ...]:
    if not isinstance(raw, LineList) or not raw:
        report.error(path, line, "'choices' must be a list of {label, next} items")
        return ()
    out: list[Choice] = []
    for item in raw:
        item_line = getattr(item, "line", line)
        if not isinstance(item, LineDict):
            report.error(
                path, item_line, "a choice is a mapping with 'label' and 'next' or 'start'"
            )
            continue
        _unknown_keys(path, item, CHOICE_KEYS, report)
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            report.error(path, item_line, "a choice needs a 'label'")
            continue
        if len(label) > MAX_LABEL:
            report.error(
                path,
                item.line_of("label"),
                f"button label is {len(label)} characters; Telegram shows {MAX_LABEL}",
            )
        if ("next" in item) == ("start" in item):
            report.error(path, item_line, f"choice {label!r} needs exactly one of 'next', 'start'")
            continue
        out.append(
            Choice(label.strip(), item.get("next"), item.get("start"), _effects(path, item, report))
        )
    return tuple(out)


def _arms(path: str, raw: Any, line: int, report: _Report) -> tuple[BranchArm, ...]:
    if not isinstance(raw, LineList) or not raw:
        report.error(path, line, "'branch' must be a list of {if, next} arms ending with {else}")
        return ()
    arms: list[BranchArm] = []
    for item in raw:
        item_line = getattr(item, "line", line)
        if isinstance(item, LineDict) and set(item) == {"else"}:
            arms.append(BranchArm(None, str(item["else"])))
            continue
        if not isinstance(item, LineDict) or set(item) != {"if", "next"}:
            report.error(
                path, item_line, "a branch arm is {if: condition, next: node} or {else: node}"
            )
            continue
        condition = _condition(path, item["if"], item_line, report)
        if condition is not None:
            arms.append(BranchArm(condition, str(item["next"])))
    if not arms or arms[-1].condition is not None:
        report.error(path, line, "a branch needs a last {else: node} arm, so it is never stuck")
    return tuple(arms)


def _condition(path: str, raw: Any, line: int, report: _Report) -> Condition | None:
    bad = (
        "a condition is {answer|setting: name, is|is_not: value}, "
        "{has|lacks: name}, or {done|not_done: flow}"
    )
    if not isinstance(raw, LineDict):
        report.error(path, line, bad)
        return None
    keys = set(raw)
    if keys in ({"answer", "is"}, {"answer", "is_not"}, {"setting", "is"}, {"setting", "is_not"}):
        kind = ConditionKind.ANSWER if "answer" in raw else ConditionKind.SETTING
        name = raw.get("answer", raw.get("setting"))
        value = raw.get("is", raw.get("is_not"))
        if kind is ConditionKind.SETTING and name not in SETTING_TYPES:
            report.error(path, line, f"unknown setting {name!r}")
        elif kind is ConditionKind.ANSWER and not _NAME.match(str(name)):
            report.error(path, line, f"answer name {name!r} looks like flow.answer")
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
    report.error(path, line, bad)
    return None


def _effects(path: str, holder: LineDict, report: _Report) -> tuple[EffectSpec, ...]:
    if "do" not in holder:
        return ()
    raw, line = holder["do"], holder.line_of("do")
    if not isinstance(raw, LineList):
        report.error(path, line, "'do' must be a list of effects")
        return ()
    out: list[EffectSpec] = []
    for item in raw:
        item_line = getattr(item, "line", line)
        if not isinstance(item, LineDict) or len(item) != 1:
            report.error(path, item_line, f"an effect is one of {', '.join(EFFECT_KEYS)}")
            continue
        ((key, value),) = item.items()
        spec = _effect(path, item_line, str(key), value, report)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _effect(path: str, line: int, key: str, value: Any, report: _Report) -> EffectSpec | None:
    if key == "journal":
        text = _template(path, line, value, report, "journal")
        return JournalSpec(text) if text else None
    if key == "commitment":
        if isinstance(value, str):
            value = {"text": value}
        if not isinstance(value, dict) or "text" not in value or set(value) - {"text", "due"}:
            report.error(path, line, "commitment is text, or {text, due}")
            return None
        text = _template(path, line, value["text"], report, "commitment")
        due = _template(path, line, value["due"], report, "due") if "due" in value else None
        return CommitmentSpec(text, due) if text else None
    if key == "setting":
        if not isinstance(value, dict) or len(value) != 1:
            report.error(path, line, "setting is {name: value}")
            return None
        ((name, setting),) = value.items()
        expected = SETTING_TYPES.get(name)
        if expected is None:
            report.error(
                path, line, f"unknown setting {name!r} (known: {', '.join(SETTING_TYPES)})"
            )
            return None
        if not isinstance(setting, expected) or not isinstance(setting, str | bool | int):
            report.error(path, line, f"setting {name!r} takes a {expected.__name__}")
            return None
        return SettingSpec(name, setting)
    if key == "answer":
        if not isinstance(value, dict) or len(value) != 1:
            report.error(path, line, "answer is {flow.name: value}")
            return None
        ((name, answer),) = value.items()
        if not _NAME.match(str(name)) or not isinstance(answer, str | int | bool):
            report.error(path, line, f"answer {name!r}: a name like flow.pick and a plain value")
            return None
        return AnswerSpec(
            str(name), str(answer).lower() if isinstance(answer, bool) else str(answer)
        )
    if key == "follow_up":
        if not isinstance(value, dict) or set(value) != {"flow", "after"}:
            report.error(path, line, "follow_up is {flow: id, after: 30m|2h|3d|1w}")
            return None
        after = _duration(str(value["after"]))
        if after is None:
            report.error(path, line, f"follow_up after {value['after']!r}: use 30m, 2h, 3d or 1w")
            return None
        return FollowUpSpec(str(value["flow"]), after)
    if key == "pause_days":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 90:
            report.error(path, line, "pause_days is a number of days from 1 to 90")
            return None
        return PauseSpec(value)
    if key == "mark":
        if not isinstance(value, str) or not _ID.match(value):
            report.error(path, line, "mark names a count in lower_case, like talk_prepared")
            return None
        return MarkSpec(value)
    if key in _FLAGS:
        if value is not True:
            report.error(path, line, f"write '{key}: true'")
            return None
        return cast(EffectSpec, _FLAGS[key])
    if key == "safety":
        if value not in SAFETY_VALUES:
            report.error(path, line, f"safety is one of {', '.join(SAFETY_VALUES)}")
            return None
        return SettingSpec("safety", str(value))
    report.error(path, line, f"unknown effect {key!r} (known: {', '.join(EFFECT_KEYS)})")
    return None


EFFECT_KEYS = (
    "journal", "commitment", "setting", "follow_up", "answer", "mark", "export", "erase", "pin",
    "safety", "chart", "copy", "pause_days", "unpin",
)  # fmt: skip
_FLAGS: dict[str, Any] = {
    "export": ExportSpec(), "erase": EraseSpec(), "pin": _PIN, "chart": ChartSpec(), "copy": _COPY,
    "unpin": UnpinSpec(),
}  # fmt: skip


# --- whole-script checks ------------------------------------------------------------------


def _duration(text: str) -> timedelta | None:
    m = _DURATION.match(text.strip())
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}) if m else None


def _successors(node: Node) -> list[str]:
    """Nodes of the same flow this node can lead to."""
    out = [node.next] if node.next else []
    if node.pause and node.pause.skip_to:
        out.append(node.pause.skip_to)
    if node.promises:
        out += [node.promises.next, node.promises.none]
        if node.promises.missed:
            out.append(node.promises.missed[1])
    out += [c.next for c in node.choices if c.next]
    if node.or_type:
        out.append(node.or_type)
    out += [arm.next for arm in node.arms]
    return out


def _check_graph(flow: Flow, report: _Report) -> None:
    for node in flow.nodes.values():
        for target in _successors(node):
            if target not in flow.nodes:
                report.error(
                    flow.path, node.line, f"node {node.id!r} leads to unknown node {target!r}"
                )
    seen = _reachable(flow, [flow.start])
    for node in flow.nodes.values():
        if node.id not in seen:
            report.warn(
                flow.path, node.line, f"node {node.id!r} is unreachable from {flow.start!r}"
            )
    _check_loops(flow, report)


def _reachable(flow: Flow, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in flow.nodes]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [t for t in _successors(flow.nodes[current]) if t in flow.nodes]
    return seen


def _check_loops(flow: Flow, report: _Report) -> None:
    """A loop must pass through a node that waits for the person, or it would spin forever."""
    passing = {NodeKind.MESSAGE, NodeKind.BRANCH, NodeKind.THOUGHT}

    def auto(node: Node) -> list[str]:
        if node.kind not in passing:
            return []
        return [t for t in _successors(node) if t in flow.nodes]

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
            node = flow.nodes[node_id]
            msg = f"node {node_id!r} starts a loop with no question or buttons in it"
            report.error(flow.path, node.line, msg)
            return


def _check_references(
    flows: dict[str, Flow], libraries: dict[str, tuple[str, ...]], report: _Report
) -> None:
    for flow in flows.values():
        for node in flow.nodes.values():
            if node.library is not None and node.library not in libraries:
                msg = f"node {node.id!r} names unknown library {node.library!r}"
                report.error(flow.path, node.line, msg)
            targets = [node.target_flow] if node.target_flow else []
            targets += [c.start for c in node.choices if c.start]
            specs = list(node.effects) + [s for c in node.choices for s in c.effects]
            targets += [s.flow for s in specs if isinstance(s, FollowUpSpec)]
            for target in targets:
                if target not in flows:
                    report.error(
                        flow.path, node.line, f"node {node.id!r} names unknown flow {target!r}"
                    )


def _check_strings(
    strings: dict[str, Template], checks: dict[str, TextCheck], report: _Report, path: str
) -> None:
    needed = list(REQUIRED_STRINGS) + [f"command.{name}" for name in COMMANDS]
    for check in checks.values():
        needed += [f"check.{check.name}.{r}" for r in check.rules]
        needed += [f"check.{check.name}.thin.{n}" for n in range(1, CHECK_VARIANTS)]
        needed += [
            f"check.{check.name}.praise.{s}.{n}"
            for s in check.strength_ids
            for n in range(1, CHECK_VARIANTS + 1)
        ]
    for key in needed:
        if key not in strings:
            report.error(path, 1, f"missing string {key!r} (add it to a 'kind: strings' file)")
    allowed = {f"settings.{n}" for n in SETTING_TYPES} | set(STRING_SLOTS) | set(ALWAYS_NAMES)
    for key, template in strings.items():
        for slot in template.slots:
            if slot.name not in allowed:
                report.error(
                    path, 1, f"string {key!r} uses {{{slot.name}}}, which it is never given"
                )


def _check_templates(flows: dict[str, Flow], strings: dict[str, Template], report: _Report) -> None:
    saved_in: dict[str, set[str]] = {}
    for flow in flows.values():
        for node in flow.nodes.values():
            for name in _saves(node):
                saved_in.setdefault(name, set()).add(flow.id)
    settings = {f"settings.{n}" for n in SETTING_TYPES} | set(ALWAYS_NAMES) | _marks(flows)
    for flow in flows.values():
        before = _saved_before(flow)
        for node in flow.nodes.values():
            for template in _templates_of(node):
                for slot in template.slots:
                    if slot.name in settings or slot.name in before[node.id]:
                        continue
                    where = saved_in.get(slot.name)
                    if where and slot.fallback is not None:
                        continue  # from another flow, or maybe skipped: the fallback covers it
                    if where:
                        hint = f"set only in {', '.join(sorted(where))} or on another path; "
                        hint += f"write {{{slot.name}|fallback}}"
                    else:
                        hint = "no node saves it"
                    report.error(
                        flow.path, node.line, f"node {node.id!r} shows {{{slot.name}}}: {hint}"
                    )


def _marks(flows: dict[str, Flow]) -> set[str]:
    """`progress.<mark>` for every mark a flow sets: the store counts them."""
    names: set[str] = set()
    for flow in flows.values():
        for node in flow.nodes.values():
            specs = list(node.effects) + [s for c in node.choices for s in c.effects]
            names |= {f"progress.{s.name}" for s in specs if isinstance(s, MarkSpec)}
    return names


def _templates_of(node: Node) -> list[Template]:
    out = [node.say] if node.say else []
    specs = list(node.effects) + [s for c in node.choices for s in c.effects]
    for spec in specs:
        if isinstance(spec, JournalSpec):
            out.append(spec.text)
        elif isinstance(spec, CommitmentSpec):
            out += [spec.text] + ([spec.due] if spec.due else [])
    return out


def _saves(node: Node) -> set[str]:
    """Answer names a node (or one of its choices) can store."""
    names = {node.ask.save} if node.ask else set()
    if node.ask is not None and node.ask.check:
        names.add(node.ask.save + FLAGGED_SUFFIX)  # marked when kept despite the check's notes
    specs = list(node.effects) + [s for c in node.choices for s in c.effects]
    return names | {s.name for s in specs if isinstance(s, AnswerSpec)}


def _saved_before(flow: Flow) -> dict[str, set[str]]:
    """For each node, the answers some node that can run before it saves (a fixed point)."""
    before: dict[str, set[str]] = {n: set() for n in flow.nodes}
    changed = True
    while changed:
        changed = False
        for node in flow.nodes.values():
            carried = before[node.id] | _saves(node)
            for target in _successors(node):
                if target in before and not carried <= before[target]:
                    before[target] |= carried
                    changed = True
    return before


def _check_limits(flows: dict[str, Flow], version: str, report: _Report) -> None:
    for flow in flows.values():
        for node in flow.nodes.values():
            if node.say is not None and node.say.max_length(0) > MAX_MESSAGE:
                length = node.say.max_length(0)
                report.error(
                    flow.path,
                    node.line,
                    f"node {node.id!r} says {length} characters; Telegram allows {MAX_MESSAGE}",
                )
            if node.kind in (NodeKind.CHOICES, NodeKind.ASK):
                size = buttons.longest_encoding(version, flow.id, node.id)
                if size > buttons.MAX_BYTES:
                    report.error(
                        flow.path,
                        node.line,
                        f"buttons of {flow.id}.{node.id} need {size} bytes of callback data; "
                        f"Telegram allows {buttons.MAX_BYTES}: shorten the ids",
                    )
