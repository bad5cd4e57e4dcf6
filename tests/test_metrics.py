"""/healthz and /metrics on the webhook's port: what a load balancer and Prometheus read."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.fakebot import FakeBotApi
from tests.harness import free_port, running_bot

SECRET = "metrics-secret"


async def test_health_and_metrics_count_what_happened_and_name_nobody(
    fake: FakeBotApi, db: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with (
        running_bot(
            fake, db, webhook_url=f"{base}/telegram", webhook_secret=SECRET, webhook_port=port
        ) as bot,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        health = await client.get(f"{base}/healthz")
        assert (health.status_code, health.text) == (200, "ok\n")
        user = fake.user(4242)
        await user.send_command("/help")
        await user.wait_for_messages(1, timeout=5.0)
        await fake.wait_until(lambda: bot.intake.finished == 1)  # the reply is sent mid-turn
        metrics = (await client.get(f"{base}/metrics")).text
        assert 'mend_updates_total{outcome="accepted"} 1.0' in metrics
        assert 'mend_turns_total{outcome="handled"} 1.0' in metrics
        sends = [line for line in metrics.splitlines() if line.startswith("mend_sends_total")]
        assert sends and float(sends[0].split()[-1]) >= 1
        for name in ("mend_rate_limited_total", "mend_dispatcher_lag_seconds",
                     "mend_due_backlog", "mend_checkins_total"):  # fmt: skip
            assert name in metrics
        assert "4242" not in metrics  # totals only: no person's id
        # Closing (as at SIGTERM): the balancer is told to stop sending here before the
        # port goes, while the webhook server still answers.
        assert await bot.intake.close(0.5, abandon_queued=False) == 0
        closing = await client.get(f"{base}/healthz")
        assert closing.status_code == 503
