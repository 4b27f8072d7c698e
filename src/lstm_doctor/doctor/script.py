"""The script's adapter: what a user's own Keras `fit` showed (its curves, the arrays when
handed over, the optimiser's measured step) as the doctor's `Evidence`, judged by the same
checks as a pipeline run, with every check that could not run listed with what it needs.

Reads nothing and writes nothing: `doctor/script_report` says and writes the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.config import Config
from lstm_doctor.doctor import data_checks, script_baselines, script_data
from lstm_doctor.doctor.diagnosis import judge
from lstm_doctor.doctor.evidence import Evidence
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.report import first_prescription
from lstm_doctor.doctor.script_terms import ScriptTerms, translate

# The optimisers whose usual step the doctor knows (others are judged as Adam's).
KNOWN_OPTIMIZERS = {"adam": "adam", "adamw": "adam", "rmsprop": "rmsprop", "sgd": "sgd"}
# A fitted linear model or the LSTM this little better than the mean: nothing to learn.
NO_SIGNAL_SKILL = 0.02


@dataclass
class ScriptRun:
    """What one `fit` of a user's script showed; every field but the history may be None."""

    history: pd.DataFrame
    x_train: np.ndarray | None = None
    y_train: np.ndarray | None = None
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    predicted: np.ndarray | None = None  # the model's predictions of y_val
    monitors: pd.DataFrame = field(default_factory=pd.DataFrame)
    optimizer: str | None = None  # the Keras class name, e.g. Adam
    lr: float | None = None
    batch_size: int | None = None
    epochs: int | None = None
    units: int | None = None
    task: str | None = None  # forecast | classify
    target_index: int | None = None
    season: int | None = None
    early_stopping: bool = False
    live: bool = False  # seen during fit (the callback): the optimiser's step was measured
    mlflow_run_id: str | None = None
    # The training windows as the model's first learning layer sees them, where the model
    # scales its own inputs first (a Normalization layer): their scales are what matter.
    x_seen: np.ndarray | None = None
    scaled_by: str | None = None  # the layers that did it, e.g. "Normalization"

    def __post_init__(self) -> None:
        # Keras logs accuracy under the name the user gave it (acc, binary_accuracy, ...):
        # the doctor reads one name.
        self.history = self.history.rename(
            columns={
                f"{split}{alias}": f"{split}accuracy"
                for split in ("", "val_")
                for alias in ACCURACY_ALIASES
                if f"{split}accuracy" not in self.history
            }
        )
        features = None
        if self.x_train is not None and np.ndim(self.x_train) == 3:
            features = int(np.shape(self.x_train)[-1])
        check_hints(self.target_index, self.season, self.task, features)


TASKS = ("forecast", "classify")
ACCURACY_ALIASES = (
    "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
)  # fmt: skip


