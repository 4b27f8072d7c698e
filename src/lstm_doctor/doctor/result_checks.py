"""The doctor's checks on what training produced: test metrics against the naive baselines
(no better than naive, underfitting, a classifier collapsed onto one class) and whether the
model's configuration keeps the fast GPU kernel.

Pure functions from plain dicts and the config to `Finding`s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.comparison.significance import ALPHA
from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import option, setting, together
from lstm_doctor.doctor.data_checks import MIN_INDEPENDENT_WINDOWS
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.steps import step_up

# ---------------------------------------------------------------- results vs naive baselines


# A classifier answering one class this often, well beyond its true share, has collapsed.
COLLAPSE_SHARE = 0.9


def check_results(
    metrics: dict[str, Any], history: pd.DataFrame, cfg: Config, period: int | None
) -> list[Finding]:
    """No better than a naive baseline, underfitting, collapsing onto one class."""
    findings = []
    if not metrics:
        return findings
    skills = {k: v for k, v in metrics.get("skill", {}).items() if v is not None and np.isfinite(v)}
    if cfg.dataset.task == "classify":
        model = metrics["model"]
        matrix = np.asarray(model["confusion_matrix"])
        n = max(int(matrix.sum()), 1)
        predicted_share = matrix.sum(axis=0) / n
        true_share = matrix.sum(axis=1) / n  # rows are the actual classes
        majority = metrics["baselines"]["majority_class"]["accuracy"]
        # Accuracy within two binomial standard errors of the baseline is chance, not skill.
        margin = max(0.02, 2 * float(np.sqrt(majority * (1 - majority) / n)))
        # Collapse is answering one class far more often than it occurs: on an imbalanced
        # test set a perfect classifier also answers the commonest class 90% of the time.
        top = int(predicted_share.argmax())
        excess = float(predicted_share[top] - true_share[top])
        top_margin = 2 * float(np.sqrt(true_share[top] * (1 - true_share[top]) / n))
        collapsed = predicted_share[top] >= COLLAPSE_SHARE and excess > max(0.02, top_margin)
        if collapsed or model["accuracy"] <= majority + margin:
            findings.append(
                Finding(
                    "train.majority_class",
                    "error",
                    {
                        "accuracy": model["accuracy"],
                        "majority_class_accuracy": majority,
                        "chance_margin": margin,
                        "largest_predicted_share": float(predicted_share[top]),
                        "its_true_share": float(true_share[top]),
                    },
                    f"The classifier is no better than always answering the commonest class "
                    f"(accuracy {model['accuracy']:.2f} vs {majority:.2f}).",
                    [
                        option("scaling", "standard"),
                        setting("optimizer.lr", step_up(cfg.optimizer.lr, cfg.optimizer.name)),
                        setting("training.class_weight", "balanced"),
                        setting("model.units", 64),
                    ],
                )
            )
        # Collapsed onto one class says it all; otherwise, is it better than linear?
        return findings or _check_linear(metrics, cfg, skills)
    # Losing to a lookup says more than losing to a fitted model: the naive check first.
    linear = _check_linear(metrics, cfg, skills)
    # The naive yardsticks (lookups, no fitting): everything but the learned linear model.
    skills = {k: v for k, v in skills.items() if k not in LEARNED and k != "best"}
    if skills:
        best_name = min(skills, key=lambda k: metrics["baselines"][k]["mae"])
        if skills[best_name] <= 0:
            # The season the best lookup uses, when a window still fits enough examples.
            season = _season_of(best_name, period)
            steps = metrics.get("train_steps") or 0
            fits = season and (not steps or season * MIN_INDEPENDENT_WINDOWS <= steps)
            window_fix = (
                [setting("window.length", season)] if fits and cfg.window.length < season else []
            )
            # Persistence the best lookup: the next value is mostly the last one. Forecasting
            # each window's change from its last value makes persistence the model's zero,
            # so it can only learn what persistence misses.
            if best_name == "persistence" and cfg.window.normalize == "none":
                window_fix.append(setting("window.normalize", "last"))
            walk = _moves_like_a_walk(metrics, best_name)
            evidence = {
                "skill": skills,
                "model_mae": metrics["model"]["mae"],
                f"{best_name}_mae": metrics["baselines"][best_name]["mae"],
            }
            said = (
                f"The model's test MAE ({metrics['model']['mae']:.4g}) is no better than "
                f"{best_name.replace('_', ' ')} "
                f"({metrics['baselines'][best_name]['mae']:.4g}): "
            )
            if walk:
                # Nothing in the series' own past to learn: only other inputs can help, and
                # more capacity or a larger step would be effort spent on noise.
                evidence["changes_predictability"] = walk
                said += (
                    "the series moves like a random walk. Its own past does not forecast its "
                    "changes better than 'no change' (an autoregression on the training span's "
                    f"changes: t={walk['t']:.1f}, and the linear model loses to persistence "
                    "too), so persistence is the best forecast its history allows. Only inputs "
                    "that lead the target can beat it; no capacity, step or epoch setting will"
                    + (
                        ". The one setting worth a proof makes persistence the model's "
                        "starting point (each window forecast as a change from its last value)."
                        if setting("window.normalize", "last") in window_fix
                        else "."
                    )
                )
                fixes = window_fix
            else:
                said += "it has learned nothing a lookup could not do."
                fixes = [
                    *window_fix,
                    *_residual_fix(best_name, cfg),
                    option("scaling", "standard"),
                    setting("model.units", 64),
                    setting("optimizer.lr", min(cfg.optimizer.lr * 3, 1e-2)),
                ]
            findings.append(Finding("train.no_better_than_naive", "warning", evidence, said, fixes))
    findings += linear
    loss = history["loss"].to_numpy(dtype=float)
    val = history["val_loss"].to_numpy(dtype=float)
    if len(loss) and np.isfinite(loss).all() and skills:
        gap = (np.min(val) - np.min(loss)) / max(np.min(loss), 1e-12)
        worst_skill = min(skills.values())
        # Capacity is missing only where a fitted model shows there is more to fit: losing to
        # the linear model on the same inputs too. Tying it while both lose to a lookup says
        # the lookup is all there is to learn (a random walk), which no capacity changes.
        linear_skill = metrics.get("skill", {}).get("linear")
        fits_worse = linear_skill is None or not np.isfinite(linear_skill) or linear_skill < 0
        # High loss on train and val alike, and no better than naive: capacity, not memorising.
        high = gap < 0.25 and np.min(loss) > 0.1 * max(loss[0], 1e-12)
        if worst_skill < 0 and fits_worse and high:
            findings.append(
                Finding(
                    "train.underfitting",
                    "warning",
                    {
                        "best_train_loss": float(np.min(loss)),
                        "best_val_loss": float(np.min(val)),
                        "train_val_gap": float(gap),
                        "worst_skill": worst_skill,
                    },
                    "Training and validation loss stay high together and the model loses to a "
                    "naive baseline: it lacks the capacity or the inputs to fit the pattern.",
                    [
                        setting("model.units", max(cfg.model.units * 4, 32)),
                        setting("model.layers", 2),
                        setting("optimizer.lr", min(cfg.optimizer.lr * 3, 1e-2)),
                    ],
                )
            )
    return findings


def _residual_fix(best: str, cfg: Config) -> list[str]:
    """Forecasting the correction to the lookup that wins (model.residual_to): an untrained
    model then starts at the lookup's error, so what it learns can only be a gain on it."""
    lookup = {"persistence": "persistence", "seasonal_naive": "seasonal_naive"}.get(best)
    if lookup is None or cfg.model.residual_to != "none":
        return []
    return [setting("model.residual_to", lookup)]


