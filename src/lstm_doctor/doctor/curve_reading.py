"""How the doctor reads a loss curve: smoothed, measured from the untrained model's loss and
against the best input-blind answer's, and extrapolated to say whether it is still sliding.

Pure functions of arrays and the monitor frame; every number relative to the run itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def smooth(values: np.ndarray, width: int = 3) -> np.ndarray:
    """Centred running median: a single bad epoch does not make a trend."""
    if len(values) < width:
        return values
    padded = np.pad(values, width // 2, mode="edge")
    return np.array([np.median(padded[i : i + width]) for i in range(len(values))])


# Still sliding at the end: carried on at its own pace, the curve would still take more
# than this share off its current level (a straight-line crawl: any share, at any pace).
SLIDING = 0.05


def still_to_gain(tail: np.ndarray) -> float:
    """How much more the loss would fall, as a share of its last value, if its tail kept
    slowing down as it did: the drop over the tail's second half against its first half
    gives the decay per half; a geometric continuation sums what is left (infinite when the
    curve is not slowing: a straight line)."""
    h = (len(tail) - 1) // 2
    if h < 1:
        return 0.0
    first, second = tail[0] - tail[h], tail[h] - tail[2 * h]
    if first <= 0 or second <= 0:
        return 0.0
    r = second / first
    if r >= 1:
        return float("inf")
    return float(second * r / (1 - r) / max(abs(tail[-1]), 1e-300))


# A model that takes less than this share off the loss of the best input-blind answer (the
# mean, or the class shares) on its own training data has learned nothing from its inputs.
MIN_LEARNED = 0.05


def constant_loss(monitors: pd.DataFrame | None) -> float | None:
    """The probe's loss for the best input-blind answer, when the monitor recorded it."""
    if monitors is None or "probe_loss_constant" not in monitors:
        return None
    values = monitors["probe_loss_constant"].dropna()
    value = float(values.iloc[0]) if len(values) else float("nan")
    return value if np.isfinite(value) and value > 0 else None


def initial_loss(history: pd.DataFrame, monitors: pd.DataFrame | None) -> tuple[float, str]:
    """The loss to measure learning from: the probe batch's before the first update when the
    monitor took it (a model may learn all it will within the first epoch, which that
    epoch's average loss would hide), else the first epoch's average training loss."""
    if monitors is not None and "probe_loss_initial" in monitors:
        first = monitors["probe_loss_initial"].dropna()
        if len(first) and np.isfinite(first.iloc[0]):
            return float(first.iloc[0]), "probe"
    return float(history["loss"].iloc[0]), "epoch_0"
