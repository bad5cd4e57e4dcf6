"""Replicas of the real bot (`python -m bot run`, webhook mode) behind a round-robin
balancer, for tests/test_replicas.py and bench/replicas.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from tests.fakebot import FakeBotApi

SECRET = "replica-secret"
ROOT = Path(__file__).resolve().parent.parent


class Balancer:
    """Round robin over the replicas; a replica that refuses the connection is skipped."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._next = 0
        self.client = httpx.AsyncClient(timeout=10.0)
        self.forwarded: Counter[int] = Counter()

    async def forward(self, body: bytes, secret: str) -> int:
        for _ in range(len(self.ports) * 2):
            if self.client.is_closed:
                return 503  # shutting down: Telegram sends it again later
            port = self.ports[self._next % len(self.ports)]
            self._next += 1
            try:
                response = await self.client.post(
                    f"http://127.0.0.1:{port}/telegram",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": secret,
                    },
                )
            except httpx.TransportError:
                continue  # killed, or not up yet: the next replica
            self.forwarded[port] += 1
            return response.status_code
        return 502  # none answered: Telegram sends it again later


class _Forward(tornado.web.RequestHandler):
    def initialize(self, balancer: Balancer) -> None:
        self.balancer = balancer

    async def post(self) -> None:
        secret = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        self.set_status(await self.balancer.forward(self.request.body, secret))
        self.finish()


@asynccontextmanager
async def balancer_on(port: int, balancer: Balancer) -> AsyncIterator[None]:
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([("/telegram", _Forward, {"balancer": balancer})])
    )
    server.add_sockets(tornado.netutil.bind_sockets(port, "127.0.0.1"))
    try:
        yield
    finally:
        server.stop()
        await balancer.client.aclose()


def start_replica(
    fake: FakeBotApi,
    url: str,
    port: int,
    balancer_port: int,
    log: Path,
    extra: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """One bot process on `port`; `url` is DATABASE_URL, or a SQLite file's path."""
    database = {"DATABASE_URL": url} if "://" in url else {"DATABASE_PATH": url}
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_PATH")},
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        **database,
        "WEBHOOK_URL": f"http://127.0.0.1:{balancer_port}/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "DISPATCH_INTERVAL_SECONDS": "0.5",
        "LOG_LEVEL": "INFO",
        **(extra or {}),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def wait_healthy(port: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"the replica on port {port} did not become healthy in {timeout} s")
