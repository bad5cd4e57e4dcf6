"""The compiled script: frozen values the engine walks. Built by `compiler`, never by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from functools import cached_property

from bot.core.checks.model import TextCheck
from bot.core.parse_words import ParseWords
from bot.core.places import Places, bare_places
from bot.core.screening import Screen
from bot.core.template import Template


class NodeKind(Enum):
    MESSAGE = "message"  # say, then go on to `next` in the same turn
    CHOICES = "choices"  # say, then wait for a button
    ASK = "ask"  # say, then wait for free text, stored under `save`
    BRANCH = "branch"  # pick `next` from the first arm whose condition holds
    CALL = "call"  # run another flow, then come back to `next`
    GOTO = "goto"  # leave this flow for another, no return
    END = "end"  # say, then the flow is done
    PAUSE = "pause"  # say, then go on to `next` after a while (or at once, on Skip)
    PROMISES = "promises"  # a button per open promise; `done` goes on
    THOUGHT = "thought"  # one item of a library, by the person's date, then `next`


class ConditionKind(Enum):
    ANSWER = "answer"  # a stored answer equals a value
    HAS = "has"  # a stored answer exists and is not empty
    SETTING = "setting"  # a user setting equals a value
    DONE = "done"  # a flow has been completed at least once


@dataclass(frozen=True)
class Condition:
    kind: ConditionKind
    name: str
    value: str | bool | None = None
    negate: bool = False


@dataclass(frozen=True)
class BranchArm:
    condition: Condition | None  # None is the `else` arm
    next: str


# Effects as written in YAML (templates not yet filled).


@dataclass(frozen=True)
class JournalSpec:
    text: Template


@dataclass(frozen=True)
class CommitmentSpec:
    text: Template
    due: Template | None = None


@dataclass(frozen=True)
class SettingSpec:
    name: str
    value: str | bool | int


@dataclass(frozen=True)
class FollowUpSpec:
    flow: str
    after: timedelta


@dataclass(frozen=True)
class AnswerSpec:
    """Remember a pick as an answer, so later branches can use it."""

    name: str
    value: str


@dataclass(frozen=True)
class MarkSpec:
    name: str


@dataclass(frozen=True)
class ExportSpec:
    pass


@dataclass(frozen=True)
class EraseSpec:
    pass


@dataclass(frozen=True)
class PauseSpec:
    """Pause the daily check-in for this many days from today."""

    days: int


@dataclass(frozen=True)
class UnpinSpec:
    """Unpin what the coach pinned in the chat (a pocket card)."""


@dataclass(frozen=True)
class ChartSpec:
    """Send a picture of the last 30 days (the shell draws it)."""


EffectSpec = (
    JournalSpec
    | CommitmentSpec
    | SettingSpec
    | FollowUpSpec
    | AnswerSpec
    | MarkSpec
    | ExportSpec
    | EraseSpec
    | ChartSpec
    | PauseSpec
    | UnpinSpec
)


@dataclass(frozen=True)
class Choice:
    label: str
    next: str | None = None  # a node of the same flow
    start: str | None = None  # or a flow to start (leaving this one)
    effects: tuple[EffectSpec, ...] = ()


@dataclass(frozen=True)
class Ask:
    save: str  # answer name, "namespace.key"; "" when the answer goes into a setting
    check: str | None = None  # a registered text check
    optional: bool = False  # a skip button is offered
    setting: str | None = None  # parse the answer into this setting instead of saving it


@dataclass(frozen=True)
class PromisesSpec:
    done: str  # label of the button that goes on
    next: str
    none: str  # where to go when the ledger is empty
    missed: tuple[str, str] | None = None  # ("None of them today" label, node it leads to)


@dataclass(frozen=True)
class Pause:
    wait: timedelta
    skip_label: str | None = None
    skip_to: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    flow: str
    kind: NodeKind
    line: int
    say: Template | None = None
    next: str | None = None
    choices: tuple[Choice, ...] = ()
    ask: Ask | None = None
    arms: tuple[BranchArm, ...] = ()
    target_flow: str | None = None  # for CALL and GOTO
    effects: tuple[EffectSpec, ...] = ()
    pause: Pause | None = None
    promises: PromisesSpec | None = None
    library: str | None = None  # for THOUGHT
    pin: bool = False  # the shell pins this node's message
    copy: bool = False  # the message gets a button that copies its card (see engine._copy)
    or_type: str | None = None  # CHOICES: text typed here is an answer to this ask node


# The parts a flow may play for the engine, declared in its header (`role: menu`): the
# engine starts these by itself, so each must be played by exactly one flow.
ROLES = (
    "welcome",  # before consent: what Mend is, and the question about storage
    "onboarding",  # after consent, once: the person's settings
    "menu",  # every practice; where the coach returns
    "safety",  # after a crisis card: a flow of its own, so the exercise is put aside
    "checkin",  # the daily check-in the schedule plans
    "safety_followup",  # the gentle message the day after a crisis card
)


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    summary: str
    start: str
    nodes: dict[str, Node]
    path: str
    interrupts: bool = False  # may start in the middle of another flow, which is put aside
    couples_talk: bool = False  # turned off when the safety screening found fear
    # Runs before the person agreed to storage: nothing is stored, and its buttons work
    # without a stored place (each names its own step).
    before_consent: bool = False
    role: str = ""  # what the engine starts it for by itself (`ROLES`), or ""
    command: str = ""  # the slash command that opens it (without "/"), or ""
    practice: bool = False  # counted among the practices a person has finished


@dataclass(frozen=True)
class Language:
    code: str  # "pt-BR": the folder under dialogues/locales/
    name: str  # in the language itself: "Português (Brasil)"
    locale: str  # CLDR, for dates, times and plurals: "pt_BR"
    telegram: tuple[str, ...]  # Telegram language codes (lower case) that choose it


ENGLISH = Language("en", "English", "en", ("en",))  # the source, until languages.yaml says more


@dataclass(frozen=True)
class Script:
    flows: dict[str, Flow]
    strings: dict[str, Template]
    version: str  # short content hash; part of every button's callback data
    data: dict[str, object] = field(default_factory=dict)  # other tables (crisis resources…)
    libraries: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> items (HTML)
    screen: Screen = field(default_factory=Screen)  # the crisis screen: lexicons and model
    checks: Mapping[str, TextCheck] = field(default_factory=dict)  # dialogues/checks/*.yaml
    # Cities, countries and zones (tzdata and dialogues/places.yaml) for the setting parsers.
    places: Places = field(default_factory=bare_places)
    # Plural phrases by name, then CLDR form ("one", "few", ...): this language's own.
    plurals: Mapping[str, Mapping[str, Template]] = field(default_factory=dict)
    # The words this language's setting answers are read with (`_parsing.yaml`).
    parse_words: ParseWords = field(default_factory=ParseWords)
    language: Language = ENGLISH
    # The source script holds every other language's script (words swapped, structure the
    # same, one version); a translated script holds none.
    translations: Mapping[str, Script] = field(default_factory=dict)
    languages: tuple[Language, ...] = ()  # every language, the source first

    def role(self, name: str) -> str:
        """The id of the flow playing `name` (one of `ROLES`), or "" when no flow plays it
        (the compiler insists on the roles the engine cannot do without, and on one flow a
        role). Flow ids live in the dialogue files, never in Python."""
        return self._roles.get(name, "")

    def command_flow(self, command: str) -> str | None:
        """The flow a slash command opens (its header's `command:`), if any."""
        return self._commands.get(command)

    @cached_property
    def practices(self) -> frozenset[str]:
        return frozenset(f.id for f in self.flows.values() if f.practice)

    @cached_property
    def _roles(self) -> dict[str, str]:
        return {f.role: f.id for f in self.flows.values() if f.role}

    @cached_property
    def _commands(self) -> dict[str, str]:
        return {f.command: f.id for f in self.flows.values() if f.command}

    def for_language(self, code: str) -> Script:
        """This script in language `code`, or in the source language if it has none."""
        return self.translations.get(code, self)

    def node(self, flow: str, node: str) -> Node | None:
        f = self.flows.get(flow)
        return f.nodes.get(node) if f else None

    def string(self, key: str) -> Template:
        return self.strings[key]
