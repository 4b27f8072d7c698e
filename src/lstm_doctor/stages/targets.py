"""Every scored target of the validation and test splits, one row each: the truth, the
model's answer and each baseline's, keyed by what the target is (its time and lead, or its
sequence).

A proof compares runs whose windows, horizons, rows or imputation differ; their metrics
are comparable only on the targets they share. Evaluate saves these rows as
reports/targets.parquet (also the run's artifact of that name), and `lstm-doctor fix` and
`compare` score every run on the rows common to all (`lstm_doctor.comparison.common_targets`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.base import metrics
from lstm_doctor.stages.scale import Scaler
from lstm_doctor.stages.window import Windows

SCORED_SPLITS = ("val", "test")


def target_series(windows: Windows, scaler: Scaler, observed: np.ndarray | None) -> np.ndarray:
    """The target in its own units: as observed where prepare kept it, else unscaled."""
    if observed is not None:
        return observed
    t = windows.target_index
    return scaler.inverse(windows.data[:, t].astype(np.float64), t)


def answers(
    predictions: np.ndarray,
    windows: Windows,
    scaler: Scaler,
    series: np.ndarray,
    seasons: list[int],
    period: int | None,
    learned: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The truth, the model's forecasts and each baseline's for a split's windows, all in
    the target's units (`series` is the target as observed).

    Baselines: persistence, seasonal naive at every season in `seasons` (and the configured
    `period`), and the `learned` ones (scaled units, like `predictions`).
    """
    t = windows.target_index
    starts, length, horizon = windows.starts, windows.length, windows.horizon
    actual = series[starts[:, None] + length + np.arange(horizon)]
    model = scaler.inverse(predictions.astype(np.float64), t)
    forecasts = {"persistence": metrics.persistence_forecast(series, starts, length, horizon)}
    for season in sorted(set(seasons) | ({period} if period and period > 1 else set())):
        seasonal = metrics.seasonal_naive_forecast(series, starts, length, horizon, season)
        if seasonal is not None:
            # The configured period keeps the plain name; other seasons carry their length.
            forecasts["seasonal_naive" if season == period else f"seasonal_naive_{season}"] = (
                seasonal
            )
    for name, values in (learned or {}).items():
        forecasts[name] = scaler.inverse(values.astype(np.float64), t)
    return actual, model, forecasts


def split_rows(
    split: str,
    times: pd.DatetimeIndex,
    starts: np.ndarray,
    length: int,
    actual: np.ndarray,
    answered: dict[str, np.ndarray],
    observed: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per (target time, lead) of a split's windows.

    Args:
        times: the series' time index; a window starting at s targets times[s + length + h]
            at lead h + 1.
        actual: the truth, windows x horizon, in the target's units.
        answered: the model's and each baseline's forecasts, the same shape and units.
        observed: per series step, whether the target was observed (False where prepare
            imputed it); imputed targets are left out, never scored as truth.
    """
    horizon = actual.shape[1]
    index = (starts[:, None] + length + np.arange(horizon)[None, :]).ravel()
    frame = pd.DataFrame(
        {
            "split": split,
            "time": times[index],
            "lead": np.tile(np.arange(1, horizon + 1), len(starts)),
            "actual": actual.ravel(),
        }
    )
    for name, values in answered.items():
        frame[name] = np.asarray(values, dtype=np.float64).ravel()
    if observed is not None:
        frame = frame[np.asarray(observed, dtype=bool)[index]]
    return frame.reset_index(drop=True)


def forecast_rows(
    windows: dict[str, Windows],
    outputs: dict[str, np.ndarray],
    scaler: Scaler,
    series: np.ndarray,
    seasons: list[int],
    period: int | None,
    learned: dict[str, dict[str, np.ndarray]],
    times: pd.DatetimeIndex,
    observed: np.ndarray | None = None,
) -> pd.DataFrame:
    """The validation and test targets of a forecaster with every answer (`outputs` and each
    `learned` baseline's forecasts by split, in scaled units)."""
    frames = []
    for split in SCORED_SPLITS:
        own = {name: by_split[split] for name, by_split in learned.items()}
        actual, model, forecasts = answers(
            outputs[split], windows[split], scaler, series, seasons, period, own
        )
        frames.append(
            split_rows(
                split,
                times,
                windows[split].starts,
                windows[split].length,
                actual,
                {"model": model, **forecasts},
                observed,
            )
        )
    return pd.concat(frames, ignore_index=True)


def class_rows(
    windows: dict[str, Windows], outputs: dict[str, np.ndarray], train_labels: np.ndarray
) -> pd.DataFrame:
    """The validation and test sequences of a classifier: each one's index among all
    sequences, the true class and the class each answer gives (the model, the training
    span's majority class, a logistic regression on the flattened training sequences)."""
    from lstm_doctor.stages.linear_baseline import linear_classifier

    frames = []
    majority = metrics.majority_class(train_labels)
    for split in SCORED_SPLITS:
        own = windows[split]
        assert own.labels is not None
        frame = pd.DataFrame(
            {"split": split, "sample": own.starts, "actual": own.labels[own.starts]}
        )
        frame["model"] = outputs[split].argmax(axis=1)
        frame["majority_class"] = majority
        frame["linear"] = linear_classifier(windows["train"], own)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
