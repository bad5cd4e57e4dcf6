"""Every word the coach says is ours: no run of 8 words from the source article.

The article lives beside the project (`../shared/article.txt`) for the team, not in a
user's clone; where it is absent this test skips and says why.
"""

from __future__ import annotations

import re

import pytest

from tests.scripts import DIALOGUES, ROOT

ARTICLE = ROOT.parent / "shared" / "article.txt"
RUN = 8


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def runs(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + RUN]) for i in range(len(w) - RUN + 1)}


def test_no_dialogue_repeats_eight_words_of_the_article() -> None:
    if not ARTICLE.is_file():
        pytest.skip(f"{ARTICLE} is not here (a user's clone has no copy of the source article)")
    article = runs(ARTICLE.read_text())
    assert len(article) > 500  # the file really is the article
    copied = {
        f"{path.name}: {' '.join(run)}"
        for path in sorted(DIALOGUES.glob("*.yaml"))
        for run in runs(path.read_text()) & article
    }
    assert copied == set()


def test_the_check_would_catch_a_copied_sentence() -> None:
    sentence = "one two three four five six seven eight nine"
    assert runs(sentence) & runs(f"prefix {sentence} suffix")


def test_no_dialogue_names_the_article_author_or_practice() -> None:
    if not ARTICLE.is_file():
        pytest.skip(f"{ARTICLE} is not here (a user's clone has no copy of the source article)")
    text = " ".join(p.read_text().lower() for p in DIALOGUES.glob("*.yaml"))
    for marker in ("psychotherapist blog", "nyc psychotherapist", "wikipediamindmap"):
        assert marker not in text
