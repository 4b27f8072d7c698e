"""The doctor's checks on a training run as it went: the curves (smoothed, relative changes)
and the gradient monitor.

Pure functions from frames to `Finding`s. Thresholds are relative, the same for hourly or
daily data, forecasting or classification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.config import Config
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.metrics import batches

# ---------------------------------------------------------------- training, from the curves


def step_up(lr: float) -> float:
    """A larger learning rate to try: Adam's usual 1e-3 when the step is orders of magnitude
    below it (ten times a hopeless step is still hopeless), else ten times, capped at 1e-2."""
    return 1e-3 if lr < 1e-4 else min(lr * 10, 1e-2)


def smooth(values: np.ndarray, width: int = 3) -> np.ndarray:
    """Centred running median: a single bad epoch does not make a trend."""
    if len(values) < width:
        return values
    padded = np.pad(values, width // 2, mode="edge")
    return np.array([np.median(padded[i : i + width]) for i in range(len(values))])


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
            [f"optimizer.lr={lr / 10:g}", "optimizer.clipnorm=1.0", "prepare.missing=interpolate"],
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


def check_curves(history: pd.DataFrame, cfg: Config, steps: int | None = None) -> list[Finding]:
    """Not learning, slow, oscillating, overfitting, wasted epochs: from smoothed curves.

    `steps` (batches an epoch), when known, tells a curve judged on a handful of updates.
    """
    loss = history["loss"].to_numpy(dtype=float)
    if not np.isfinite(loss).all() or len(loss) < 3:
        return []
    val = history["val_loss"].to_numpy(dtype=float) if "val_loss" in history else loss
    findings: list[Finding] = []
    s_loss, s_val = smooth(loss), smooth(val)
    lr = cfg.optimizer.lr
    n = len(loss)
    start = loss[0]
    best_train = float(np.min(s_loss))
    improvement = (start - best_train) / abs(start) if start else 0.0
    # Relative change per epoch over the last third of training.
    tail = s_loss[-max(3, n // 3) :]
    tail_slope = float((tail[0] - tail[-1]) / (abs(tail[0]) * (len(tail) - 1))) if tail[0] else 0.0
    # Share of all the improvement so far that came in the last third: a curve settling onto
    # its floor makes little of it there, a curve still sliding makes a lot.
    total_drop = s_loss[0] - s_loss[-1]
    tail_share = float((tail[0] - tail[-1]) / total_drop) if total_drop > 0 else 0.0
    ups = np.diff(loss) > 0
    rel_jumps = np.abs(np.diff(loss)) / np.maximum(np.abs(loss[:-1]), 1e-12)

    longer = more_updates(steps, n)
    updates = f" ({n * steps} updates)" if steps else ""
    if improvement < 0.02:
        lr_fix = f"optimizer.lr={step_up(lr):g}"
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
                    "best_loss": best_train,
                    "relative_improvement": improvement,
                    "updates": n * steps if steps else None,
                },
                f"Training loss improved by only {100 * improvement:.1f}% over {n} epochs"
                f"{updates}: the model is not learning (saturated inputs, a step size far off, "
                "too few updates, or no signal).",
                fixes,
            )
        )
    elif tail_slope > 0.01 and tail_share > 0.1 and n >= cfg.training.epochs:
        findings.append(
            Finding(
                "train.slow_convergence",
                "warning",
                {
                    "tail_relative_slope_per_epoch": tail_slope,
                    "share_of_gain_in_last_third": tail_share,
                    "epochs": n,
                    "lr": lr,
                },
                f"The loss was still falling {100 * tail_slope:.1f}% per epoch when training "
                f"stopped{updates}: it needs a larger step or more epochs.",
                [longer, f"optimizer.lr={step_up(lr):g}"]
                if longer
                else [f"optimizer.lr={step_up(lr):g}", f"training.epochs={2 * n}"],
            )
        )
    median_rise = float(np.median(rel_jumps[ups])) if ups.any() else 0.0
    # Zig-zag in the second half: the path travelled (total variation) far exceeds the net
    # change, and the jumps add up to a sizeable share of the loss level.
    half = loss[n // 2 :]
    travel = float(np.abs(np.diff(half)).sum())
    net = abs(float(half[-1] - half[0]))
    zigzag = travel / max(net, 1e-12 * travel, 1e-300)
    jumpy = n >= 6 and zigzag >= 3 and travel / max(float(np.mean(np.abs(half))), 1e-12) >= 0.2
    if n >= 5 and ((ups.mean() >= 0.3 and median_rise > 0.1) or jumpy):
        findings.append(
            Finding(
                "train.oscillating",
                "warning",
                {
                    "share_of_epochs_loss_rose": float(ups.mean()),
                    "median_rise": median_rise,
                    "second_half_travel_over_net_change": zigzag,
                },
                f"The training loss rose in {100 * ups.mean():.0f}% of epochs, by a median "
                f"{100 * median_rise:.0f}%: the step overshoots.",
                [
                    f"optimizer.lr={lr / 10:g}",
                    f"training.batch_size={2 * cfg.training.batch_size}",
                    "optimizer.clipnorm=1.0",
                ],
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
    if n - best_val_epoch >= 3 and final_val > 1.1 * best_val and train_drop_after > 0.05:
        findings.append(
            Finding(
                "train.overfitting",
                "warning",
                # Judged on the smoothed curves; said in the raw numbers metrics.json and
                # early stopping use, epochs counted from 1 as Keras prints them.
                {
                    "best_val_epoch": raw_best + 1,
                    "best_val_loss": float(val[raw_best]),
                    "final_val_loss": float(val[-1]),
                    "train_loss_drop_after_best": float(train_drop_after),
                },
                f"Validation loss bottomed at epoch {raw_best + 1} ({val[raw_best]:.4g}) and "
                f"ended {100 * (val[-1] / val[raw_best] - 1):.0f}% above it, while training loss "
                "kept falling: the model memorises the training span.",
                [
                    "model.dropout=0.2 model.layer_dropout=0.2",
                    "training.early_stopping.enabled=true",
                    f"model.units={max(cfg.model.units // 2, 4)}",
                ],
            )
        )
    es = cfg.training.early_stopping
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
            )
        )
    return findings


def check_gradients(monitors: pd.DataFrame, cfg: Config) -> list[Finding]:
    """Exploding or vanishing gradients, from the per-epoch probe-batch norms."""
    if monitors.empty or "grad_norm" not in monitors:
        return []
    findings = []
    norms = monitors["grad_norm"].to_numpy(dtype=float)
    finite = norms[np.isfinite(norms)]
    if finite.size and (
        not np.isfinite(norms).all()
        or finite.max() > 1e3
        or finite.max() > 100 * max(np.median(finite), 1e-12)
    ):
        findings.append(
            Finding(
                "train.exploding_gradients",
                "warning",
                {
                    "max_grad_norm": float(finite.max()) if finite.size else None,
                    "median_grad_norm": float(np.median(finite)) if finite.size else None,
                },
                "Gradient norms on the probe batch spiked to "
                f"{finite.max():.3g} (median {np.median(finite):.3g}): updates can throw the "
                "weights far off.",
                ["optimizer.clipnorm=1.0", f"optimizer.lr={cfg.optimizer.lr / 10:g}"],
            )
        )
    ratio_cols = [c for c in monitors if c.startswith("grad_ratio/")]
    if ratio_cols:
        first = monitors[ratio_cols[0]].to_numpy(dtype=float)
        first = first[np.isfinite(first)]  # a diverged run's last epochs are NaN
        median_ratio = float(np.median(first)) if first.size else float("nan")
        if np.isfinite(median_ratio) and median_ratio < 1e-3:
            findings.append(
                Finding(
                    "train.vanishing_gradients",
                    "warning",
                    {"first_lstm_to_output_grad_ratio": median_ratio},
                    "The first LSTM layer gets ~"
                    f"{median_ratio:.1e} of the output layer's gradient: it barely learns "
                    "(saturated gates, often unscaled inputs or a poor initialisation).",
                    [
                        "scaling=standard",
                        "model.kernel_initializer=glorot_uniform",
                        "model.recurrent_initializer=orthogonal",
                    ],
                )
            )
    return findings
