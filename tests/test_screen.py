"""The crisis screen: the reading it matches against, the rules, the graded levels, the
first version's regression corpus, and that it stays fast on hostile input.

Accuracy on the corpus' held-out split and on the independent set is measured in
tests/test_screen_accuracy.py."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.screening import CrisisKind, Level, Screen
from bot.core.screening.lexicon import Lexicon, compile_lexicon
from bot.core.screening.normalise import fold, reading
from bot.core.yamlsource import parse_yaml
from tests.harness import real_script
from tests.scripts import demo_script

ROOT = Path(__file__).resolve().parent.parent
CORPUS = yaml.safe_load((ROOT / "tests" / "data" / "crisis_corpus.yaml").read_text("utf-8"))
CRISIS: list[dict[str, str]] = CORPUS["crisis"]
SAFE: list[str] = CORPUS["safe"]
MAX_FALSE_POSITIVE_RATE = 0.05


def screen() -> Screen:
    return real_script().screen


def rules() -> Screen:
    """Rules only: the fixture scripts carry the lexicons but no trained model."""
    return demo_script().screen


def kind_of(text: str, s: Screen | None = None) -> CrisisKind | None:
    signal = (s or screen()).screen(text)
    return signal.kind if signal else None


def english_reading(text: str) -> str:
    # The English reading starts with a sentence mark, so patterns may begin " word".
    return rules().lexicons["en"].reading.read(fold(text)).removeprefix(". ")


# --- the first version's corpus, kept as a regression set -----------------------------------


def test_regression_corpus_covers_every_kind() -> None:
    kinds = Counter(CrisisKind(e["kind"]) for e in CRISIS)
    assert set(kinds) == set(CrisisKind)
    texts = [e["text"] for e in CRISIS] + SAFE
    assert [t for t, n in Counter(texts).items() if n > 1] == []


@pytest.mark.parametrize("entry", CRISIS, ids=lambda e: e["text"][:50])
def test_every_regression_phrase_is_caught_with_its_kind(entry: dict[str, str]) -> None:
    assert kind_of(entry["text"]) is CrisisKind(entry["kind"])


def test_false_alarms_on_the_regression_everyday_phrases() -> None:
    flagged = [t for t in SAFE if kind_of(t) is not None]
    rate = len(flagged) / len(SAFE)
    print(f"\nfalse alarms: {rate:.1%} of {len(SAFE)}: {flagged}")
    assert rate <= MAX_FALSE_POSITIVE_RATE


# --- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
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
        ("I wаnt to diе", "i want to die"),  # Cyrillic а and е inside Latin words
        ("k1ll mys3lf", "kill myself"),  # digits for letters
        ("k i l l  m y s e l f", "kill myself"),  # spaced out
        ("s.u.i.c.i.d.e", "suicide"),
        ("I want to díé", "i want to die"),  # accents
        ("I want to d\u0301i\u0308e", "i want to die"),  # combining marks
        ("meet at 10pm on the 24th", "meet at 10pm on the 24th"),  # numbers stay numbers
    ],
)
def test_english_reading(raw: str, expected: str) -> None:
    assert english_reading(raw) == expected


def test_emoji_are_kept_as_tokens_of_their_own() -> None:
    # An emoji-only message is still a message: it must not read as empty.
    assert reading("😭🔪") == "😭 🔪"
    assert reading("🔪🩸😵") == "🔪 🩸 😵"
    assert reading("I want to 💀💀💀") == "i want to 💀"  # a run of one emoji reads once
    assert reading("👍🏽 ok") == "👍 ok"  # a skin tone only restyles the emoji before it
    assert reading("❤️you") == "❤ you"


def test_an_emoji_only_message_is_screened() -> None:
    s = rules()
    assert kind_of("🔪🩸", s) is CrisisKind.SELF_HARM
    assert kind_of("🩸🩹 again", s) is CrisisKind.SELF_HARM
    assert kind_of("😂😂", s) is None
    assert kind_of("❤️🙏", s) is None


def test_cyrillic_words_keep_their_script() -> None:
    assert reading("Хочу умерЁть, йод") == "хочу умереть , йод"
    assert reading("хoчу умeреть") == "хочу умереть"  # Latin o and e inside a Russian word


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
        "I w@nt to d1e",
        "I want to dіe",  # Ukrainian і
        "i want to d i e",
    ],
)
def test_disguises_do_not_hide_a_crisis(text: str) -> None:
    assert kind_of(text, rules()) is CrisisKind.SUICIDE


def test_empty_and_blank_messages_are_not_crises() -> None:
    assert screen().screen("") is None
    assert screen().screen(" \t\n\u200b") is None


def test_an_idiom_does_not_hide_a_crisis_in_the_same_message() -> None:
    s = rules()
    assert kind_of("this guilt is killing me", s) is None
    assert kind_of("this guilt is killing me and I want to die", s) is CrisisKind.SUICIDE
    assert kind_of("I'm dying to know. I also could kill him.", s) is CrisisKind.HARM_OTHERS


def test_negation_rules_out_harm_but_not_suicide() -> None:
    s = rules()
    assert kind_of("I don't want to hurt her again", s) is None
    assert kind_of("I would never hit her", s) is None
    assert kind_of("I'm not going to lie, I want to kill him", s) is CrisisKind.HARM_OTHERS
    assert kind_of("I don't want to live", s) is CrisisKind.SUICIDE


def test_other_languages_rules_do_not_fire_on_english() -> None:
    # Every lexicon reads every message, so a lexicon must not claim English words: the
    # English rules know when "suicidal" or "self harm" is told as history or denied.
    others = Screen({k: v for k, v in rules().lexicons.items() if k != "en"})
    for text in [
        "I'm not suicidal or anything, just tired",
        "my uncle died by suicide when I was 12",
        "I used to self harm as a teenager, it's been 20 years",
        "my cousin died of an overdose years ago",
        "my ex stalked me back in 2015",
    ]:
        assert others.screen(text) is None, text


def test_english_rules_do_not_fire_on_other_languages() -> None:
    english = Screen({"en": rules().lexicons["en"]})
    for text in [
        "ho letto un articolo sui vantaggi della terapia di coppia",  # "sui": on the
        "mi primo se suicidó hace años y la familia nunca habló de eso",
        "il mio migliore amico si è suicidato quindici anni fa",
    ]:
        assert english.screen(text) is None, text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("he punches my leg until it goes numb", CrisisKind.ABUSE),
        ("I punched my legs until they bruised", CrisisKind.SELF_HARM),
        ("she dug her nails into my neck and slapped me", CrisisKind.ABUSE),
        ("I dug my nails into my arm until it bled", CrisisKind.SELF_HARM),
        ("He loaded the shotgun in front of me", CrisisKind.ABUSE),
        ("he said he'd break every bone in my body", CrisisKind.ABUSE),
        ("I'll break every bone in his body", CrisisKind.HARM_OTHERS),
    ],
)
def test_who_acts_decides_the_kind(text: str, kind: CrisisKind) -> None:
    assert kind_of(text, rules()) is kind


def _every_rule_in_order(lexicon: Lexicon, read: str) -> list[str]:
    """What the lexicon finds when it tries every rule of every group, skipping nothing."""
    for idiom in lexicon.idioms:
        read = idiom.pattern.sub(" . ", read)
    found = []
    for group in lexicon.groups:
        for rule in group.rules:
            if any(lexicon._search(p.pattern, read, group.negatable) for p in rule.parts):
                found.append(f"{lexicon.language}.{rule.id}")
                break
    return found


def test_the_pattern_index_finds_what_trying_every_rule_finds() -> None:
    # The index only skips work: its hits must be those of trying every rule in order.
    texts = [e["text"] for e in CRISIS] + SAFE
    for lexicon in rules().lexicons.values():
        for text in texts:
            read = lexicon.reading.read(fold(text))
            found = [h.rule for h in lexicon.hits(read)]
            assert found == _every_rule_in_order(lexicon, read), (lexicon.language, text)


def test_the_most_urgent_kind_wins() -> None:
    s = rules()
    assert kind_of("he hits me and I want to die", s) is CrisisKind.SUICIDE
    assert kind_of("he hits me and I've been cutting again", s) is CrisisKind.SELF_HARM
    assert kind_of("he hits me and I want to kill him", s) is CrisisKind.HARM_OTHERS


def test_a_worrying_but_unclear_message_is_graded_unclear() -> None:
    signal = screen().screen("honestly what's the point of any of this")
    assert signal is not None and signal.level is Level.UNCLEAR


def test_a_clear_message_is_graded_clear() -> None:
    signal = screen().screen("I'm going to kill myself tonight")
    assert signal is not None and signal.level is Level.CLEAR
    assert signal.source.startswith("rule:en.")


def test_the_model_only_adds_signals_to_the_rules() -> None:
    with_model, without = screen(), Screen(screen().lexicons)
    texts = [e["text"] for e in CRISIS] + SAFE
    for text in texts:
        rule_signal = without.screen(text)
        if rule_signal is not None and rule_signal.clear:
            assert with_model.screen(text) == rule_signal, text


# --- fit to run on every message ----------------------------------------------------------

ADVERSARIAL = [
    "fine if i " + "so " * 1362,
    "i want to " * 409,
    "kill " * 819,
    "a" * 4096,
    "he " * 1365,
    "k i l l " * 512,
    ". " * 2048,
    "i " + "just " * 818,
    ("my husband " + "really " * 3) * 180,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: t[:20])
def test_hostile_long_input_is_screened_quickly(text: str) -> None:
    s = screen()
    s.screen(text[:4096])  # warm
    start = time.perf_counter()
    s.screen(text[:4096])
    elapsed = time.perf_counter() - start
    # The goal is 10 ms (bench/screen.py measures it); a loaded test machine gets slack.
    assert elapsed < 0.1, f"{elapsed * 1000:.1f} ms"


def test_patterns_are_compiled_once_not_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    s = screen()
    texts = [e["text"] for e in CRISIS] + SAFE
    long_message = " ".join(texts)[:4096]
    for text in [*texts, long_message, long_message.upper()]:
        s.screen(text)  # patterns compile on first use (most are never needed)

    def no_compiling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the screen compiled a regular expression per call")

    # re.compile, re.search, re.sub and friends all go through re._compile.
    monkeypatch.setattr(re, "_compile", no_compiling)
    monkeypatch.setattr(re, "compile", no_compiling)
    for text in [*texts, long_message, long_message.upper()]:
        s.screen(text)  # the second time round, nothing is compiled again
    assert s.screen(long_message) is not None


# --- the lexicon compiler -------------------------------------------------------------------


def _compile(text: str) -> list[tuple[int, str]]:
    return compile_lexicon(parse_yaml(text).data)[1]


def test_lexicon_problems_name_their_lines() -> None:
    problems = _compile(
        "version: 1\n"
        "kind: crisis_lexicon\n"
        "language: en\n"
        "define:\n"
        "  ok: '(?:a|b)'\n"
        "rules:\n"
        "  - id: one\n"
        "    kind: suicide\n"
        "    patterns:\n"
        "      - '\\bfine {ok}'\n"
        "      - '\\bbad ('\n"  # line 11: does not compile
        "      - '\\bx (?:\\w+ )*die'\n"  # line 12: a repeated group
        "  - id: two\n"
        "    kind: sadness\n"  # line 14: unknown kind
        "    patterns: ['{nope}']\n"  # line 15: unknown fragment
        "  - id: one\n"  # line 16: duplicate
        "    kind: abuse\n"
        "    patterns: ['x']\n"
        "colour: blue\n"  # line 19: unknown key
    )
    lines = {line for line, _ in problems}
    assert {11, 12, 14, 15, 16, 19} <= lines, problems
    messages = " ".join(m for _, m in problems)
    assert "regex error" in messages and "bound it" in messages and "nope" in messages


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:a|b)*c",  # a repeated alternation
        r"\w+",  # begins with a repeat
        r"x\w*\w*",  # two repeats side by side
        r"(a)\1",  # a backreference
        r"(?:\w+ ){0,9}",  # a group repeated too often
    ],
)
def test_super_linear_shapes_are_refused(pattern: str) -> None:
    text = (
        "version: 1\nkind: crisis_lexicon\nlanguage: en\nrules:\n"
        f"  - id: r\n    kind: suicide\n    patterns: ['{pattern}']\n"
    )
    assert _compile(text), pattern


_YIELDING = """\
version: 1
kind: crisis_lexicon
language: en
rules:
  - id: gun_got
    kind: suicide
    yields_to: [harm_others]
    patterns: ['\\bbought a gun\\b']
  - id: says_die
    kind: suicide
    patterns: ['\\bwant to die\\b']
  - id: shoot_him
    kind: harm_others
    patterns: ['\\bshoot him\\b']
"""


def test_a_rule_that_yields_stands_down_for_the_kind_it_names() -> None:
    lexicon, problems = compile_lexicon(parse_yaml(_YIELDING).data)
    assert problems == [] and lexicon is not None
    s = Screen({"en": lexicon})
    assert kind_of("i bought a gun", s) is CrisisKind.SUICIDE  # alone, it speaks
    assert kind_of("i bought a gun to shoot him", s) is CrisisKind.HARM_OTHERS
    # A rule of the same kind that does not yield is never hidden by one that does.
    assert kind_of("i bought a gun to shoot him and i want to die", s) is CrisisKind.SUICIDE


def test_yields_to_names_other_kinds() -> None:
    bad = _YIELDING.replace("yields_to: [harm_others]", "yields_to: [suicide, anger]")
    problems = _compile(bad)
    assert [line for line, _ in problems] == [7], problems


def test_every_shipped_lexicon_compiles() -> None:
    for path in sorted((ROOT / "dialogues" / "screening").glob("lexicon.*.yaml")):
        lexicon, problems = compile_lexicon(parse_yaml(path.read_text("utf-8")).data)
        assert problems == [], (path.name, problems)
        assert lexicon is not None and path.name == f"lexicon.{lexicon.language}.yaml"
