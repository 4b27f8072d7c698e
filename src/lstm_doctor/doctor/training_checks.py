"""The doctor's checks on a training run as it went: the curves (smoothed, relative changes)
and the gradient monitor.

Pure functions from frames to `Finding`s. Thresholds are relative, the same for hourly or
daily data, forecasting or classification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor import curve_measures
from lstm_doctor.config import Config
from lstm_doctor.doctor import longer_training
from lstm_doctor.doctor.curve_reading import (
    MIN_LEARNED,
    SLIDING,
    constant_loss,
    initial_loss,
    smooth,
    still_to_gain,
)
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.steps import step_down, step_up
from lstm_doctor.metrics import batches

# ---------------------------------------------------------------- training, from the curves


def check_divergence(loss: np.ndarray, cfg: Config) -> list[Finding]:
    finite = np.isfinite(loss)
    if finite.all():
        return []
    epoch = int(np.argmax(~finite))
    lr = cfg.optimizer.lr
    return [
        Finding(
            "train.diverged",
            "error",
            {"epoch": epoch, "loss": str(loss[epoch]), "lr": lr},
            f"The loss became {loss[epoch]} at epoch {epoch}: the weights blew up (too large a "
            "step, exploding gradients) or NaN reached the inputs.",
            [
                f"optimizer.lr={step_down(lr, cfg.optimizer.name):g}",
                "optimizer.clipnorm=1.0",
                "prepare.missing=interpolate",
            ],
        )
    ]


# Fewer optimiser updates than this cannot show whether a model learns: a flat or still-
# falling curve then calls for more updates before any other knob.
MIN_UPDATES = 100


def steps_per_epoch(train_windows: int, cfg: Config) -> int:
    """Batches an epoch, as train.WindowBatches makes them."""
    return batches(train_windows, cfg.training.batch_size, cfg.training.max_steps_per_epoch)


def more_updates(steps: int | None, epochs_run: int) -> str | None:
    """`training.epochs=N` giving some 3 x MIN_UPDATES updates, when the run had too few."""
    if not steps or epochs_run * steps >= MIN_UPDATES:
        return None
    return f"training.epochs={min(500, -(-3 * MIN_UPDATES // steps))}"


def check_curves(
    history: pd.DataFrame,
    cfg: Config,
    steps: int | None = None,
    monitors: pd.DataFrame | None = None,
) -> list[Finding]:
    """Not learning, slow, oscillating, overfitting, wasted epochs: from smoothed curves.

    `steps` (batches an epoch), when known, tells a curve judged on a handful of updates.
    Learning is measured from the untrained model's loss on the monitor's probe batch to
    the smoothed end of the same probe's curve, when the monitor recorded them.
    """
    loss = history["loss"].to_numpy(dtype=float)
    if not np.isfinite(loss).all() or len(loss) < 3:
        return []
    val = history["val_loss"].to_numpy(dtype=float) if "val_loss" in history else loss
    findings: list[Finding] = []
    s_loss, s_val = smooth(loss), smooth(val)
    lr = cfg.optimizer.lr
    n = len(loss)
    start, measured_from = initial_loss(history, monitors)
    probe = (
        monitors["probe_loss"].to_numpy(dtype=float)
        if measured_from == "probe" and monitors is not None and "probe_loss" in monitors
        else loss
    )
    probe = probe[np.isfinite(probe)] if np.isfinite(probe).any() else loss
    best_train = float(np.min(smooth(probe)))
    improvement = (start - best_train) / abs(start) if start else 0.0
    # Share of all the improvement so far that came in the last third: a curve settling onto
    # its floor makes little of it there, a curve still sliding (at any pace: a straight-line
    # crawl makes a third of it there) makes a lot.
    tail = s_loss[-max(3, n // 3) :]
    total_drop = s_loss[0] - s_loss[-1]
    tail_share = float((tail[0] - tail[-1]) / total_drop) if total_drop > 0 else 0.0
    tail_slope = float((tail[0] - tail[-1]) / (abs(tail[0]) * (len(tail) - 1))) if tail[0] else 0.0
    # Still sliding, not wobbling: the smoothed tail fell in most of its epochs.
    steady = float(np.mean(np.diff(tail) < 0)) >= 2 / 3
    # The same measures the comparison report and the claims page use (curve_measures).
    measured = curve_measures.measure(history) if "val_loss" in history else {}
    ups = np.diff(loss) > 0
    rel_jumps = np.abs(np.diff(loss)) / np.maximum(np.abs(loss[:-1]), 1e-12)

    longer = more_updates(steps, n)
    longer = longer and longer_training.longer(longer, cfg, n, steps)
    updates = f" ({n * steps} updates)" if steps else ""
    to_gain = still_to_gain(tail)
    sliding = to_gain > SLIDING
    # More epochs help only while the validation loss still improves too: its best (smoothed)
    # came in the tail. A training loss sliding on past a long-gone best is memorising.
    val_improving = int(np.argmin(s_val)) >= n - len(tail)
    # Under per-window normalisation a constant answer is relative to each window's last
    # value (persistence), not blind to the inputs: the no-better-than-naive check's ground.
    normalised = cfg.dataset.task == "forecast" and cfg.window.normalize != "none"
    blind = constant_loss(monitors) if measured_from == "probe" and not normalised else None
    # Share of the input-blind answer's loss the model took off: ~0 learned only the mean.
    learned = 1 - best_train / blind if blind else None
    if improvement < 0.02 or (learned is not None and learned < MIN_LEARNED):
        lr_fix = f"optimizer.lr={step_up(lr, cfg.optimizer.name):g}"
        fixes = ["scaling=standard", lr_fix, "model.units=64"]
        if longer:  # a few updates at a hopeless step: both, or the curve proves nothing
            # after scaling (unscaled inputs stall any number of updates; pruned if in effect)
            fixes.insert(1, f"{lr_fix} {longer}" if lr < 1e-4 else longer)
        findings.append(
            Finding(
                "train.not_learning",
                "error",
                {
                    "first_loss": float(start),
                    "first_loss_measured": "before the first update"
                    if measured_from == "probe"
                    else "epoch 0's average",
                    "best_loss": best_train,
                    "relative_improvement": improvement,
                    "input_blind_loss": blind,
                    "share_of_input_blind_loss_taken_off": learned,
                    "updates": n * steps if steps else None,
                },
                (
                    f"Training loss improved by only {100 * improvement:.1f}% over {n} epochs"
                    if improvement < 0.02
                    else f"The model's loss ended {abs(100 * (learned or 0)):.1f}% "
                    f"{'below' if (learned or 0) >= 0 else 'above'} that of always answering "
                    f"{'the class shares' if cfg.dataset.task == 'classify' else 'the mean'}, "
                    f"over {n} epochs"
                )
                + f"{updates}: the model is not learning from its inputs (saturated inputs, a "
                "step size far off, too few updates, or no signal in them).",
                fixes,
            )
        )
    elif sliding and steady and val_improving and n >= cfg.training.epochs:
        findings.append(
            Finding(
                "train.slow_convergence",
                "warning",
                {
                    "tail_relative_slope_per_epoch": tail_slope,
                    "share_of_gain_in_last_third": tail_share,
                    "left_to_gain_at_this_pace": to_gain,
                    **_pick(measured, "epochs_to_best_5pct", "seconds_to_best_5pct"),
                    "epochs": n,
                    "lr": lr,
                },
                f"The loss was still falling when training stopped{updates}: the last third "
                f"of the epochs brought {100 * tail_share:.0f}% of the gain so far "
                f"({100 * tail_slope:.2g}% per epoch). It has not converged: it needs more "
                "updates, or a larger step where its step is small.",
                [longer, f"optimizer.lr={step_up(lr, cfg.optimizer.name):g}"]
                if longer
                else [
                    f"optimizer.lr={step_up(lr, cfg.optimizer.name):g}",
                    longer_training.longer(f"training.epochs={2 * n}", cfg, n, steps),
                ],
                epochs=[n - len(tail) + 1, n],
            )
        )
    median_rise = float(np.median(rel_jumps[ups])) if ups.any() else 0.0
    # Zig-zag in the second half: the path travelled (total variation) far exceeds the net
    # change, and the jumps add up to a sizeable share of the loss level.
    half = loss[n // 2 :]
    travel = float(np.abs(np.diff(half)).sum())
    net = abs(float(half[-1] - half[0]))
    zigzag = travel / max(net, 1e-12 * travel, 1e-300)
    # Jumps count against the loss' level and against the range it learned over: a converged
    # classifier's loss of 0.01 wobbling by 0.002 is 20% of its level, 0.1% of its descent.
    descent = max(float(loss[0] - np.min(loss)), 1e-12 * abs(float(loss[0])), 1e-300)
    rises = np.diff(loss)[ups]
    big_rises = bool(ups.any()) and float(np.median(rises)) / descent > 0.05
    jumpy = (
        n >= 6
        and zigzag >= 3
        and travel / max(float(np.mean(np.abs(half))), 1e-12) >= 0.2
        and travel / descent >= 0.2
    )
    if n >= 5 and big_rises and ((ups.mean() >= 0.3 and median_rise > 0.1) or jumpy):
        findings.append(
            Finding(
                "train.oscillating",
                "warning",
                {
                    "share_of_epochs_loss_rose": float(ups.mean()),
                    "median_rise": median_rise,
                    "second_half_travel_over_net_change": zigzag,
                    **_pick(measured, "curve_fluctuation", "curve_rise_share"),
                },
                f"The training loss rose in {100 * ups.mean():.0f}% of epochs, by a median "
                f"{100 * median_rise:.0f}%: the step overshoots.",
                [
                    f"optimizer.lr={step_down(lr, cfg.optimizer.name):g}",
                    f"training.batch_size={2 * cfg.training.batch_size}",
                    "optimizer.clipnorm=1.0",
                ],
                epochs=[int(i) + 2 for i in np.flatnonzero(ups)][-12:],
            )
        )
    best_val_epoch = int(np.argmin(s_val))
    raw_best = int(np.nanargmin(val)) if np.isfinite(val).any() else best_val_epoch
    best_val = float(s_val[best_val_epoch])
    final_val = float(s_val[-1])
    train_drop_after = (
        (s_loss[best_val_epoch] - s_loss[-1]) / abs(s_loss[best_val_epoch])
        if s_loss[best_val_epoch]
        else 0.0
    )
    es = cfg.training.early_stopping
    if n - best_val_epoch >= 3 and final_val > 1.1 * best_val and train_drop_after > 0.05:
        # Early stopping on the validation loss that restored the best epoch's weights has
        # already kept the memorising epochs out of the model: a note, not a fault.
        rescued = (
            es.enabled and es.restore_best and es.monitor == "val_loss" and n < cfg.training.epochs
        )
        said = (
            f"Early stopping restored epoch {raw_best + 1}'s weights, so the model and its test "
            "metrics are from before it; regularising may let it learn longer."
            if rescued
            else "The model memorises the training span."
        )
        findings.append(
            Finding(
                "train.overfitting",
                "info" if rescued else "warning",
                # Judged on the smoothed curves; said in the raw numbers metrics.json and
                # early stopping use, epochs counted from 1 as Keras prints them.
                {
                    "best_val_epoch": raw_best + 1,
                    "best_val_loss": float(val[raw_best]),
                    "final_val_loss": float(val[-1]),
                    "train_loss_drop_after_best": float(train_drop_after),
                    "rescued_by_early_stopping": bool(rescued),
                    **_pick(measured, "gap_at_best", "gap_at_best_relative"),
                },
                f"Validation loss bottomed at epoch {raw_best + 1} ({val[raw_best]:.4g}) and "
                f"ended {100 * (val[-1] / val[raw_best] - 1):.0f}% above it, while training loss "
                f"kept falling. {said}",
                [
                    "model.dropout=0.2 model.layer_dropout=0.2",
                    "training.early_stopping.enabled=true",
                    f"model.units={max(cfg.model.units // 2, 4)}",
                ],
                epochs=[raw_best + 1, n],
            )
        )
    if not es.enabled and n - best_val_epoch > max(5, n // 3):
        findings.append(
            Finding(
                "train.wasted_epochs",
                "warning",
                {
                    "best_val_epoch": raw_best + 1,
                    "epochs_run": n,
                    "epochs_after_best": n - raw_best - 1,
                },
                f"The best validation loss came at epoch {raw_best + 1} of {n}: "
                f"{n - raw_best - 1} epochs added nothing.",
                ["training.early_stopping.enabled=true training.early_stopping.patience=5"],
                epochs=[raw_best + 1],
            )
        )
    return findings


def _pick(measured: dict[str, float], *names: str) -> dict[str, float]:
    """Some curve measures as evidence (their definitions: curve_measures.DEFINITIONS)."""
    return {name: measured[name] for name in names if name in measured}
