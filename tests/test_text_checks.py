"""The text checks: rules in dialogues/checks/*.yaml, compiled by `compile_check`, measured
against labelled answers in tests/data/checks/ (tuning) and tests/data/checks/heldout/
(measured only, never tuned on).

Run with `-s` to see the accuracy and timing report each check prints.
"""

from __future__ import annotations

import ast
import gc
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.checks import Finding, TextCheck, Verdict, compile_check
from bot.core.checks.pattern_shape import superlinear
from bot.core.template import parse_template
from bot.core.yamlsource import LineDict, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
CHECKS_DIR = ROOT / "dialogues" / "checks"
DATA = Path(__file__).resolve().parent / "data" / "checks"
HELDOUT = DATA / "heldout"
INDEPENDENT = DATA / "independent"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "checks_broken"
NAMES = ("apology", "defensiveness", "validation", "promise", "harm", "context")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
HELDOUT_FLOOR = 0.85
TUNING_FLOOR = 0.98
BUDGET_MS = 50.0  # the aim is 10 ms; the margin is for a busy test machine


def load_checks(dir_path: Path) -> dict[str, TextCheck]:
    """Every check in `dir_path`, compiled; fails on any problem in any file."""
    checks: dict[str, TextCheck] = {}
    for path in sorted(dir_path.glob("*.yaml")):
        parsed = parse_yaml(path.read_text(encoding="utf-8"))
        assert not parsed.duplicates, f"{path}: duplicate keys {parsed.duplicates}"
        assert isinstance(parsed.data, LineDict), path
        check, problems = compile_check(str(path), parsed.data)
        assert check is not None and not problems, f"{path}: {problems}"
        checks[check.name] = check
    return checks


CHECKS = load_checks(CHECKS_DIR)


def load(name: str, heldout: bool = False) -> dict[str, Any]:
    with ((HELDOUT if heldout else DATA) / f"{name}.yaml").open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def examples(kind: str) -> list[Any]:
    out = []
    for name in NAMES:
        for i, ex in enumerate(load(name).get(kind, [])):
            out.append(pytest.param(name, ex, id=f"{name}-{kind}-{i}"))
    return out


def run(name: str, text: str) -> tuple[Finding, ...]:
    return CHECKS[name].run(text)


def rules_of(findings: tuple[Finding, ...]) -> list[str]:
    return [f.rule for f in findings]


def caught(verdict: Verdict) -> bool:
    """A poor answer is caught when the coach questions it: a finding, or too thin to praise."""
    return bool(verdict.findings) or verdict.thin


def praised(verdict: Verdict) -> bool:
    return not verdict.findings and not verdict.thin


def accuracy(check: TextCheck, poor: list[str], good: list[str]) -> tuple[int, int, float]:
    flagged = sum(caught(check.verdict(t)) for t in poor)
    passed = sum(praised(check.verdict(t)) for t in good)
    return flagged, passed, (flagged + passed) / (len(poor) + len(good))


# --- the check files -----------------------------------------------------------------------


def test_every_check_file_compiles_and_the_six_checks_are_there() -> None:
    assert set(CHECKS) == set(NAMES)
    for name, check in CHECKS.items():
        assert check.name == name
        assert check.rules and len(check.rules) == len(set(check.rules)), name
        assert all(SNAKE.match(r) for r in (*check.rules, *check.strength_ids)), name
        assert check.requires is not None, f"{name}: every check says what earns praise"


def test_compiling_is_pure_and_repeatable() -> None:
    path = CHECKS_DIR / "apology.yaml"
    doc = parse_yaml(path.read_text(encoding="utf-8")).data
    before = repr(doc)
    first, _ = compile_check(str(path), doc)
    second, _ = compile_check(str(path), doc)
    assert repr(doc) == before  # the parsed file is not changed
    assert first is not None and second is not None
    text = "I'm sorry if you felt hurt, but you were never home. I chose to lie."
    assert first.verdict(text) == second.verdict(text)


def test_the_checks_package_reads_no_files() -> None:
    for path in sorted((ROOT / "bot" / "core" / "checks").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                assert not {str(m).split(".")[0] for m in modules} & {"os", "pathlib", "io"}
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name}:{node.lineno}"


def test_flows_only_name_checks_that_exist() -> None:
    named = set()
    for path in sorted((ROOT / "dialogues").glob("*.yaml")):
        named |= set(re.findall(r"^\s+check: (\w+)\s*$", path.read_text(), re.M))
    assert named and named <= set(CHECKS)


# --- broken files: every problem named, on the right line -------------------------------------


