"""Train the crisis screen's classifier from the shipped corpus, or load it from the cache.

Deterministic: the same corpus, settings and feature version give the same weights,
so the cache is keyed by a hash of all three. Nothing is downloaded; scikit-learn only
fits two logistic regressions on the corpus rows that are not held out. The core gets
plain weights (`bot.core.screening.classifier`), never a scikit-learn object.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.screening.classifier import FEATURE_VERSION, Classifier, LinearModel, features
from bot.core.screening.corpus import Example, is_held_out
from bot.core.screening.model_settings import ModelSettings
from bot.core.screening.normalise import reading

log = logging.getLogger(__name__)
KIND_CLASSES = ("suicide", "self_harm", "harm_others", "abuse")


def training_rows(corpus: Sequence[Example]) -> list[Example]:
    """The rows the model may learn from: everything but the held-out split, deduplicated."""
    seen: set[str] = set()
    out: list[Example] = []
    for row in sorted(corpus, key=lambda r: (r.language, r.label, r.text)):
        key = " ".join(row.text.casefold().split())
        if key in seen or is_held_out(row.text):
            continue
        seen.add(key)
        out.append(row)
    return out


def cache_key(corpus: Sequence[Example], settings: ModelSettings) -> str:
    digest = hashlib.sha256(f"features:{FEATURE_VERSION}\n{settings!r}\n".encode())
    for row in training_rows(corpus):
        digest.update(f"{row.label}\t{row.level}\t{row.text}\n".encode())
    return digest.hexdigest()[:16]


def build_classifier(
    corpus: Sequence[Example], settings: ModelSettings, cache_dir: Path | None
) -> Classifier | None:
    """The trained classifier (from the cache when it is there), or None without a corpus."""
    rows = training_rows(corpus)
    if not any(r.crisis for r in rows) or all(r.crisis for r in rows):
        return None
    key = cache_key(corpus, settings)
    path = cache_dir / f"screen-{key}.json" if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            return from_json(json.loads(path.read_text()), settings)
        except (ValueError, KeyError, TypeError):
            log.warning("the screen model cache %s is unreadable; training again", path.name)
    data = train(rows, settings)
    if path is not None:
        _write_atomically(path, json.dumps(data, separators=(",", ":")))
    return from_json(data, settings)


def train(rows: Sequence[Example], settings: ModelSettings) -> dict[str, Any]:
    """Fit on every training row; pick the thresholds by cross-validation on the same rows."""
    readings = [reading(r.text) for r in rows]
    feats = [features(t) for t in readings]
    data = _fit(rows, feats, settings)
    probabilities = [0.0] * len(rows)
    for fold in range(settings.folds):
        inside = [i for i in range(len(rows)) if i % settings.folds != fold]
        fitted = from_json(_fit([rows[i] for i in inside], [feats[i] for i in inside], settings),
                           settings)  # fmt: skip
        for i in range(fold, len(rows), settings.folds):
            probabilities[i] = fitted.probability(readings[i])
    everyday = sorted(p for p, r in zip(probabilities, rows, strict=True) if not r.crisis)
    data["unclear_at"] = max(settings.unclear_at, _above(everyday, settings.max_false_alarms))
    data["clear_at"] = max(settings.clear_at, _above(everyday, settings.max_clear_false_alarms))
    data["unclear_at"] = min(data["unclear_at"], data["clear_at"])
    return data


def _above(sorted_scores: Sequence[float], share: float) -> float:
    """The lowest threshold that leaves at most `share` of the scores at or above it."""
    allowed = int(share * len(sorted_scores))
    if allowed >= len(sorted_scores):
        return 0.0
    return min(0.999999, sorted_scores[len(sorted_scores) - 1 - allowed] + 1e-6)


def _fit(
    rows: Sequence[Example], feats: Sequence[set[str]], settings: ModelSettings
) -> dict[str, Any]:
    from scipy.sparse import csr_matrix

    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    vocab = sorted(f for f, n in counts.items() if n >= settings.min_count)
    index = {f: i for i, f in enumerate(vocab)}

    def matrix(selected: Sequence[int]) -> Any:
        data: list[float] = []
        cols: list[int] = []
        ptr = [0]
        for i in selected:
            present = sorted(index[f] for f in feats[i] if f in index)
            scale = 1.0 / (len(present) ** 0.5) if present else 0.0
            cols += present
            data += [scale] * len(present)
            ptr.append(len(cols))
        return csr_matrix((data, cols, ptr), shape=(len(selected), len(vocab)))

    everyone = list(range(len(rows)))
    danger = _logistic(settings.danger_c)
    danger.fit(matrix(everyone), [1 if r.crisis else 0 for r in rows])
    crisis = [i for i in everyone if rows[i].crisis]
    kind = _logistic(settings.kind_c)
    kind.fit(matrix(crisis), [rows[i].label for i in crisis])
    kind_classes = [str(c) for c in kind.classes_]
    kind_coef = kind.coef_ if len(kind_classes) > 2 else _two_class(kind.coef_)
    kind_intercept = kind.intercept_ if len(kind_classes) > 2 else _two_class_b(kind.intercept_)

    def rounded(x: float) -> float:
        return round(float(x), 5)

    weights: dict[str, list[float]] = {}
    for f, i in index.items():
        d = rounded(danger.coef_[0][i])
        weights[f] = [d, *(rounded(kind_coef[c][i]) for c in range(len(kind_classes)))]
    return {
        "kind_classes": kind_classes,
        "danger_intercept": rounded(danger.intercept_[0]),
        "kind_intercept": [rounded(x) for x in kind_intercept],
        "weights": weights,
    }


def _logistic(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    # saga is quick on sparse n-grams; a fixed seed keeps it deterministic.
    return LogisticRegression(
        C=c, class_weight="balanced", solver="saga", max_iter=3000, tol=1e-4, random_state=0
    )


def _two_class(coef: Any) -> list[list[float]]:
    return [[-float(x) for x in coef[0]], [float(x) for x in coef[0]]]


def _two_class_b(intercept: Any) -> list[float]:
    return [-float(intercept[0]), float(intercept[0])]


def from_json(data: dict[str, Any], settings: ModelSettings) -> Classifier:
    classes = tuple(str(c) for c in data["kind_classes"])
    weights = data["weights"]
    danger = LinearModel(("danger",), {f: (w[0],) for f, w in weights.items()},
                         (float(data["danger_intercept"]),))  # fmt: skip
    kind = LinearModel(classes, {f: tuple(w[1:]) for f, w in weights.items()},
                       tuple(float(x) for x in data["kind_intercept"]))  # fmt: skip
    unclear_at = float(data.get("unclear_at", settings.unclear_at))
    clear_at = float(data.get("clear_at", settings.clear_at))
    return Classifier(danger, kind, unclear_at, clear_at)


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".screen-", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs the next start a retrain
        log.warning("could not cache the screen model (%s)", type(exc).__name__)