def check_hints(target_index: Any, season: Any, task: Any, features: int | None = None) -> None:
    """Refuse a hint the doctor would misread, in one line naming it: a negative target
    index would count from the end (another feature, silently), a season under 2 steps is
    no season.

    Raises:
        DataError: naming the hint, as the callback and the command spell it.
    """
    from lstm_doctor.base.errors import DataError

    def whole(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    if target_index is not None:
        top = f", under {features} (the inputs' features)" if features else ""
        if not whole(target_index) or target_index < 0 or (features and target_index >= features):
            raise DataError(
                f"target_index (--target-index) is {target_index!r}; give the position of the "
                f"input feature that is the target: a whole number from 0{top}"
            )
    if season is not None and (not whole(season) or season < 2):
        raise DataError(
            f"season (--season) is {season!r}; give the season's length in steps, 2 or more "
            "(24 for a day of hourly steps), or leave it out"
        )
    if task is not None and task not in TASKS:
        raise DataError(f"task (--task) is {task!r}; use forecast or classify, or leave it out")


def task_of(run: ScriptRun) -> str:
    """The user's hint, else classification when the targets are labels or the curves
    carry an accuracy, else a forecast."""
    if run.task:
        return run.task
    if run.y_train is not None:
        return "classify" if script_data.looks_like_classes(run.y_train) else "forecast"
    return "classify" if any("acc" in c for c in run.history.columns) else "forecast"


def script_config(run: ScriptRun, task: str) -> Config:
    """The run's settings in the pipeline's terms, so the same checks read them: inputs as
    given (no scaling, no per-window normalisation), no early stopping unless it was seen."""
    cfg = Config()
    name = KNOWN_OPTIMIZERS.get((run.optimizer or "adam").lower(), "adam")
    cfg.optimizer = replace(cfg.optimizer, name=name, lr=float(run.lr or 1e-3))
    cfg.scaling = replace(cfg.scaling, method="none")
    cfg.window = replace(cfg.window, normalize="none")
    if run.x_train is not None:
        cfg.window = replace(cfg.window, length=int(script_data.as_windows(run.x_train).shape[1]))
    cfg.dataset = replace(cfg.dataset, task=task, max_rows=None)
    cfg.model = replace(cfg.model, units=int(run.units or cfg.model.units))
    epochs = int(run.epochs or len(run.history))
    cfg.training = replace(
        cfg.training,
        batch_size=int(run.batch_size or 32),
        epochs=epochs,
        early_stopping=replace(cfg.training.early_stopping, enabled=run.early_stopping),
    )
    return cfg


def _data_findings(run: ScriptRun, task: str, cfg: Config) -> list[Finding]:
    x = script_data.as_windows(run.x_train)  # type: ignore[arg-type]
    columns = [f"feature {i}" for i in range(x.shape[-1])]
    findings = script_data.check_finite(x, run.y_train)  # type: ignore[arg-type]
    seen = x if run.x_seen is None else script_data.as_windows(run.x_seen)
    scales = data_checks.check_scales(seen, columns, cfg)
    for finding in scales:
        if run.scaled_by:  # said of what the LSTM receives, not of the arrays given
            finding.explanation += f" (measured after the model's own {run.scaled_by})"
    findings += scales
    findings += script_data.check_constant(x, columns)
    if task == "classify":
        counts = script_data.class_counts(run.y_train)  # type: ignore[arg-type]
        findings += data_checks.check_classes(counts, [str(c) for c in range(len(counts))])
    if run.x_val is not None:
        findings += script_data.check_leaky_split(x, script_data.as_windows(run.x_val))
    return findings


def _metrics(run: ScriptRun, task: str, target: int | None) -> dict[str, Any]:
    x_train, x_val = script_data.as_windows(run.x_train), script_data.as_windows(run.x_val)
    if task == "classify":
        return script_baselines.classify_metrics(
            x_train, run.y_train, x_val, run.y_val, run.predicted
        )  # type: ignore[arg-type]
    found = script_baselines.forecast_baselines(
        x_train, run.y_train, x_val, run.y_val, target, run.season
    )  # type: ignore[arg-type]
    return script_baselines.forecast_metrics(found, run.y_val, run.predicted)  # type: ignore[arg-type]


def check_no_signal(metrics: dict[str, Any], task: str) -> list[Finding]:
    """A target nothing in its inputs predicts: a fitted linear model and the LSTM alike do
    no better than the mean (the majority class) on the validation windows."""
    skill = metrics.get("skill", {})
    naive = "majority_class" if task == "classify" else "mean"
    key = "accuracy" if task == "classify" else "mae"
    base = metrics["baselines"]
    if task == "classify":
        linear_gain = (base["linear"]["accuracy"] - base[naive]["accuracy"]) / max(
            1 - base[naive]["accuracy"], 1e-12
        )
    else:
        linear_gain = 1 - base["linear"]["mae"] / max(base[naive]["mae"], 1e-12)
    model_gain = skill.get(naive)
    if model_gain is None or linear_gain > NO_SIGNAL_SKILL or model_gain > NO_SIGNAL_SKILL:
        return []
    return [
        Finding(
            "data.no_signal",
            "warning",
            {
                f"{naive}_{key}": base[naive][key],
                f"linear_{key}": base["linear"][key],
                f"model_{key}": metrics["model"][key],
            },
            f"Neither a linear model fitted on the training windows nor the LSTM predicts the "
            f"validation targets better than the {naive.replace('_', ' ')}: the inputs carry "
            "nothing to learn about this target. No model setting will help; only inputs "
            "that inform the target can.",
        )
    ]


def script_evidence(run: ScriptRun) -> tuple[Evidence, dict[str, Any] | None, int | None]:
    """The doctor's input from what the script showed (what it could not see listed in
    `not_assessed`), the baselines' scores and the target's input feature if known."""
    task = task_of(run)
    cfg = script_config(run, task)
    missing: dict[str, str] = {}
    data: list[Finding] = []
    metrics = None
    target = run.target_index
    if run.x_train is None or run.y_train is None:
        missing["data checks (scales, NaN/inf, class balance, leaky split)"] = (
            "the training arrays (x_train, y_train; --data arrays.npz)"
        )
    else:
        data = _data_findings(run, task, cfg)
        if task == "forecast" and target is None:
            target = script_data.find_target(script_data.as_windows(run.x_train), run.y_train)
    if run.x_train is None or run.x_val is None or run.y_val is None:
        missing["baselines (mean or majority class, linear, persistence, seasonal naive)"] = (
            "training and validation arrays"
        )
    else:
        metrics = _metrics(run, task, target)
        if task == "forecast" and target is None:
            missing["persistence and seasonal naive"] = (
                "the target among the inputs (target_index=, or windows one step apart)"
            )
        if run.predicted is None:
            missing["the model against the baselines"] = "the model (--model PATH or URI)"
        else:
            data += check_no_signal(metrics, task)
    if not run.live:
        missing["the optimiser's step (update/weight ratio)"] = "a live fit (the callback)"
    if "grad_norm" not in run.monitors:
        missing["the gradient probe (exploding, vanishing)"] = (
            "a live fit on Keras' TensorFlow backend (the callback)"
        )
    if "val_loss" not in run.history:
        missing["overfitting and the validation curve"] = "validation data in fit"
    elif task == "classify" and "val_accuracy" not in run.history:
        missing["a classifier still improving (slow convergence)"] = (
            "its validation accuracy per epoch (metrics=['accuracy'] in compile, or the "
            "callback with validation arrays)"
        )
    scored = metrics if metrics is not None and "model" in metrics else None
    evidence = Evidence(
        cfg=cfg,
        history=run.history,
        monitors=run.monitors,
        metrics=scored,
        train_windows=None if run.x_train is None else len(run.x_train),
        data=data,
        not_assessed=missing,
        run_id=run.mlflow_run_id,
        origin="script",
    )
    return evidence, metrics, target


def diagnose_script(run: ScriptRun) -> dict[str, Any]:
    """The diagnosis dict (the same keys as a pipeline run's diagnosis.json), its fixes in
    the user's Keras terms, plus what was not assessed and the baselines' scores."""
    evidence, metrics, target = script_evidence(run)
    result = judge(evidence)
    terms = ScriptTerms(
        optimizer=run.optimizer or "Adam", lr=float(run.lr or 1e-3), units=run.units
    )
    for finding in result["findings"]:
        finding["fixes"] = translate(finding["fixes"], terms)
    # The MLflow run, if any, is the user's: `lstm-doctor fix` serves pipeline runs only.
    result["run_id"] = None
    result["mlflow_run_id"] = run.mlflow_run_id
    result["source"] = "script"
    result["not_assessed"] = evidence.not_assessed
    result["baselines"] = metrics
    result["target_index"] = target
    fix = first_prescription(result)
    result["first_fix"] = fix
    result["first_command"] = fix
    return result
