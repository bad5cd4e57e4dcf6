"""Round trips per second: Mend against a bare python-telegram-bot bot, same fake Bot API.

    .venv/bin/python -m bench.turns [--people 10 100 1000] [--turns N] [--profile]

A *round trip* is one action of a simulated person (a command, a typed answer, a button
press) until the bot's complete reply to it has reached the fake Bot API: every message of
the reply and, for a press, also the answerCallbackQuery and the edit of the pressed message.

Two processes share the machine:

- the *driver* (this process): the fake Bot API (tests/fakebot.py, tornado on 127.0.0.1)
  and the simulated people, in one event loop;
- the *bot* (a child process, ``--serve mend|echo``): either the real Mend application
  (``bot.telegram.app``'s composition root: SQLite in WAL mode, every turn committed before
  its reply is sent) or the baseline, a bare PTB ``Application`` with one
  ``MessageHandler`` and one ``CallbackQueryHandler`` that, for a person's k-th action,
  sends back exactly the messages Mend sent for it (same texts, parse mode, keyboards,
  typing action) and, for a press, answers the query and edits the pressed message as Mend
  does. The baseline makes the same Bot API calls with the same bytes, but has no dialogue
  logic and no storage: the framework's ceiling on this machine.

Both bots get the same PTB settings: default ``HTTPXRequest`` pools, long polling, the same
``concurrent_updates`` maximum (256 updates in flight, Mend's ``PerUserUpdateProcessor``
default, unless ``--max-updates``; the baseline uses PTB's own processor) and the same
logging set-up (INFO, to a file). Mend's ``send_rate`` pacer is lifted (``--config``).

The dialogue is learned, not hard-coded: before measuring, one person walks it against Mend
(/start, then the preferred or first button of each question, a typed answer where there
are no buttons or only "Skip", /menu once onboarding offers the menu), waiting for quiet
after each step. That records each step's action and its complete reply; the measured runs
repeat the same actions, wait for exactly that many messages (no settling inside a
measurement) and check the texts. The baseline gets the recorded replies as its script.

``--people`` is how many people act at once, each walking ``--turns`` steps with no pause.
When one walk each gives fewer than ``--min-round-trips`` round trips, every one of the N
slots walks again as a new person until it does, so small N is not a fraction of a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import math
import os
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-fake-token"
CHOSE_PREFIX = "›"  # Mend's `chose_prefix`: the baseline edits pressed messages the same way
REPLY_TIMEOUT = 300.0  # seconds; at N=1000 a round trip queues behind ~1000 others
DEFAULT_MAX_UPDATES = 256  # PerUserUpdateProcessor's default, which Mend uses
DEFAULT_TURNS = 8  # /start, the onboarding, /menu...: ~8,000 round trips at N=1000
DEFAULT_MIN_ROUND_TRIPS = 800
TWO_RUNS_UP_TO = 3000  # round trips: runs this short are done twice per bot (ABBA)

# --------------------------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------------------------

# Pressed when offered (earlier in this list wins); otherwise the first button.
PREFERRED = (
    "I understand",
    "Yes, that's fine",
    "We're working on it",
    "Yes, keep it discreet",
    "Start: listen without defending",
    "I'm ready",
    "No",
    "London",
    "20:00",
)
SKIP_BUTTONS = ("Skip",)  # a question with only these buttons wants typing: type instead
MENU_BUTTON = "☰ Menu"  # once a reply offers it, the person sends /menu (once)
TEXTS = (  # typed where the last message has no buttons, in this order (the last repeats)
    "Sam",
    "Of course it does. I'm so sorry I put that in your head. Tell me whenever it comes back.",
)


@dataclass(frozen=True)
class Step:
    kind: str  # "text" (a command or typed words) or "press" (a button on the last message)
    value: str

    def __str__(self) -> str:
        return self.value if self.kind == "text" else f"[{self.value}]"


def next_step(number: int, last: Any, walked: list[Step]) -> Step:
    """What a person does next, given the bot's last message (a BotMessage or None)."""
    if number == 0:
        return Step("text", "/start")
    labels: list[str] = last.button_labels if last is not None else []
    if MENU_BUTTON in labels and Step("text", "/menu") not in walked:
        return Step("text", "/menu")
    if labels and not all(label in SKIP_BUTTONS for label in labels):
        preferred = [label for label in PREFERRED if label in labels]
        return Step("press", preferred[0] if preferred else labels[0])
    typed = sum(1 for s in walked if s.kind == "text" and not s.value.startswith("/"))
    return Step("text", TEXTS[min(typed, len(TEXTS) - 1)])


