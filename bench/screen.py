"""How long the crisis screen takes per message: realistic text and hostile 4,096-char input.

    .venv/bin/python -m bench.screen

Prints p50, p99 and worst per message for the corpus rows (realistic), and the best of
several repeats for each adversarial input (a pattern that backtracks would show here as
time growing with the square of the length). The goal: worst case at most 10 ms.

Patterns compile on first use, so every text is screened once before it is timed: the
figures are the steady cost per message, not the one-off cost of compiling. Each time is
also given as CPU time of this process, which a busy shared machine disturbs far less
than wall-clock time (the 2-core machine here is often running other test suites).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bot.core.screening.normalise import fold
from bot.script_loader import load_script

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 4096  # Telegram's longest message

ADVERSARIAL = {
    "fine if i + so*": "fine if i " + "so " * 1362,
    "i want to *": "i want to " * 409,
    "kill *": "kill " * 819,
    "one long word": "a" * LIMIT,
    "he *": "he " * 1365,
    "spaced letters": "k i l l " * 512,
    "full stops": ". " * 2048,
    "just *": "i " + "just " * 818,
    "my husband really*": ("my husband " + "really " * 3) * 180,
    "cyrillic mix": "хочу умeреть " * 315,
    "leet": "k1ll mys3lf " * 341,
    "emoji": "😭🔪 " * 1365,
    "zalgo": "d\u0301\u0302\u0303i\u0304e\u0305 " * 455,
}


def _time(fn: object, text: str, repeats: int, clock: object = time.perf_counter) -> float:
    assert callable(fn) and callable(clock)
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn(text)
        best = min(best, clock() - start)
    return float(best)


def main() -> None:
    result = load_script(ROOT / "dialogues")
    assert result.script is not None, "\n".join(map(str, result.errors))
    screen = result.script.screen
    texts = [row.text for row in result.corpus]
    for text in texts:
        screen.screen(text)  # compile every pattern the corpus needs
    times = []
    for text in texts:
        start = time.perf_counter()
        screen.screen(text)
        times.append(time.perf_counter() - start)
    times.sort()
    ms = 1000.0
    print(f"realistic: {len(texts)} corpus messages")
    print(
        f"  p50 {statistics.median(times) * ms:.3f} ms, "
        f"p99 {times[int(len(times) * 0.99)] * ms:.3f} ms, worst {times[-1] * ms:.3f} ms"
    )
    print(f"adversarial, {LIMIT} characters each (best of 9 runs, wall clock and CPU):")
    worst = worst_cpu = 0.0
    for name, text in ADVERSARIAL.items():
        text = text[:LIMIT]
        screen.screen(text)  # compile what this input needs
        rules_only = _time(lambda t: screen.rule_hits(fold(t)), text, 5)
        full = _time(screen.screen, text, 9)
        cpu = _time(screen.screen, text, 9, time.process_time)
        worst, worst_cpu = max(worst, full), max(worst_cpu, cpu)
        print(
            f"  {name:22} {full * ms:7.2f} ms  cpu {cpu * ms:6.2f} ms  "
            f"(rules alone {rules_only * ms:6.2f} ms)"
        )
    print(
        f"worst adversarial: {worst * ms:.2f} ms, cpu {worst_cpu * ms:.2f} ms (goal: at most 10 ms)"
    )


if __name__ == "__main__":
    main()
