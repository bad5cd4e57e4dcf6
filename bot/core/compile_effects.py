"""Parsing `do:` effects, on a node or a choice."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, cast

from bot.core.compile_files import ID
from bot.core.compile_markup import template
from bot.core.compile_report import BAD_ID, BAD_VALUE, UNKNOWN_EFFECT, UNKNOWN_SETTING, Report
from bot.core.compile_requires import Requirements
from bot.core.model import (
    AnswerSpec,
    ChartSpec,
    CommitmentSpec,
    EffectSpec,
    EraseSpec,
    ExportSpec,
    FollowUpSpec,
    JournalSpec,
    MarkSpec,
    PauseSpec,
    SettingSpec,
    UnpinSpec,
)
from bot.core.template import NAME
from bot.core.yamlsource import LineDict, LineList

ANSWER_NAME = re.compile(rf"^{NAME}$")
SAFETY_VALUES = ("clear", "flagged")
PIN = object()  # `- pin: true` marks the node, it is not an effect to carry out
COPY = object()  # `- copy: true` too: the message gets a copy button
EFFECT_KEYS = (
    "journal", "commitment", "setting", "follow_up", "answer", "mark", "export", "erase", "pin",
    "safety", "chart", "copy", "pause_days", "unpin",
)  # fmt: skip
_FLAGS: dict[str, Any] = {
    "export": ExportSpec(), "erase": EraseSpec(), "pin": PIN, "chart": ChartSpec(), "copy": COPY,
    "unpin": UnpinSpec(),
}  # fmt: skip
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(text: str) -> timedelta | None:
    m = _DURATION.match(text.strip())
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}) if m else None


class Effects:
    """Parses effects in one file, recording the line of each `follow_up` for analysis."""

    def __init__(self, path: str, report: Report, requires: Requirements) -> None:
        self.path, self.report, self.requires = path, report, requires

    def of(self, holder: LineDict, lines: dict[str, int]) -> tuple[EffectSpec, ...]:
        if "do" not in holder:
            return ()
        raw, line = holder["do"], holder.line_of("do")
        if not isinstance(raw, LineList):
            self.report.error(BAD_VALUE, self.path, line, "'do' must be a list of effects")
            return ()
        out: list[EffectSpec] = []
        for index, item in enumerate(raw):
            item_line = raw.line_of_item(index)
            if not isinstance(item, LineDict) or len(item) != 1:
                message = f"an effect is one of {', '.join(EFFECT_KEYS)}"
                self.report.error(BAD_VALUE, self.path, item_line, message)
                continue
            ((key, value),) = item.items()
            spec = self._effect(item_line, str(key), value)
            if isinstance(spec, FollowUpSpec):
                lines.setdefault(f"follow_up.{spec.flow}", item_line)
            if spec is not None:
                out.append(spec)
        return tuple(out)

    def _bad(self, line: int, message: str) -> EffectSpec | None:
        """Always None, so a branch can `return self._bad(...)`."""
        self.report.error(BAD_VALUE, self.path, line, message)
        return None

    def _effect(self, line: int, key: str, value: Any) -> EffectSpec | None:
        path = self.path
        if key == "journal":
            text = template(path, line, value, self.report, "journal")
            return JournalSpec(text) if text else None
        if key == "commitment":
            if isinstance(value, str):
                value = {"text": value}
            if not isinstance(value, dict) or "text" not in value or set(value) - {"text", "due"}:
                return self._bad(line, "commitment is text, or {text, due}")
            text = template(path, line, value["text"], self.report, "commitment")
            due = template(path, line, value["due"], self.report, "due") if "due" in value else None
            return CommitmentSpec(text, due) if text else None
        if key == "setting":
            return self._setting(line, value)
        if key == "answer":
            if not isinstance(value, dict) or len(value) != 1:
                return self._bad(line, "answer is {flow.name: value}")
            ((name, answer),) = value.items()
            if not ANSWER_NAME.match(str(name)) or not isinstance(answer, str | int | bool):
                message = f"answer {name!r}: a name like flow.pick and a plain value"
                self.report.error(BAD_ID, path, line, message)
                return None
            shown = str(answer).lower() if isinstance(answer, bool) else str(answer)
            return AnswerSpec(str(name), shown)
        if key == "follow_up":
            if not isinstance(value, dict) or set(value) != {"flow", "after"}:
                return self._bad(line, "follow_up is {flow: id, after: 30m|2h|3d|1w}")
            after = duration(str(value["after"]))
            if after is None:
                return self._bad(line, f"follow_up after {value['after']!r}: use 30m, 2h, 3d or 1w")
            return FollowUpSpec(str(value["flow"]), after)
        if key == "pause_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 90:
                return self._bad(line, "pause_days is a number of days from 1 to 90")
            return PauseSpec(value)
        if key == "mark":
            if not isinstance(value, str) or not ID.match(value):
                message = "mark names a count in lower_case, like talk_prepared"
                self.report.error(BAD_ID, path, line, message)
                return None
            return MarkSpec(value)
        if key in _FLAGS:
            if value is not True:
                return self._bad(line, f"write '{key}: true'")
            return cast(EffectSpec, _FLAGS[key])
        if key == "safety":
            if value not in SAFETY_VALUES:
                return self._bad(line, f"safety is one of {', '.join(SAFETY_VALUES)}")
            return SettingSpec("safety", str(value))
        message = f"unknown effect {key!r} (known: {', '.join(EFFECT_KEYS)})"
        self.report.unknown(UNKNOWN_EFFECT, path, line, message, key, EFFECT_KEYS)
        return None

    def _setting(self, line: int, value: Any) -> EffectSpec | None:
        if not isinstance(value, dict) or len(value) != 1:
            return self._bad(line, "setting is {name: value}")
        ((name, setting),) = value.items()
        known = self.requires.settings
        expected = known.get(name)
        if expected is None:
            message = f"unknown setting {name!r} (known: {', '.join(known)})"
            self.report.unknown(UNKNOWN_SETTING, self.path, line, message, name, known)
            return None
        if not isinstance(setting, expected) or not isinstance(setting, str | bool | int):
            return self._bad(line, f"setting {name!r} takes a {expected.__name__}")
        return SettingSpec(name, setting)
