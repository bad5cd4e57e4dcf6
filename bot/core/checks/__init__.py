"""Text checks: read a person's draft and name what to look at again, or what to praise.

The rules are content: one `kind: text_check` file per check in `dialogues/checks/`,
compiled by `compile_check` (pure: it takes the parsed YAML, never a path). A check gives
findings (which rule, which words), never prose: each rule's feedback lives in
`dialogues/_checks.yaml` as `check.<check>.<rule>`, with the quoted words in the slot
`{finding.quote}`; praise for a strength as `check.<check>.praise.<strength>.<n>`; and
`check.<check>.thin.<n>` when nothing is wrong but nothing earns praise either.

`TEXT_CHECKS` is the legacy registry of the three original checks, written in Python.
It stays only until the compiler loads the YAML checks into the script; then it and the
modules apology.py, defensiveness.py and validation.py can go.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.core.checks.compile import compile_check
from bot.core.checks.matching import Finding, Rule
from bot.core.checks.model import Requirement, TextCheck, Verdict

__all__ = [
    "TEXT_CHECKS",
    "Finding",
    "Requirement",
    "Rule",
    "TextCheck",
    "Verdict",
    "compile_check",
]


def _registry() -> Mapping[str, TextCheck]:
    # Legacy: the Python rules the running app uses until the YAML checks are wired in.
    from bot.core.checks import apology, defensiveness, validation

    checks = [apology.CHECK, defensiveness.CHECK, validation.CHECK]
    return MappingProxyType({c.name: c for c in checks})


TEXT_CHECKS: Mapping[str, TextCheck] = _registry()
