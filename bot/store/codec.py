"""Conversions shared by the store implementations: datetimes, session state, settings.

Nothing here logs: the values that pass through may be a person's own words.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

from bot.core.planner import local_date
from bot.core.session import SETTING_TYPES, Frame, Position, Settings

log = logging.getLogger(__name__)

STATE_FORMAT = 2  # the "v" key of sessions.state: {"v": 2, "position": ..., "suspended": ...}
_V1 = 1  # format 1 was the position's own dict, {"v": 1, "flow": ..., ...}, or null


def utc_text(dt: datetime) -> str:
    """ISO-8601 UTC text of fixed width, so that text order is time order."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("the store needs timezone-aware datetimes, got a naive one")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def position_to_dict(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    out: dict[str, Any] = {
        "flow": position.flow,
        "node": position.node,
        "stack": [{"flow": f.flow, "node": f.node} for f in position.stack],
        "draft": position.draft,
    }
    if position.held is not None:  # only while "are you safe right now?" waits
        out["held"] = position.held
    return out


def encode_state(position: Position | None, suspended: Position | None) -> str:
    """sessions.state: the position and the suspended exercise, as JSON (format 2)."""
    data = {
        "v": STATE_FORMAT,
        "position": position_to_dict(position),
        "suspended": position_to_dict(suspended),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode_state(text: str | None, user_id: int) -> tuple[Position | None, Position | None]:
    """(position, suspended) from sessions.state, format 2 or 1; (None, None), the menu, if
    it cannot be read: never crash on it."""
    if text is None:
        return None, None
    try:
        data = json.loads(text)
        if data is None:
            return None, None
        if not isinstance(data, dict):
            raise ValueError("unknown state format")
        if data.get("v") == _V1:  # a position, nothing suspended
            return _position_from_dict(data), None
        if data.get("v") != STATE_FORMAT:
            raise ValueError("unknown state format")
        return _position_from_dict(data["position"]), _position_from_dict(data["suspended"])
    except (ValueError, KeyError, TypeError) as exc:
        # The reason only: the stored JSON may hold a draft, which is the person's text.
        log.warning(
            "unreadable session state for user %d (%s); resetting to the menu",
            user_id,
            type(exc).__name__,
        )
        return None, None


def _position_from_dict(data: object) -> Position | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("a position must be an object")
    flow, node, draft, held = data["flow"], data["node"], data.get("draft"), data.get("held")
    stack = tuple(Frame(flow=f["flow"], node=f["node"]) for f in data.get("stack", ()))
    ids = [flow, node, *(x for f in stack for x in (f.flow, f.node))]
    if not all(isinstance(x, str) for x in ids) or not all(
        isinstance(x, str | None) for x in (draft, held)
    ):
        raise ValueError("position fields of the wrong type")
    return Position(flow=flow, node=node, stack=stack, draft=draft, held=held)


SETTING_NAMES: tuple[str, ...] = tuple(SETTING_TYPES)
if {f.name for f in fields(Settings)} != set(SETTING_NAMES):  # pragma: no cover
    raise RuntimeError("Settings fields and SETTING_TYPES disagree")


def setting_to_db(name: str, value: object) -> str | int:
    """Validate a setting change; the column value to store (bools as 0/1)."""
    kind = SETTING_TYPES.get(name)
    if kind is None:
        raise ValueError(f"unknown setting {name!r}")
    # bool is an int, and str is not a bool: demand the exact kind.
    if type(value) is not kind:
        raise ValueError(f"setting {name!r} needs a {kind.__name__}, got {type(value).__name__}")
    if kind is bool:
        return int(bool(value))
    assert isinstance(value, str)
    return value


def settings_to_db(settings: Settings) -> dict[str, str | int]:
    return {name: setting_to_db(name, getattr(settings, name)) for name in SETTING_NAMES}


def settings_from_db(row: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {}
    for name in SETTING_NAMES:
        raw = row[name]
        values[name] = bool(raw) if SETTING_TYPES[name] is bool else str(raw)
    return Settings(**values)


def settings_to_json(settings: Settings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in SETTING_NAMES}


# -- what load() adds to the session: the promise ledger and progress counts ------------------

MAX_PROMISES = 8  # open commitments a session carries, oldest first
CHECKIN_FLOW = "checkin"  # completions counted as progress.checkins_7d / _30d
TALK_FLOW = "prepare"  # completions counted as progress.talks


def local_today(now: datetime, timezone: str) -> date:
    """The person's local date at `now`; the UTC date if the zone cannot be loaded."""
    try:
        return local_date(now, timezone)
    except ValueError:
        return now.astimezone(UTC).date()


def progress_facts(
    *,
    checkins_7d: int,
    checkins_30d: int,
    promises_made: int,
    promises_kept: int,
    talks: int,
    marks: Mapping[str, int],
) -> dict[str, str]:
    """Session.facts: `progress.<mark>` for each mark, and the fixed counts (which win)."""
    facts = {f"progress.{name}": str(count) for name, count in sorted(marks.items())}
    facts.update(
        {
            "progress.checkins_7d": str(checkins_7d),
            "progress.checkins_30d": str(checkins_30d),
            "progress.promises_made": str(promises_made),
            "progress.promises_kept": str(promises_kept),
            "progress.talks": str(talks),
        }
    )
    return facts


def check_day(day: str) -> str:
    """A KeepPromise day must be an ISO date (YYYY-MM-DD): text order is then date order."""
    if len(day) != 10 or date.fromisoformat(day).isoformat() != day:
        raise ValueError("a promise check needs an ISO date (YYYY-MM-DD)")
    return day
