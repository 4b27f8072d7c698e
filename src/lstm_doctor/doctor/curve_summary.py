"""One reading of a run's learning curves, computed once, that every curve check judges.

The checks in training_checks (not learning, slow, oscillating, overfitting, wasted epochs)
each take this summary and say one finding or none, so a threshold changed in one of them
cannot change what another one sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base import curve_measures
from lstm_doctor.base.metrics import batches
from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import setting
from lstm_doctor.doctor import longer_training
from lstm_doctor.doctor.curve_reading import (
    SLIDING,
    constant_loss,
    initial_loss,
    smooth,
    still_to_gain,
)

# Fewer optimiser updates than this cannot show whether a model learns: a flat or still-
# falling curve then calls for more updates before any other knob.
MIN_UPDATES = 100


def more_updates(steps: int | None, epochs_run: int) -> str | None:
    """`training.epochs=N` giving some 3 x MIN_UPDATES updates, when the run had too few."""
    if not steps or epochs_run * steps >= MIN_UPDATES:
        return None
    return setting("training.epochs", min(500, -(-3 * MIN_UPDATES // steps)))


def steps_per_epoch(train_windows: int, cfg: Config) -> int:
    """Batches an epoch, as train.WindowBatches makes them."""
    return batches(train_windows, cfg.training.batch_size, cfg.training.max_steps_per_epoch)


@dataclass
class CurveSummary:
    """The curves (raw and smoothed), where learning is measured from and how far it got,
    the tail's pace, and the run's settings the checks weigh them against."""

    cfg: Config
    steps: int | None
    loss: np.ndarray
    val: np.ndarray
    s_loss: np.ndarray
    s_val: np.ndarray
    n: int
    lr: float
    start: float
    measured_from: str
    best_train: float
    improvement: float
    tail: np.ndarray
    tail_share: float
    tail_slope: float
    steady: bool
    ups: np.ndarray
    rel_jumps: np.ndarray
    longer: str | None
    updates: str
    to_gain: float
    sliding: bool
    val_improving: bool
    blind: float | None
    learned: float | None
    best_val_epoch: int  # 0-based, on the smoothed validation curve
    raw_best: int  # 0-based, the raw curve's best (what early stopping restores)
    measured: dict[str, Any] = field(default_factory=dict)


def summarise_curves(
    history: pd.DataFrame,
    cfg: Config,
    steps: int | None = None,
    monitors: pd.DataFrame | None = None,
) -> CurveSummary | None:
    """The summary, or None where the curves cannot be read (non-finite, under 3 epochs).

    `steps` (batches an epoch), when known, tells a curve judged on a handful of updates.
    Learning is measured from the untrained model's loss on the monitor's probe batch to
    the smoothed end of the same probe's curve, when the monitor recorded them.
    """
    loss = history["loss"].to_numpy(dtype=float)
    if not np.isfinite(loss).all() or len(loss) < 3:
        return None
    val = history["val_loss"].to_numpy(dtype=float) if "val_loss" in history else loss
    s_loss, s_val = smooth(loss), smooth(val)
    n = len(loss)
    start, measured_from = initial_loss(history, monitors)
    probe = (
        monitors["probe_loss"].to_numpy(dtype=float)
        if measured_from == "probe" and monitors is not None and "probe_loss" in monitors
        else loss
    )
    probe = probe[np.isfinite(probe)] if np.isfinite(probe).any() else loss
    best_train = float(np.min(smooth(probe)))
    # Share of all the improvement so far that came in the last third: a curve settling onto
    # its floor makes little of it there, a curve still sliding (at any pace: a straight-line
    # crawl makes a third of it there) makes a lot.
    tail = s_loss[-max(3, n // 3) :]
    total_drop = s_loss[0] - s_loss[-1]
    longer = more_updates(steps, n)
    to_gain = still_to_gain(tail)
    # Under per-window normalisation a constant answer is relative to each window's last
    # value (persistence), not blind to the inputs: the no-better-than-naive check's ground.
    normalised = cfg.dataset.task == "forecast" and cfg.window.normalize != "none"
    blind = constant_loss(monitors) if measured_from == "probe" and not normalised else None
    return CurveSummary(
        cfg=cfg,
        steps=steps,
        loss=loss,
        val=val,
        s_loss=s_loss,
        s_val=s_val,
        n=n,
        lr=cfg.optimizer.lr,
        start=start,
        measured_from=measured_from,
        best_train=best_train,
        improvement=(start - best_train) / abs(start) if start else 0.0,
        tail=tail,
        tail_share=float((tail[0] - tail[-1]) / total_drop) if total_drop > 0 else 0.0,
        tail_slope=float((tail[0] - tail[-1]) / (abs(tail[0]) * (len(tail) - 1)))
        if tail[0]
        else 0.0,
        # Still sliding, not wobbling: the smoothed tail fell in most of its epochs.
        steady=float(np.mean(np.diff(tail) < 0)) >= 2 / 3,
        ups=np.diff(loss) > 0,
        rel_jumps=np.abs(np.diff(loss)) / np.maximum(np.abs(loss[:-1]), 1e-12),
        longer=longer and longer_training.longer(longer, cfg, n, steps),
        updates=f" ({n * steps} updates)" if steps else "",
        to_gain=to_gain,
        sliding=to_gain > SLIDING,
        # More epochs help only while validation still improves too: its best (smoothed)
        # came in the tail. A training loss sliding on past a long-gone best is memorising.
        val_improving=validation_improving(history, s_val, len(tail), cfg),
        blind=blind,
        best_val_epoch=int(np.argmin(s_val)),
        raw_best=int(np.nanargmin(val)) if np.isfinite(val).any() else int(np.argmin(s_val)),
        # Share of the input-blind answer's loss the model took off: ~0 learned only the mean.
        learned=1 - best_train / blind if blind else None,
        # The same measures the comparison report and the claims page use (curve_measures).
        measured=curve_measures.measure(history) if "val_loss" in history else {},
    )


def validation_improving(history: pd.DataFrame, s_val: np.ndarray, tail: int, cfg: Config) -> bool:
    """Whether validation still improved in the curve's last `tail` epochs.

    A forecaster's validation loss is its score: its smoothed best in the tail. A
    classifier is scored on its answers: on separable data its cross-entropy falls for ever
    as the answers grow more confident, while the answers themselves stopped changing. So a
    classifier improves only while its smoothed validation accuracy reaches, in the tail, a
    level above its best before it.
    """
    n = len(s_val)
    if cfg.dataset.task == "classify":
        if "val_accuracy" not in history:  # no answers to judge: not guessed from the loss
            return False
        accuracy = smooth(history["val_accuracy"].to_numpy(dtype=float))
        if n > tail and np.isfinite(accuracy).all():
            return bool(np.max(accuracy[n - tail :]) > np.max(accuracy[: n - tail]))
    return int(np.argmin(s_val)) >= n - tail
