"""Conversions shared by the store implementations: datetimes, positions, settings.

Nothing here logs: the values that pass through may be a person's own words.
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from bot.core.session import SETTING_TYPES, Frame, Position, Settings

log = logging.getLogger(__name__)

POSITION_FORMAT = 1  # the "v" key of a stored position


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
    return {
        "v": POSITION_FORMAT,
        "flow": position.flow,
        "node": position.node,
        "stack": [{"flow": f.flow, "node": f.node} for f in position.stack],
        "draft": position.draft,
    }


def encode_position(position: Position | None) -> str:
    return json.dumps(position_to_dict(position), ensure_ascii=False, separators=(",", ":"))


def decode_position(text: str | None, user_id: int) -> Position | None:
    """The stored position, or None (the menu) if it cannot be read: never crash on it."""
    if text is None:
        return None
    try:
        data = json.loads(text)
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("v") != POSITION_FORMAT:
            raise ValueError("unknown position format")
        flow, node, draft = data["flow"], data["node"], data.get("draft")
        stack = tuple(Frame(flow=f["flow"], node=f["node"]) for f in data.get("stack", ()))
        ids = [flow, node, *(x for f in stack for x in (f.flow, f.node))]
        if not all(isinstance(x, str) for x in ids) or not isinstance(draft, str | None):
            raise ValueError("position fields of the wrong type")
        return Position(flow=flow, node=node, stack=stack, draft=draft)
    except (ValueError, KeyError, TypeError) as exc:
        # The reason only: the stored JSON may hold a draft, which is the person's text.
        log.warning(
            "unreadable position for user %d (%s); resetting to the menu",
            user_id,
            type(exc).__name__,
        )
        return None


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
