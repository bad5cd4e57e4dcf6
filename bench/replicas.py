"""Round trips per second: one SQLite process, then 1, 2 and 3 PostgreSQL replicas.

Each configuration is the real bot (`python -m bot run`, webhook mode) behind the same
round-robin balancer the replica test uses, against the fake Bot API, in the same run and
on the same machine, so the figures compare as ratios. People act at once, each sending
/help and waiting for its reply, `--turns` times. Then `--checkins` people with a check-in
due now, delivered by `--replicas` replicas on PostgreSQL: check-ins per second and none
sent twice.

    .venv/bin/python -m bench.replicas                  # 100 people x 10 turns; 100,000 check-ins
    .venv/bin/python -m bench.replicas --people 50 --checkins 10000

The send pacer is raised to 100,000 msg/s (the fake has no flood limit; at Telegram's 30
msg/s every configuration would measure Telegram). Needs a PostgreSQL server:
MEND_TEST_POSTGRES_URL, default the local one; `.ci/run` shows how to start a throwaway one.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bot.core.session import Settings
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.fakebot import FakeBotApi, FakeUser
from tests.harness import free_port
from tests.pg import throwaway_database
from tests.replica_harness import Balancer, balancer_on, start_replica, wait_healthy

HELP = "Mend walks you through"
CHECKIN = "You have a check-in waiting"  # the discreet notice: only a due check-in
FAST = {"SEND_RATE": "100000", "DISPATCH_INTERVAL_SECONDS": "0.2"}


async def round_trips(
    fake: FakeBotApi, database: str, replicas: int, people: int, turns: int, workdir: Path
) -> tuple[float, float]:
    """(round trips a second, p95 latency in ms) for `replicas` processes on `database`."""
    ports = [free_port() for _ in range(replicas)]
    balancer_port = free_port()
    balancer = Balancer(ports)
    base = 10_000 * (replicas + 1) + (0 if "://" in database else 500_000)
    users = [fake.user(base + i) for i in range(people)]
    latencies: list[float] = []
    async with balancer_on(balancer_port, balancer):
        procs = [
            start_replica(
                fake, database, port, balancer_port, workdir / f"r{replicas}-{i}.log", FAST
            )
            for i, port in enumerate(ports)
        ]
        try:
            await asyncio.gather(*(wait_healthy(p) for p in ports))

            async def person(user: FakeUser) -> None:
                for n in range(1, turns + 1):
                    began = time.monotonic()
                    await user.send_command("/help")
                    await user.wait_for(partial(_answered, user, n), timeout=60)
                    latencies.append(time.monotonic() - began)

            began = time.monotonic()
            await asyncio.gather(*(person(u) for u in users))
            elapsed = time.monotonic() - began
        finally:
            _stop(procs)
    latencies.sort()
    return people * turns / elapsed, 1000 * latencies[int(0.95 * (len(latencies) - 1))]


def _answered(user: FakeUser, n: int, _message: object) -> bool:
    return sum(1 for m in user.messages() if m.text is not None and HELP in m.text) >= n


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def checkins(
    fake: FakeBotApi, url: str, replicas: int, people: int, workdir: Path
) -> tuple[float, int, int]:
    """(check-ins a second, people who got none, people who got two or more)."""
    store = PostgresStore(url)
    await store.open()
    try:
        settings, now = Settings(discreet=True), datetime.now(UTC)
        await store.bulk_create_users([(900_000 + i, now, settings, now) for i in range(people)])
    finally:
        await store.close()
    for i in range(people):
        fake.user(900_000 + i)  # the chats exist, as they would for people who wrote once
    counts: Counter[int] = Counter()
    ports = [free_port() for _ in range(replicas)]
    balancer_port = free_port()
    async with balancer_on(balancer_port, Balancer(ports)):
        procs = [
            start_replica(fake, url, port, balancer_port, workdir / f"c{i}.log", FAST)
            for i, port in enumerate(ports)
        ]
        try:
            began = time.monotonic()
            deadline = began + 3600
            seen = 0
            while time.monotonic() < deadline:
                calls, seen = fake.calls[seen:], len(fake.calls)  # only the new ones
                counts.update(
                    int(str(call.params["chat_id"]))
                    for call in calls
                    if call.method == "sendMessage" and CHECKIN in str(call.params.get("text"))
                )
                if len(counts) >= people:
                    break
                await asyncio.sleep(0.5)
            elapsed = time.monotonic() - began
        finally:
            _stop(procs)
    twice = sum(1 for c in counts.values() if c > 1)
    return sum(counts.values()) / elapsed, people - len(counts), twice


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="mend-bench-") as tmp:
        workdir = Path(tmp)
        async with FakeBotApi() as fake:
            figures: dict[str, list[tuple[float, float]]] = {}
            for rep in range(0 if args.only_checkins else args.reps):
                db = workdir / f"mend-{rep}.sqlite3"
                store = SqliteStore(db)
                await store.open()
                await store.close()
                figures.setdefault("SQLite, 1 process", []).append(
                    await round_trips(fake, str(db), 1, args.people, args.turns, workdir)
                )
                for n in (1, 2, 3):
                    async with throwaway_database() as url:
                        figures.setdefault(f"PostgreSQL, {n} replica(s)", []).append(
                            await round_trips(fake, url, n, args.people, args.turns, workdir)
                        )
            if figures:
                print(f"{args.people} people x {args.turns} /help round trips, {args.reps} run(s):")
            base = statistics.median(r for r, _ in figures.get("SQLite, 1 process", [(1, 0)]))
            for name, runs in figures.items():
                rates = [r for r, _ in runs]
                print(
                    f"  {name:<26} {statistics.median(rates):7.1f} rt/s"
                    f" (runs {', '.join(f'{r:.1f}' for r in rates)}),"
                    f" p95 {statistics.median(p for _, p in runs):5.0f} ms,"
                    f" {statistics.median(rates) / base:.2f}x SQLite"
                )
            if args.checkins:
                async with throwaway_database() as url:
                    rate, missing, twice = await checkins(
                        fake, url, args.replicas, args.checkins, workdir
                    )
                print(
                    f"{args.checkins} check-ins due at once, {args.replicas} PostgreSQL replicas:"
                    f" {rate:.0f}/s, {missing} not delivered, {twice} sent twice"
                )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas")
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--checkins", type=int, default=100_000)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--only-checkins", action="store_true", help="skip the round trips")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
