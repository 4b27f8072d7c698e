"""What a prescription is proved on: the quantity its fix is meant to move.

`lstm-doctor fix` and the scenario benchmark compare a fix with the diagnosed run over
seeds. The test MAE (or accuracy) is the right quantity for most fixes, but not all:
- a fix that changes the split or the data read (split.*, dataset.*) changes the test span
  itself, so errors in the target's units are not comparable: forecasts are compared on
  MASE (the error over the seasonal-naive forecast's in-sample error), free of the scale;
- a fix for a rare class is meant to find the rare class, which plain accuracy rewards
  ignoring: classifiers with imbalanced classes are compared on balanced accuracy;
- a fix for leakage makes the test score honest, not better (the leaked score flatters
  the model): no test metric can prove it, and it is not counted as a repair.
"""

from __future__ import annotations

from typing import Any

from lstm_doctor.doctor.report import primaries, symptoms

# Fixes whose point is an honest score: a worse test score after them is the truth.
HONESTY = frozenset({"data.scaling_leakage"})
# Findings about a rare class: its fix is proved on balanced accuracy.
BALANCE = frozenset({"data.class_imbalance", "train.majority_class"})
# Override prefixes that change which windows are tested.
SPAN_KEYS = ("split.", "dataset.")


def finding_of(result: dict[str, Any], fix: str) -> dict[str, Any] | None:
    """The finding that prescribes `fix` first (primaries before symptoms)."""
    return next((f for f in primaries(result) + symptoms(result) if fix in f["fixes"]), None)


def proof_metric(code: str | None, fix: str, task: str) -> str | None:
    """The logged test metric that proves `fix` for finding `code`; None when no test metric
    can (an honesty fix)."""
    if code in HONESTY:
        return None
    if task == "classify":
        return "test_balanced_accuracy" if code in BALANCE else "test_accuracy"
    if any(part.startswith(SPAN_KEYS) for part in fix.split()):
        return "test_mase"
    return "test_mae"


def judged_on(result: dict[str, Any], fix: str, task: str) -> tuple[str | None, str | None]:
    """The finding a diagnosis prescribes `fix` for, and the metric that proves it there."""
    code = (finding_of(result, fix) or {}).get("code")
    return code, proof_metric(code, fix, task)


def why_metric(code: str | None, metric: str | None) -> str:
    """One sentence on why the fix is judged on `metric`."""
    if metric is None:
        return (
            f"`{code}`'s fix makes the test score honest, not better: a worse score after it "
            "is the truth the leak hid."
        )
    if metric == "test_mase":
        return (
            "the fix changes the test span, so errors in the target's units are not "
            "comparable; MASE is free of the scale (test_mase)."
        )
    if metric == "test_balanced_accuracy":
        return (
            "a rare class is what the fix is for, and plain accuracy rewards ignoring it "
            "(test_balanced_accuracy)."
        )
    return f"the task's test metric ({metric})."
