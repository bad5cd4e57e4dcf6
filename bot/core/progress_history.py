"""The last 30 days, day by day, from what the store exports: check-ins, how each day
went, promises kept. Pure: the shells draw it (a PNG in Telegram, a sparkline in the
console) and the caption's words come from `dialogues/_strings.yaml`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.core.model import Script
from bot.core.timezones import load_zone

DAYS = 30
# How a day went, from the check-in's marks; the score is the chart's height for it.
MOODS: Mapping[str, int] = {"day_steady": 3, "day_hard": 2, "day_slipped": 1}
SPARK = " ▁▃▅▇"  # no check-in, slipped, hard, steady, and the top for promises


@dataclass(frozen=True)
class Day:
    day: date
    checked_in: bool
    mood: int  # 0 when not said, else 1 (slipped) to 3 (steady)
    promises_kept: int


def history(
    export: Mapping[str, Any], timezone: str, now: datetime, script: Script
) -> tuple[Day, ...]:
    """One `Day` for each of the last `DAYS` local dates, oldest first; a day counts as
    checked in when the flow playing the script's check-in role was completed on it."""
    checkin_flow = script.role("checkin")
    try:
        zone = load_zone(timezone)
    except (KeyError, ValueError):
        zone = load_zone("UTC")
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)

    def local(text: str) -> date:
        return datetime.fromisoformat(text).astimezone(zone).date()

    checkins = {local(r["completed_at"]) for r in _rows(export, "completions")
                if r.get("flow") == checkin_flow}  # fmt: skip
    moods: dict[date, int] = {}
    for row in _rows(export, "marks"):
        score = MOODS.get(str(row.get("name")))
        if score is not None:
            moods[local(row["created_at"])] = score  # the day's last answer counts
    kept: dict[date, int] = {}
    for row in _rows(export, "promise_checks"):
        day = date.fromisoformat(str(row["day"]))
        kept[day] = kept.get(day, 0) + 1
    return tuple(
        Day(d, d in checkins, moods.get(d, 0), kept.get(d, 0))
        for d in (first + timedelta(days=i) for i in range(DAYS))
    )


def summary(days: Sequence[Day]) -> dict[str, str]:
    """The figures a caption may show: `chart.checkins`, `chart.steady`, `chart.kept`."""
    return {
        "chart.checkins": str(sum(d.checked_in for d in days)),
        "chart.steady": str(sum(d.mood == MOODS["day_steady"] for d in days)),
        "chart.kept": str(sum(d.promises_kept for d in days)),
    }


def sparkline(days: Sequence[Day]) -> str:
    """How each day went, one character a day: blank (no check-in) up to steady."""
    return "".join(SPARK[d.mood] if d.checked_in or d.mood else SPARK[0] for d in days)


def _rows(export: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = export.get(key)
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []
