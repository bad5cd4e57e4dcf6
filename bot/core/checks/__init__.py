"""Text checks: read a person's draft and name what to look at again, or what to praise.

The rules are content: one `kind: text_check` file per check in `dialogues/checks/`,
compiled by `compile_check` (pure: it takes the parsed YAML, never a path). A check gives
findings (which rule, which words), never prose: each rule's feedback lives in
`dialogues/_checks.yaml` as `check.<check>.<rule>`, with the quoted words in the slot
`{finding.quote}`; praise for a strength as `check.<check>.praise.<strength>.<n>`; and
`check.<check>.thin.<n>` when nothing is wrong but nothing earns praise either.

The compiler puts every compiled check into `Script.checks`; the engine looks a node's
`check:` up there.
"""

from __future__ import annotations

from bot.core.checks.compile import compile_check
from bot.core.checks.matching import Finding, Rule
from bot.core.checks.model import Requirement, TextCheck, Verdict

__all__ = [
    "Finding",
    "Requirement",
    "Rule",
    "TextCheck",
    "Verdict",
    "compile_check",
]