# A Diebold-Mariano t below this: the changes' past forecasts them no better than chance.
PREDICTABLE_T = 2.0


def _moves_like_a_walk(metrics: dict[str, Any], best: str) -> dict[str, float] | None:
    """The evidence that persistence is all there is to learn, or None: persistence the best
    lookup, the linear model on the same inputs no better than it, and the changes' own past
    no forecast of them (metrics.changes_predictability)."""
    found = metrics.get("changes_predictability") or {}
    linear = metrics["baselines"].get("linear", {}).get("mae")
    if best != "persistence" or not found or linear is None:
        return None
    beaten = linear < metrics["baselines"]["persistence"]["mae"]
    return None if beaten or found["t"] >= PREDICTABLE_T else found


def _season_of(baseline: str, period: int | None) -> int | None:
    """The season a seasonal-naive baseline looks back (`seasonal_naive` the period,
    `seasonal_naive_168` 168 steps); None for the others."""
    if baseline == "seasonal_naive":
        return period
    tail = baseline.removeprefix("seasonal_naive_")
    return int(tail) if tail != baseline and tail.isdigit() else None


# Baselines fitted on the training windows, not lookups.
LEARNED = ("linear",)


def _check_linear(metrics: dict[str, Any], cfg: Config, skills: dict[str, float]) -> list[Finding]:
    """The LSTM does no better than a linear model on the same inputs: it does not earn its
    complexity (forecasts on MAE, classifiers on accuracy)."""
    if "linear" not in skills or skills["linear"] > 0:
        return []
    # A loss the test set's chance explains is a tie, not a finding: the paired gap of their
    # errors (metrics.paired_gap), where evaluate measured it, at the project's ALPHA.
    gap = metrics.get("versus_linear") or {}
    if "p_worse" in gap and gap["p_worse"] >= ALPHA:
        return []
    model, linear = metrics["model"], metrics["baselines"]["linear"]
    key = "mae" if "mae" in model else "accuracy"
    fixes = []
    # A window that sees the longest season the data show, of those that still leave enough
    # independent training windows (a year-long window on three years of data would not).
    steps = metrics.get("train_steps") or 0
    fitting = [m for m in metrics.get("seasons") or [] if m * MIN_INDEPENDENT_WINDOWS <= steps]
    longest = max(fitting, default=0)
    if key == "mae" and cfg.window.length < longest:
        fixes.append(setting("window.length", longest))
    if key == "mae":
        fixes.append(setting("prepare.calendar_features", True))
    else:
        fixes.append(option("scaling", "standard"))
    fixes.append(setting("model.units", cfg.model.units * 2))
    return [
        Finding(
            "train.no_better_than_linear",
            "warning",
            {
                f"model_{key}": model[key],
                f"linear_{key}": linear[key],
                "skill": skills["linear"],
                **{f"paired_gap_{k}": v for k, v in gap.items() if k in ("gap", "t", "p_worse")},
            },
            f"A linear model on the very same inputs scores {key.upper()} {linear[key]:.4g} "
            f"against the LSTM's {model[key]:.4g}: the LSTM does not earn its complexity yet.",
            fixes,
        )
    ]


# ---------------------------------------------------------------- model


def check_model(cfg: Config) -> list[Finding]:
    """Options that make a GPU fall back from the fused cuDNN LSTM kernel (10x slower)."""
    m = cfg.model
    reasons = {}
    if m.activation != "tanh":
        reasons["activation"] = m.activation
    if m.recurrent_activation != "sigmoid":
        reasons["recurrent_activation"] = m.recurrent_activation
    if m.recurrent_dropout > 0:
        reasons["recurrent_dropout"] = m.recurrent_dropout
    if m.unroll:
        reasons["unroll"] = True
    if not reasons:
        return []
    fixes = {
        "activation": setting("model.activation", "tanh"),
        "recurrent_activation": setting("model.recurrent_activation", "sigmoid"),
        "recurrent_dropout": together(
            setting("model.recurrent_dropout", 0.0), setting("model.dropout", 0.2)
        ),
        "unroll": setting("model.unroll", False),
    }
    return [
        Finding(
            "model.cudnn_ineligible",
            "info",
            reasons,
            "On a GPU these options rule out the fused cuDNN LSTM kernel, so training falls "
            f"back to a much slower generic loop ({', '.join(reasons)}).",
            [fixes[k] for k in reasons],
        )
    ]