def broken_fixtures() -> list[Path]:
    files = sorted(BROKEN.glob("*.yaml"))
    assert len(files) >= 6
    return files


@pytest.mark.parametrize("path", broken_fixtures(), ids=lambda p: p.stem)
def test_a_broken_check_file_names_each_problem_and_its_line(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = [
        (int(m.group(1)), m.group(2)) for m in re.finditer(r"^# expect: (\d+): (.+)$", text, re.M)
    ]
    assert expected, f"{path.name} says nothing about what it expects"
    doc = parse_yaml(text).data
    check, problems = compile_check(str(path), doc)
    assert check is None
    for line, words in expected:
        assert any(got == line and words in message for got, message in problems), (
            f"expected line {line}: {words!r}; got {problems}"
        )
    for got, message in problems:
        assert any(got == line and words in message for line, words in expected), (
            f"unexpected {got}: {message}"
        )


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"\bsorry(?: \w+)*", "after a group"),
        (r"(?:a|b)+", "after a group"),
        (r"[^.!?]*but", "spans words"),
        (r".+", "spans words"),
        (r"[\w ]+", "spans words"),
        (r"x{0,7}", "goes over 6"),
        (r"(?:(?: \w+){0,2}){0,2}", "inside a repeated group"),
        (r"(a)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "backreference"),
    ],
)
def test_super_linear_shapes_are_refused(pattern: str, problem: str) -> None:
    message = superlinear(pattern)
    assert message is not None and problem in message


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bsorry\w*",
        r"[a-z']+",
        r"(?: [^ .!?;]+){0,6}",
        r"(?: [^ .!?;]+){0,6}?(?: [^ .!?;]+){0,6}?",
        r"\d{1,2}(?::\d\d)?",
        r"(?:very )?sorry",
        r"\s+",
    ],
)
def test_linear_shapes_are_allowed(pattern: str) -> None:
    assert superlinear(pattern) is None


# --- the labelled data ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_data_has_enough_examples_and_the_splits_do_not_overlap(name: str) -> None:
    data = load(name)
    assert set(data) <= {"flag", "pass", "neutral"}
    assert len(data["flag"]) >= 60 and len(data["pass"]) >= 60
    held = load(name, heldout=True)
    assert set(held) == {"poor", "good"}
    assert len(held["poor"]) >= 30 and len(held["good"]) >= 30
    tuning = [ex["text"] for kind in data for ex in data[kind]]
    assert len(tuning) == len(set(tuning)), "duplicate example"
    heldout = held["poor"] + held["good"]
    assert len(heldout) == len(set(heldout)), "duplicate held-out example"

    def canon(t: str) -> str:
        return re.sub(r"[^a-z]+", " ", t.lower().replace("\u2019", "'")).strip()

    assert not {canon(t) for t in tuning} & {canon(t) for t in heldout}, "a held-out line leaked"


@pytest.mark.parametrize("name", NAMES)
def test_data_uses_every_rule_and_strength_and_only_those(name: str) -> None:
    check = CHECKS[name]
    data = load(name)
    listed = {rule for ex in data["flag"] for rule in ex.get("rules", [])}
    assert listed == set(check.rules), f"no flag example for {set(check.rules) - listed}"
    shown = {s for ex in data["pass"] for s in ex.get("strengths", [])}
    assert shown <= set(check.strength_ids)
    for ex in data["flag"]:
        assert bool(ex.get("rules")) != bool(ex.get("thin")), ex  # rules, or thin: true
    assert any(ex.get("thin") for ex in data["flag"]), "no thin example"


@pytest.mark.parametrize(("name", "example"), examples("flag"))
def test_flag_example_yields_its_rules_or_is_thin(name: str, example: dict[str, Any]) -> None:
    verdict = CHECKS[name].verdict(example["text"])
    if example.get("thin"):
        assert verdict.findings == () and verdict.thin, verdict
    else:
        missing = set(example["rules"]) - set(rules_of(verdict.findings))
        assert not missing, f"missing {missing}; got {verdict.findings}"


@pytest.mark.parametrize(("name", "example"), examples("pass"))
def test_pass_example_yields_nothing_and_earns_praise(name: str, example: dict[str, Any]) -> None:
    verdict = CHECKS[name].verdict(example["text"])
    assert verdict.findings == (), verdict.findings
    assert not verdict.thin and verdict.strengths
    missing = set(example.get("strengths", [])) - {s.rule for s in verdict.strengths}
    assert not missing, f"missing strengths {missing}; got {verdict.strengths}"


@pytest.mark.parametrize(("name", "example"), examples("neutral"))
def test_neutral_example_yields_nothing(name: str, example: dict[str, Any]) -> None:
    assert run(name, example["text"]) == ()


