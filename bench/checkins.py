"""Daily check-ins for 100,000 people due in the same minute: Mend against the naive design.

    .venv/bin/python -m bench.checkins [--users 100000] [--paced-users 2100]
        [--crash-users 20000] [--parts ours naive paced crash]

Prints figures; it is not a test. Four parts (a fifth on request), each bot in a child
process of its own (so peak RSS is per design), all against the fake Bot API
(tests/fakebot.py), which runs in this process, the *driver*, on the other core:

1. **ours**: the real Mend bot, built by the composition root (`build_bot`, `MendBot.start`)
   on a fresh SQLite file where `bulk_create_users` put N people, check-ins on, discreet on,
   each due at T0 + a random whole second of the same minute. `send_rate` is lifted to
   1e6 msg/s and `dispatch_interval` is 0.05 s. The clock is injected: it stands at
   T0 - 1 h until the dispatcher's first claim, then T0 arrives 0.5 s later and the clock
   runs on with real time, so the N people fall due over the next minute (`--spread`).
2. **naive**: a bare PTB `Application` with its `JobQueue`. At start-up it reads the same
   people from the same SQLite file and registers one `job_queue.run_daily(callback, time=...)`
   per person (N jobs) before `app.start()` starts the scheduler, as a `post_init` would. The
   times of day are the same minute, mapped onto the wall clock a little after start-up (the
   margin is calibrated in the child by timing 1,000 registrations first), so the jobs fire
   on the wall clock with the same arrival pattern as ours. The callback sends the same
   check-in message (same text, HTML, button, no link preview). No storage per send.
   APScheduler's defaults are kept (`misfire_grace_time` 1 s), as a naive bot would. It is
   stopped `--naive-tail` seconds after the minute, whether it has finished or not.
   Optional, `--parts naive-bounded`: the same bot with an `asyncio.Semaphore` of
   `--naive-limit` (200) around the send, run to the end. That is no longer naive, but it
   separates the JobQueue's own cost from the flood of concurrent sends.
3. **paced**: ours again, with Telegram's limit on (`send_rate` 30, the real `Pacer`), on
   `--paced-users` people due; the sustained rate over the steady part (at least 60 s), and
   the time 100,000 would take at that rate (an extrapolation, not a run).
4. **crash**: ours with `--crash-users` due; SIGKILL when `--crash-at` of them have their
   message, restart on the same database with the injected clock moved past `reclaim_after`
   (5 min, fixed by the composition root), let it finish. Every person must get at least one
   check-in, and the repeats must stay within the claims open at the kill.

Figures: start-up (from spawning the process to ready: for ours the first claim, for the
naive design the scheduler running with every job), messages/s (`sendMessage` calls the fake
answered, over the time from T0's arrival to the last one), peak RSS (VmHWM of the bot's
process), duplicates (people with more than one check-in) and lost (people with none).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-fake-token"
T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # everyone's check-in time: 20:00 UTC
FIRST_USER = 10_000_001
LIFTED_RATE = 1e6  # msg/s: the pacer never waits
DISPATCH_INTERVAL = 0.05  # s between looks for due check-ins when idle
LEAD = 0.5  # s from the dispatcher's first claim to T0's arrival
RECLAIM_AFTER = timedelta(minutes=5)  # DispatchSettings' default; build_bot keeps it
CLOCK_SKIP_AFTER_CRASH = 2 * RECLAIM_AFTER  # the restarted bot's clock: past every claim
PACED_WARMUP = 5.0  # s: the pacer's initial burst is left out of the sustained rate
MISSED = "missed (misfire_grace_time)"

# --------------------------------------------------------------------------------------------
# Both sides
# --------------------------------------------------------------------------------------------


def proc_cpu(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (or one of its threads), in seconds; 0 when it is gone."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        data = Path(path).read_text()
    except OSError:
        return 0.0
    fields = data.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_kib(pid: int | str, name: str) -> int:
    """A Vm* line of /proc/<pid>/status (VmHWM: peak resident set), in KiB; 0 if gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    return 0


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent not idle since boot (/proc/stat)."""
    ticks = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class Status:
    """The child's progress, as JSON lines the driver reads: {"event", "t", ...}."""

    def __init__(self, path: str) -> None:
        import threading

        self.file = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 (lives as long)
        self.lock = threading.Lock()  # the naive bot also reports from a thread

    def mark(self, event: str, **data: Any) -> float:
        now = time.time()
        with self.lock:
            self.file.write(json.dumps({"event": event, "t": now, **data}) + "\n")
            self.file.flush()
        return now


def read_status(path: Path) -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                events[record["event"]] = record
    return events


# --------------------------------------------------------------------------------------------
# The bot side (child processes)
# --------------------------------------------------------------------------------------------


