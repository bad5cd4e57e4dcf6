"""Prometheus metrics, read from the counters the running parts already keep.

A collector that reads at scrape time, not counters threaded through every module: the
intake, dispatcher, sweeper and sender stay free of any metrics library, and each bot has
its own registry (tests run several bots in one process). Nothing here carries a person's
id or words: only totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Reading:
    """One scrape's figures."""

    updates: Mapping[str, int]  # by outcome: accepted, duplicate, dropped, unparsable
    turns: Mapping[str, int]  # by outcome: finished, timed_out
    sends: int  # Bot API calls that succeeded
    rate_limited: int  # 429 answers (Telegram's "retry after")
    checkins: Mapping[str, int]  # delivered, skipped
    resent: int  # replies the outbox sweeper sent after a crash or a failure
    dispatcher_lag_seconds: float  # how late the last due check-in was sent
    due_backlog: int  # check-ins due and not yet sent, at the last look
    in_hand: int  # updates running or waiting


class _Collector(Collector):
    def __init__(self, read: Callable[[], Reading]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        r = self._read()
        yield _by_label("mend_updates", "Updates received, by outcome", r.updates)
        yield _by_label("mend_turns", "Turns handled, by outcome", r.turns)
        yield CounterMetricFamily("mend_sends", "Bot API calls that succeeded", value=r.sends)
        yield CounterMetricFamily(
            "mend_rate_limited", "429 answers from the Bot API", value=r.rate_limited
        )
        yield _by_label("mend_checkins", "Check-ins, by outcome", r.checkins)
        yield CounterMetricFamily(
            "mend_outbox_resent", "Replies the outbox sent after a crash or failure", r.resent
        )
        yield GaugeMetricFamily(
            "mend_dispatcher_lag_seconds",
            "How late the last due check-in was sent",
            value=r.dispatcher_lag_seconds,
        )
        yield GaugeMetricFamily(
            "mend_due_backlog", "Check-ins due and not yet sent", value=r.due_backlog
        )
        yield GaugeMetricFamily("mend_updates_in_hand", "Updates running or waiting", r.in_hand)


def _by_label(name: str, documentation: str, values: Mapping[str, int]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=["outcome"])
    for outcome, value in sorted(values.items()):
        family.add_metric([outcome], value)
    return family


class Metrics:
    """A registry of its own, exposing one bot's readings in Prometheus' text format."""

    def __init__(self, read: Callable[[], Reading]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
