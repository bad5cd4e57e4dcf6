"""How the crisis screen does on rows it was never tuned on: the corpus' held-out split
and the independent set. The goals (issue 10) are 98% recall in English, 90% in each
other language, at most 5% false alarms and the right kind for 95% of hits; these
floors sit just under what the screen reaches today, so a regression fails here while
the figures printed show how far there is still to go."""

from __future__ import annotations

import pytest

from bot.screen_report import Tally, evaluate, format_report, held_out, independent
from bot.script_loader import load_script
from tests.harness import real_script
from tests.scripts import DIALOGUES

FLOORS = {  # (recall at least, false alarms at most)
    # Measured after issue 10's fixes (lexicons that claimed other languages' words, emoji,
    # who acts deciding the kind): held-out en 80.8% / 7.1%, all 86.3% / 4.6%; independent
    # en 85.4% / 4.4%, all 83.6% / 2.9%. English false alarms on the held-out split are
    # still over the 5% goal.
    # Raised after the fourth to seventh gap sets (new corpus rows and rules): held-out en
    # 81.4% / 7.1%, all 86.6% / 4.8%; independent en 86.9% / 4.4%, all 84.6% / 2.7%.
    # Raised after the eighth English and sixth other-language gap sets (fresh rows, rules
    # by concept, guards for history, idioms and children): held-out en 84.7% / 4.5%, all
    # 88.9% / 3.6% (on the rows that existed before those sets: en 83.1% / 4.8%, all
    # 87.9% / 3.7%); independent en 86.9% / 4.7%, all 85.6% / 2.9%.
    # After a second round (new voices, the tool hiding each writer's own held-out fifth):
    # held-out en 85.1% / 5.4%, all 89.0% / 4.1%; independent en 87.3% / 4.7%, all
    # 85.8% / 2.9%. English false alarms on the held-out split are over the 5% goal again
    # (the classifier's share grew with the corpus): the floor guards against worse.
    "held-out": {"en": (0.84, 0.06), "all": (0.88, 0.045)},
    "independent": {"en": (0.86, 0.05), "all": (0.85, 0.03)},
}


def tallies(which: str) -> dict[str, Tally]:
    result = load_script(DIALOGUES)
    assert result.script is not None
    rows = held_out(result.corpus) if which == "held-out" else independent()
    assert len(rows) > 500
    report = evaluate(real_script().screen, rows)
    print("\n" + format_report(which, report))
    return report


@pytest.mark.parametrize("which", list(FLOORS))
def test_recall_false_alarms_and_kind_on_unseen_rows(which: str) -> None:
    report = tallies(which)
    for key, (recall, false_alarms) in FLOORS[which].items():
        assert report[key].recall >= recall, (which, key, report[key].recall)
        assert report[key].false_alarm_rate <= false_alarms, (which, key)
    assert report["all"].kind_accuracy >= 0.95  # measured: 97.0% held-out, 96.0% independent
    languages = {"en", "es", "pt", "de", "fr", "it", "ru"}
    assert languages <= set(report)  # every screened language is measured
    assert all(report[lang].recall >= 0.78 for lang in languages)
