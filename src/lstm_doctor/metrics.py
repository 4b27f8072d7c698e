"""Error measures and the naive baselines a model must beat, on the same test windows."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score


def forecast_errors(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and sMAPE (percent) over every window and horizon step."""
    diff = predicted - actual
    denom = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(diff), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0
    )
    return {
        "mae": float(np.mean(np.abs(diff))),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "smape": float(100 * np.mean(ratio)),
    }


def persistence_forecast(
    series: np.ndarray, starts: np.ndarray, length: int, horizon: int
) -> np.ndarray:
    """Every step ahead equals the last observed value."""
    last = series[starts + length - 1]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive_forecast(
    series: np.ndarray, starts: np.ndarray, length: int, horizon: int, period: int
) -> np.ndarray | None:
    """Each step ahead equals the value one (or more) seasons before it, from observed data.

    Step h (0-based) of a window starting at s targets time t = s + length + h and takes
    t - period * ceil((h + 1) / period), the latest same-phase time that was observed.
    Returns None where the history needed reaches before the series begins.
    """
    steps = np.arange(horizon)
    lags = period * np.ceil((steps + 1) / period).astype(np.int64)
    index = starts[:, None] + length + steps[None, :] - lags[None, :]
    if index.min() < 0:
        return None
    return series[index]


def skill(model_error: float, baseline_error: float) -> float:
    """1 - model error / baseline error: > 0 beats the baseline, 1 is perfect."""
    if baseline_error == 0 or math.isnan(baseline_error):
        return float("nan")
    return 1.0 - model_error / baseline_error


def classification_scores(
    actual: np.ndarray, predicted: np.ndarray, classes: list[str]
) -> dict[str, object]:
    """Accuracy, balanced accuracy, per-class F1 and the confusion matrix."""
    labels = list(range(len(classes)))
    f1 = f1_score(actual, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(np.mean(actual == predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(actual, predicted)),
        "f1": {name: float(v) for name, v in zip(classes, f1, strict=True)},
        "confusion_matrix": confusion_matrix(actual, predicted, labels=labels).tolist(),
    }


def majority_class(train_labels: np.ndarray) -> int:
    """The most frequent training label (ties go to the lowest class index)."""
    return int(np.bincount(train_labels).argmax())


def robust_center_scale(values: np.ndarray) -> tuple[float, float]:
    """The median and the robust standard deviation (1.4826 x the median absolute deviation,
    which equals the standard deviation for normal data) of the finite values; (nan, 0.0)
    when there are none."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return float("nan"), 0.0
    median = float(np.median(finite))
    return median, float(np.median(np.abs(finite - median)) * 1.4826)


def batches(n_examples: int, batch_size: int, cap: int | None = None) -> int:
    """Batches an epoch makes of `n_examples` (the last one partial), at most `cap`."""
    n = max(1, -(-n_examples // batch_size))
    return min(n, cap) if cap else n
