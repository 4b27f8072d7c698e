"""Score runs on the targets they all share, so a proof compares like with like.

A fix can change which targets a run scores: a longer window or a gap starts the test
windows later, more rows or another split move the test span, imputation changes what is
true. Each run's evaluate saved every validation and test target it scored (time and lead,
or the sequence, with the truth and every answer: stages/targets.py); here the rows common
to every run are found and each run is scored on those alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstm_doctor.base import metrics

SPLITS = ("val", "test")
# The columns of a targets table that are not answers.
NOT_ANSWERS = frozenset({"split", "time", "lead", "sample", "actual"})


@dataclass
class CommonScores:
    """Each run's scores on the common targets (metric name → value, by run id), and how
    many targets each split shares (of how many the runs scored at most)."""

    by_run: dict[str, dict[str, float]] = field(default_factory=dict)
    shared: dict[str, int] = field(default_factory=dict)
    largest: dict[str, int] = field(default_factory=dict)

    def says(self) -> str:
        """One sentence for the report: how many targets were common to every run."""
        parts = [
            f"{split}: {self.shared.get(split, 0)} of up to {self.largest.get(split, 0)}"
            for split in SPLITS
        ]
        return "targets common to every run, scored alike (" + "; ".join(parts) + ")"


def keys_of(table: pd.DataFrame) -> list[str]:
    """What identifies a target: its time and lead (forecasts) or its sequence (classes)."""
    return ["time", "lead"] if "time" in table.columns else ["sample"]


def common_index(tables: list[pd.DataFrame], split: str) -> pd.MultiIndex | pd.Index:
    """The targets of `split` that every table scored."""
    shared: pd.Index | None = None
    for table in tables:
        rows = table[table["split"] == split]
        index = (
            pd.MultiIndex.from_frame(rows[keys_of(table)])
            if "time" in rows
            else pd.Index(rows["sample"])
        )
        shared = index if shared is None else shared.intersection(index)
    return shared if shared is not None else pd.Index([])


def score_forecasts(rows: pd.DataFrame, prefix: str) -> dict[str, float]:
    """The model's MAE on `rows`, and its skill against the best baseline and the linear
    model on the same rows (1 − model MAE / theirs)."""
    actual = rows["actual"].to_numpy(dtype=float)
    errors = {
        name: float(np.mean(np.abs(rows[name].to_numpy(dtype=float) - actual)))
        for name in rows.columns
        if name not in NOT_ANSWERS
    }
    model = errors.pop("model")
    scores = {f"{prefix}_mae": model}
    if errors:
        scores[f"{prefix}_skill_vs_best"] = metrics.skill(model, min(errors.values()))
    if "linear" in errors:
        scores[f"{prefix}_skill_vs_linear"] = metrics.skill(model, errors["linear"])
    return scores


def score_classes(rows: pd.DataFrame, prefix: str) -> dict[str, float]:
    """Accuracy and balanced accuracy (the mean recall over the classes present) on `rows`,
    and the skill on the error rate against the best baseline."""
    actual = rows["actual"].to_numpy()

    def accuracy(name: str) -> float:
        return float(np.mean(rows[name].to_numpy() == actual))

    classes = np.unique(actual)
    model = rows["model"].to_numpy()
    balanced = float(np.mean([np.mean(model[actual == c] == c) for c in classes]))
    scores = {f"{prefix}_accuracy": accuracy("model"), f"{prefix}_balanced_accuracy": balanced}
    others = [accuracy(n) for n in rows.columns if n not in NOT_ANSWERS and n != "model"]
    if others:
        scores[f"{prefix}_skill_vs_best"] = metrics.skill(
            1 - scores[f"{prefix}_accuracy"], 1 - max(others)
        )
    return scores


def score_on_common(tables: dict[str, pd.DataFrame]) -> CommonScores:
    """Every run (its id → its targets table) scored on the targets all of them share.

    Metrics are named `<split>_common_<measure>`: val_common_mae, test_common_skill_vs_best,
    val_common_balanced_accuracy, ... A split with no common target gives no metric. Each
    run's scores on all of its own targets are there too, as `<split>_own_<measure>`.
    """
    result = CommonScores()
    frames = list(tables.values())
    for run_id, table in tables.items():
        # Each run on its own targets too: its skill there is free of the target's scale, the
        # yardstick left where the runs share no target.
        for split in SPLITS:
            rows = table[table["split"] == split]
            if len(rows):
                score = score_forecasts if "time" in rows else score_classes
                result.by_run.setdefault(run_id, {}).update(score(rows, f"{split}_own"))
    for split in SPLITS:
        shared = common_index(frames, split)
        result.shared[split] = len(shared)
        result.largest[split] = max((int((t["split"] == split).sum()) for t in frames), default=0)
        if len(shared) == 0:
            continue
        for run_id, table in tables.items():
            rows = table[table["split"] == split].set_index(keys_of(table))
            rows = rows[~rows.index.duplicated()].loc[shared].reset_index()
            score = score_forecasts if "time" in rows else score_classes
            result.by_run.setdefault(run_id, {}).update(score(rows, f"{split}_common"))
    return result