class BenchClock:
    """Mend's injected clock: T0 - 1 h until `arrive()`, then T0 (+ `skip`) and on in real time."""

    def __init__(self, skip: timedelta) -> None:
        self.skip = skip
        self.t0_at: float | None = None  # the wall time (epoch) at which T0 arrives

    def arrive(self, at: float) -> None:
        self.t0_at = at

    def __call__(self) -> datetime:
        if self.t0_at is None:
            return T0 - timedelta(hours=1)
        return T0 + self.skip + timedelta(seconds=time.time() - self.t0_at)


async def serve_mend(args: argparse.Namespace, status: Status) -> None:
    """The real Mend bot until SIGTERM: store, PTB application and dispatcher, as `main()`."""
    import threading

    from bot.config import Config
    from bot.script_loader import load_script
    from bot.store.sqlite import SqliteStore
    from bot.telegram.app import build_bot, configure_logging

    status.mark("imported")
    configure_logging("WARNING")
    loop = asyncio.get_running_loop()
    clock = BenchClock(timedelta(seconds=args.skip))

    # Count the round trips to aiosqlite's thread (each `await conn.execute...` is one).
    import aiosqlite.core

    hops = [0]
    execute = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await execute(self, fn, *args, **kwargs)

    setattr(aiosqlite.core.Connection, "_execute", counted)  # noqa: B010 (bench only)
    first_claim = loop.create_future()

    class TimedLock(asyncio.Lock):
        """The store's lock, timing how long it is held: a store-bound loop holds it ~always."""

        held = 0.0
        _since = 0.0

        async def acquire(self) -> Literal[True]:
            await super().acquire()
            self._since = time.perf_counter()
            return True

        def release(self) -> None:
            TimedLock.held += time.perf_counter() - self._since
            super().release()

    class TimedStore(SqliteStore):
        """SqliteStore, counting claims and completions; tells when the first claim is done."""

        claims = 0
        claimed = 0
        completed = 0

        async def claim_due(self, now: datetime, limit: int, reclaim_after: timedelta) -> list[Any]:
            items = await super().claim_due(now, limit, reclaim_after)
            self.claims += 1
            self.claimed += len(items)
            if not first_claim.done():
                first_claim.set_result(time.time())
            return items

        async def complete_checkin(self, *args: Any, **kwargs: Any) -> None:
            await super().complete_checkin(*args, **kwargs)
            self.completed += 1

    result = load_script(ROOT / "dialogues")
    if result.script is None:
        raise SystemExit("the dialogues do not compile")
    config = Config(
        token=TOKEN,
        database_path=Path(args.db),
        api_base_url=args.base_url,
        send_rate=args.send_rate,
        dispatch_interval=DISPATCH_INTERVAL,
    )
    store = TimedStore(config.database_path, config.cipher())
    store._lock = TimedLock()  # bench instrumentation only: same lock, timed
    status.mark("build")
    mend = build_bot(config, result.script, store, clock)
    status.mark("built")
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    await mend.start()
    status.mark("started")
    claimed_at = await first_claim
    status.mark("first_claim", at=claimed_at)
    t0_at = claimed_at + LEAD
    clock.arrive(t0_at)
    status.mark("fire_at", at=t0_at)

    await stopping.wait()
    main_cpu = proc_cpu(os.getpid(), threading.get_native_id())
    status.mark(
        "done",
        delivered=mend.dispatcher.delivered,
        skipped=mend.dispatcher.skipped,
        claims=store.claims,
        claimed=store.claimed,
        completed=store.completed,
        lock_held=TimedLock.held,
        hops=hops[0],
        cpu=proc_cpu(os.getpid()),
        main_cpu=main_cpu,
        hwm_kib=vm_kib("self", "VmHWM"),
    )
    await mend.stop()