@pytest.mark.parametrize("name", NAMES)
def test_tuning_accuracy(name: str) -> None:
    data = load(name)
    poor = [ex["text"] for ex in data["flag"]]
    good = [ex["text"] for ex in data["pass"]]
    flagged, passed, acc = accuracy(CHECKS[name], poor, good)
    print(
        f"\n{name}: tuning   poor flagged {flagged}/{len(poor)}, "
        f"good passed {passed}/{len(good)}, accuracy {acc:.3f}"
    )
    assert acc >= TUNING_FLOOR


@pytest.mark.parametrize("name", NAMES)
def test_heldout_accuracy(name: str) -> None:
    """Measured only: never change a rule because of a line in heldout/."""
    held = load(name, heldout=True)
    flagged, passed, acc = accuracy(CHECKS[name], held["poor"], held["good"])
    by_rule = sum(bool(CHECKS[name].run(t)) for t in held["poor"])
    print(
        f"\n{name}: held-out poor flagged {flagged}/{len(held['poor'])} "
        f"({by_rule} by a rule), good passed {passed}/{len(held['good'])}, accuracy {acc:.3f}"
    )
    assert acc >= HELDOUT_FLOOR


# Independent sets: written apart from the rules, the tuning and the held-out lines, in the
# shapes an outside measurement found the first rules missed. Measured only: never tune on
# them and never edit them. Each floor sits just under the figure measured when the rules
# were broadened (apology 101/103, defensiveness 100/101, validation 101/101).
INDEPENDENT_FLOORS = {"apology": 0.97, "defensiveness": 0.98, "validation": 0.99}


def load_independent(name: str) -> dict[str, list[str]]:
    with (INDEPENDENT / f"{name}.yaml").open(encoding="utf-8") as f:
        data: dict[str, list[str]] = yaml.safe_load(f)
    return data


@pytest.mark.parametrize("name", sorted(INDEPENDENT_FLOORS))
def test_independent_accuracy(name: str) -> None:
    """Measured only: never change a rule because of a line in independent/."""
    held = load_independent(name)
    assert set(held) == {"poor", "good"}
    assert len(held["poor"]) >= 50 and len(held["good"]) >= 50
    assert len(set(held["poor"] + held["good"])) == len(held["poor"]) + len(held["good"])

    def canon(t: str) -> str:
        return re.sub(r"[^a-z]+", " ", t.lower().replace("\u2019", "'")).strip()

    data = load(name)
    tuning = {canon(ex["text"]) for kind in data for ex in data[kind]}
    assert not tuning & {canon(t) for t in held["poor"] + held["good"]}, "a line leaked"
    flagged, passed, acc = accuracy(CHECKS[name], held["poor"], held["good"])
    by_rule = sum(bool(CHECKS[name].run(t)) for t in held["poor"])
    print(
        f"\n{name}: independent poor flagged {flagged}/{len(held['poor'])} "
        f"({by_rule} by a rule), good passed {passed}/{len(held['good'])}, accuracy {acc:.3f}"
    )
    assert acc >= INDEPENDENT_FLOORS[name]


@pytest.mark.parametrize(
    ("name", "example"), examples("flag") + examples("pass") + examples("neutral")
)
def test_findings_quote_the_original_text_in_order(name: str, example: dict[str, Any]) -> None:
    text = example["text"]
    verdict = CHECKS[name].verdict(text)
    for group, ids in ((verdict.findings, CHECKS[name].rules),
                       (verdict.strengths, CHECKS[name].strength_ids)):  # fmt: skip
        start = 0
        for f in group:
            assert isinstance(f, Finding) and f.rule in ids
            assert f.quote and f.quote in text and f.quote == f.quote.strip()
            start = text.find(f.quote, start)
            assert start >= 0, f"{f} out of order in {group}"


# --- what a check gives back -----------------------------------------------------------------


def test_a_verdict_holds_findings_strengths_and_thin() -> None:
    check = CHECKS["apology"]
    v = check.verdict("I'm sorry if you felt hurt. I chose to lie.")
    assert v.findings == (Finding("sorry_if", "sorry if"),)
    assert "owns_choice" in {s.rule for s in v.strengths}
    assert v.thin is False  # a finding is never thin: the feedback is the finding
    assert check.run("I'm sorry if you felt hurt. I chose to lie.") == v.findings
    assert Finding("owns_choice", "I chose to lie") in check.strengths("I chose to lie.")


@pytest.mark.parametrize("name", NAMES)
def test_a_bare_answer_is_thin_not_praised(name: str) -> None:
    for text in ("ok", "I don't know.", "Yes."):
        v = CHECKS[name].verdict(text)
        assert v.findings == () and v.strengths == () and v.thin, (name, text)


