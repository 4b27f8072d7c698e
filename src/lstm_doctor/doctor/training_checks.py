"""The doctor's checks on a training run as it went: the curves (smoothed, relative changes)
and the gradient monitor.

Pure functions from frames to `Finding`s. Thresholds are relative, the same for hourly or
daily data, forecasting or classification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import option, setting, together
from lstm_doctor.doctor import longer_training
from lstm_doctor.doctor.curve_reading import MIN_LEARNED
from lstm_doctor.doctor.curve_summary import (
    CurveSummary,
    summarise_curves,
)
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.steps import step_down, step_up

# ---------------------------------------------------------------- training, from the curves


def check_divergence(loss: np.ndarray, cfg: Config) -> list[Finding]:
    finite = np.isfinite(loss)
    if finite.all():
        return []
    first_bad = int(np.argmax(~finite))
    # Said and marked from 1, as the console's epoch lines count; the index counts from 0.
    epoch = first_bad + 1
    lr = cfg.optimizer.lr
    return [
        Finding(
            "train.diverged",
            "error",
            {"epoch": epoch, "loss": str(loss[first_bad]), "lr": lr},
            f"The loss became {loss[first_bad]} at epoch {epoch}: the weights blew up (too large a "
            "step, exploding gradients) or NaN reached the inputs.",
            [
                setting("optimizer.lr", step_down(lr, cfg.optimizer.name)),
                setting("optimizer.clipnorm", 1.0),
                setting("prepare.missing", "interpolate"),
            ],
        )
    ]


def check_curves(
    history: pd.DataFrame,
    cfg: Config,
    steps: int | None = None,
    monitors: pd.DataFrame | None = None,
) -> list[Finding]:
    """Not learning, slow, oscillating, overfitting, wasted epochs: from smoothed curves,
    read once (curve_summary), each judged by its own check. A run that is not learning is
    not also called slow."""
    c = summarise_curves(history, cfg, steps, monitors)
    if c is None:
        return []
    stalled = not_learning(c)
    return (
        stalled
        + ([] if stalled else slow_convergence(c))
        + oscillating(c)
        + overfitting(c)
        + wasted_epochs(c)
    )


def not_learning(c: CurveSummary) -> list[Finding]:
    """The model learned little or nothing from its inputs: the loss barely fell, or
    not below the best input-blind answer's."""
    findings: list[Finding] = []
    if c.improvement < 0.02 or (c.learned is not None and c.learned < MIN_LEARNED):
        lr_fix = setting("optimizer.lr", step_up(c.lr, c.cfg.optimizer.name))
        fixes = [option("scaling", "standard"), lr_fix, setting("model.units", 64)]
        if c.longer:  # a few updates at a hopeless step: both, or the curve proves nothing
            # after scaling (unscaled inputs stall any number of updates; pruned if in effect)
            fixes.insert(1, f"{lr_fix} {c.longer}" if c.lr < 1e-4 else c.longer)
        findings.append(
            Finding(
                "train.not_learning",
                "error",
                {
                    "first_loss": float(c.start),
                    "first_loss_measured": "before the first update"
                    if c.measured_from == "probe"
                    else "the first epoch's average",
                    "best_loss": c.best_train,
                    "relative_improvement": c.improvement,
                    "input_blind_loss": c.blind,
                    "share_of_input_blind_loss_taken_off": c.learned,
                    "updates": c.n * c.steps if c.steps else None,
                },
                (
                    f"Training loss improved by only {100 * c.improvement:.1f}% over {c.n} epochs"
                    if c.improvement < 0.02
                    else f"The model's loss ended {abs(100 * (c.learned or 0)):.1f}% "
                    f"{'below' if (c.learned or 0) >= 0 else 'above'} that of always answering "
                    f"{'the class shares' if c.cfg.dataset.task == 'classify' else 'the mean'}, "
                    f"over {c.n} epochs"
                )
                + f"{c.updates}: the model is not learning from its inputs (saturated inputs, a "
                "step size far off, too few updates, or no signal in them).",
                fixes,
            )
        )
    return findings


def slow_convergence(c: CurveSummary) -> list[Finding]:
    """Still sliding when training stopped, validation still improving: it needs more
    updates (or a larger step, where its step is small)."""
    findings: list[Finding] = []
    if c.sliding and c.steady and c.val_improving and c.n >= c.cfg.training.epochs:
        findings.append(
            Finding(
                "train.slow_convergence",
                "warning",
                {
                    "tail_relative_slope_per_epoch": c.tail_slope,
                    "share_of_gain_in_last_third": c.tail_share,
                    "left_to_gain_at_this_pace": c.to_gain,
                    **_pick(c.measured, "epochs_to_best_5pct", "seconds_to_best_5pct"),
                    "epochs": c.n,
                    "lr": c.lr,
                },
                f"The loss was still falling when training stopped{c.updates}: the last third "
                f"of the epochs brought {100 * c.tail_share:.0f}% of the gain so far "
                f"({100 * c.tail_slope:.2g}% per epoch). It has not converged: it needs more "
                "updates, or a larger step where its step is small.",
                [c.longer, setting("optimizer.lr", step_up(c.lr, c.cfg.optimizer.name))]
                if c.longer
                else [
                    setting("optimizer.lr", step_up(c.lr, c.cfg.optimizer.name)),
                    longer_training.longer(
                        setting("training.epochs", 2 * c.n), c.cfg, c.n, c.steps
                    ),
                ],
                epochs=[c.n - len(c.tail) + 1, c.n],
            )
        )
    return findings


