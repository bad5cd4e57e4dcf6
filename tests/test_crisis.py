"""Crisis detection: recall on the corpus, false positives on hard negatives, normalising,
and the crisis resources table."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core import crisis
from bot.core.crisis import CrisisKind, detect_crisis, normalise

ROOT = Path(__file__).resolve().parent.parent
CORPUS = yaml.safe_load((ROOT / "tests" / "data" / "crisis_corpus.yaml").read_text("utf-8"))
CRISIS: list[dict[str, str]] = CORPUS["crisis"]
SAFE: list[str] = CORPUS["safe"]
RESOURCES_PATH = ROOT / "dialogues" / "_crisis_resources.yaml"
REQUIRED_COUNTRIES = ("US", "GB", "CA", "AU", "IE", "DE", "IN", "INTL")
MAX_FALSE_POSITIVE_RATE = 0.05


# --- the corpus ---------------------------------------------------------------------------


def test_corpus_is_big_enough_and_covers_every_kind() -> None:
    kinds = Counter(CrisisKind(e["kind"]) for e in CRISIS)
    assert len(CRISIS) >= 90
    assert len(SAFE) >= 80
    assert len(CRISIS) + len(SAFE) >= 170
    assert set(kinds) == set(CrisisKind)
    texts = [e["text"] for e in CRISIS] + SAFE
    assert [t for t, n in Counter(texts).items() if n > 1] == []


@pytest.mark.parametrize("entry", CRISIS, ids=lambda e: e["text"][:50])
def test_every_crisis_phrase_is_detected_with_its_kind(entry: dict[str, str]) -> None:
    assert detect_crisis(entry["text"]) is CrisisKind(entry["kind"])


def test_detection_rate_is_total() -> None:
    missed = [e["text"] for e in CRISIS if detect_crisis(e["text"]) is None]
    wrong_kind = [
        e["text"]
        for e in CRISIS
        if (k := detect_crisis(e["text"])) is not None and k is not CrisisKind(e["kind"])
    ]
    rate = 1 - len(missed) / len(CRISIS)
    print(f"\ncrisis detection: {rate:.1%} of {len(CRISIS)} (wrong kind: {len(wrong_kind)})")
    assert missed == []


def test_false_positive_rate_on_everyday_phrases() -> None:
    flagged = [(t, detect_crisis(t)) for t in SAFE if detect_crisis(t) is not None]
    rate = len(flagged) / len(SAFE)
    print(f"\nfalse positives: {rate:.1%} of {len(SAFE)}: {flagged}")
    assert rate <= MAX_FALSE_POSITIVE_RATE


# --- normalising --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reading"),
    [
        ("I DON’T want to LIVE", "i do not want to live"),  # curly apostrophe, caps
        ("i\tdont  want \n\n to live", "i do not want . to live"),  # tabs, runs, newlines
        ("ki\u200bll my\u200dself\ufeff", "kill myself"),  # zero-width characters
        ("Ｉ’ｍ ｓａｄ", "i am sad"),  # full-width forms (NFKC)
        ("she‘d be better off", "she would be better off"),
        ("can't won't im ive", "can not will not i am i have"),
        ("wanna kms", "want to kill myself"),
        ("sucide suicdal myslef", "suicide suicidal myself"),
        ("dieeee sooo", "die so"),  # stretched letters
        ("I want to... die", "i want to die"),  # an ellipsis is a pause, not a full stop
        ("self-harm, again!", "self harm , again ."),
        ("un-alive my self", "unalive myself"),
    ],
)
def test_normalise(raw: str, reading: str) -> None:
    assert normalise(raw) == reading


@pytest.mark.parametrize(
    "text",
    [
        "I want to die",
        "I WANT TO DIE",
        "i  want\tto   die",
        "I want to d\u200bie",
        "I want to die\u00a0",
        "  i want to die  ",
        "I want to… die",
    ],
)
def test_spacing_case_and_invisible_characters_do_not_hide_a_crisis(text: str) -> None:
    assert detect_crisis(text) is CrisisKind.SUICIDE


def test_empty_and_blank_messages_are_not_crises() -> None:
    assert detect_crisis("") is None
    assert detect_crisis(" \t\n\u200b") is None


def test_an_idiom_does_not_hide_a_crisis_in_the_same_message() -> None:
    assert detect_crisis("this guilt is killing me") is None
    assert detect_crisis("this guilt is killing me and I want to die") is CrisisKind.SUICIDE
    assert detect_crisis("I'm dying to know. I also could kill him.") is CrisisKind.HARM_OTHERS


def test_negation_rules_out_harm_but_not_suicide() -> None:
    assert detect_crisis("I don't want to hurt her again") is None
    assert detect_crisis("I would never hit her") is None
    assert detect_crisis("I'm not going to lie, I want to kill him") is CrisisKind.HARM_OTHERS
    assert detect_crisis("I don't want to live") is CrisisKind.SUICIDE


def test_the_most_urgent_kind_wins() -> None:
    assert detect_crisis("he hits me and I want to die") is CrisisKind.SUICIDE
    assert detect_crisis("he hits me and I've been cutting again") is CrisisKind.SELF_HARM
    assert detect_crisis("he hits me and I want to kill him") is CrisisKind.HARM_OTHERS


# --- fit to run on every message ----------------------------------------------------------


def test_patterns_are_compiled_at_import_not_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    assert crisis._GROUPS
    assert all(isinstance(pattern, re.Pattern) for _, pattern, _ in crisis._GROUPS)
    assert isinstance(crisis._IDIOMS, re.Pattern)

    def no_compiling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("detect_crisis compiled a regular expression per call")

    # re.compile, re.search, re.sub and friends all go through re._compile.
    monkeypatch.setattr(re, "_compile", no_compiling)
    monkeypatch.setattr(re, "compile", no_compiling)
    texts = [e["text"] for e in CRISIS] + SAFE
    long_message = " ".join(texts)[:4096]  # Telegram's longest message
    for text in [*texts, long_message, long_message.upper()]:
        detect_crisis(text)
    assert detect_crisis(long_message) is not None


def test_module_is_pure_standard_library() -> None:
    tree = ast.parse(Path(crisis.__file__).read_text("utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    allowed = {"__future__", "re", "unicodedata", "enum", "collections.abc"}
    assert imported <= allowed


# --- crisis resources ---------------------------------------------------------------------


def _resources() -> dict[str, Any]:
    doc = yaml.safe_load(RESOURCES_PATH.read_text("utf-8"))
    assert doc["version"] == 1
    assert doc["kind"] == "crisis_resources"
    resources: dict[str, Any] = doc["resources"]
    return resources


def test_every_required_country_has_resources() -> None:
    resources = _resources()
    for code in REQUIRED_COUNTRIES:
        assert code in resources, code
        entry = resources[code]
        assert isinstance(entry["name"], str) and entry["name"], code
        lines = entry["lines"]
        assert len(lines) >= 2, code
        assert all(isinstance(line, str) and line.strip() for line in lines), code
        if code != "INTL":
            assert any("emergency" in line.lower() for line in lines), code


def test_the_international_fallback_points_to_findahelpline() -> None:
    lines = _resources()["INTL"]["lines"]
    assert any("findahelpline.com" in line for line in lines)
    assert any("local emergency number" in line for line in lines)


def test_resource_lines_are_safe_telegram_html() -> None:
    for code, entry in _resources().items():
        for line in entry["lines"]:
            assert not re.search(r"[<>{}]", line), (code, line)
            assert not re.search(r"&(?!amp;)", line), (code, line)
