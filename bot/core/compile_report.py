"""What the compiler says: stable diagnostic codes, one `Diagnostic` each, and the report.

A code never changes meaning once published, so authors and tests can rely on it;
`dialogues/FORMAT.md` lists them all (a test keeps that table equal to `CODES`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.model import Flow, Node


@dataclass(frozen=True)
class Code:
    id: str  # "M101": sorts and greps well
    name: str  # "unknown-next-target": says what it is without the table
    meaning: str
    fix: str

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


def _code(id: str, name: str, meaning: str, fix: str) -> Code:
    code = Code(id, name, meaning, fix)
    CODES.append(code)
    return code


CODES: list[Code] = []

# M0xx: files
YAML_SYNTAX = _code(
    "M001",
    "yaml-syntax",
    "the file is not valid YAML",
    "fix the quoting or indentation at that line",
)
DUPLICATE_KEY = _code(
    "M002", "duplicate-key", "a key is written twice in one mapping", "delete or rename one of them"
)
NOT_A_MAPPING = _code(
    "M003",
    "not-a-mapping",
    "the file's top level is not a mapping",
    "start the file with `version: 1` and the other top-level keys",
)
BAD_VERSION = _code(
    "M004", "bad-version", "`version` is missing or not one this coach reads", "write `version: 1`"
)
UNKNOWN_KIND = _code(
    "M005",
    "unknown-kind",
    "`kind:` names no kind of file",
    "use the suggested kind, or leave `kind` out for a flow",
)
UNKNOWN_KEY = _code(
    "M006",
    "unknown-key",
    "a key this place does not take (often a typo)",
    "rename it to the suggested key or remove it",
)
MISSING_KEY = _code(
    "M007", "missing-key", "a required key is absent", "add the key named in the message"
)
SECOND_TABLE = _code(
    "M008",
    "second-table",
    "a second file of a kind (or a name) that may exist only once",
    "merge the two files or rename one",
)
BAD_TABLE = _code(
    "M009",
    "bad-table",
    "a strings or library file has the wrong shape",
    "`strings:` is a mapping of key: text; a library has `name` and `items`",
)

# M1xx: names that refer to something
UNKNOWN_NEXT = _code(
    "M101",
    "unknown-next-target",
    "`next`, `skip_to`, `or_type`, a choice, an arm or `promises` names no node of this flow",
    "use the suggested node id, or add the node",
)
UNKNOWN_FLOW = _code(
    "M102",
    "unknown-flow",
    "`call`, `goto`, a choice's `start` or a `follow_up` names no flow",
    "use the suggested flow id, or add the flow",
)
MISSING_STRING = _code(
    "M103",
    "unknown-string-key",
    "a string the coach says is in no `kind: strings` file",
    "add it, or correct the suggested key written instead",
)
UNKNOWN_CHECK = _code(
    "M104",
    "unknown-check",
    "`check:` names no text check",
    "use the suggested check, or add one under `checks/`",
)
UNKNOWN_LIBRARY = _code(
    "M105",
    "unknown-library",
    "`thought:` names no library",
    "use the suggested library, or add a `kind: library` file",
)
UNKNOWN_SETTING = _code(
    "M106",
    "unknown-setting",
    "a condition or `setting` effect names no setting",
    "use the suggested setting",
)
UNKNOWN_PARSER = _code(
    "M107",
    "unknown-parser",
    "`set:` names no setting question, or is mixed with save/check",
    "use the suggested setting; leave out `save` and `check`",
)
UNKNOWN_EFFECT = _code(
    "M108", "unknown-effect", "a `do:` item names no effect", "use the suggested effect"
)
DUPLICATE_NODE = _code(
    "M109",
    "duplicate-node-id",
    "two nodes of one flow share an id",
    "rename one; the later one is reported",
)
DUPLICATE_FLOW = _code(
    "M110", "duplicate-flow-id", "two files declare the same flow `id`", "rename one"
)
DUPLICATE_STRING = _code(
    "M111", "duplicate-string", "a string key is in two strings files", "keep one"
)
UNKNOWN_START = _code(
    "M112", "unknown-start-node", "`start:` names no node of this flow", "use the suggested node id"
)
MISSING_FLOW = _code(
    "M113",
    "missing-flow",
    "a flow the coach starts by itself is absent",
    "add a file with that `id`",
)
UNKNOWN_SLOT = _code(
    "M114",
    "unknown-slot",
    "a string shows a `{name}` it is never given",
    "use the suggested name; strings get settings and the engine's values",
)
UNSET_NAME = _code(
    "M115",
    "unset-name",
    "a node shows `{name}` that no node before it saves",
    "save it earlier on every path, or write `{name|fallback}`",
)

# M2xx: the shape of a node or flow
DEAD_END = _code(
    "M201", "dead-end", "a node leads nowhere", "give it `next`, `choices` or `end: true`"
)
MIXED_NODE = _code(
    "M202",
    "mixed-node",
    "a node has keys of two kinds (say, choices and ask)",
    "split it into two nodes",
)
EMPTY_NODE = _code(
    "M203",
    "empty-node",
    "a node says nothing and does nothing",
    "give it `say` or `do`, or remove it",
)
BAD_ID = _code(
    "M204",
    "bad-id",
    "an id or name is not lower_case (or not `flow.name`)",
    "use lower-case letters, digits and `_`; answers are `flow.name`",
)
BAD_VALUE = _code(
    "M205",
    "bad-value",
    "a key's value has the wrong type or shape",
    "write it as the message shows",
)
MISPLACED_SAY = _code(
    "M206",
    "misplaced-say",
    "`say` is missing where it is needed, or used where `ask` belongs",
    "choices and promises nodes need `say`; a question goes in `ask`",
)
NO_ELSE = _code(
    "M207", "no-else", "a branch does not end with `{else: node}`", "add a last `- else: node` arm"
)
BUSY_LOOP = _code(
    "M208",
    "busy-loop",
    "a loop has no question or buttons, so it never waits",
    "put a choices or ask node in the loop",
)
UNREACHABLE = _code(
    "M209",
    "unreachable",
    "no path from `start` reaches the node (a warning)",
    "link to it, or remove it",
)

# M3xx: what Telegram accepts
BAD_MARKUP = _code(
    "M301",
    "bad-markup",
    "text is not Telegram HTML",
    "use only b, i, u, s, code, pre, a, blockquote, tg-spoiler; write &amp; &lt;",
)
BAD_TEMPLATE = _code(
    "M302",
    "bad-template",
    "a `{name}` in text is malformed",
    "write `{flow.name}` or `{flow.name|fallback}`",
)
NOT_TEXT = _code("M303", "not-text", "a value that is shown is not text", "quote it")
LONG_MESSAGE = _code(
    "M304",
    "message-too-long",
    "a message is over Telegram's 4096 characters",
    "split it over several message nodes",
)
LONG_LABEL = _code(
    "M305", "label-too-long", "a button label is over 64 characters", "shorten the label"
)
LONG_CALLBACK = _code(
    "M306",
    "callback-too-long",
    "a button's callback data is over 64 bytes",
    "shorten the flow and node ids",
)
LONG_BOT_TEXT = _code(
    "M307",
    "bot-text-too-long",
    "the bot's description (512), short description (120) or a command's (256) is too long",
    "shorten it: Telegram refuses longer ones",
)

# M4xx: content files compiled by their own modules
RESOURCES = _code(
    "M401",
    "crisis-resources",
    "a crisis resources table is invalid",
    'see "Crisis screening" above',
)
LEXICON = _code(
    "M402", "crisis-lexicon", "a crisis lexicon is invalid", 'see "Crisis screening" above'
)
TEXT_CHECK = _code("M403", "text-check", "a text check file is invalid", 'see "Text checks" above')
CORPUS = _code(
    "M404", "screen-corpus", "a labelled corpus row is invalid", "each row is `label<TAB>text`"
)
SCREEN_MODEL = _code(
    "M405",
    "screen-model",
    "the screen model's settings are invalid",
    'see "Crisis screening" above',
)
NO_LEXICON = _code(
    "M406",
    "no-lexicon",
    "no crisis lexicon at all: the coach must screen text",
    "add `screening/<language>.yaml`",
)

# M5xx: other languages (dialogues/locales/)
LANGUAGES = _code(
    "M501",
    "languages-table",
    "`locales/languages.yaml` is invalid",
    "each language is `code: {name, locale, telegram: [codes]}`",
)
TRANSLATION_FILE = _code(
    "M502",
    "translation-file",
    "a translation file cannot be read",
    "start it with `version: 1`, `kind: translation`, `language:`; each entry has source and text",
)
EXTRA_TRANSLATION = _code(
    "M503",
    "extra-translation",
    "a translation names a line its English file does not have",
    "remove it, or run `python -m bot translations <code>` to bring the file up to date",
)
BAD_TRANSLATION = _code(
    "M504",
    "bad-translation",
    "a translated line differs from its English in slots, tags, commands, links, numbers "
    "or label length (it is shown in English)",
    "keep every `{slot}`, tag, /command, link and crisis number as the English has them",
)
MISSING_TRANSLATION = _code(
    "M505",
    "missing-translation",
    "lines not yet translated: shown in English (a warning; `check` fails on it)",
    "write their `text:`",
)
STALE_TRANSLATION = _code(
    "M506",
    "stale-translation",
    "the English line changed since it was translated (a warning; `check` fails on it)",
    "check the words against the new English, then set `source:` to the hash shown",
)
TRANSLATED_SCRIPT = _code(
    "M507",
    "translated-script",
    "a language's script does not compile with its words (it is shown in English)",
    "fix the translation the message names",
)

PLURAL_FORMS = _code(
    "M508",
    "plural-forms",
    "a plural phrase lacks a form its language's CLDR rules need, or has one too many",
    "write exactly the forms named, each with `{plural.count}`",
)

PARSE_WORDS = _code(
    "M509",
    "parse-words",
    "a language's `_parsing.yaml` (words for setting answers) is invalid",
    "counts and units map one word to a whole number; ranges and examples are lists",
)


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    message: str
    severity: str = "error"
    code: Code | None = None
    suggestion: str = ""  # the closest existing name, when a name is unknown

    def __str__(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{self.path}:{self.line}: {self.severity}: {self.message}{hint}{code}"


def closest(name: object, known: Iterable[str]) -> str:
    """The existing name `name` was most likely meant to be, or "" if none is close."""
    matches = difflib.get_close_matches(str(name), sorted(set(known)), n=1, cutoff=0.6)
    return matches[0] if matches else ""


class Report:
    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: Code, path: str, line: int, message: str, *, suggest: str = "") -> None:
        self.items.append(Diagnostic(path, line, message, "error", code, suggest))

    def warn(self, code: Code, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, message, "warning", code))

    def unknown(
        self, code: Code, path: str, line: int, message: str, name: object, known: Iterable[str]
    ) -> None:
        """An unknown name, with the closest known one as the suggestion."""
        self.error(code, path, line, message, suggest=closest(name, known))

    def problems(self, code: Code, path: str, problems: Iterable[tuple[int, str]]) -> None:
        """The (line, message) pairs a content module returns, under one code."""
        for line, message in problems:
            self.error(code, path, line, message)


def codes_table() -> str:
    """The Markdown table of every code, as `dialogues/FORMAT.md` shows it."""
    rows = ["| code | name | means | fix |", "| --- | --- | --- | --- |"]
    rows += [f"| {c.id} | `{c.name}` | {c.meaning} | {c.fix} |" for c in CODES]
    return "\n".join(rows)


class SourceLines:
    """Where each key of each node was written, so a check reports at the offending key.

    The engine's `Node` keeps only its first line; parsing records the rest here under
    key paths like `next`, `choices.0.start`, `branch.2`, `promises.none`.
    """

    def __init__(self) -> None:
        self.by_node: dict[tuple[str, str], dict[str, int]] = {}  # (path, node id) -> key -> line

    def of(self, flow: Flow, node: Node, key: str) -> int:
        """The line `key` of `node` was written on; the node's own line if unknown."""
        return self.by_node.get((flow.path, node.id), {}).get(key, node.line)