async def act(user: Any, step: Step) -> None:
    if step.kind == "press":
        await user.press(user.last_message(), step.value)
    else:
        await user.send_text(step.value)


@dataclass(frozen=True)
class Expected:
    """Mend's complete answer to one step, learned by the calibration walk."""

    step: Step
    methods: tuple[str, ...]  # Bot API calls aimed at the chat, in order
    messages: tuple[dict[str, Any], ...]  # {"text", "parse_mode", "reply_markup"} as sent

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def texts(self) -> list[str | None]:
        return [m["text"] for m in self.messages]

    def as_plan(self) -> dict[str, Any]:
        return {"chat_action": "sendChatAction" in self.methods, "messages": list(self.messages)}


@dataclass(frozen=True)
class Options:
    """What every bot process of this invocation is started with."""

    max_updates: int = DEFAULT_MAX_UPDATES
    config: dict[str, Any] = field(default_factory=dict)  # Mend's Config fields to override
    min_round_trips: int = DEFAULT_MIN_ROUND_TRIPS


# --------------------------------------------------------------------------------------------
# The bot side (child process)
# --------------------------------------------------------------------------------------------


def build_echo(base_url: str, file_url: str, plan: list[dict[str, Any]], max_updates: int) -> Any:
    """The baseline: bare PTB, one MessageHandler and one CallbackQueryHandler."""
    from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
    from telegram.constants import ChatAction, ParseMode
    from telegram.ext import (
        ApplicationBuilder,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    no_previews = LinkPreviewOptions(is_disabled=True)
    replies = [
        (
            step["chat_action"],
            [
                (
                    m["text"],
                    m["parse_mode"],
                    InlineKeyboardMarkup.de_json(m["reply_markup"], None)
                    if m["reply_markup"]
                    else None,
                )
                for m in step["messages"]
            ],
        )
        for step in plan
    ]
    turns: dict[int, int] = {}

    async def reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> None:
        turn = turns.get(user_id, 0)
        turns[user_id] = turn + 1
        if turn >= len(replies):
            await context.bot.send_message(chat_id, "echo")
            return
        chat_action, messages = replies[turn]
        if chat_action:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        for text, parse_mode, markup in messages:
            await context.bot.send_message(
                chat_id,
                text,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_options=no_previews,
            )

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is None or update.effective_user is None:
            return
        await reply(context, update.effective_chat.id, update.effective_user.id)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        await query.answer()
        message = query.message
        if isinstance(message, Message) and message.text:
            label = ""
            if message.reply_markup is not None:
                for row in message.reply_markup.inline_keyboard:
                    label = next((b.text for b in row if b.callback_data == query.data), label)
            await message.edit_text(
                f"{message.text_html}\n\n<i>{CHOSE_PREFIX} {html.escape(label)}</i>",
                parse_mode=ParseMode.HTML,
                link_preview_options=no_previews,
            )
        await reply(context, update.effective_chat.id, query.from_user.id)

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .base_file_url(file_url)
        .concurrent_updates(max_updates)
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, on_message))
    app.add_handler(CallbackQueryHandler(on_press))
    return app


