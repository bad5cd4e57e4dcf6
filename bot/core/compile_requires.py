"""What the engine requires of a script, as one value handed to the compiler.

Like Yarn Spinner's compiler receiving the runtime's `Library`: the compiler checks a
script against this value and imports none of the engine's modules itself, so a test
(or another engine) can compile against other requirements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.core.commands import COMMANDS, FLOW_COMMANDS
from bot.core.engine import REQUIRED_ROLES, REQUIRED_STRINGS, STRING_SLOTS, VARIANTS
from bot.core.session import ALWAYS_NAMES, FLAGGED_SUFFIX, SETTING_TYPES
from bot.core.setting_parsers import PARSERS


@dataclass(frozen=True)
class Requirements:
    roles: tuple[str, ...]  # roles (`role:` in a flow's header) some flow must play
    flow_commands: tuple[str, ...]  # commands some flow must open (`command:`)
    strings: tuple[str, ...]  # strings the engine says outside any flow
    commands: tuple[str, ...]  # each needs a `command.<name>` string
    string_slots: frozenset[str]  # `{names}` the engine fills in its strings
    settings: Mapping[str, type]  # setting name -> the type its value has
    parsers: tuple[str, ...]  # settings a `set:` question can parse from free text
    always_names: frozenset[str]  # `{names}` every template may show
    flagged_suffix: str  # answer name suffix marking "kept despite the check's notes"
    check_variants: int  # praise comes in this many wordings a strength, "thin" in one fewer

    @property
    def needed_strings(self) -> tuple[str, ...]:
        return (*self.strings, *(f"command.{name}" for name in self.commands))


ENGINE = Requirements(
    roles=tuple(REQUIRED_ROLES),
    flow_commands=tuple(FLOW_COMMANDS),
    strings=tuple(REQUIRED_STRINGS),
    commands=tuple(COMMANDS),
    string_slots=frozenset(STRING_SLOTS),
    settings=MappingProxyType(dict(SETTING_TYPES)),
    parsers=tuple(PARSERS),
    always_names=frozenset(ALWAYS_NAMES),
    flagged_suffix=FLAGGED_SUFFIX,
    check_variants=VARIANTS,
)  # the one place that reads what this engine requires from its modules
