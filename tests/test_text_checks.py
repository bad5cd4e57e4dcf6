"""The three text checks, against labelled drafts kept as data in tests/data/checks/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.checks import TEXT_CHECKS, Finding
from bot.core.template import parse_template

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "checks"
NAMES = ("apology", "defensiveness", "validation")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def load(name: str) -> dict[str, Any]:
    with (DATA / f"{name}.yaml").open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def examples(kind: str) -> list[Any]:
    out = []
    for name in NAMES:
        for i, ex in enumerate(load(name)[kind]):
            out.append(pytest.param(name, ex, id=f"{name}-{kind}-{i}"))
    return out


def run(name: str, text: str) -> tuple[Finding, ...]:
    return TEXT_CHECKS[name].run(text)


def rules_of(findings: tuple[Finding, ...]) -> list[str]:
    return [f.rule for f in findings]


# --- the labelled data -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_data_has_enough_examples_of_both_kinds(name: str) -> None:
    data = load(name)
    assert set(data) == {"flag", "pass"}
    assert len(data["flag"]) >= 20
    assert len(data["pass"]) >= 20
    assert len(data["flag"]) + len(data["pass"]) >= 40
    texts = [ex["text"] for ex in data["flag"] + data["pass"]]
    assert len(texts) == len(set(texts)), "duplicate example"


@pytest.mark.parametrize("name", NAMES)
def test_data_names_only_rules_the_check_has_and_uses_them_all(name: str) -> None:
    check = TEXT_CHECKS[name]
    listed = {rule for ex in load(name)["flag"] for rule in ex["rules"]}
    assert listed <= set(check.rules)
    assert listed == set(check.rules), f"no flag example for {set(check.rules) - listed}"


@pytest.mark.parametrize(("name", "example"), examples("flag"))
def test_flag_example_yields_its_rules(name: str, example: dict[str, Any]) -> None:
    findings = run(name, example["text"])
    missing = set(example["rules"]) - set(rules_of(findings))
    assert not missing, f"missing {missing}; got {findings}"


@pytest.mark.parametrize(("name", "example"), examples("pass"))
def test_pass_example_yields_nothing(name: str, example: dict[str, Any]) -> None:
    assert run(name, example["text"]) == ()


@pytest.mark.parametrize(("name", "example"), examples("flag") + examples("pass"))
def test_findings_quote_the_original_text_in_order(name: str, example: dict[str, Any]) -> None:
    text = example["text"]
    findings = run(name, text)
    assert isinstance(findings, tuple)
    start = 0
    for f in findings:
        assert isinstance(f, Finding)
        assert f.rule in TEXT_CHECKS[name].rules
        assert f.quote and f.quote in text
        assert f.quote == f.quote.strip()
        # in text order: each quote is found at or after where the previous one began
        start = text.find(f.quote, start)
        assert start >= 0, f"{f} out of order in {findings}"


# --- normalising: apostrophes, case, whitespace ---------------------------------------


@pytest.mark.parametrize(
    ("name", "straight", "curly"),
    [
        ("apology", "I'm sorry you're upset", "I’m sorry you’re upset"),
        ("apology", "it wasn't a big deal", "it wasn‘t a big deal"),
        ("defensiveness", "I've apologised enough", "I’ve apologised enough"),
        ("defensiveness", "You're overreacting", "You’re overreacting"),
        ("validation", "You shouldn't feel that way", "You shouldn’t feel that way"),
        ("validation", "What's the big deal?", "What’s the big deal?"),
    ],
)
def test_curly_apostrophes_match_like_straight_ones(name: str, straight: str, curly: str) -> None:
    plain, fancy = run(name, straight), run(name, curly)
    assert rules_of(plain) and rules_of(plain) == rules_of(fancy)
    for f in fancy:
        assert f.quote in curly  # quoted with the curly apostrophe the person typed


def test_missing_apostrophes_still_match() -> None:
    assert rules_of(run("validation", "you shouldnt feel that way")) == ["should_not_feel"]
    assert rules_of(run("defensiveness", "youre overreacting")) == ["minimising"]


def test_case_is_ignored_but_quoted_as_typed() -> None:
    assert run("apology", "I'M SORRY IF YOU WERE HURT") == (Finding("sorry_if", "SORRY IF"),)
    assert run("validation", "Calm Down") == (Finding("calm_down", "Calm Down"),)


def test_odd_whitespace_is_matched_and_quoted_exactly() -> None:
    text = "I’m   sorry\t if  you\nfelt hurt"
    assert run("apology", text) == (Finding("sorry_if", "sorry\t if"),)
    text = "  calm \n\n down  "
    assert run("validation", text) == (Finding("calm_down", "calm \n\n down"),)
    text = "I understand\u00a0, but it was months ago"
    assert run("validation", text)[0] == Finding("yes_but", "I understand\u00a0, but")


def test_punctuation_without_a_space_still_matches() -> None:
    assert run("apology", "sorry,but you pushed me away")[0] == Finding("but", "sorry,but")


def test_ellipsis_and_dashes() -> None:
    assert rules_of(run("apology", "I’m sorry… but I was lonely")) == ["but", "excuse"]
    assert rules_of(run("defensiveness", "I hear you — but you were never home")) == ["but"]


# --- precision ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I’m sorry I lied about the button on your coat, the butter, all of it.",
        "There is no justice in asking you to adjust to my lies.",
        "I'm the only person responsible for this.",
        "I'll check in at least once a day.",
        "I'll wait however long it takes.",
        "I'm sorry not only for the affair but for every lie after it.",
        "If I ever hurt you again, I will leave.",
        "I know we both want this to work, and it starts with me owning what I did.",
        "You also deserve the whole truth.",
        "I love you too.",
        "I don't know how you feel. Will you tell me?",
        "Nothing but honesty from now on.",
    ],
)
def test_sincere_sentences_pass_every_check(text: str) -> None:
    for name in NAMES:
        assert run(name, text) == (), name


def test_no_buts_is_a_promise_not_a_but() -> None:
    # "No excuses, no buts" tells the partner nothing will be taken back, so it passes.
    assert run("apology", "I'm sorry. No excuses, no buts.") == ()
    assert run("defensiveness", "I'm sorry. No excuses, no buts.") == ()


def test_a_but_that_turns_to_owning_it_passes_the_apology() -> None:
    assert run("apology", "I'm sorry, but sorry isn't enough, so here is what I'm changing.") == ()


def test_an_excuse_disowned_in_the_same_sentence_passes() -> None:
    assert run("apology", "I was drunk, but that's no excuse.") == ()
    assert rules_of(run("apology", "I was drunk. I'm sorry.")) == ["excuse"]


# --- findings: once per match, in text order -------------------------------------------


def test_findings_come_in_text_order_across_rules() -> None:
    text = "It was just a kiss. I'm sorry if you felt hurt, but you were never home."
    findings = run("apology", text)
    assert rules_of(findings) == ["minimising", "sorry_if", "but", "blame_partner"]
    starts = [text.index(f.quote) for f in findings]
    assert starts == sorted(starts)


def test_the_same_words_are_reported_once() -> None:
    assert run("validation", "Calm down. Calm down!") == (Finding("calm_down", "Calm down"),)


def test_different_matches_of_one_rule_are_each_reported() -> None:
    findings = run("validation", "Calm down. Just relax.")
    assert findings == (Finding("calm_down", "Calm down"), Finding("calm_down", "Just relax"))


def test_overlapping_patterns_of_one_rule_count_once() -> None:
    # "you need to get over it" and "get over it" are both impatience patterns
    assert run("defensiveness", "You need to get over it") == (
        Finding("impatience", "You need to get over it"),
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("text", ["", "   ", "\n\t", "ok", "’’’", "😢😢"])
def test_empty_or_odd_text_yields_nothing(name: str, text: str) -> None:
    assert run(name, text) == ()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "I’m",
                "sorry",
                "SORRY",
                "if",
                "you",
                "feel",
                "but",
                "at",
                "least",
                "just",
                "calm",
                "down",
                "it",
                "was",
                "nothing",
                "why",
                "are",
                "still",
                "upset",
                "we",
                "both",
                "made",
                "mistakes",
                "\t",
                "\n",
                "  ",
                ",",
                ".",
                "…",
                "’",
                "don’t",
                "be",
                "you're",
                "overreacting",
                "I",
                "know",
                "how",
                "é",
                "e\u0301",
            ]
        ),
        max_size=30,
    ).map(" ".join)
)
def test_any_text_gives_quotes_from_the_original(text: str) -> None:
    for name in NAMES:
        check = TEXT_CHECKS[name]
        findings = check.run(text)
        assert findings == check.run(text)  # pure: same text, same findings
        for f in findings:
            assert f.rule in check.rules
            assert f.quote and f.quote in text


# --- registry and feedback words --------------------------------------------------------


def test_registry_holds_the_three_checks() -> None:
    assert set(TEXT_CHECKS) == set(NAMES)
    for name, check in TEXT_CHECKS.items():
        assert check.name == name
        assert check.rules, name
        assert len(check.rules) == len(set(check.rules))
        assert all(SNAKE.match(r) for r in check.rules), check.rules


def test_feedback_has_an_entry_for_every_rule_and_ok() -> None:
    doc = yaml.safe_load((ROOT / "dialogues" / "_checks.yaml").read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["kind"] == "strings"
    strings: dict[str, str] = doc["strings"]
    wanted = {f"check.{c.name}.{r}" for c in TEXT_CHECKS.values() for r in (*c.rules, "ok")}
    assert set(strings) == wanted
    for key, text in strings.items():
        slots = {s.name for s in parse_template(text).slots}
        assert slots == (set() if key.endswith(".ok") else {"finding.quote"}), key
        assert set(re.findall(r"</?([a-zA-Z-]+)", text)) <= {"b", "i"}, key
        assert text.count("<i>") == text.count("</i>") and text.count("<b>") == text.count("</b>")
