"""How well the crisis screen does on labelled rows it was not tuned on.

Two sets are measured: the corpus' held-out split (a fifth of the rows, by a hash of
the text, never trained on) and the independent set in `tests/data/screen_independent/`
(written apart from the rules and the corpus, never tuned on). Recall counts a crisis
row as caught at either level; "kind" is the share of caught rows given the right kind;
false alarms are everyday rows flagged at any level.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.screening import Screen
from bot.core.screening.corpus import Example, is_held_out, parse_corpus

INDEPENDENT = Path(__file__).resolve().parent.parent / "tests" / "data" / "screen_independent"


@dataclass
class Tally:
    crisis: int = 0
    caught: int = 0
    right_kind: int = 0
    everyday: int = 0
    false_alarms: int = 0
    missed: list[Example] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.crisis if self.crisis else 1.0

    @property
    def kind_accuracy(self) -> float:
        return self.right_kind / self.caught if self.caught else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.everyday if self.everyday else 0.0


def evaluate(screen: Screen, rows: Iterable[Example]) -> dict[str, Tally]:
    """Tallies by language, by `<language>:<kind>`, and "all"."""
    out: dict[str, Tally] = defaultdict(Tally)
    for row in rows:
        signal = screen.screen(row.text)
        keys = ["all", row.language] + ([f"{row.language}:{row.label}"] if row.crisis else [])
        for key in keys:
            t = out[key]
            if row.crisis:
                t.crisis += 1
                if signal is not None:
                    t.caught += 1
                    t.right_kind += signal.kind.value == row.label
                else:
                    t.missed.append(row)
            else:
                t.everyday += 1
                t.false_alarms += signal is not None
    return dict(out)


def held_out(corpus: Sequence[Example]) -> list[Example]:
    return [row for row in corpus if is_held_out(row.text)]


def independent(directory: Path = INDEPENDENT) -> list[Example]:
    rows: list[Example] = []
    for path in sorted(directory.glob("*.tsv")):
        found, _ = parse_corpus(path.name.split(".", 1)[0], path.read_text("utf-8"))
        rows += found
    return rows


def format_report(title: str, tallies: dict[str, Tally]) -> str:
    lines = [title]
    for key in sorted(tallies, key=lambda k: (k != "all", k)):
        t = tallies[key]
        if ":" in key:
            lines.append(f"    {key:16} recall {t.caught:4}/{t.crisis:<4} {t.recall:6.1%}")
            continue
        lines.append(
            f"  {key:18} recall {t.caught:4}/{t.crisis:<4} {t.recall:6.1%}   "
            f"kind {t.kind_accuracy:6.1%}   false alarms {t.false_alarms:3}/{t.everyday:<4} "
            f"{t.false_alarm_rate:5.1%}"
        )
    return "\n".join(lines)