def test_praise_quotes_the_words_that_earned_it() -> None:
    v = CHECKS["apology"].verdict("I chose to lie to you, and I'm sorry.")
    assert Finding("owns_choice", "I chose to lie to you") in v.strengths
    v = CHECKS["promise"].verdict("I’ll text you when I leave work, every day.")
    assert {s.rule for s in v.strengths} >= {"names_time", "names_frequency", "names_action"}
    assert any(s.quote.startswith("every day") for s in v.strengths)


def test_unless_strength_cancels_a_rule_anywhere_in_the_answer() -> None:
    check = CHECKS["context"]
    assert rules_of(check.run("Work was stressful and I wasn't myself.")) == ["excuse"]
    assert check.run("Work was stressful and I wasn't myself. That was still my choice.") == ()


def test_unless_cancels_a_rule_in_the_same_sentence_only() -> None:
    check = CHECKS["apology"]
    assert check.run("I was drunk, but that's no excuse.") == ()
    assert rules_of(check.run("I was drunk. I'm sorry.")) == ["excuse"]


# --- normalising: apostrophes, case, whitespace, spelling --------------------------------------


@pytest.mark.parametrize(
    ("name", "straight", "curly"),
    [
        ("apology", "I'm sorry you're upset", "I’m sorry you’re upset"),
        ("apology", "it wasn't a big deal", "it wasn‘t a big deal"),
        ("defensiveness", "I've apologised enough", "I’ve apologised enough"),
        ("defensiveness", "You're overreacting", "You’re overreacting"),
        ("validation", "You shouldn't feel that way", "You shouldn’t feel that way"),
        ("validation", "What's the big deal?", "What’s the big deal?"),
        ("promise", "I'll try to be better", "I’ll try to be better"),
        ("harm", "I've been miserable since", "I’ve been miserable since"),
        ("context", "It wasn't my fault", "It wasn’t my fault"),
    ],
)
def test_curly_apostrophes_match_like_straight_ones(name: str, straight: str, curly: str) -> None:
    plain, fancy = run(name, straight), run(name, curly)
    assert rules_of(plain) and rules_of(plain) == rules_of(fancy)
    for f in fancy:
        assert f.quote in curly  # quoted with the curly apostrophe the person typed


def test_missing_apostrophes_still_match() -> None:
    assert rules_of(run("validation", "you shouldnt feel that way")) == ["should_not_feel"]
    assert rules_of(run("defensiveness", "youre overreacting")) == ["judging"]
    assert rules_of(run("promise", "ill do my best")) == ["trying"]


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


def test_a_line_break_ends_a_sentence_for_but() -> None:
    assert rules_of(run("apology", "I'm sorry\nbut you need to understand\twhy")) == ["but"]


def test_punctuation_without_a_space_still_matches() -> None:
    assert run("apology", "sorry,but you pushed me away")[0] == Finding("but", "sorry,but")


def test_ellipsis_and_dashes() -> None:
    assert rules_of(run("apology", "I’m sorry… but I was lonely")) == ["but", "excuse"]
    assert rules_of(run("defensiveness", "I hear you — but you were never home")) == ["but"]


def test_a_letter_typed_again_and_again_is_read_once_and_quoted_whole() -> None:
    assert run("apology", "Im sooo sorryyyy if u were hurt") == (
        Finding("sorry_if", "sorryyyy if"),
    )


def test_text_speak_is_read_through_the_spelling_table() -> None:
    assert rules_of(run("defensiveness", "ur being paranoid")) == ["judging"]
    assert run("apology", "i did it bc u were never home")[0].quote.startswith("bc u were")


# --- precision ------------------------------------------------------------------------------


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
def test_sincere_sentences_raise_no_problem_in_any_check(text: str) -> None:
    for name in NAMES:
        assert run(name, text) == (), name


def test_no_buts_is_a_promise_not_a_but() -> None:
    # "No excuses, no buts" tells the partner nothing will be taken back, so it passes.
    assert run("apology", "I'm sorry. No excuses, no buts.") == ()
    assert run("defensiveness", "I'm sorry. No excuses, no buts.") == ()


def test_a_but_that_turns_to_owning_it_passes_the_apology() -> None:
    assert run("apology", "I'm sorry, but sorry isn't enough, so here is what I'm changing.") == ()


# --- findings: once per match, in text order --------------------------------------------------


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
    assert CHECKS[name].strengths(text) == ()


