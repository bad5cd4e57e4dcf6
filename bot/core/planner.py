"""When the next daily check-in is due. Pure: the current instant is always passed in.

The rules, in the order they apply to one local calendar date `d` of the plan's zone:

1. The wall time is `checkin_time`, unless it falls inside quiet hours: then it is the
   *end* of quiet hours on that same date `d` (a 23:00 check-in with quiet hours
   22:00–07:00 goes out at 07:00 every day). Shifting within the same date, never onto the
   next one, keeps exactly one check-in per local date at one fixed wall time.
2. That wall time on `d` is turned into an instant:
   - it exists once: that instant;
   - it exists twice (fall-back): the first occurrence (fold=0), never the second;
   - it does not exist (spring-forward gap, e.g. 02:30 in Berlin on the last Sunday of
     March): the first instant after the gap, the transition itself (03:00 in Berlin).
3. Should the gap have pushed it into quiet hours, it becomes the end of quiet hours on `d`.
4. The date has no check-in when the result is still quiet, or no longer on `d` (a
   wall time in a gap that ends at midnight, as in America/Nuuk's 23:00→00:00: taking
   00:00 would give the next date two check-ins). Both are rare: in the 2020–2035 tz data
   only the second happens, in America/Nuuk and America/Scoresbysund, for check-in times
   23:00–23:59 on their March spring-forward night.

`next_checkin` returns the first such instant strictly after `after`, at or after
`paused_until`, and on a local date later than `last_sent_local_date`, so at most one
check-in is ever due per local date, and dates never go backwards.

Changing time zone: pass the new zone in the plan and the date of the last check-in *in
the new zone*, `local_date(last_sent_at, plan.timezone)`. The one-per-date rule is then by
the new zone's dates, and moving east never brings a second check-in on the same date.
`replan` does exactly that and `replans` says which turns need it; the coach (for every
turn) and the dispatcher (re-planning the unplanned) both use them: the rule lives here.

Zones are loaded with `bot.core.timezones.load_zone`: IANA names and the fixed offsets
`parse_timezone` produces ("UTC+05:30", "Etc/GMT-2") both work.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from bot.core.model import Script
from bot.core.session import SCHEDULE_SETTINGS, Settings
from bot.core.timezones import load_zone
from bot.core.turn import ChangeSetting, CompleteFlow, Turn

LATE_GRACE = timedelta(hours=3)
# Dates looked at before giving up: only an impossible plan (quiet hours leaving nothing
# but a DST gap) finds no slot in a couple of days.
_HORIZON_DAYS = 14


@dataclass(frozen=True)
class CheckinPlan:
    timezone: str  # IANA name, or an offset zone from parse_timezone
    checkin_time: time  # local wall time, e.g. 20:00 (any tzinfo on it is ignored)
    enabled: bool = True
    paused_until: datetime | None = None  # aware; nothing is due before it
    # Local quiet hours, [start, end), may wrap midnight (22:00..07:00). Nothing is ever
    # due inside them. Both or neither; start == end means no quiet hours at all.
    quiet_start: time | None = None
    quiet_end: time | None = None


def next_checkin(
    plan: CheckinPlan, after: datetime, last_sent_local_date: date | None
) -> datetime | None:
    """The next due instant (UTC, aware) strictly after `after`, or None when disabled.

    `last_sent_local_date` is the local date, in `plan.timezone`, of the last check-in
    sent; nothing is due on that date or any earlier one.
    """
    if not plan.enabled:
        return None
    after = _as_utc(after, "after")
    pause = None if plan.paused_until is None else _as_utc(plan.paused_until, "paused_until")
    tz = load_zone(plan.timezone)
    wall = scheduled_time(plan)
    start = after if pause is None or pause <= after else pause
    try:
        # A day early: harmless, and safe should a zone's dates ever step backwards.
        first = start.astimezone(tz).date() - timedelta(days=1)
        if last_sent_local_date is not None and last_sent_local_date >= first:
            first = last_sent_local_date + timedelta(days=1)
        for offset in range(_HORIZON_DAYS):
            day = first + timedelta(days=offset)
            due = _slot(day, wall, tz, plan)
            if due is not None and due > after and (pause is None or due >= pause):
                return due
    except OverflowError:  # dates at the very end of the calendar
        return None
    return None


def scheduled_time(plan: CheckinPlan) -> time:
    """The local wall time check-ins go out at: `checkin_time`, or the end of quiet
    hours when `checkin_time` falls inside them."""
    wall = _naive(plan.checkin_time)
    window = _quiet_window(plan)
    if window is not None and _inside(wall, *window):
        return window[1]
    return wall


def is_quiet(instant: datetime, plan: CheckinPlan) -> bool:
    """Whether `instant` falls inside the plan's quiet hours, in the plan's zone."""
    window = _quiet_window(plan)
    if window is None:
        return False
    local = _as_utc(instant, "instant").astimezone(load_zone(plan.timezone))
    return _inside(local.time(), *window)


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar date `instant` falls on in `timezone`."""
    return _as_utc(instant, "instant").astimezone(load_zone(timezone)).date()


