"""The doctor's checks on the series' own values, training span first: spikes that drive
the loss, the season against the window, and val/test levels the model never saw.

Pure functions from arrays and frames to `Finding`s; thresholds relative to the series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.config import Config
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.metrics import autocorrelation, robust_center_scale

OUTLIER_Z = 6.0


def robust_outliers(values: np.ndarray, threshold: float = OUTLIER_Z) -> tuple[int, float, float]:
    """Values beyond `threshold` robust standard deviations (median / MAD): their count, the
    largest robust z, and the share of the column's squared deviation they carry."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0, 0.0, 0.0
    median, mad = robust_center_scale(values)
    if mad == 0:
        return 0, 0.0, 0.0
    z = np.abs(values - median) / mad
    flagged = z > threshold
    share = float((z[flagged] ** 2).sum() / max((z**2).sum(), 1e-300))
    return int(flagged.sum()), float(z.max()), share


# Spikes that carry this much of a column's squared deviation dominate an MSE loss on it.
DOMINANT_SHARE = 0.25


def check_outliers(
    table: pd.DataFrame, columns: list[str], cfg: Config, train: tuple[int, int] | None = None
) -> list[Finding]:
    """Spikes far outside the bulk of a column of the training span, left in.

    A warning when the target's spikes carry a dominant share of its squared deviation: the
    MSE gradients are then mostly about them. Spikes in inputs only, or a handful that
    carry little, are a note: the loss is not computed on them.
    """
    if cfg.prepare.outliers != "none":
        return []
    lo, hi = train or (0, len(table))
    found, shares = {}, {}
    worst = 0.0
    for column in columns:
        count, z, share = robust_outliers(table[column].to_numpy(dtype=float)[lo:hi])
        if count >= max(3, 0.001 * (hi - lo)):
            found[column], shares[column] = count, share
            worst = max(worst, z)
    if not found:
        return []
    target = cfg.dataset.target
    dominant = target in found and shares[target] >= DOMINANT_SHARE
    where = (
        f"in the target '{target}' they carry {100 * shares[target]:.0f}% of its squared "
        "deviation: under MSE they dominate the gradients."
        if dominant
        else "they carry little of the target's loss (inputs only, or a small share), so "
        "they are a note: clip them if the model chases them."
    )
    return [
        Finding(
            "data.outliers",
            "warning" if dominant else "info",
            {
                "outliers_by_column": found,
                "share_of_squared_deviation": shares,
                "max_robust_z": worst,
                "threshold": OUTLIER_Z,
                "span": "train",
            },
            f"{sum(found.values())} training values lie beyond {OUTLIER_Z:g} robust standard "
            f"deviations (worst {worst:.0f}); {where}",
            ["prepare.outliers=clip", "scaling=robust", "prepare.outliers=drop"],
        )
    ]


def dominant_season(
    target: np.ndarray, period: int | None, max_lag: int = 400
) -> tuple[int | None, float]:
    """The seasonal lag with the strongest autocorrelation (the data's own period if given)."""
    y = target[np.isfinite(target)]
    if len(y) < 3 * 24:
        return None, 0.0
    y = y - y.mean()
    denom = float(np.dot(y, y))
    if denom == 0:
        return None, 0.0

    def acf(lag: int) -> float:
        return autocorrelation(y, lag)

    # A season is a peak: its autocorrelation must beat the half-season trough clearly.
    def is_peak(lag: int) -> bool:
        return acf(lag) > acf(max(lag // 2, 1)) + 0.2

    # The data's own period (from its frequency) is the season to check when it shows one;
    # otherwise look for the usual ones. Longer cycles (a week in hourly data) are a bonus a
    # longer window may catch, not a defect of one that covers the period.
    if period and 1 < period <= max_lag and period < len(y) // 3:
        return (period, acf(period)) if is_peak(period) else (None, 0.0)
    candidates = [lag for lag in (7, 12, 24, 52, 168, 365) if lag <= max_lag and lag < len(y) // 3]
    peaks = [(lag, acf(lag)) for lag in candidates if is_peak(lag)]
    if not peaks:
        return None, 0.0
    lag, r = max(peaks, key=lambda p: (p[1], -p[0]))
    return lag, r


def check_window(
    target: np.ndarray, period: int | None, cfg: Config, calendar: bool
) -> list[Finding]:
    """A window shorter than the season cannot see the same phase of the last cycle."""
    if cfg.dataset.task != "forecast":
        return []
    lag, strength = dominant_season(target, period)
    if lag is None or strength < 0.3 or cfg.window.length >= lag:
        return []
    severity = "info" if calendar and lag <= 24 and cfg.window.length >= lag // 2 else "warning"
    return [
        Finding(
            "data.window_shorter_than_season",
            severity,
            {
                "window_length": cfg.window.length,
                "season": lag,
                "autocorrelation_at_season": strength,
            },
            f"The target repeats every {lag} steps (autocorrelation {strength:.2f}) but each "
            f"window sees only {cfg.window.length}: the model cannot look one season back.",
            [f"window.length={lag}", f"window.length={2 * lag}"],
        )
    ]


def check_shift(
    target_scaled: np.ndarray, bounds: dict[str, list[int]], cfg: Config
) -> list[Finding]:
    """Val/test levels far from the training span's (the series drifted)."""
    if cfg.dataset.task != "forecast":
        return []
    lo, hi = bounds["train"]
    train = target_scaled[lo:hi]
    std = float(np.nanstd(train)) or 1.0
    shifts = {}
    for name in ("val", "test"):
        a, b = bounds[name]
        shifts[name] = float((np.nanmean(target_scaled[a:b]) - np.nanmean(train)) / std)
    worst = max(shifts, key=lambda k: abs(shifts[k]))
    if abs(shifts[worst]) < 1.0 or cfg.window.normalize != "none":
        return []
    return [
        Finding(
            "data.distribution_shift",
            "warning",
            {"mean_shift_in_train_std": shifts},
            f"The {worst} span's mean sits {shifts[worst]:+.2f} training standard deviations "
            "from the training mean: the model is asked about levels it never saw.",
            ["window.normalize=last", "window.normalize=standard", "scaling=robust"],
        )
    ]
