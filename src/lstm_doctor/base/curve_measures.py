"""Measures of a run's learning curves, defined once: how the validation loss fluctuates,
how fast it reaches its best, and the generalisation gap there.

Reads a run's per-epoch history (train `loss`, `val_loss`, `epoch_seconds`); writes nothing.
Every measure is NaN where the curve is too short or has no finite values to measure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

# Fewer epochs than this have no interior epoch to judge a fluctuation against its trend.
MIN_EPOCHS = 3
# "Reached its best": within this share of the whole drop from the first epoch to the best.
NEAR_BEST = 0.05

# What `measure` returns, by name (MLflow metric keys, metrics.json's `curve`, compare's
# rows), each said in a line a report can show. Lower is better for each: smoother, faster,
# less of a gap (the gaps by their size: see SIGNED).
DEFINITIONS = {
    "curve_fluctuation": "median |epoch-to-epoch change of log val loss − its local trend|",
    "curve_rise_share": "share of epochs in which val loss rose",
    "epochs_to_best_5pct": "epochs until val loss is within 5% of its drop from epoch 1 to best",
    "seconds_to_best_5pct": "wall seconds of those epochs",
    "gap_at_best": "val loss − train loss at the best-val epoch",
    "gap_at_best_relative": "that gap / the train loss there",
}
NAMES = tuple(DEFINITIONS)
# Measures with a sign: a val loss just under the train loss (dropout is off at evaluation)
# is as small a gap as one just over it, so these are compared by their magnitude.
SIGNED = frozenset({"gap_at_best", "gap_at_best_relative"})


def _floats(values: ArrayLike | None) -> np.ndarray:
    return np.asarray([] if values is None else values, dtype=np.float64).ravel()


def _log(curve: np.ndarray) -> np.ndarray:
    """log of the curve, NaN where it is not finite and positive (a loss of 0 has no scale)."""
    out = np.full(curve.shape, np.nan)
    ok = np.isfinite(curve) & (curve > 0)
    out[ok] = np.log(curve[ok])
    return out


def fluctuation(val_loss: ArrayLike) -> float:
    """The median absolute epoch-to-epoch change of the log loss around its own trend.

    The change into epoch t less the local trend (the mean of the changes into and out of
    t): |y[t] - (y[t-1] + y[t+1]) / 2| with y = log(loss), over the interior epochs. In
    logs, so a loss scaled by any factor scores the same; 0 on an exponential decay (a
    straight line in logs), log(1.1) when every other epoch sits 10% above it. A centred
    running median is not the trend here: over an odd window it follows a period-2
    zig-zag and would score the worst oscillation 0.

    Returns:
        NaN with fewer than MIN_EPOCHS epochs or no three finite, positive ones in a row.
    """
    y = _log(_floats(val_loss))
    if len(y) < MIN_EPOCHS:
        return math.nan
    off_trend = np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2)
    off_trend = off_trend[np.isfinite(off_trend)]
    return float(np.median(off_trend)) if len(off_trend) else math.nan


def rise_share(val_loss: ArrayLike) -> float:
    """The share of epoch-to-epoch steps (between finite values) in which the loss rose.

    Returns:
        NaN with fewer than MIN_EPOCHS epochs or no step between finite values.
    """
    curve = _floats(val_loss)
    if len(curve) < MIN_EPOCHS:
        return math.nan
    steps = np.diff(curve)
    steps = steps[np.isfinite(steps)]
    return float(np.mean(steps > 0)) if len(steps) else math.nan


def speed(val_loss: ArrayLike, seconds_per_epoch: ArrayLike | None = None) -> tuple[float, float]:
    """Epochs (counted from 1) and wall seconds until the loss first came within NEAR_BEST
    (5%) of the whole drop from the first epoch to the best: loss <= best + 0.05 x (first -
    best). Measured on the drop, not the best's own size, so a loss that ends near 0 and the
    same loss in any units give the same epoch; a best first epoch gives 1.

    Args:
        val_loss: the curve, one value an epoch (non-finite epochs never count as reached).
        seconds_per_epoch: wall time of each epoch; the seconds are their sum up to and
            including the epoch reached.

    Returns:
        (epochs, seconds); NaN for both with no finite epoch, NaN seconds when the epochs'
        times are not all known up to it.
    """
    curve = _floats(val_loss)
    finite = np.isfinite(curve)
    if not finite.any():
        return math.nan, math.nan
    first = curve[np.argmax(finite)]
    best = float(np.min(curve[finite]))
    threshold = best + NEAR_BEST * (first - best)
    reached = finite & (curve <= threshold)  # the best epoch always does: first >= best
    epoch = int(np.argmax(reached)) + 1
    seconds = _floats(seconds_per_epoch)[:epoch]
    known = len(seconds) == epoch and bool(np.isfinite(seconds).all())
    return float(epoch), float(np.sum(seconds)) if known else math.nan


def generalisation_gap(loss: ArrayLike, val_loss: ArrayLike) -> tuple[float, float]:
    """Validation minus training loss at the best-validation epoch (the first such), and the
    same divided by that epoch's training loss. Positive: validation worse than training.
    Keras' training loss is the epoch's average with dropout on, validation is measured at
    the epoch's end without it, so a small negative gap is not a fault.

    Returns:
        (gap, relative gap); NaN where there is no finite validation loss or no finite
        training loss at that epoch (relative: NaN unless that training loss is > 0).
    """
    train, val = _floats(loss), _floats(val_loss)
    finite = np.isfinite(val)
    if not finite.any():
        return math.nan, math.nan
    best = int(np.argmin(np.where(finite, val, np.inf)))
    if best >= len(train) or not np.isfinite(train[best]):
        return math.nan, math.nan
    gap = float(val[best] - train[best])
    return gap, gap / float(train[best]) if train[best] > 0 else math.nan


def measure(
    history: Mapping[str, ArrayLike], seconds_per_epoch: ArrayLike | None = None
) -> dict[str, float]:
    """Every curve measure of one run, under NAMES.

    Args:
        history: per-epoch columns by name, `loss`, `val_loss` and, when timed,
            `epoch_seconds` (a dict of arrays, or history.csv's frame, which reads the same).
        seconds_per_epoch: each epoch's wall time; history's `epoch_seconds` when None.

    Returns:
        {name: value} for every name in NAMES (NaN where not measurable).
    """
    val = _floats(history.get("val_loss"))
    if seconds_per_epoch is None:
        seconds_per_epoch = history.get("epoch_seconds")
    epochs, seconds = speed(val, seconds_per_epoch)
    gap, relative = generalisation_gap(_floats(history.get("loss")), val)
    values = (fluctuation(val), rise_share(val), epochs, seconds, gap, relative)
    return dict(zip(NAMES, values, strict=True))
