"""The words a language's setting answers are read with: "a week", "dos semanas",
"23:00 до 7:00", and the examples shown when an answer could not be read. One file per
language (`_parsing.yaml`), so a person types in their own language. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class ParseWords:
    counts: Mapping[str, int] = field(default_factory=dict)  # "two" -> 2
    units: Mapping[str, int] = field(default_factory=dict)  # "weeks" -> 7 (days)
    ranges: tuple[str, ...] = ()  # "to", "until": between two times
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # by setting

    @cached_property
    def pause(self) -> re.Pattern[str]:
        """A number or a count word, then a unit: "7", "7 days", "a week", "две недели"."""
        counts = "|".join(map(re.escape, sorted(self.counts, key=len, reverse=True))) or "(?!)"
        units = "|".join(map(re.escape, sorted(self.units, key=len, reverse=True))) or "(?!)"
        return re.compile(rf"^(?:(\d{{1,3}})|({counts}))?\s*({units})?$")

    @cached_property
    def range(self) -> re.Pattern[str]:
        words = "|".join(map(re.escape, self.ranges))
        return re.compile(rf"\s*(?:-|–|—{'|' + words if words else ''})\s*")
