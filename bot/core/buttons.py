"""Callback data: a compact, versioned code naming the step a button belongs to.

`<version>:<flow>:<node>:<token>`. Telegram allows 64 bytes; the compiler checks
every button it can make fits. Anything that does not parse is garbage, not an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_ID = r"[a-z0-9_]*"
_CODE = re.compile(rf"^([a-z0-9]{{1,8}}):({_ID}):({_ID}):([a-z0-9_]{{1,12}})$")

# Tokens that are not a choice index.
KEEP = "keep"
REVISE = "revise"
SKIP = "skip"
DONE = "done"
MISSED = "missed"  # "none of them today" in the check-in's promises
MENU = "menu"
RESUME = "resume"  # back to the exercise an interruption put aside
DROP = "drop"  # leave it
OPEN = "open"  # open a discreet notification
LEAVE = "leave"  # leave the exercise after a crisis card, with the lines kept at hand
FOLLOW_UP = "follow"  # "check on me tomorrow" after a crisis card
SAFE = "safe"  # "I'm safe" to "are you safe right now?"
UNSURE = "unsure_"  # + a kind code: "I'm not sure"
UNSAFE = "unsafe_"  # + a kind code: "I'm not safe"


@dataclass(frozen=True)
class ButtonCode:
    version: str
    flow: str  # "" for buttons that belong to no step (menu, resume); OPEN names a flow
    node: str  # "" for those that belong to no step
    token: str

    def encode(self) -> str:
        return f"{self.version}:{self.flow}:{self.node}:{self.token}"


def decode(data: str) -> ButtonCode | None:
    m = _CODE.match(data)
    if m is None:
        return None
    return ButtonCode(*m.groups())


def longest_encoding(version: str, flow: str, node: str) -> int:
    """Bytes of the longest callback data a step can produce."""
    return len(ButtonCode(version, flow, node, "x" * 11).encode().encode())  # p + promise id
