"""Every flow, walked by every path a person could take, with the real engine.

Each node of each flow must be reached, each choice pressed, and each flow must be
finishable; every message must fit Telegram's limits.
"""

from __future__ import annotations

import functools

import pytest

from bot.core.model import Script
from bot.script_loader import load_script
from tests.scripts import DIALOGUES
from tests.walker import Exploration, explore


def real_script() -> Script:
    result = load_script(DIALOGUES)
    assert result.script is not None, "\n".join(map(str, result.errors))
    return result.script


SCRIPT = real_script()
# Both tests of one flow on the same xdist worker (--dist loadgroup), so it is walked once.
FLOWS = [pytest.param(f, marks=pytest.mark.xdist_group(f"walk-{f}")) for f in sorted(SCRIPT.flows)]


@functools.cache
def walked(flow: str) -> Exploration:
    """Each flow walked once for both tests below: walking is most of this file's time."""
    return explore(SCRIPT, flow)


@pytest.mark.parametrize("flow", FLOWS)
def test_every_node_and_choice_is_reached_and_the_flow_can_finish(flow: str) -> None:
    result = walked(flow)
    nodes = {(flow, n) for n in SCRIPT.flows[flow].nodes}
    missing = sorted(n for _, n in nodes - result.visited)
    assert missing == [], f"never reached in {flow}: {missing}"
    choices = {
        (flow, node.id, i)
        for node in SCRIPT.flows[flow].nodes.values()
        for i in range(len(node.choices))
    }
    unpressed = sorted(choices - result.pressed)
    assert unpressed == [], f"never pressed in {flow}: {unpressed}"
    assert result.finished_paths > 0, f"{flow} can never be finished"


@pytest.mark.parametrize("flow", FLOWS)
def test_every_message_fits_telegram(flow: str) -> None:
    result = walked(flow)
    for turn in result.turns:
        for message in turn.messages:
            assert message.text.strip(), f"an empty message in {flow}"
            assert len(message.text) <= 4096
            for button in message.buttons:
                assert len(button.data.encode()) <= 64
                assert 0 < len(button.label) <= 64


def test_the_required_practice_flows_exist() -> None:
    practices = {
        "listen", "acknowledge", "apology", "our_story", "consistency", "honesty",
        "reflect", "change", "reassure", "connect", "patience", "beyond_repair",
    }  # fmt: skip
    assert practices | {"onboarding", "menu"} <= set(SCRIPT.flows)


def test_the_menu_offers_every_practice() -> None:
    menu = SCRIPT.flows["menu"]
    started = {c.start for node in menu.nodes.values() for c in node.choices if c.start}
    practices = {
        "listen", "acknowledge", "apology", "our_story", "consistency", "honesty",
        "reflect", "change", "reassure", "connect", "patience", "beyond_repair",
    }  # fmt: skip
    assert practices <= started