# Where the event loop thread's samples land: the first matching part of the file path
# (built-in functions count for the file that called them).
AREAS: tuple[tuple[str, str], ...] = (
    ("/bot/store/", "Mend store (bot/store)"),
    ("/bot/core/", "Mend engine (bot/core)"),
    ("/bot/", "Mend shell (bot/telegram, bot/coach)"),
    ("/bench/", "baseline handlers (bench)"),
    ("/aiosqlite/", "aiosqlite, loop side"),
    ("/telegram/", "python-telegram-bot"),
    ("/httpx/", "HTTP client (httpx, httpcore, anyio, h11)"),
    ("/httpcore/", "HTTP client (httpx, httpcore, anyio, h11)"),
    ("/anyio/", "HTTP client (httpx, httpcore, anyio, h11)"),
    ("/h11/", "HTTP client (httpx, httpcore, anyio, h11)"),
    ("importlib", "import machinery (httpcore's failing `import sniffio`)"),
    ("/logging/", "logging"),
    ("/json/", "json"),
    ("/asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
)
IDLE = "idle (waiting in epoll)"
# Functions whose inclusive time gets a line of its own.
KEY_FUNCTIONS: tuple[str, ...] = (
    "TelegramShell.on_update",
    "TelegramShell._press",
    "TelegramShell._mark_chosen",
    "TelegramShell.show",
    "Sender.call",
    "Coach.handle",
    "SqliteStore.load",
    "SqliteStore.commit",
    "step",
    "keyboard",
    "Connection._execute",
    "ExtBot.send_message",
    "ExtBot.edit_message_text",
    "ExtBot.answer_callback_query",
    "Update.de_json",
    "current_async_library",
)


def summarize_profile(root: Any) -> dict[str, Any]:
    """Own time by area (idle apart) and inclusive time of KEY_FUNCTIONS, in seconds."""
    areas: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()

    def area_of(frame: Any, path: str) -> str:
        if frame.function in ("select", "poll") and "selectors" in path:
            return IDLE
        for part, name in AREAS:
            if part in path:
                return name
        return "other"

    def walk(frame: Any, parent_path: str, on_stack: frozenset[str]) -> None:
        if frame.is_synthetic:
            return  # already in its parent's total_self_time
        name = frame.function or ""
        qualified = f"{frame.class_name}.{name}" if frame.class_name else name
        own = frame.file_path or ""
        path = parent_path if not own or own.startswith("<built-in>") else own
        areas[area_of(frame, path)] += frame.total_self_time
        if qualified in KEY_FUNCTIONS and qualified not in on_stack:
            inclusive[qualified] += frame.time
            on_stack = on_stack | {qualified}
        for child in frame.children:
            walk(child, path, on_stack)

    if root is not None:
        walk(root, "", frozenset())
    total = root.time if root is not None else 0.0
    return {"total": total, "areas": dict(areas), "inclusive": dict(inclusive)}


async def serve(args: argparse.Namespace) -> None:
    """Run one bot until SIGTERM; SIGUSR1 starts the profiler, SIGUSR2 stops and writes it."""
    from telegram import Update
    from telegram.ext import BaseUpdateProcessor

    from bot.config import Config
    from bot.telegram import app as mend_app

    mend_app.configure_logging("INFO")  # as `python -m bot run` with the default LOG_LEVEL
    config = Config(
        token=TOKEN,
        database_path=Path(args.db),
        api_base_url=args.base_url,
        **json.loads(args.config_json or "{}"),
    )
    if args.serve == "mend":
        from bot.script_loader import load_script
        from bot.store.sqlite import SqliteStore

        result = load_script(config.dialogues_dir)
        if result.script is None:
            raise SystemExit("the dialogues do not compile")
        cipher = getattr(config, "cipher", None)  # as `main()` builds the store
        store = SqliteStore(config.database_path, *([cipher()] if cipher else []))
        # The composition root: `build_bot` -> MendBot with start()/stop(), or (older)
        # `build_application` with module-level start(app, config) / stop(app).
        build_bot = getattr(mend_app, "build_bot", None)
        if build_bot is not None:
            mend = build_bot(config, result.script, store)
            app, start, stop = mend.app, mend.start, mend.stop
        else:
            legacy: Any = mend_app  # HEAD 46eadbb's API; typed loosely so both versions check
            app = legacy.build_application(config, result.script, store)

            async def start() -> None:
                await legacy.start(app, config)

            async def stop() -> None:
                await legacy.stop(app)

        if args.max_updates != app.update_processor.max_concurrent_updates:
            # Experiments only (the composition root fixes the limit): reset the base class's
            # limit and semaphore, whatever Mend's processor subclass is.
            BaseUpdateProcessor.__init__(app.update_processor, args.max_updates)
    else:
        plan = json.loads(Path(args.plan).read_text()) if args.plan else []
        app = build_echo(config.api_base_url, config.api_file_url, plan, args.max_updates)

        async def start() -> None:
            await app.initialize()
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)

        async def stop() -> None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    profiler: Any = None

    def start_profile() -> None:
        nonlocal profiler
        from pyinstrument import Profiler

        # async_mode="disabled": sample the thread as it is, so a coroutine counts only
        # while it runs, never while it awaits; idle shows as time in epoll.
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()

    def stop_profile() -> None:
        if profiler is None or not args.profile_out:
            return
        profiler.stop()
        out = Path(args.profile_out)
        out.with_suffix(".tree.txt").write_text(profiler.output_text(unicode=True))
        out.with_suffix(".flat.txt").write_text(profiler.output_text(unicode=True, flat=True))
        summary = summarize_profile(profiler.last_session.root_frame(trim_stem=False))
        out.with_suffix(".summary.json").write_text(json.dumps(summary))
        out.with_suffix(".done").write_text("ok")

    loop.add_signal_handler(signal.SIGUSR1, start_profile)
    loop.add_signal_handler(signal.SIGUSR2, stop_profile)

    await start()
    try:
        await stopping.wait()
    finally:
        await stop()