async def serve_naive(args: argparse.Namespace, status: Status) -> None:
    """A bare PTB Application and its JobQueue: one run_daily job per person."""
    from apscheduler.events import EVENT_JOB_MISSED  # type: ignore[import-untyped]
    from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Update
    from telegram.ext import ApplicationBuilder, ContextTypes, JobQueue

    status.mark("imported")
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("apscheduler", "httpx", "telegram"):
        logging.getLogger(name).setLevel(logging.ERROR)  # a missed job logs a line each
    loop = asyncio.get_running_loop()
    message = json.loads(Path(args.message).read_text())
    markup = InlineKeyboardMarkup.de_json(message["reply_markup"], None)
    no_previews = LinkPreviewOptions(is_disabled=True)
    counts: Counter[str] = Counter()

    # --naive-limit: at most this many sends at once (no longer the naive design, but it
    # shows what the JobQueue costs once the HTTP pool is not flooded).
    limit = asyncio.Semaphore(args.naive_limit) if args.naive_limit else contextlib.nullcontext()

    async def send_checkin(context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None and context.job.chat_id is not None
        counts["started"] += 1
        async with limit:
            await context.bot.send_message(
                context.job.chat_id,
                message["text"],
                parse_mode=message["parse_mode"],
                reply_markup=markup,
                link_preview_options=no_previews,
            )
        counts["sent"] += 1

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        counts[f"error {type(context.error).__name__}"] += 1

    def on_missed(event: Any) -> None:
        counts[MISSED] += 1

    def snapshot() -> dict[str, int]:
        now = dict(counts)  # one C call on a plain dict: safe from another thread
        failed = sum(n for k, n in now.items() if k.startswith("error"))
        now["in flight"] = now.get("started", 0) - now.get("sent", 0) - failed
        return now

    def report() -> None:
        """Every second, from a thread: the event loop may be too busy to report at all."""
        while True:
            time.sleep(1.0)
            status.mark("progress", counts=snapshot(), hwm_kib=vm_kib("self", "VmHWM"))

    import threading

    threading.Thread(target=report, name="report", daemon=True).start()
    status.mark("build")
    app = ApplicationBuilder().token(TOKEN).base_url(args.base_url).build()
    app.add_error_handler(on_error)
    assert app.job_queue is not None
    jobs = app.job_queue
    status.mark("built")

    with contextlib.closing(sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT user_id, next_checkin_at FROM users"
            " WHERE checkins = 1 AND active = 1 AND next_checkin_at IS NOT NULL"
        ).fetchall()
    people = [(int(u), datetime.fromisoformat(d)) for u, d in rows]
    status.mark("loaded", people=len(people))

    # How long N registrations and the scheduler's start will take, to put T0 after them.
    probe: JobQueue[Any] = JobQueue()
    began = time.perf_counter()
    probe_n = min(1000, max(len(people), 1))
    for i in range(probe_n):
        probe.run_daily(send_checkin, time=(T0 + timedelta(seconds=i % 60)).timetz(), chat_id=i)
    per_job = (time.perf_counter() - began) / probe_n
    del probe
    margin = 3.0 + args.naive_margin_factor * per_job * len(people)
    t0_at = time.time() + margin
    status.mark("calibrated", per_job=per_job, margin=margin)

    began = time.perf_counter()
    for user_id, due in people:
        when = datetime.fromtimestamp(t0_at + (due - T0).total_seconds(), UTC)
        jobs.run_daily(send_checkin, time=when.timetz(), chat_id=user_id, name="checkin")
    registered = time.perf_counter() - began
    status.mark("registered", seconds=registered, hwm_kib=vm_kib("self", "VmHWM"))
    await app.initialize()
    began = time.perf_counter()
    await app.start()  # starts the scheduler: the pending jobs go into its job store
    scheduler_start = time.perf_counter() - began
    jobs.scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
    ready = time.time()
    late = sum(1 for _, due in people if t0_at + (due - T0).total_seconds() < ready)
    status.mark(
        "fire_at",
        at=t0_at,
        registered=registered,
        scheduler_start=scheduler_start,
        jobs=len(jobs.jobs()),
        overran=late,  # due before the scheduler ran: cron puts them on tomorrow
    )

    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    status.mark(
        "done",
        counts=snapshot(),
        cpu=proc_cpu(os.getpid()),
        main_cpu=proc_cpu(os.getpid(), threading.get_native_id()),
        hwm_kib=vm_kib("self", "VmHWM"),
    )
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


# --------------------------------------------------------------------------------------------
# The driver side
# --------------------------------------------------------------------------------------------


def recording_fake() -> Any:
    """The fake Bot API, also noting when each sendMessage it answered arrived, and where."""
    from tests.fakebot import FakeBotApi, canonical_method

    class RecordingFake(FakeBotApi):
        def __init__(self) -> None:
            super().__init__(token=TOKEN)
            self.sends: list[tuple[float, int]] = []  # (wall time, chat id)
            self.per_chat: Counter[int] = Counter()

        async def _handle(
            self, token: str, raw_method: str, params: dict[str, Any], poll: Any
        ) -> tuple[int, dict[str, Any]]:
            status, body = await super()._handle(token, raw_method, params, poll)
            if status == 200 and canonical_method(raw_method) == "sendMessage":
                chat = self._chat_of(params) or 0
                self.sends.append((time.time(), chat))
                self.per_chat[chat] += 1
            return status, body

    return RecordingFake()


async def create_people(db: Path, users: int, spread: int, seed: int) -> float:
    """N people due at T0 + a random whole second within `spread`; the seconds it took."""
    from bot.core.session import Settings
    from bot.store.sqlite import SqliteStore

    rng = random.Random(seed)
    settings = Settings(checkins=True, discreet=True, timezone="UTC", checkin_time="20:00")
    created = T0 - timedelta(days=30)
    rows: list[tuple[int, datetime, Settings, datetime | None]] = [
        (FIRST_USER + i, created, settings, T0 + timedelta(seconds=rng.randrange(max(spread, 1))))
        for i in range(users)
    ]
    began = time.perf_counter()
    store = SqliteStore(db)
    await store.open()
    try:
        await store.bulk_create_users(rows)
    finally:
        await store.close()
    return time.perf_counter() - began


async def checkin_message(path: Path) -> dict[str, Any]:
    """The discreet check-in exactly as Mend sends it, for the naive bot to send too."""
    from bot.coach import Coach
    from bot.core.events import Due
    from bot.core.session import Settings
    from bot.script_loader import load_script
    from bot.store.sqlite import SqliteStore
    from bot.telegram.render import keyboard

    store = SqliteStore(Path(tempfile.mkdtemp()) / "discreet.sqlite3")
    await store.open()
    await store.bulk_create_users([(1, T0, Settings(discreet=True), T0)])
    script = load_script(ROOT / "dialogues").script
    assert script is not None
    turn = await Coach(script, store, lambda: T0).handle(1, Due("checkin"))
    assert turn is not None
    [message] = turn.messages  # discreet: one message with one button
    markup = keyboard(message.buttons)
    doc = {
        "text": message.text,
        "parse_mode": "HTML",
        "reply_markup": markup.to_dict() if markup is not None else None,
    }
    path.write_text(json.dumps(doc))
    return doc


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the driver dies (Linux prctl)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Child:
    """One bot process pointed at the fake."""

    def __init__(self, proc: asyncio.subprocess.Process, status: Path, log: Path, spawned: float):
        self.proc = proc
        self.status = status
        self.log = log
        self.spawned = spawned

    @classmethod
    async def spawn(cls, kind: str, name: str, rundir: Path, db: Path, fake: Any, *extra: str):
        status, log = rundir / f"{name}.status", rundir / f"{name}.log"
        argv = [sys.executable, "-m", "bench.checkins", "--serve", kind, "--db", str(db)]
        argv += ["--base-url", fake.base_url, "--status", str(status), *extra]
        with log.open("wb") as output:
            spawned = time.time()
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=ROOT,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                preexec_fn=_die_with_parent,
            )
        return cls(proc, status, log, spawned)

    def events(self) -> dict[str, dict[str, Any]]:
        return read_status(self.status)

    async def wait_event(self, event: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.events().get(event)
            if found is not None:
                return found
            if self.proc.returncode is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the bot never reached {event!r}:\n{tail}")
            await asyncio.sleep(0.05)

    def cpu(self) -> tuple[float, float]:
        pid = self.proc.pid
        return proc_cpu(pid), proc_cpu(pid, pid)

    def hwm_mib(self) -> float:
        return vm_kib(self.proc.pid, "VmHWM") / 1024

    async def stop(self, graceful: bool = True) -> dict[str, Any]:
        """SIGTERM and the child's final report (empty if it had none). Graceful: let it shut
        down (up to a minute); else SIGKILL as soon as the report is written."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError, RuntimeError):
                if graceful:
                    await asyncio.wait_for(self.proc.wait(), 60)
                else:
                    await self.wait_event("done", 10)
            if self.proc.returncode is None:
                await self.kill()
        return self.events().get("done", {})

    async def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    def errors(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [ln for ln in lines if "ERROR" in ln or ln.startswith("Traceback")]


async def wait_delivered(
    fake: Any, child: Child, expected: int, not_before: float, stall: float, timeout: float
) -> None:
    """Until every expected person has a message, the child dies, or nothing more comes for
    `stall` seconds (after `not_before`, the end of the minute)."""
    deadline = time.monotonic() + timeout
    seen, last_change = -1, time.monotonic()
    while len(fake.per_chat) < expected and child.proc.returncode is None:
        if len(fake.per_chat) != seen:
            seen, last_change = len(fake.per_chat), time.monotonic()
        now = time.monotonic()
        if now > deadline or (time.time() > not_before and now - last_change > stall):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # late repeats, if any, would show up now


@dataclass
class Outcome:
    design: str
    users: int
    startup: float = float("nan")  # s, spawn to ready
    startup_detail: str = ""
    sent: int = 0
    rate: float = 0.0  # msg/s from T0's arrival to the last send
    busy_rate: float = 0.0  # msg/s from the first send to the last
    last_after_t0: float = float("nan")  # s from T0 to the last send
    hwm_mib: float = 0.0
    duplicates: int = 0
    lost: int = 0
    cpu_ms: float = float("nan")  # bot CPU per message, all threads
    cpu_split: str = ""
    driver_pct: float = 0.0  # the fake's process, % of one core, during sending
    bot_pct: float = 0.0
    others_pct: float = 0.0
    notes: list[str] = field(default_factory=list)


def tally(per_chat: Counter[int], users: int) -> tuple[int, int]:
    """(duplicates, lost): people with more than one check-in, people with none."""
    wanted = range(FIRST_USER, FIRST_USER + users)
    duplicates = sum(1 for u in wanted if per_chat.get(u, 0) > 1)
    lost = sum(1 for u in wanted if per_chat.get(u, 0) == 0)
    return duplicates, lost


@dataclass(frozen=True)
class Design:
    name: str  # for files
    label: str  # for the table
    kind: str  # the child: "mend" or "naive"
    send_rate: float = LIFTED_RATE  # mend
    naive_limit: int = 0  # naive: sends at once (0: no limit, the naive design)
    tail: float | None = None  # stop this long after the minute, delivered or not


async def run_design(
    design: Design, users: int, db: Path, rundir: Path, args: argparse.Namespace
) -> tuple[Outcome, Any]:
    """One design on its own fake and child process; the outcome and the fake's records."""
    outcome = Outcome(design.label, users)
    fake = recording_fake()
    await fake.start()
    try:
        for i in range(users):
            fake.user(FIRST_USER + i)
        extra: list[str] = []
        if design.kind == "mend":
            extra += ["--send-rate", str(design.send_rate)]
        else:
            extra += ["--message", str(rundir / "message.json")]
            extra += ["--naive-margin-factor", str(args.naive_margin_factor)]
            extra += ["--naive-limit", str(design.naive_limit)]
        child = await Child.spawn(design.kind, design.name, rundir, db, fake, *extra)
        try:
            fire = await child.wait_event("fire_at", timeout=600)
            t0_at = float(fire["at"])
            # CPU from T0's arrival (the child is idle until then, apart from polling).
            while time.time() < t0_at:
                await asyncio.sleep(0.01)
            cpu0, driver0, machine0 = child.cpu(), time.process_time(), machine_busy_seconds()
            wall0 = time.time()
            if design.tail is not None:
                timeout = t0_at + args.spread + design.tail - time.time()
            else:
                timeout = args.spread + max(600.0, users / 20.0)
            await wait_delivered(fake, child, users, t0_at + args.spread, args.stall, timeout)
            wall = time.time() - wall0
            cpu1, driver1, machine1 = child.cpu(), time.process_time(), machine_busy_seconds()
            outcome.hwm_mib = child.hwm_mib()
            # What had arrived when the measurement ended; a naive bot is killed, not let
            # finish (its shutdown would wait for every job still sending).
            sent_at = list(fake.sends)
            per_chat = Counter(fake.per_chat)
            done = await child.stop(graceful=design.kind == "mend")
        finally:
            if child.proc.returncode is None:
                await child.kill()
        events = child.events()
        if design.kind == "mend":
            claimed = float(events["first_claim"]["at"])
            outcome.startup = claimed - child.spawned
            outcome.startup_detail = (
                f"interpreter+imports {float(events['imported']['t']) - child.spawned:.2f} s, "
                f"build_bot to first claim {claimed - float(events['build']['t']):.2f} s"
            )
        else:
            calibration = float(events["calibrated"]["t"]) - float(events["loaded"]["t"])
            # The margin's calibration is not start-up.
            outcome.startup = float(fire["t"]) - child.spawned - calibration
            outcome.startup_detail = (
                f"interpreter+imports {float(events['imported']['t']) - child.spawned:.2f} s, "
                f"read {events['loaded']['people']} people "
                f"{float(events['loaded']['t']) - float(events['built']['t']):.2f} s, "
                f"{users} run_daily {float(fire['registered']):.2f} s, "
                f"scheduler start (jobs into its store) {float(fire['scheduler_start']):.2f} s; "
                f"calibration ({calibration:.2f} s) left out; peak RSS once registered "
                f"{int(events['registered']['hwm_kib']) / 1024:.0f} MiB"
            )
            if fire.get("overran"):
                outcome.notes.append(
                    f"{fire['overran']} jobs were due before the scheduler ran (start-up "
                    "overran the margin): cron moved them to tomorrow"
                )
        sends = [t for t, _ in sent_at]
        outcome.sent = len(sends)
        if sends:
            outcome.last_after_t0 = max(sends) - t0_at
            outcome.rate = len(sends) / max(outcome.last_after_t0, 1e-9)
            span = max(sends) - min(sends)
            outcome.busy_rate = len(sends) / span if span > 0 else float("nan")
        outcome.duplicates, outcome.lost = tally(per_chat, users)
        cpu_total, cpu_main = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
        if outcome.sent:
            outcome.cpu_ms = 1000 * cpu_total / outcome.sent
            outcome.cpu_split = (
                f"{1000 * cpu_main / outcome.sent:.2f}+"
                f"{1000 * (cpu_total - cpu_main) / outcome.sent:.2f}"
            )
        driver = driver1 - driver0
        outcome.driver_pct = 100 * driver / wall
        outcome.bot_pct = 100 * cpu_total / wall
        outcome.others_pct = max(0.0, 100 * (machine1 - machine0 - driver - cpu_total) / wall)
        if design.kind == "mend" and done:
            outcome.notes.append(
                f"dispatcher: {done['delivered']} delivered, {done['skipped']} skipped; "
                f"{done['claims']} claims took {done['claimed']} items, "
                f"{done['completed']} complete_checkin calls; "
                f"{int(done['hops']) / max(int(done['delivered']), 1):.1f} calls to aiosqlite's "
                f"thread per check-in; the store's lock was held "
                f"{100 * float(done['lock_held']) / wall:.0f}% of the time"
            )
        elif done or "progress" in events:
            if not done:
                outcome.notes.append(
                    "the bot's event loop did not even answer SIGTERM within 10 s: killed; "
                    "counts from its reporting thread's last second"
                )
            counts = (done or events["progress"]).get("counts", {})
            listed = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            outcome.notes.append(f"callbacks: {listed}")
            if outcome.lost:
                failed = sum(n for k, n in counts.items() if k.startswith("error"))
                missed, waiting = counts.get(MISSED, 0), counts.get("in flight", 0)
                unstarted = max(0, users - counts.get("started", 0) - missed)
                outcome.notes.append(
                    f"of the {outcome.lost} lost: {missed} dropped by APScheduler (run more "
                    f"than misfire_grace_time late), {failed} failed, {waiting} callbacks still "
                    f"waiting to send and {unstarted} jobs not yet run "
                    + (
                        f"when the run was cut {design.tail:.0f} s after the minute (those "
                        "would arrive later still)"
                        if design.tail is not None
                        else "at the end"
                    )
                )
        errors = child.errors()
        if errors:
            outcome.notes.append(f"{len(errors)} error lines in the log, e.g. {errors[0][:200]}")
        api_errors = [e for e in fake.errors if e.method != "getUpdates"]  # 409 at shutdown
        if api_errors:
            outcome.notes.append(f"{len(api_errors)} API errors, e.g. {api_errors[0]}")
        return outcome, fake
    finally:
        await fake.stop()


def check_db(db: Path, users: int) -> str:
    """What Mend's database says afterwards: completed check-ins and claims left open."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        completed, open_claims, planned = conn.execute(
            "SELECT sum(last_checkin_date IS NOT NULL), sum(checkin_claimed_at IS NOT NULL),"
            " sum(next_checkin_at > ?) FROM users",
            (T0.isoformat(timespec="microseconds"),),
        ).fetchone()
    return (
        f"database: {completed}/{users} check-ins recorded, {open_claims} claims left open, "
        f"{planned} next check-ins planned"
    )


@dataclass
class Paced:
    users: int
    sent: int
    window: float
    in_window: int
    rate: float
    projected_min: float
    duplicates: int
    lost: int
    hwm_mib: float


def paced_figures(fake: Any, outcome: Outcome) -> Paced:
    times = sorted(t for t, _ in fake.sends)
    start = times[0] + PACED_WARMUP if times else 0.0
    steady = [t for t in times if t >= start]
    window = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    rate = (len(steady) - 1) / window if window > 0 else float("nan")
    return Paced(
        users=outcome.users,
        sent=len(times),
        window=window,
        in_window=len(steady),
        rate=rate,
        projected_min=100_000 / rate / 60 if rate == rate and rate > 0 else float("nan"),
        duplicates=outcome.duplicates,
        lost=outcome.lost,
        hwm_mib=outcome.hwm_mib,
    )


@dataclass
class Crash:
    users: int
    sent_at_kill: int = 0
    sent_before_kill: int = 0  # including requests that landed after the kill
    killed_after: float = 0.0
    completed_at_kill: int = 0
    open_claims_at_kill: int = 0
    batch: int = 200
    sent_total: int = 0
    repeats: int = 0  # messages beyond the first, over everyone
    repeated_people: int = 0
    lost: int = 0
    restart_startup: float = 0.0
    db: str = ""
    notes: list[str] = field(default_factory=list)


async def run_crash(db: Path, rundir: Path, args: argparse.Namespace) -> Crash:
    from bot.schedule.dispatcher import DispatchSettings

    users = args.crash_users
    crash = Crash(users, batch=DispatchSettings().batch)
    fake = recording_fake()
    await fake.start()
    try:
        for i in range(users):
            fake.user(FIRST_USER + i)
        rate = ["--send-rate", str(args.crash_rate)]
        first = await Child.spawn("mend", "crash-1", rundir, db, fake, *rate)
        try:
            fire = await first.wait_event("fire_at", timeout=120)
            kill_at = max(1, int(users * args.crash_at))
            deadline = time.monotonic() + 600
            while len(fake.sends) < kill_at and first.proc.returncode is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("the first bot never got far enough to be killed")
                await asyncio.sleep(0.001)
            await first.kill()
        finally:
            if first.proc.returncode is None:
                await first.kill()
        crash.killed_after = time.time() - float(fire["at"])
        crash.sent_at_kill = len(fake.sends)
        with contextlib.closing(sqlite3.connect(db)) as conn:
            done, claimed = conn.execute(
                "SELECT sum(last_checkin_date IS NOT NULL), sum(checkin_claimed_at IS NOT NULL)"
                " FROM users"
            ).fetchone()
        crash.completed_at_kill, crash.open_claims_at_kill = int(done or 0), int(claimed or 0)
        await asyncio.sleep(1.0)  # requests the dead bot had sent may still land
        crash.sent_before_kill = len(fake.sends)

        skip = ["--skip", str(CLOCK_SKIP_AFTER_CRASH.total_seconds())]
        second = await Child.spawn("mend", "crash-2", rundir, db, fake, *rate, *skip)
        try:
            fire2 = await second.wait_event("fire_at", timeout=120)
            events = second.events()
            crash.restart_startup = float(events["first_claim"]["at"]) - second.spawned
            await wait_delivered(fake, second, users, float(fire2["at"]), args.stall, 600)
            await second.stop()
        finally:
            if second.proc.returncode is None:
                await second.kill()
        crash.sent_total = len(fake.sends)
        wanted = range(FIRST_USER, FIRST_USER + users)
        crash.repeats = sum(max(0, fake.per_chat.get(u, 0) - 1) for u in wanted)
        crash.repeated_people = sum(1 for u in wanted if fake.per_chat.get(u, 0) > 1)
        crash.lost = sum(1 for u in wanted if fake.per_chat.get(u, 0) == 0)
        crash.db = check_db(db, users)
        for child in (first, second):
            errors = child.errors()
            if errors:
                crash.notes.append(f"{child.status.stem}: {len(errors)} error lines: {errors[0]}")
    finally:
        await fake.stop()
    return crash


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_table(outcomes: list[Outcome]) -> None:
    print()
    header = (
        f"{'design':<30} {'users':>7} {'start-up s':>10} {'msgs/s':>7} {'peak RSS MiB':>12} "
        f"{'duplicates':>10} {'lost':>7} {'last at T0+ s':>13}"
    )
    print(header)
    print("-" * len(header))
    for o in outcomes:
        print(
            f"{o.design:<30} {o.users:>7} {o.startup:>10.2f} {o.rate:>7.0f} {o.hwm_mib:>12.0f} "
            f"{o.duplicates:>10} {o.lost:>7} {o.last_after_t0:>13.0f}".replace(" nan", "   -")
        )
    print()
    for o in outcomes:
        print(f"{o.design}:")
        print(f"  start-up: {o.startup_detail}")
        rates = (
            f"{o.rate:.0f} msg/s from T0 to the last, {o.busy_rate:.0f} msg/s from the first "
            f"to the last; bot CPU {o.cpu_ms:.2f} ms/msg (loop+other threads {o.cpu_split})"
            if o.sent
            else "none"
        )
        print(
            f"  {o.sent} sendMessage answered: {rates}; CPU % of one core: bot "
            f"{o.bot_pct:.0f}, fake (driver) {o.driver_pct:.0f}, other processes "
            f"{o.others_pct:.0f}"
        )
        for note in o.notes:
            print(f"  {note}")


def print_paced(p: Paced) -> None:
    print()
    print("With Telegram's limit on (send_rate 30, the real Pacer):")
    print(
        f"  {p.users} people due; {p.sent} sent; sustained {p.rate:.2f} msg/s over "
        f"{p.window:.0f} s ({p.in_window} messages after the first {PACED_WARMUP:.0f} s); "
        f"duplicates {p.duplicates}, lost {p.lost}; peak RSS {p.hwm_mib:.0f} MiB"
    )
    print(
        f"  projected for 100,000 people at that rate: {p.projected_min:.1f} min "
        "(extrapolated, not run)"
    )
    if p.window < 60:
        print(
            f"  ! the steady window is under 60 s: too short to trust; use --paced-users "
            f"{int(30 * (60 + PACED_WARMUP)) + 150} or more"
        )


def print_crash(c: Crash) -> None:
    print()
    print("Crash test (SIGKILL mid-batch, restart on the same database):")
    print(
        f"  {c.users} due; SIGKILL {c.killed_after:.1f} s after T0 with {c.sent_at_kill} sent "
        f"({c.sent_before_kill} once the dead bot's last requests had landed), "
        f"{c.completed_at_kill} completed in the database and {c.open_claims_at_kill} claims "
        f"open (in flight; batch {c.batch})"
    )
    print(
        f"  restart (clock moved {CLOCK_SKIP_AFTER_CRASH} on, past reclaim_after "
        f"{RECLAIM_AFTER}): ready in {c.restart_startup:.2f} s; {c.sent_total} sent in all"
    )
    verdict = "ok" if c.lost == 0 and c.repeats <= c.open_claims_at_kill else "FAILED"
    print(
        f"  lost {c.lost}; repeats {c.repeats} (to {c.repeated_people} people) <= "
        f"{c.open_claims_at_kill} in flight at the kill: {verdict}"
    )
    print(f"  {c.db}")
    for note in c.notes:
        print(f"  {note}")


CAVEAT = """\
Noise: two cores, shared. The bot runs in a child process, the fake Bot API in this one;
"other processes" is everything else on the machine during the sends (above ~10%, the run
was disturbed). Compare the designs by their ratios; absolute msg/s moves with the load."""


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

PARTS = ("ours", "naive", "naive-bounded", "paced", "crash")
DEFAULT_PARTS = ("ours", "naive", "paced", "crash")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkins",
        description="100,000 daily check-ins due in one minute: Mend against one PTB job each.",
    )
    parser.add_argument(
        "--users", type=int, default=100_000, help="people due, ours and naive (100000)"
    )
    parser.add_argument(
        "--paced-users", type=int, default=2100, help="people due at 30 msg/s (2100: 70 s)"
    )
    parser.add_argument(
        "--crash-users", type=int, default=20_000, help="people due in the crash test (20000)"
    )
    parser.add_argument(
        "--crash-at", type=float, default=0.3, help="kill when this share has its message (0.3)"
    )
    parser.add_argument(
        "--crash-rate", type=float, default=LIFTED_RATE, help="send_rate in the crash test"
    )
    parser.add_argument(
        "--send-rate", type=float, default=LIFTED_RATE, help="Mend's send_rate when lifted"
    )
    parser.add_argument("--spread", type=int, default=60, help="seconds the due times span (60)")
    parser.add_argument(
        "--naive-tail",
        type=float,
        default=60.0,
        help="stop the naive bots this long after the minute, done or not (60)",
    )
    parser.add_argument(
        "--naive-limit",
        type=int,
        default=200,
        help="sends at once in the naive-bounded part (200, Mend's batch)",
    )
    parser.add_argument(
        "--stall", type=float, default=15.0, help="give up after this long without progress"
    )
    parser.add_argument(
        "--naive-margin-factor",
        type=float,
        default=2.2,
        help="T0 for the naive bot: its calibrated registration time times this, + 3 s",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(DEFAULT_PARTS),
        help="what to run (default: ours naive paced crash)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    # The child process (internal).
    parser.add_argument("--serve", choices=["mend", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--status", help=argparse.SUPPRESS)
    parser.add_argument("--message", help=argparse.SUPPRESS)
    parser.add_argument("--skip", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.users, args.paced_users, args.crash_users) < 1 or not 0 < args.crash_at < 1:
        parser.error("user counts must be positive and --crash-at between 0 and 1")
    return args


async def drive(args: argparse.Namespace, workdir: Path) -> int:
    import telegram

    started = time.perf_counter()
    before = machine_busy_seconds()
    await asyncio.sleep(1.0)
    idle_others = 100 * (machine_busy_seconds() - before)
    print(
        f"Daily check-ins due within {args.spread} s of T0: {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}, python-telegram-bot {telegram.__version__}; other programs "
        f"used {idle_others:.0f}% CPU just before. Work directory {workdir}",
        flush=True,
    )
    designs = [
        Design("ours", "ours (Mend, rate lifted)", "mend", send_rate=args.send_rate),
        Design("naive", "naive (run_daily per user)", "naive", tail=args.naive_tail),
        Design(
            "naive-bounded",
            f"naive + {args.naive_limit} sends at once",
            "naive",
            naive_limit=args.naive_limit,  # run to the end: nothing is cut
        ),
    ]
    chosen = [d for d in designs if d.name in args.parts]
    outcomes: list[Outcome] = []
    failed = False
    users = args.users
    if chosen:
        db = workdir / "people.sqlite3"
        took = await create_people(db, users, args.spread, args.seed)
        print(f"bulk_create_users: {users} people in {took:.1f} s", flush=True)
        await checkin_message(workdir / "message.json")
        for design in chosen:
            copy = workdir / f"{design.name}.sqlite3"  # every design starts from the same file
            shutil.copy(db, copy)
            outcome, _ = await run_design(design, users, copy, workdir, args)
            if design.kind == "mend":
                outcome.notes.append(check_db(copy, users))
                failed |= bool(outcome.lost or outcome.duplicates)
            outcomes.append(outcome)
            print(
                f"  {design.label}: {outcome.sent} sent, {outcome.rate:.0f} msg/s",
                flush=True,
            )
        print_table(outcomes)
    if "paced" in args.parts:
        db = workdir / "paced.sqlite3"
        await create_people(db, args.paced_users, args.spread, args.seed)
        design = Design("paced", "paced", "mend", send_rate=30.0)
        outcome, fake = await run_design(design, args.paced_users, db, workdir, args)
        paced = paced_figures(fake, outcome)
        print_paced(paced)
        for note in outcome.notes:
            print(f"  {note}")
        failed |= bool(paced.lost or paced.duplicates)
    if "crash" in args.parts:
        db = workdir / "crash.sqlite3"
        await create_people(db, args.crash_users, args.spread, args.seed)
        crash = await run_crash(db, workdir, args)
        print_crash(crash)
        failed |= bool(crash.lost or crash.repeats > crash.open_claims_at_kill)
    print()
    print(CAVEAT)
    print(f"\nTotal time {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    if "--serve" in (argv if argv is not None else sys.argv):
        spawned_status_time = time.time()
        args = parse_args(argv)
        status = Status(args.status)
        status.mark("main", t_main=spawned_status_time)
        serve = serve_mend if args.serve == "mend" else serve_naive
        asyncio.run(serve(args, status))
        return 0
    args = parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("This benchmark reads /proc: it needs Linux.", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="mend-checkins-"))
    try:
        return asyncio.run(drive(args, workdir))
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
