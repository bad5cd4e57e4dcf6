"""The check-in planner: DST edges, pause, quiet hours, zone changes, late check-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.core.planner import (
    CheckinPlan,
    is_quiet,
    late_policy,
    local_date,
    next_checkin,
    scheduled_time,
)
from bot.core.timezones import load_zone

ZONES = sorted(available_timezones() - {"localtime", "Factory", "posixrules"})
# Zones whose clocks change (summer and winter offsets differ): where the edges are.
DST_ZONES = [
    z
    for z in ZONES
    if ZoneInfo(z).utcoffset(datetime(2025, 1, 15)) != ZoneInfo(z).utcoffset(datetime(2025, 7, 15))
]
OFFSET_ZONES = ("UTC+05:30", "UTC-03:30", "UTC+12:45", "UTC-09:30", "Etc/GMT-2", "UTC")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, when: datetime) -> datetime:
    return when.astimezone(ZoneInfo(zone))


def exists(day: date, wall: time, zone: str) -> bool:
    """Whether local `wall` happens at all on `day` (False inside a spring-forward gap)."""
    tz = load_zone(zone)
    naive = datetime.combine(day, wall)
    back = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == naive


def walk(plan: CheckinPlan, start: datetime, days: int) -> list[datetime]:
    """What a scheduler does: send, remember the local date, ask for the next one."""
    out: list[datetime] = []
    after, last = start, None
    for _ in range(days):
        due = next_checkin(plan, after, last)
        assert due is not None
        out.append(due)
        after, last = due, local_date(due, plan.timezone)
    return out


# The ordinary day.


def test_a_normal_day_at_twenty_hundred() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0))
    due = next_checkin(plan, utc(2025, 6, 15, 9, 0), None)
    assert due == utc(2025, 6, 15, 18, 0)
    assert due is not None and due.tzinfo is UTC
    # Once it is past, tomorrow.
    assert next_checkin(plan, utc(2025, 6, 15, 18, 0), date(2025, 6, 15)) == utc(2025, 6, 16, 18, 0)
    # Already sent today (say, early by hand): tomorrow even though 20:00 is still ahead.
    assert next_checkin(plan, utc(2025, 6, 15, 9, 0), date(2025, 6, 15)) == utc(2025, 6, 16, 18, 0)


def test_strictly_after() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0))
    assert next_checkin(plan, utc(2025, 6, 15, 18, 0), None) == utc(2025, 6, 16, 18, 0)
    just_before = utc(2025, 6, 15, 18, 0) - timedelta(microseconds=1)
    assert next_checkin(plan, just_before, None) == utc(2025, 6, 15, 18, 0)


def test_disabled_is_none() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0), enabled=False)
    assert next_checkin(plan, utc(2025, 6, 15, 9, 0), None) is None


def test_naive_instants_are_refused() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0))
    with pytest.raises(ValueError):
        next_checkin(plan, datetime(2025, 6, 15, 9, 0), None)
    with pytest.raises(ValueError):
        local_date(datetime(2025, 6, 15, 9, 0), "Europe/Berlin")


def test_an_aware_non_utc_after_is_fine() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0))
    after = datetime(2025, 6, 15, 11, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert next_checkin(plan, after, None) == utc(2025, 6, 15, 18, 0)


# DST. Expected instants worked out by hand from each zone's 2025 rules.

SPRING_FORWARD = [
    # zone, local date, check-in wall time, first instant after the gap (UTC)
    ("Europe/Berlin", date(2025, 3, 30), time(2, 30), utc(2025, 3, 30, 1, 0)),  # 03:00 CEST
    ("Europe/London", date(2025, 3, 30), time(1, 30), utc(2025, 3, 30, 1, 0)),  # 02:00 BST
    ("America/New_York", date(2025, 3, 9), time(2, 30), utc(2025, 3, 9, 7, 0)),  # 03:00 EDT
    ("America/St_Johns", date(2025, 3, 9), time(2, 30), utc(2025, 3, 9, 5, 30)),  # 03:00 NDT
    ("Australia/Sydney", date(2025, 10, 5), time(2, 30), utc(2025, 10, 4, 16, 0)),  # 03:00
    ("Pacific/Chatham", date(2025, 9, 28), time(3, 0), utc(2025, 9, 27, 14, 0)),  # 03:45
]

FALL_BACK = [
    # zone, local date, wall time, first occurrence, second occurrence (UTC)
    (
        "Europe/Berlin",
        date(2025, 10, 26),
        time(2, 30),
        utc(2025, 10, 26, 0, 30),
        utc(2025, 10, 26, 1, 30),
    ),
    (
        "Europe/London",
        date(2025, 10, 26),
        time(1, 30),
        utc(2025, 10, 26, 0, 30),
        utc(2025, 10, 26, 1, 30),
    ),
    (
        "America/New_York",
        date(2025, 11, 2),
        time(1, 30),
        utc(2025, 11, 2, 5, 30),
        utc(2025, 11, 2, 6, 30),
    ),
    (
        "America/St_Johns",
        date(2025, 11, 2),
        time(1, 30),
        utc(2025, 11, 2, 4, 0),
        utc(2025, 11, 2, 5, 0),
    ),
    (
        "Australia/Sydney",
        date(2025, 4, 6),
        time(2, 30),
        utc(2025, 4, 5, 15, 30),
        utc(2025, 4, 5, 16, 30),
    ),
    (
        "Pacific/Chatham",
        date(2025, 4, 6),
        time(3, 0),
        utc(2025, 4, 5, 13, 15),
        utc(2025, 4, 5, 14, 15),
    ),
]


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), SPRING_FORWARD)
def test_spring_forward_sends_once_at_the_end_of_the_gap(
    zone: str, day: date, wall: time, expected: datetime
) -> None:
    assert not exists(day, wall, zone)
    plan = CheckinPlan(zone, wall)
    # From the day before, as the scheduler would ask after that day's check-in.
    assert next_checkin(plan, expected - timedelta(hours=23), day - timedelta(days=1)) == expected
    # The first instant after the gap: one second earlier is still before it.
    assert local(zone, expected).time() > wall
    assert local(zone, expected - timedelta(seconds=1)).time() < wall
    assert local(zone, expected).date() == day
    # Then the next day, at the usual time, and nothing else on `day`.
    following = next_checkin(plan, expected, day)
    assert following is not None
    assert local(zone, following).date() == day + timedelta(days=1)
    assert local(zone, following).time() == wall
    # Even a scheduler that lost track of the date does not send twice: the slot is past.
    assert next_checkin(plan, expected, None) == following


@pytest.mark.parametrize(("zone", "day", "wall", "first", "second"), FALL_BACK)
def test_fall_back_sends_once_at_the_first_occurrence(
    zone: str, day: date, wall: time, first: datetime, second: datetime
) -> None:
    assert local(zone, first).time() == wall == local(zone, second).time()
    plan = CheckinPlan(zone, wall)
    assert next_checkin(plan, first - timedelta(hours=12), day - timedelta(days=1)) == first
    following = next_checkin(plan, first, day)
    assert following is not None and following != second
    assert local(zone, following).date() == day + timedelta(days=1)
    # Between the two occurrences, even without the date: not the second one.
    between = first + (second - first) / 2
    also = next_checkin(plan, between, None)
    assert also == following


def test_kolkata_has_no_dst_and_a_half_hour_offset() -> None:
    plan = CheckinPlan("Asia/Kolkata", time(20, 0))
    dues = walk(plan, utc(2025, 3, 1), 300)
    assert all(d.time() == time(14, 30) for d in dues)
    assert [local("Asia/Kolkata", d).date() for d in dues] == [
        date(2025, 3, 1) + timedelta(days=i) for i in range(300)
    ]


@pytest.mark.parametrize("zone", ["UTC+05:30", "UTC-03:30", "UTC+12:45", "Etc/GMT-2", "UTC"])
def test_fixed_offset_zones(zone: str) -> None:
    offset = load_zone(zone).utcoffset(datetime(2025, 6, 15))
    assert offset is not None
    plan = CheckinPlan(zone, time(20, 0))
    due = next_checkin(plan, utc(2025, 6, 15, 0, 0) - offset, None)
    assert due == utc(2025, 6, 15, 20, 0) - offset


def test_a_gap_ending_at_midnight_skips_the_date_rather_than_doubling_the_next() -> None:
    # America/Nuuk springs forward from 23:00 (-02) to 00:00 (-01) on 2025-03-29/30:
    # 23:30 on the 29th never happens, and 00:00 belongs to the 30th.
    zone = "America/Nuuk"
    assert not exists(date(2025, 3, 29), time(23, 30), zone)
    plan = CheckinPlan(zone, time(23, 30))
    dues = walk(plan, utc(2025, 3, 27, 12, 0), 4)
    assert [local(zone, d).date() for d in dues] == [
        date(2025, 3, 27),
        date(2025, 3, 28),
        date(2025, 3, 30),
        date(2025, 3, 31),
    ]
    assert all(local(zone, d).time() == time(23, 30) for d in dues)


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Berlin",
        "Europe/London",
        "America/New_York",
        "America/St_Johns",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Asia/Kolkata",
        "America/Santiago",
        "Africa/Casablanca",
    ],
)
def test_a_year_at_every_half_hour_of_the_night(zone: str) -> None:
    # Every DST transition in these zones happens between 00:00 and 04:00 local.
    for half_hours in range(0, 9):
        wall = time(half_hours // 2, 30 * (half_hours % 2))
        plan = CheckinPlan(zone, wall)
        dues = walk(plan, utc(2025, 1, 1), 366)
        days = [local(zone, d).date() for d in dues]
        assert days == [days[0] + timedelta(days=i) for i in range(366)]
        for due, day in zip(dues, days, strict=True):
            if exists(day, wall, zone):
                assert local(zone, due).time() == wall
            else:
                # The first instant after the gap (which may start at midnight).
                assert local(zone, due).time() > wall
                before = local(zone, due - timedelta(seconds=1))
                assert before.time() < wall or before.date() < day


# Pause and resume.


def test_pause_nothing_due_before_resume() -> None:
    resume = utc(2025, 6, 20, 12, 0)
    plan = CheckinPlan("Europe/Berlin", time(20, 0), paused_until=resume)
    assert next_checkin(plan, utc(2025, 6, 15, 9, 0), date(2025, 6, 14)) == utc(2025, 6, 20, 18, 0)


def test_pause_ending_after_the_slot_skips_that_day() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0), paused_until=utc(2025, 6, 20, 18, 1))
    assert next_checkin(plan, utc(2025, 6, 15, 9, 0), None) == utc(2025, 6, 21, 18, 0)


def test_pause_ending_exactly_at_the_slot_keeps_it() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0), paused_until=utc(2025, 6, 20, 18, 0))
    assert next_checkin(plan, utc(2025, 6, 15, 9, 0), None) == utc(2025, 6, 20, 18, 0)


def test_a_pause_in_the_past_changes_nothing() -> None:
    paused = CheckinPlan("Europe/Berlin", time(20, 0), paused_until=utc(2025, 1, 1))
    plain = CheckinPlan("Europe/Berlin", time(20, 0))
    after = utc(2025, 6, 15, 9, 0)
    assert next_checkin(paused, after, None) == next_checkin(plain, after, None)


# Quiet hours.


def test_check_in_inside_quiet_hours_moves_to_their_end_that_day() -> None:
    plan = CheckinPlan("Europe/Berlin", time(23, 0), quiet_start=time(22), quiet_end=time(7))
    assert scheduled_time(plan) == time(7, 0)
    due = next_checkin(plan, utc(2025, 6, 15, 3, 0), None)
    assert due == utc(2025, 6, 15, 5, 0)  # 07:00 CEST on the 15th, not the 16th
    assert not is_quiet(due, plan)


def test_check_in_outside_quiet_hours_is_unchanged() -> None:
    plan = CheckinPlan("Europe/Berlin", time(20, 0), quiet_start=time(22), quiet_end=time(7))
    assert scheduled_time(plan) == time(20, 0)
    assert next_checkin(plan, utc(2025, 6, 15, 3, 0), None) == utc(2025, 6, 15, 18, 0)


def test_quiet_hours_that_do_not_wrap() -> None:
    plan = CheckinPlan("Asia/Tokyo", time(13, 0), quiet_start=time(12), quiet_end=time(14))
    assert scheduled_time(plan) == time(14, 0)
    assert is_quiet(utc(2025, 6, 15, 3, 0), plan)  # 12:00 JST
    assert not is_quiet(utc(2025, 6, 15, 5, 0), plan)  # 14:00 JST: the end is not quiet
    assert not is_quiet(utc(2025, 6, 15, 2, 59), plan)


def test_equal_or_missing_bounds_mean_no_quiet_hours() -> None:
    same = CheckinPlan("Europe/Berlin", time(22), quiet_start=time(22), quiet_end=time(22))
    half = CheckinPlan("Europe/Berlin", time(22), quiet_start=time(21))
    for plan in (same, half):
        assert scheduled_time(plan) == time(22)
        assert not is_quiet(utc(2025, 6, 15, 20, 0), plan)


def test_wrapping_quiet_hours_boundaries() -> None:
    plan = CheckinPlan("UTC", time(12), quiet_start=time(22), quiet_end=time(7))
    assert is_quiet(utc(2025, 6, 15, 22, 0), plan)
    assert is_quiet(utc(2025, 6, 15, 0, 0), plan)
    assert is_quiet(utc(2025, 6, 15, 6, 59), plan)
    assert not is_quiet(utc(2025, 6, 15, 7, 0), plan)
    assert not is_quiet(utc(2025, 6, 15, 21, 59), plan)


def test_a_gap_that_lands_in_quiet_hours_moves_to_their_end() -> None:
    # 02:30 does not exist on 2025-03-30 in Berlin; 03:00 is quiet; so 06:00.
    plan = CheckinPlan("Europe/Berlin", time(2, 30), quiet_start=time(3), quiet_end=time(6))
    assert next_checkin(plan, utc(2025, 3, 29, 12, 0), None) == utc(2025, 3, 30, 4, 0)


# Changing time zone.


def test_moving_east_does_not_send_twice_on_one_new_local_date() -> None:
    los_angeles = CheckinPlan("America/Los_Angeles", time(20, 0))
    sent = next_checkin(los_angeles, utc(2025, 1, 5, 12, 0), None)
    assert sent == utc(2025, 1, 6, 4, 0)  # 20:00 on the 5th in LA, 13:00 on the 6th in Tokyo
    tokyo = CheckinPlan("Asia/Tokyo", time(20, 0))
    last = local_date(sent, "Asia/Tokyo")
    assert last == date(2025, 1, 6)
    due = next_checkin(tokyo, sent, last)
    assert due == utc(2025, 1, 7, 11, 0)  # 20:00 on the 7th in Tokyo, not the 6th


def test_moving_west_keeps_one_per_date() -> None:
    tokyo = CheckinPlan("Asia/Tokyo", time(20, 0))
    sent = next_checkin(tokyo, utc(2025, 1, 6, 0, 0), None)
    assert sent == utc(2025, 1, 6, 11, 0)  # 03:00 on the 6th in LA
    los_angeles = CheckinPlan("America/Los_Angeles", time(20, 0))
    due = next_checkin(los_angeles, sent, local_date(sent, "America/Los_Angeles"))
    # In LA that check-in went out at 03:00 on the 6th: the 6th has had its one.
    assert due == utc(2025, 1, 8, 4, 0)  # 20:00 on the 7th in LA


def test_switching_to_an_offset_zone() -> None:
    berlin = CheckinPlan("Europe/Berlin", time(20, 0))
    sent = next_checkin(berlin, utc(2025, 6, 15, 9, 0), None)
    assert sent is not None
    india = CheckinPlan("UTC+05:30", time(20, 0))
    due = next_checkin(india, sent, local_date(sent, "UTC+05:30"))
    assert due == utc(2025, 6, 16, 14, 30)


# Late check-ins.


def test_late_policy() -> None:
    due = utc(2025, 6, 15, 18, 0)
    assert late_policy(due, due) == "send"
    assert late_policy(due, due - timedelta(minutes=5)) == "send"  # early is not late
    assert late_policy(due, due + timedelta(hours=2, minutes=59)) == "send"
    assert late_policy(due, due + timedelta(hours=3)) == "skip"
    assert late_policy(due, due + timedelta(days=2)) == "skip"
    assert late_policy(due, due + timedelta(minutes=31), grace=timedelta(minutes=30)) == "skip"


# Properties over many zones and dates 2020–2035.

zones = st.sampled_from(ZONES) | st.sampled_from(OFFSET_ZONES)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2034, 10, 1), timezones=st.just(UTC)
)
# Half the time near the small hours, where clocks change.
walls = st.one_of(
    st.builds(time, st.integers(0, 3), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
quiet = st.one_of(st.none(), st.tuples(walls, walls))


def plan_of(
    zone: str,
    wall: time,
    window: tuple[time, time] | None,
    paused_until: datetime | None = None,
) -> CheckinPlan:
    start, end = window if window is not None else (None, None)
    return CheckinPlan(zone, wall, paused_until=paused_until, quiet_start=start, quiet_end=end)


@settings(max_examples=200, deadline=None)
@given(
    zone=zones,
    wall=st.times(),
    window=quiet,
    after=instants,
    last_shift=st.none() | st.integers(-3, 3),
    pause=st.none() | st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=10)),
)
def test_property_one_call(
    zone: str,
    wall: time,
    window: tuple[time, time] | None,
    after: datetime,
    last_shift: int | None,
    pause: timedelta | None,
) -> None:
    paused_until = None if pause is None else after + pause
    plan = plan_of(zone, wall, window, paused_until)
    last = None if last_shift is None else local_date(after, zone) + timedelta(days=last_shift)
    due = next_checkin(plan, after, last)
    assert due is not None
    assert due.tzinfo is UTC
    assert due > after
    if paused_until is not None:
        assert due >= paused_until
    day = local_date(due, zone)
    if last is not None:
        assert day > last
    assert not is_quiet(due, plan)
    target = scheduled_time(plan)
    if exists(day, target, zone):
        # That wall time, and its first occurrence should it happen twice (fold=0).
        first = datetime.combine(day, target, tzinfo=load_zone(zone)).astimezone(UTC)
        assert due == first


def clock_changes(zone: str, start: datetime, days: int) -> list[time]:
    """Local wall times that `zone` skips or repeats within `days` of `start`: for each
    clock change, its first minute and the one in its middle."""
    tz = load_zone(zone)

    def offset(at: datetime) -> timedelta:
        value = at.astimezone(tz).utcoffset()
        assert value is not None
        return value

    out: list[time] = []
    prev = offset(start)
    for i in range(1, days + 2):
        lo, hi = start + timedelta(days=i - 1), start + timedelta(days=i)
        new = offset(hi)
        if new == prev:
            continue
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            lo, hi = (mid, hi) if offset(mid) == prev else (lo, mid)
        naive = hi.replace(tzinfo=None)
        a, b = sorted((naive + prev, naive + new))  # the change seen on both clocks
        for wall in (a, a + (b - a) / 2):
            out.append(wall.time().replace(second=0, microsecond=0))
        prev = new
    return out


@st.composite
def walk_cases(draw: st.DrawFn) -> tuple[str, time, tuple[time, time] | None, datetime]:
    """A zone, a check-in time, quiet hours and a start; mostly the check-in time
    is one the zone skips or repeats during the walk, so the walk crosses that edge."""
    zone = draw(st.sampled_from(DST_ZONES) | zones)
    start = draw(instants)
    edges = clock_changes(zone, start, WALK_DAYS)
    at_an_edge = bool(edges) and draw(st.integers(0, 3)) > 0
    wall = draw(st.sampled_from(edges)) if at_an_edge else draw(walls)
    return zone, wall, draw(quiet), start


WALK_DAYS = 400


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=walk_cases())
def test_property_walk_400_days(
    case: tuple[str, time, tuple[time, time] | None, datetime],
) -> None:
    zone, wall, window, start = case
    plan = plan_of(zone, wall, window)
    tz = load_zone(zone)
    target = scheduled_time(plan)
    dues = walk(plan, start, WALK_DAYS)
    days = [local_date(d, zone) for d in dues]
    assert dues[0] > start
    assert dues == sorted(set(dues))
    for earlier, later in pairwise(days):
        assert later > earlier  # never two on one local date
        # No gaps, except a date on which the check-in time does not exist at all.
        skipped = [earlier + timedelta(days=i) for i in range(1, (later - earlier).days)]
        assert all(not exists(day, target, zone) for day in skipped)
    for due, day in zip(dues, days, strict=True):
        assert not is_quiet(due, plan)
        first = datetime.combine(day, target, tzinfo=tz).astimezone(UTC)  # fold=0
        second = datetime.combine(day, target, tzinfo=tz).replace(fold=1).astimezone(UTC)
        if not exists(day, target, zone):
            event("walk crossed a spring-forward gap")
            if window is None:
                # The first instant after the gap.
                assert due.astimezone(tz).time() > target
                before = (due - timedelta(seconds=1)).astimezone(tz)
                assert before.time() < target or before.date() < day
        else:
            # The wall time, at its first occurrence if it happens twice.
            if first != second:
                event("walk crossed a fall-back repeat")
            assert due.astimezone(tz).time() == target
            assert due == min(first, second)


@settings(max_examples=40, deadline=None)
@given(
    zone=zones,
    wall=walls,
    start=instants,
    pause_at=st.timedeltas(min_value=timedelta(days=1), max_value=timedelta(days=40)),
    pause_for=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_property_pause_and_resume(
    zone: str, wall: time, start: datetime, pause_at: timedelta, pause_for: timedelta
) -> None:
    paused_at, resume = start + pause_at, start + pause_at + pause_for
    plain = CheckinPlan(zone, wall)
    paused = CheckinPlan(zone, wall, paused_until=resume)
    dues: list[datetime] = []
    after, last = start, None
    for _ in range(80):
        # The person pauses at `paused_at`, before the next check-in goes out: the
        # scheduler plans that one again with the paused plan.
        due = next_checkin(plain, after, last)
        assert due is not None
        if due >= paused_at:
            due = next_checkin(paused, after, last)
            assert due is not None
        dues.append(due)
        after, last = due, local_date(due, zone)
    assert not [d for d in dues if paused_at <= d < resume]
    days = [local_date(d, zone) for d in dues]
    for earlier, later in pairwise(days):
        assert later > earlier
        for i in range(1, (later - earlier).days):
            day = earlier + timedelta(days=i)
            if exists(day, wall, zone):
                # A date skipped for the pause: its check-in would have fallen inside it.
                slot = datetime.combine(day, wall, tzinfo=load_zone(zone)).astimezone(UTC)
                assert paused_at <= slot < resume


@settings(max_examples=60, deadline=None)
@given(old=zones, new=zones, wall=walls, start=instants, days_before=st.integers(1, 20))
def test_property_zone_change_never_two_on_one_new_local_date(
    old: str, new: str, wall: time, start: datetime, days_before: int
) -> None:
    before = walk(CheckinPlan(old, wall), start, days_before)
    sent = before[-1]
    plan = CheckinPlan(new, wall)
    after: list[datetime] = []
    prev, last = sent, local_date(sent, new)
    for _ in range(20):
        due = next_checkin(plan, prev, last)
        assert due is not None
        after.append(due)
        prev, last = due, local_date(due, new)
    days = [local_date(d, new) for d in [sent, *after]]
    assert days == sorted(set(days))
    assert after[0] > sent