# --------------------------------------------------------------------------------------------
# The driver side
# --------------------------------------------------------------------------------------------


def _cpu_seconds(stat_path: Path) -> float:
    """utime + stime from a /proc/.../stat file, in seconds (0 when it is gone)."""
    try:
        data = stat_path.read_text()
    except OSError:
        return 0.0
    fields = data.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs of the machine spent not idle since boot (/proc/stat)."""
    ticks = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSample:
    total: float  # the whole bot process, every thread (exited ones included)
    main: float  # the event loop's thread: PTB, httpx, the shell, the coach, the engine

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.total - other.total, self.main - other.main)


class BotProcess:
    """The bot under test, as a child process pointed at the fake."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log

    @classmethod
    async def spawn(
        cls,
        kind: str,
        base_url: str,
        rundir: Path,
        options: Options,
        *,
        plan: Path | None = None,
        profile_out: Path | None = None,
    ) -> BotProcess:
        log = rundir / f"{kind}.log"
        argv = [sys.executable, "-m", "bench.turns", "--serve", kind, "--base-url", base_url]
        argv += ["--db", str(rundir / "mend.sqlite3"), "--max-updates", str(options.max_updates)]
        if options.config:
            argv += ["--config-json", json.dumps(options.config)]
        if plan is not None:
            argv += ["--plan", str(plan)]
        if profile_out is not None:
            argv += ["--profile-out", str(profile_out)]
        with log.open("wb") as output:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output
            )
        return cls(proc, log)

    async def ready(self, fake: Any, timeout: float = 60.0) -> None:
        """Wait until the bot long-polls (Mend has opened its store by then)."""
        deadline = time.monotonic() + timeout
        while not any(call.method == "getUpdates" for call in fake.calls):
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.02)

    def cpu(self) -> CpuSample:
        pid = self.proc.pid
        return CpuSample(
            _cpu_seconds(Path(f"/proc/{pid}/stat")),
            _cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat")),
        )

    def sockets(self) -> int:
        """The bot's open sockets: its HTTP connections to the fake."""
        count = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{self.proc.pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    count += os.readlink(fd).startswith("socket:")
        return count

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def logged_errors(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [ln for ln in lines if " ERROR " in ln or ln.startswith("Traceback")]


@dataclass
class RunResult:
    kind: str
    people: int
    rep: int
    persons: int = 0
    round_trips: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    api_calls: Counter[str] = field(default_factory=Counter)
    bot_cpu: CpuSample = field(default_factory=lambda: CpuSample(0.0, 0.0))
    driver_cpu: float = 0.0
    others_cpu: float = 0.0  # every other process on the machine, during the run
    sockets: int = 0  # the bot's open sockets when the last reply arrived
    errors: list[str] = field(default_factory=list)
    db_bytes: int = 0
    sessions: int = 0
    profile: dict[str, Any] | None = None

    @property
    def rps(self) -> float:
        return self.round_trips / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    @property
    def calls_per_s(self) -> float:
        sent = sum(n for method, n in self.api_calls.items() if method != "getUpdates")
        return sent / self.wall if self.wall else 0.0

    @property
    def messages_per_s(self) -> float:
        return self.api_calls["sendMessage"] / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_rt(self) -> float:
        return 1000 * self.bot_cpu.total / self.round_trips if self.round_trips else math.nan

    def share(self, seconds: float) -> float:
        """CPU seconds as % of one core over the run."""
        return 100 * seconds / self.wall if self.wall else math.nan


async def calibrate(
    turns: int, workdir: Path, options: Options, settle: float = 0.3
) -> list[Expected]:
    """One person walks the dialogue against Mend; record each step and its whole reply."""
    from tests.fakebot import FakeBotApi

    rundir = workdir / "calibration"
    rundir.mkdir()
    walked: list[Expected] = []
    async with FakeBotApi(token=TOKEN) as fake:
        bot = await BotProcess.spawn("mend", fake.base_url, rundir, options)
        try:
            await bot.ready(fake)
            user = fake.user(1)
            last = None
            for number in range(turns):
                step = next_step(number, last, [e.step for e in walked])
                before = len(fake.calls)
                await act(user, step)
                replies = await user.wait_reply(1, timeout=30, settle=settle)
                methods = tuple(
                    c.method
                    for c in fake.calls[before:]
                    if fake._chat_of(c.params) == user.id or c.method == "answerCallbackQuery"
                )
                messages = tuple(
                    {"text": m.raw_text, "parse_mode": m.parse_mode, "reply_markup": m.reply_markup}
                    for m in replies
                )
                walked.append(Expected(step, methods, messages))
                last = replies[-1]
            if fake.errors:
                raise RuntimeError(f"the calibration walk got API errors: {fake.errors[:3]}")
        except TimeoutError as exc:
            errors = "\n".join(bot.logged_errors()[:5])
            raise RuntimeError(
                f"Mend did not answer the calibration walk: {exc}\n{errors}"
            ) from exc
        finally:
            await bot.stop()
    return walked


async def run_once(
    kind: str,
    people: int,
    rep: int,
    walk: list[Expected],
    workdir: Path,
    plan: Path,
    options: Options,
    profile_out: Path | None = None,
) -> RunResult:
    from tests.fakebot import FakeBotApi

    rundir = workdir / f"{kind}-{people}-{rep}{'-profile' if profile_out else ''}"
    rundir.mkdir()
    result = RunResult(kind, people, rep)
    generations = max(1, math.ceil(options.min_round_trips / (people * len(walk))))
    result.persons = people * generations

    async def slot(index: int, fake: Any) -> None:
        for generation in range(generations):
            user = fake.user(1_000_000 + generation * people + index)
            for number, want in enumerate(walk, 1):
                began = time.perf_counter()
                await act(user, want.step)
                replies = await user.wait_reply(want.count, timeout=REPLY_TIMEOUT)
                result.latencies.append(time.perf_counter() - began)
                result.round_trips += 1
                texts = [m.raw_text for m in replies]
                if texts != want.texts:
                    raise AssertionError(
                        f"person {user.id} step {number} ({want.step}): "
                        f"got {texts!r}, expected {want.texts!r}"
                    )

    async with FakeBotApi(token=TOKEN) as fake:
        bot = await BotProcess.spawn(
            kind, fake.base_url, rundir, options, plan=plan, profile_out=profile_out
        )
        try:
            await bot.ready(fake)
            calls_before = len(fake.calls)
            cpu_before, driver_before = bot.cpu(), time.process_time()
            machine_before = machine_busy_seconds()
            if profile_out is not None:
                bot.signal(signal.SIGUSR1)
            began = time.perf_counter()
            outcomes = await asyncio.gather(
                *(slot(i, fake) for i in range(people)), return_exceptions=True
            )
            result.wall = time.perf_counter() - began
            result.bot_cpu = bot.cpu() - cpu_before
            result.driver_cpu = time.process_time() - driver_before
            machine = machine_busy_seconds() - machine_before
            result.others_cpu = max(0.0, machine - result.bot_cpu.total - result.driver_cpu)
            result.api_calls = Counter(c.method for c in fake.calls[calls_before:])
            result.sockets = bot.sockets()
            if profile_out is not None:
                bot.signal(signal.SIGUSR2)
                done = profile_out.with_suffix(".done")
                for _ in range(1200):
                    if done.exists():
                        break
                    await asyncio.sleep(0.05)
                summary = profile_out.with_suffix(".summary.json")
                if summary.exists():
                    result.profile = json.loads(summary.read_text())
            result.errors += [f"{type(o).__name__}: {o}" for o in outcomes if o is not None]
            result.errors += [f"API {e.status} on {e.method}: {e.description}" for e in fake.errors]
        finally:
            await bot.stop()
        result.errors += bot.logged_errors()

    if kind == "mend":
        db = rundir / "mend.sqlite3"
        result.db_bytes = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
        with contextlib.closing(sqlite3.connect(db)) as conn:
            result.sessions = int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        if result.sessions != result.persons:
            result.errors.append(f"{result.sessions} sessions stored for {result.persons} people")
    return result


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def _list(values: list[float], fmt: str) -> str:
    return "[" + " ".join(format(v, fmt) for v in values) + "]"


def print_runs(results: list[RunResult]) -> None:
    print()
    print("Every run, in the order they ran (CPU% = % of one core; bot CPU = all its threads):")
    header = (
        f"{'N':>5} {'bot':<4} {'run':>3} {'persons':>7} {'rts':>6} {'wall s':>6} {'rt/s':>5} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'msg/s':>5} {'calls/s':>7} {'conns':>5} "
        f"{'CPU ms/rt':>9} {'loop+other':>10} {'bot%':>5} {'driver%':>7} {'others%':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        per_rt = 1000 / r.round_trips if r.round_trips else math.nan
        split = f"{r.bot_cpu.main * per_rt:.2f}+{(r.bot_cpu.total - r.bot_cpu.main) * per_rt:.2f}"
        print(
            f"{r.people:>5} {r.kind:<4} {r.rep:>3} {r.persons:>7} {r.round_trips:>6} "
            f"{r.wall:>6.1f} {r.rps:>5.0f} {r.pct(0.5):>7.0f} {r.pct(0.95):>7.0f} "
            f"{r.messages_per_s:>5.0f} {r.calls_per_s:>7.0f} {r.sockets:>5} "
            f"{r.cpu_ms_per_rt:>9.2f} {split:>10} {r.share(r.bot_cpu.total):>5.0f} "
            f"{r.share(r.driver_cpu):>7.0f} {r.share(r.others_cpu):>7.0f}"
        )
        for error in r.errors[:5]:
            print(f"      ! {error[:300]}")
        if len(r.errors) > 5:
            print(f"      ! ... and {len(r.errors) - 5} more")


def print_summary(results: list[RunResult], people: list[int], goal: float) -> None:
    print()
    print("Per N: mean of the runs, each run in brackets; ratio = mean mend / mean echo rt/s")
    header = (
        f"{'N':>5} {'mend rt/s':>17} {'echo rt/s':>17} {'mend/echo':>17} "
        f"{'p50/p95 ms mend':>16} {'p50/p95 ms echo':>16} {'CPU ms/rt m/e':>13} "
        f"{'by CPU':>6} {'Mend SQLite':>20}"
    )
    print(header)
    print("-" * len(header))
    verdicts: list[tuple[int, float, float]] = []
    for n in people:
        mend = [r for r in results if r.people == n and r.kind == "mend"]
        echo = [r for r in results if r.people == n and r.kind == "echo"]
        if not mend or not echo:
            continue
        m_rps = statistics.fmean(r.rps for r in mend)
        e_rps = statistics.fmean(r.rps for r in echo)
        ratio = m_rps / e_rps if e_rps else math.nan
        pairs = [m.rps / e.rps for m, e in zip(mend, echo, strict=False) if e.rps]
        m_lat = f"{statistics.fmean(r.pct(0.5) for r in mend):.0f}/"
        m_lat += f"{statistics.fmean(r.pct(0.95) for r in mend):.0f}"
        e_lat = f"{statistics.fmean(r.pct(0.5) for r in echo):.0f}/"
        e_lat += f"{statistics.fmean(r.pct(0.95) for r in echo):.0f}"
        m_cpu = statistics.fmean(r.cpu_ms_per_rt for r in mend)
        e_cpu = statistics.fmean(r.cpu_ms_per_rt for r in echo)
        cpu = f"{m_cpu:.2f}/{e_cpu:.2f}"
        by_cpu = e_cpu / m_cpu if m_cpu else math.nan
        db = f"{_size(mend[-1].db_bytes)}, {mend[-1].persons} p."
        print(
            f"{n:>5} {m_rps:>5.0f} {_list([r.rps for r in mend], '.0f'):>11} "
            f"{e_rps:>5.0f} {_list([r.rps for r in echo], '.0f'):>11} "
            f"{ratio:>5.2f}x {_list(pairs, '.2f'):>11} {m_lat:>16} {e_lat:>16} {cpu:>13} "
            f"{by_cpu:>5.2f}x {db:>20}"
        )
        verdicts.append((n, ratio, by_cpu))
    print()
    print('"by CPU" = echo CPU ms/rt / mend CPU ms/rt: the ratio if each bot had a core to itself.')
    for n, ratio, by_cpu in verdicts:
        verdict = "meets" if ratio >= goal else "MISSES"
        print(
            f"N={n}: Mend makes {ratio:.2f}x the baseline's round trips/s ({by_cpu:.2f}x by "
            f"CPU per round trip): {verdict} the {goal}x goal"
        )


CAVEAT = """\
Noise. Two cores, shared: the driver (fake Bot API + simulated people) runs in this
process and the bot in a child process, so each can have a core, but Mend's aiosqlite
thread, the OS and any other program compete with them ("others%": CPU used by every other
process during the run; above ~10 the run was disturbed). Runs are interleaved (echo, mend,
mend, echo) so drift hits both bots; a difference under ~10% between the bots is within the
noise of a single pair. "CPU ms/rt" (the bot process's CPU per round trip, loop thread +
other threads) hardly depends on how much CPU the bot got, and is the steadier figure.
"driver%" shows the fake's share: the bot, not the fake, is the bottleneck while it stays
well under 100 and "bot%" is near 100. The fake's cost is the same for both bots (same
calls, same bytes) and is paid on the driver's core, not the bot's."""


def print_profile(
    r: RunResult, lines: int, flat: Path, tree: Path, loop_ms: float | None = None
) -> None:
    """Print the profile. `loop_ms`: the loop thread's CPU per round trip without the
    profiler (same bot, same N), to turn shares of samples into unprofiled milliseconds."""
    if not r.profile or not r.round_trips:
        print("(no profile was written; see the bot's log)")
        return
    total = r.profile["total"] or 1.0
    profiled_ms = 1000 * total / r.round_trips
    scale = loop_ms or profiled_ms
    print()
    print(
        f"Where the event loop thread's time went ({total:.1f}s sampled = {profiled_ms:.1f} "
        "ms per round trip under the profiler); own time, % of samples and ms per round trip"
        + (f" (shares of the {loop_ms:.2f} ms/rt it costs unprofiled):" if loop_ms else ":")
    )
    for name, seconds in sorted(r.profile["areas"].items(), key=lambda kv: -kv[1]):
        print(f"  {100 * seconds / total:5.1f}%  {seconds / total * scale:5.2f} ms  {name}")
    print()
    print("Inclusive time of chosen functions (while running, not while awaiting):")
    for name in KEY_FUNCTIONS:
        seconds = r.profile["inclusive"].get(name)
        if seconds:
            print(f"  {100 * seconds / total:5.1f}%  {seconds / total * scale:5.2f} ms  {name}")
    for title, path in (("Top functions by own time", flat), ("Call tree", tree)):
        if path.exists():
            kept = path.read_text().splitlines()
            print()
            print(f"{title} (pyinstrument):")
            print("\n".join(kept[:lines]) + ("\n  ..." if len(kept) > lines else ""))


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.turns",
        description="Mend's round trips per second against a bare PTB bot, on a fake Bot API.",
    )
    parser.add_argument(
        "--people", type=int, nargs="+", default=[10, 100, 1000], help="people at the same time"
    )
    parser.add_argument(
        "--turns", type=int, default=DEFAULT_TURNS, help="round trips per person (default 8)"
    )
    parser.add_argument(
        "--reps",
        type=int,
        help=f"runs per bot and N (default: 2 for runs of up to {TWO_RUNS_UP_TO} round trips, "
        "else 1)",
    )
    parser.add_argument(
        "--min-round-trips",
        type=int,
        default=DEFAULT_MIN_ROUND_TRIPS,
        help=f"per run: slots walk again as new people until this many "
        f"(default {DEFAULT_MIN_ROUND_TRIPS})",
    )
    parser.add_argument(
        "--max-updates",
        type=int,
        default=DEFAULT_MAX_UPDATES,
        help=f"updates in flight at once, both bots (default {DEFAULT_MAX_UPDATES}, as Mend)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="set a field of Mend's Config (JSON value), e.g. send_rate=30; by default only "
        "send_rate is raised, since the fake has no flood limit and the baseline no pacer",
    )
    parser.add_argument(
        "--profile", action="store_true", help="then profile one more run with pyinstrument"
    )
    parser.add_argument("--profile-people", type=int, default=100, help="its N (default 100)")
    parser.add_argument(
        "--profile-bot", choices=["mend", "echo"], default="mend", help="its bot (default mend)"
    )
    parser.add_argument("--profile-lines", type=int, default=45, help="lines of each view")
    parser.add_argument("--goal", type=float, default=0.9, help="target mend/echo ratio")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    # The child process (internal).
    parser.add_argument("--serve", choices=["mend", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    parser.add_argument("--config-json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.turns < 1 or args.max_updates < 1 or any(n < 1 for n in args.people):
        parser.error("--turns, --max-updates and --people must be positive")
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be positive")
    return args


UNPACED_SEND_RATE = 100_000.0  # messages/s: the pacer never waits


def mend_config(assignments: list[str]) -> dict[str, Any]:
    """Config overrides for Mend: `send_rate` lifted (when Mend has it), then --config."""
    import dataclasses

    from bot.config import Config

    fields = {f.name for f in dataclasses.fields(Config)}
    overrides: dict[str, Any] = {}
    if "send_rate" in fields:
        overrides["send_rate"] = UNPACED_SEND_RATE
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or name not in fields:
            raise SystemExit(
                f"--config {assignment!r}: expected FIELD=VALUE, FIELD one of {fields}"
            )
        try:
            overrides[name] = json.loads(text)
        except ValueError:
            overrides[name] = text
    return overrides


async def drive(args: argparse.Namespace, workdir: Path) -> int:
    import telegram

    options = Options(args.max_updates, mend_config(args.config), args.min_round_trips)
    started = time.perf_counter()
    before = machine_busy_seconds()
    await asyncio.sleep(1.0)
    idle_others = 100 * (machine_busy_seconds() - before)  # we slept: it was all others
    print(
        f"Mend vs a bare PTB bot on a fake Bot API: N = {args.people} people at once, "
        f"{args.turns} round trips each, at least {args.min_round_trips} per run, at most "
        f"{args.max_updates} updates in flight. {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}, python-telegram-bot {telegram.__version__}; "
        f"other programs were using {idle_others:.0f}% CPU just before."
    )
    if options.config:
        print(f"Mend's settings changed for the benchmark: {options.config}")
    walk = await calibrate(args.turns, workdir, options)
    print(
        f"The walk, learned from Mend ({sum(e.count for e in walk)} messages and "
        f"{sum(len(e.methods) for e in walk)} Bot API calls per person): "
        + ", ".join(f"{e.step} -> {e.count}" for e in walk)
    )
    plan = workdir / "plan.json"
    plan.write_text(json.dumps([e.as_plan() for e in walk], ensure_ascii=False))

    results: list[RunResult] = []
    for n in args.people:
        size = n * len(walk) * max(1, math.ceil(args.min_round_trips / (n * len(walk))))
        reps = args.reps or (2 if size <= TWO_RUNS_UP_TO else 1)
        for rep in range(1, reps + 1):
            for kind in ("echo", "mend") if rep % 2 else ("mend", "echo"):
                r = await run_once(kind, n, rep, walk, workdir, plan, options)
                results.append(r)
                print(
                    f"  N={n:<5} {kind} run {rep}: {r.round_trips} round trips in {r.wall:.1f}s"
                    f" = {r.rps:.0f}/s, p50 {r.pct(0.5):.0f} ms, p95 {r.pct(0.95):.0f} ms"
                    + (f", {len(r.errors)} ERRORS" if r.errors else ""),
                    flush=True,
                )

    print_runs(results)
    print_summary(results, args.people, args.goal)
    print()
    print(CAVEAT)

    if args.profile:
        out = workdir / f"{args.profile_bot}-profile"
        r = await run_once(
            args.profile_bot,
            args.profile_people,
            0,
            walk,
            workdir,
            plan,
            options,
            profile_out=out,
        )
        print()
        print(
            f"Profile: {args.profile_bot} at N={args.profile_people} under pyinstrument (1 ms "
            f"samples of the event loop thread; other threads are not sampled): "
            f"{r.round_trips} round trips, {r.rps:.0f}/s while profiled; bot CPU "
            f"{r.cpu_ms_per_rt:.2f} ms/rt, of which other threads (aiosqlite) "
            f"{1000 * (r.bot_cpu.total - r.bot_cpu.main) / max(r.round_trips, 1):.2f}"
        )
        for error in r.errors[:5]:
            print(f"  ! {error[:300]}")
        same = [x for x in results if x.kind == args.profile_bot and x.people == r.people]
        loop_ms = (
            statistics.fmean(1000 * x.bot_cpu.main / x.round_trips for x in same)
            if (same and all(x.round_trips for x in same))
            else None
        )
        flat, tree = out.with_suffix(".flat.txt"), out.with_suffix(".tree.txt")
        print_profile(r, args.profile_lines, flat, tree, loop_ms)
        if args.keep:
            print(f"\nFull profile: {out.with_suffix('.tree.txt')}, {out.with_suffix('.flat.txt')}")

    print(f"\nTotal time {time.perf_counter() - started:.0f}s")
    return 1 if any(r.errors for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        asyncio.run(serve(args))
        return 0
    if not Path("/proc/self/stat").exists():
        print("This benchmark reads CPU times from /proc: it needs Linux.", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="mend-bench-"))
    try:
        return asyncio.run(drive(args, workdir))
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
