"""The doctor's checks on the gradient monitor: exploding and vanishing gradients, and a step
size orders of magnitude off, each judged against the run's own history and its weights.

Pure functions from the monitor frame (one row an epoch, stages/monitor.py) to `Finding`s.
Nothing here is in the data's units: a large target gives large gradients throughout, which
is a scale, not an explosion; what explodes is a norm far above the run's own usual one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.config import Config
from lstm_doctor.config.optimizers import usual_lr
from lstm_doctor.config.prescriptions import option, setting, together
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.steps import step_down, step_up

# A gradient norm two orders of magnitude above the median of the epochs before it is a
# spike, not a scale (a classifier's gradients grow ~25x as it grows confident; an exploding
# run's grow by 1e3 to 1e10).
SPIKE = 100.0
# The first LSTM layer's gradient below this share of the output layer's: it barely learns.
VANISHING = 1e-3
# A widely used rule of thumb puts a healthy optimiser step near 1e-3 of the weights' norm.
# A step 30x below it (1.5 orders of magnitude) crawls; 30x above it overshoots.
HEALTHY_STEP = 1e-3
# Cell activations with a bounded output (the LSTM's own choice is tanh).
BOUNDED = frozenset({"tanh", "sigmoid", "hard_sigmoid", "softsign"})
STEP_FACTOR = 30.0


def check_gradients(monitors: pd.DataFrame, cfg: Config) -> list[Finding]:
    """Exploding (non-finite, or spikes far above the run's median) or vanishing gradients."""
    if monitors.empty or "grad_norm" not in monitors:
        return []
    findings = []
    # The probed epochs alone: NaN is an epoch the probe's cadence skipped, and an exploded
    # gradient is recorded as infinite (stages/gradients.gradient_record).
    probed = monitors["grad_norm"].astype(float).dropna()
    norms = probed.to_numpy()
    epochs = probed.index.to_numpy()
    finite_at = np.isfinite(norms)
    finite = norms[finite_at]
    median = float(np.median(finite)) if finite.size else float("nan")
    # A spike is against the epochs before it: a norm that shrinks as the model converges
    # (a classifier's cross-entropy gradient falls by orders) never explodes.
    jumps = [finite[t] / max(np.median(finite[:t]), 1e-300) for t in range(3, len(finite))]
    spike = float(max(jumps, default=0.0))
    if finite.size and (not finite_at.all() or spike >= SPIKE):
        epoch = int(
            epochs[np.argmax(~finite_at)]
            if not finite_at.all()
            else epochs[finite_at][3 + int(np.argmax(jumps))]
        )
        lr_fix = step_down(cfg.optimizer.lr, cfg.optimizer.name)
        # A cell activation without a bound (relu, elu, linear) lets the cell state and its
        # gradient grow step after step: bounding it is the cause's fix, clipping a bandage.
        cell_fix = [] if cfg.model.activation in BOUNDED else [setting("model.activation", "tanh")]
        unbounded = (
            f" The cell activation `{cfg.model.activation}` has no bound: the cell state can "
            "grow without limit through the sequence."
            if cell_fix
            else ""
        )
        findings.append(
            Finding(
                "train.exploding_gradients",
                "warning",
                {
                    "max_grad_norm": float(finite.max()),
                    "median_grad_norm": median,
                    "spike_over_earlier_median": spike,
                    "epoch": epoch + 1,
                },
                f"The gradient norm on the probe batch reached {spike:.0f}x the median of the "
                f"epochs before it at epoch {epoch + 1} (max {finite.max():.3g}, run median "
                f"{median:.3g}): updates can throw the weights far off.{unbounded}",
                [*cell_fix, setting("optimizer.clipnorm", 1.0), setting("optimizer.lr", lr_fix)],
                epochs=[epoch + 1],
            )
        )
    ratio_cols = [c for c in monitors if c.startswith("grad_ratio/")]
    if ratio_cols:
        first = monitors[ratio_cols[0]].to_numpy(dtype=float)
        first = first[np.isfinite(first)]  # a diverged run's last epochs are NaN
        median_ratio = float(np.median(first)) if first.size else float("nan")
        if np.isfinite(median_ratio) and median_ratio < VANISHING:
            findings.append(
                Finding(
                    "train.vanishing_gradients",
                    "warning",
                    {"first_lstm_to_output_grad_ratio": median_ratio},
                    "The first LSTM layer gets ~"
                    f"{median_ratio:.1e} of the output layer's gradient: it barely learns "
                    "(saturated gates, often unscaled inputs or a poor initialisation).",
                    [
                        option("scaling", "standard"),
                        setting("model.kernel_initializer", "glorot_uniform"),
                        setting("model.recurrent_initializer", "orthogonal"),
                    ],
                )
            )
    return findings


def step_ratio(monitors: pd.DataFrame) -> float | None:
    """The run's typical optimiser step relative to the weights: per epoch, the largest of
    the layers' one-step update/weight ratios; then the median over epochs."""
    cols = [c for c in monitors if c.startswith("step_ratio/")]
    if not cols:
        return None
    per_epoch = monitors[cols].max(axis=1, skipna=True).to_numpy(dtype=float)
    per_epoch = per_epoch[np.isfinite(per_epoch) & (per_epoch > 0)]
    return float(np.median(per_epoch)) if per_epoch.size else None


def at_the_configured_step(monitors: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """The monitor's epochs trained at the configured learning rate: a schedule that has
    cut the step (reduce_lr) makes later steps small by design, not by a wrong setting."""
    if history is None or "learning_rate" not in history or monitors.empty:
        return monitors
    rates = history["learning_rate"].to_numpy(dtype=float)[: len(monitors)]
    keep = np.isclose(rates, rates[0], rtol=1e-3)
    return monitors.iloc[: len(rates)][keep]


def check_step_size(
    monitors: pd.DataFrame,
    cfg: Config,
    symptoms: set[str],
    history: pd.DataFrame | None = None,
) -> list[Finding]:
    """A step orders of magnitude off the healthy ~1e-3 of the weights, where the curves show
    what that does: a crawl (too small), or a shaking or blown-up loss (too large).

    `symptoms` are the curve findings already made; a large step on a smooth, falling curve
    is a choice, not a fault, and a tiny one on a settled curve is the end of training.
    Only the epochs at the configured learning rate count (`history`'s learning_rate).
    """
    ratio = step_ratio(at_the_configured_step(monitors, history))
    if ratio is None:
        return []
    lr, name = cfg.optimizer.lr, cfg.optimizer.name
    evidence = {"step_update_over_weight": ratio, "healthy_near": HEALTHY_STEP, "lr": lr}
    crawling = symptoms & {"train.not_learning", "train.slow_convergence"}
    # Two witnesses of a step too small for a crawling curve: the updates themselves far
    # below the healthy size, or below it while the learning rate is itself far below the
    # optimiser's usual step (an adaptive optimiser's updates shrink less than its rate).
    small_rate = lr <= usual_lr(name) / STEP_FACTOR and ratio < HEALTHY_STEP
    if crawling and (ratio < HEALTHY_STEP / STEP_FACTOR or small_rate):
        fixes = [setting("optimizer.lr", step_up(lr, name))]
        usual = usual_lr(name)
        rate_note = f" ({usual / lr:.0f}x below {name}'s usual {usual:g})" * small_rate
        if name == "sgd":
            fixes.append(together(option("optimizer", "adam"), setting("optimizer.lr", 0.001)))
        return [
            Finding(
                "train.step_too_small",
                "warning",
                evidence,
                f"Each optimiser step moves the weights by ~{ratio:.1e} of their size, "
                f"{HEALTHY_STEP / ratio:.0f}x below the healthy ~{HEALTHY_STEP:g}: at "
                f"{setting('optimizer.lr', lr)}{rate_note} the loss can only crawl, however many "
                "epochs it gets.",
                fixes,
            )
        ]
    shaking = symptoms & {"train.oscillating", "train.diverged", "train.not_learning"}
    if ratio > HEALTHY_STEP * STEP_FACTOR and shaking:
        return [
            Finding(
                "train.step_too_large",
                "warning",
                evidence,
                f"Each optimiser step moves the weights by ~{ratio:.2g} of their size, "
                f"{ratio / HEALTHY_STEP:.0f}x above the healthy ~{HEALTHY_STEP:g}: at "
                f"{setting('optimizer.lr', lr)} the weights overshoot instead of settling.",
                [setting("optimizer.lr", step_down(lr, name)), setting("optimizer.clipnorm", 1.0)],
            )
        ]
    return []