def late_policy(
    due: datetime, now: datetime, grace: timedelta = LATE_GRACE
) -> Literal["send", "skip"]:
    """A check-in less than `grace` late is still sent; an older one is skipped.

    Not yet due (now before due) counts as not late: "send".
    """
    late = _as_utc(now, "now") - _as_utc(due, "due")
    return "send" if late < grace else "skip"


# Internals.


def _slot(day: date, wall: time, tz: tzinfo, plan: CheckinPlan) -> datetime | None:
    due = _resolve(day, wall, tz)
    window = _quiet_window(plan)
    if window is not None and _inside(due.astimezone(tz).time(), *window):
        # Only a DST gap gets here: the wall time itself is outside quiet hours.
        due = _resolve(day, window[1], tz)
        if _inside(due.astimezone(tz).time(), *window):
            return None
    if due.astimezone(tz).date() != day:
        return None
    return due


def _resolve(day: date, wall: time, tz: tzinfo) -> datetime:
    """The UTC instant of local `wall` on `day`: the first occurrence if it happens
    twice, the first instant after the gap if it never happens."""
    naive = datetime.combine(day, wall)
    due = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if due.astimezone(tz).replace(tzinfo=None) == naive:
        return due
    # In a gap. fold=0 and fold=1 read the wall time with the offsets from before and
    # after the transition, which puts one of them before it and the other after it.
    # The transition is the first instant whose local wall time is past `naive`.
    other = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo = math.floor(min(due, other).timestamp())  # local wall time before the gap
    hi = math.ceil(max(due, other).timestamp())  # local wall time after it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wall_at(mid, tz) > naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _wall_at(timestamp: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).astimezone(tz).replace(tzinfo=None)


def _quiet_window(plan: CheckinPlan) -> tuple[time, time] | None:
    if plan.quiet_start is None or plan.quiet_end is None:
        return None
    start, end = _naive(plan.quiet_start), _naive(plan.quiet_end)
    if start == end:
        return None
    return start, end


def _inside(wall: time, start: time, end: time) -> bool:
    """Whether `wall` is in [start, end), a window that may wrap midnight."""
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def _naive(t: time) -> time:
    return t.replace(tzinfo=None, fold=0)


def _as_utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {instant!r}")
    return instant.astimezone(UTC)


def plan_for(settings: Settings) -> CheckinPlan:
    """A person's settings, as the planner reads them. Unreadable values fall back safely:
    a broken time to 20:00, a broken pause to none, broken quiet hours to none."""
    wall = _clock(settings.checkin_time) or time(20, 0)
    paused = None
    if settings.paused_until:
        try:
            paused = datetime.combine(date.fromisoformat(settings.paused_until), time(), UTC)
        except ValueError:
            paused = None
    quiet_start = quiet_end = None
    if "-" in settings.quiet_hours:
        start_text, end_text = settings.quiet_hours.split("-", 1)
        quiet_start, quiet_end = _clock(start_text), _clock(end_text)
        if quiet_start is None or quiet_end is None:
            quiet_start = quiet_end = None
    return CheckinPlan(
        timezone=settings.timezone,
        checkin_time=wall,
        enabled=settings.checkins,
        paused_until=paused,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )


def next_for(settings: Settings, after: datetime, last_local_date: date | None) -> datetime | None:
    """The next daily check-in for these settings; None when off or the zone is unknown."""
    try:
        return next_checkin(plan_for(settings), after, last_local_date)
    except (KeyError, ValueError):  # a zone this machine's tz data does not know
        return None


def replans(turn: Turn, script: Script) -> bool:
    """Whether the turn changed when the daily check-in is due: a setting the schedule
    reads changed, or onboarding finished (the person's first plan)."""
    onboarding = script.role("onboarding")
    return any(
        (isinstance(e, ChangeSetting) and e.name in SCHEDULE_SETTINGS)
        or (isinstance(e, CompleteFlow) and e.flow == onboarding)
        for e in turn.effects
    )


def replan(
    settings: Settings,
    after: datetime,
    last_sent_at: datetime | None,
    last_local_date: date | None = None,
) -> datetime | None:
    """The next daily check-in once `settings` may have changed (a new zone among them).

    The last check-in's date is taken in the zone now set, `local_date(last_sent_at, zone)`,
    never the date it had in the zone it was sent in: moving east right after a check-in
    would otherwise bring a second one on the same local date. `last_local_date` (the old
    zone's date) serves only when the instant is unknown.
    """
    last = last_local_date
    # An unknown zone plans nothing anyway (next_for).
    if last_sent_at is not None:
        with contextlib.suppress(KeyError, ValueError):
            last = local_date(last_sent_at, settings.timezone)
    return next_for(settings, after, last)


def _clock(text: str) -> time | None:
    try:
        hour, minute = text.strip().split(":")
        return time(int(hour), int(minute))
    except ValueError:
        return None
