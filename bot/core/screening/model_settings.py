"""How the classifier is trained and when it speaks: `dialogues/screening/model.yaml`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.yamlsource import LineDict

MODEL_KEYS = {"version", "kind", "danger_c", "kind_c", "min_count", "unclear_at", "clear_at"}
MODEL_KEYS |= {"max_false_alarms", "max_clear_false_alarms", "folds"}


@dataclass(frozen=True)
class ModelSettings:
    danger_c: float = 4.0  # inverse regularisation of the danger model
    kind_c: float = 4.0  # and of the kind model
    min_count: int = 2  # a feature must appear in this many training rows
    unclear_at: float = 0.5  # lowest probability of danger from which the coach asks
    clear_at: float = 0.9  # and lowest from which it interrupts at once
    # Training raises both thresholds until, in cross-validation over the training split,
    # at most this share of everyday rows would be flagged (unclear, clear).
    max_false_alarms: float = 0.02
    max_clear_false_alarms: float = 0.002
    folds: int = 5


def compile_model_settings(doc: LineDict) -> tuple[ModelSettings, list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = []
    for key in doc:
        if key not in MODEL_KEYS:
            allowed = ", ".join(sorted(MODEL_KEYS))
            problems.append((doc.line_of(key), f"unknown key {key!r} (allowed: {allowed})"))
    values: dict[str, float | int] = {}
    defaults = ModelSettings()
    for name in ("danger_c", "kind_c", "unclear_at", "clear_at", "max_false_alarms",
                 "max_clear_false_alarms"):  # fmt: skip
        raw = doc.get(name, getattr(defaults, name))
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            problems.append((doc.line_of(name), f"{name!r} must be a positive number"))
            continue
        values[name] = float(raw)
    for name, least in (("min_count", 1), ("folds", 2)):
        raw_count = doc.get(name, getattr(defaults, name))
        if isinstance(raw_count, bool) or not isinstance(raw_count, int) or raw_count < least:
            problems.append((doc.line_of(name), f"{name!r} must be a whole number >= {least}"))
        else:
            values[name] = raw_count
    settings = ModelSettings(**values)  # type: ignore[arg-type]
    if not 0 < settings.unclear_at <= settings.clear_at < 1:
        problems.append((doc.line, "need 0 < unclear_at <= clear_at < 1"))
    return settings, problems