WORDS = [
    "I’m", "sorry", "SORRY", "if", "you", "feel", "but", "at", "least", "just", "calm",
    "down", "it", "was", "nothing", "why", "are", "still", "upset", "we", "both", "made",
    "mistakes", "\t", "\n", "  ", ",", ".", "…", "’", "don’t", "be", "you're",
    "overreacting", "I", "know", "how", "é", "e\u0301", "try", "every", "day", "at 6",
    "because", "so", "chose", "soooo", "u", "lost", "whenever", "can",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join))
def test_any_text_gives_quotes_from_the_original(text: str) -> None:
    for name in NAMES:
        check = CHECKS[name]
        verdict = check.verdict(text)
        assert verdict == check.verdict(text)  # pure: same text, same answer
        assert verdict.findings == check.run(text)
        for f in (*verdict.findings, *verdict.strengths):
            assert f.rule in (*check.rules, *check.strength_ids)
            assert f.quote and f.quote in text


# --- speed ------------------------------------------------------------------------------------


def _fill(piece: str) -> str:
    return (piece * (4096 // len(piece) + 1))[:4096]


ADVERSARIAL = {
    "triggers": _fill(
        "i'm sorry if you feel that but you were never there, we both made mistakes and at "
        "least it was just once. "
    ),
    "repeats": _fill("you you i i sorry sorry but but because so "),
    "one_word": "a" * 4096,
    "no_stop": _fill("because you never listened so i went and she kept texting me and "),
    "apostrophes": _fill("'''''' "),
    "punctuation": _fill(". , ! ? ; "),
    "promises": _fill("every day at 6 when i whenever you if i can more often try "),
    "feelings": _fill("you feel hurt you felt betrayed you're angry i understand but "),
    "capitals": _fill("I’M SORRY IF YOU FEEL THAT WAY, BUT… "),
    "line_breaks": _fill("sorry\n\nbut\tyou\n"),
    "long_words": _fill("x" * 500 + " "),
}


@pytest.mark.parametrize("name", NAMES)
def test_a_long_adversarial_text_is_checked_quickly(name: str) -> None:
    check = CHECKS[name]
    worst = 0.0
    for text in ADVERSARIAL.values():
        assert len(text) == 4096
        runs = []
        for _ in range(5):
            gc.disable()  # time the check, not a collection of the whole test session
            try:
                start = time.perf_counter()
                check.verdict(text)
                runs.append((time.perf_counter() - start) * 1000)
            finally:
                gc.enable()
        worst = max(worst, min(runs))
    print(f"\n{name}: slowest 4,096-character adversarial text {worst:.1f} ms")
    assert worst < BUDGET_MS


# --- feedback words -------------------------------------------------------------------------------

_TAGS = {"b", "i", "u", "s", "code", "a", "blockquote"}


def feedback() -> dict[str, str]:
    doc = yaml.safe_load((ROOT / "dialogues" / "_checks.yaml").read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["kind"] == "strings"
    strings: dict[str, str] = doc["strings"]
    return strings


def test_feedback_has_every_key_the_checks_need_and_no_other() -> None:
    wanted: set[str] = set()
    for check in CHECKS.values():
        base = f"check.{check.name}"
        wanted |= {f"{base}.{r}" for r in check.rules} | {f"{base}.ok"}
        wanted |= {f"{base}.praise.{s}.{n}" for s in check.strength_ids for n in (1, 2, 3)}
        wanted |= {f"{base}.thin.1", f"{base}.thin.2"}
    assert set(feedback()) == wanted


def test_feedback_slots_and_html() -> None:
    for key, text in feedback().items():
        slots = {s.name for s in parse_template(text).slots}
        quoting = not (key.endswith(".ok") or ".thin." in key)
        assert slots == ({"finding.quote"} if quoting else set()), key
        tags = re.findall(r"</?([a-zA-Z-]+)", text)
        assert set(tags) <= _TAGS, key
        for tag in set(tags):
            assert text.count(f"<{tag}>") == text.count(f"</{tag}>"), key
        bare = re.sub(rf"</?(?:{'|'.join(_TAGS)})>", "", text)
        assert not re.search(r"[<>]|&(?![a-z]+;|#\d+;)", bare), key
        assert len(text) <= 400, f"{key}: keep feedback short enough for a phone"


def test_each_praise_variant_is_different() -> None:
    strings = feedback()
    for check in CHECKS.values():
        for s in check.strength_ids:
            variants = [strings[f"check.{check.name}.praise.{s}.{n}"] for n in (1, 2, 3)]
            assert len(set(variants)) == 3, (check.name, s)
        assert strings[f"check.{check.name}.thin.1"] != strings[f"check.{check.name}.thin.2"]