def oscillating(c: CurveSummary) -> list[Finding]:
    """The training loss zig-zags: rises large against its descent, in many epochs or
    over a jumpy second half."""
    findings: list[Finding] = []
    median_rise = float(np.median(c.rel_jumps[c.ups])) if c.ups.any() else 0.0
    # Zig-zag in the second half: the path travelled (total variation) far exceeds the net
    # change, and the jumps add up to a sizeable share of the loss level.
    half = c.loss[c.n // 2 :]
    travel = float(np.abs(np.diff(half)).sum())
    net = abs(float(half[-1] - half[0]))
    zigzag = travel / max(net, 1e-12 * travel, 1e-300)
    # Jumps count against the loss' level and against the range it learned over: a converged
    # classifier's loss of 0.01 wobbling by 0.002 is 20% of its level, 0.1% of its descent.
    descent = max(float(c.loss[0] - np.min(c.loss)), 1e-12 * abs(float(c.loss[0])), 1e-300)
    rises = np.diff(c.loss)[c.ups]
    big_rises = bool(c.ups.any()) and float(np.median(rises)) / descent > 0.05
    jumpy = (
        c.n >= 6
        and zigzag >= 3
        and travel / max(float(np.mean(np.abs(half))), 1e-12) >= 0.2
        and travel / descent >= 0.2
    )
    if c.n >= 5 and big_rises and ((c.ups.mean() >= 0.3 and median_rise > 0.1) or jumpy):
        findings.append(
            Finding(
                "train.oscillating",
                "warning",
                {
                    "share_of_epochs_loss_rose": float(c.ups.mean()),
                    "median_rise": median_rise,
                    "second_half_travel_over_net_change": zigzag,
                    **_pick(c.measured, "curve_fluctuation", "curve_rise_share"),
                },
                f"The training loss rose in {100 * c.ups.mean():.0f}% of epochs, by a median "
                f"{100 * median_rise:.0f}%: the step overshoots.",
                [
                    setting("optimizer.lr", step_down(c.lr, c.cfg.optimizer.name)),
                    setting("training.batch_size", 2 * c.cfg.training.batch_size),
                    setting("optimizer.clipnorm", 1.0),
                ],
                epochs=[int(i) + 2 for i in np.flatnonzero(c.ups)][-12:],
            )
        )
    return findings


def overfitting(c: CurveSummary) -> list[Finding]:
    """Validation loss bottomed early and rose while the training loss kept falling."""
    findings: list[Finding] = []
    best_val_epoch, raw_best = c.best_val_epoch, c.raw_best
    best_val = float(c.s_val[best_val_epoch])
    final_val = float(c.s_val[-1])
    train_drop_after = (
        (c.s_loss[best_val_epoch] - c.s_loss[-1]) / abs(c.s_loss[best_val_epoch])
        if c.s_loss[best_val_epoch]
        else 0.0
    )
    es = c.cfg.training.early_stopping
    if c.n - best_val_epoch >= 3 and final_val > 1.1 * best_val and train_drop_after > 0.05:
        # Early stopping on the validation loss that restored the best epoch's weights has
        # already kept the memorising epochs out of the model: a note, not a fault.
        rescued = (
            es.enabled
            and es.restore_best
            and es.monitor == "val_loss"
            and c.n < c.cfg.training.epochs
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
                    "best_val_loss": float(c.val[raw_best]),
                    "final_val_loss": float(c.val[-1]),
                    "train_loss_drop_after_best": float(train_drop_after),
                    "rescued_by_early_stopping": bool(rescued),
                    **_pick(c.measured, "gap_at_best", "gap_at_best_relative"),
                },
                f"Validation loss bottomed at epoch {raw_best + 1} ({c.val[raw_best]:.4g}) and "
                f"ended {100 * (c.val[-1] / c.val[raw_best] - 1):.0f}% above it, while training "
                f"loss kept falling. {said}",
                [
                    together(setting("model.dropout", 0.2), setting("model.layer_dropout", 0.2)),
                    setting("training.early_stopping.enabled", True),
                    setting("model.units", max(c.cfg.model.units // 2, 4)),
                ],
                epochs=[raw_best + 1, c.n],
            )
        )
    return findings


def wasted_epochs(c: CurveSummary) -> list[Finding]:
    """Without early stopping, many epochs ran after the best validation loss."""
    findings: list[Finding] = []
    if not c.cfg.training.early_stopping.enabled and c.n - c.best_val_epoch > max(5, c.n // 3):
        findings.append(
            Finding(
                "train.wasted_epochs",
                "warning",
                {
                    "best_val_epoch": c.raw_best + 1,
                    "epochs_run": c.n,
                    "epochs_after_best": c.n - c.raw_best - 1,
                },
                f"The best validation loss came at epoch {c.raw_best + 1} of {c.n}: "
                f"{c.n - c.raw_best - 1} epochs added nothing.",
                [
                    together(
                        setting("training.early_stopping.enabled", True),
                        setting("training.early_stopping.patience", 5),
                    )
                ],
                epochs=[c.raw_best + 1],
            )
        )
    return findings


def _pick(measured: dict[str, float], *names: str) -> dict[str, float]:
    """Some curve measures as evidence (their definitions: curve_measures.DEFINITIONS)."""
    return {name: measured[name] for name in names if name in measured}
