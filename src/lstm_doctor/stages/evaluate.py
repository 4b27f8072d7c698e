"""Stage evaluate: test metrics in the target's own units, beside naive baselines.

Reads models/ and the windows; writes reports/metrics.json (DVC metrics: the few numbers
runs are compared on), reports/evaluation.json (everything: each baseline, the error by lead
time, the learning curves' measures under `curve`), reports/curves.csv and
reports/predictions.csv (DVC plots), reports/targets.parquet (every validation and test
target with each answer, so proofs score runs on the targets they share) and
reports/plots/*.png.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from lstm_doctor.stages import keras_env  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras
import pandas as pd

from lstm_doctor.base import curve_measures, metrics
from lstm_doctor.base.workspace import (
    CURVES_FILE,
    EVALUATION_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    OBSERVED_TARGET,
    PREDICTIONS_FILE,
    TARGET_OBSERVED,
    TARGETS_FILE,
    StagePaths,
    atomic_dir,
    write_json,
)
from lstm_doctor.config import Config
from lstm_doctor.stages import plots
from lstm_doctor.stages.gradients import predict_on_batch
from lstm_doctor.stages.linear_baseline import fit_ridge, linear_classifier, predict_ridge
from lstm_doctor.stages.scale import Scaler, series_times
from lstm_doctor.stages.targets import (
    answers,
    class_rows,
    forecast_rows,
    target_series,
)
from lstm_doctor.stages.window import Windows, load_windows


def predict(model: keras.Model, windows: Windows, batch_size: int = 512) -> np.ndarray:
    """Model outputs for every window, in order, mapped back from per-window normalisation."""
    outputs = []
    for lo in range(0, len(windows), batch_size):
        positions = np.arange(lo, min(lo + batch_size, len(windows)))
        x, _, stats = windows.batch_with_stats(positions)
        outputs.append(windows.restore(predict_on_batch(model, x), stats))
    return np.concatenate(outputs)


def evaluate_forecast(
    predictions: np.ndarray,
    windows: Windows,
    scaler: Scaler,
    period: int | None,
    times: pd.DatetimeIndex,
    observed: np.ndarray | None = None,
    learned: dict[str, np.ndarray] | None = None,
    train_span: tuple[int, int] | None = None,
    freq: str | None = None,
    target_observed: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Model and baselines on the same test windows, in the target's units.

    Baselines: persistence, seasonal naive at every season the training span shows, and
    the `learned` ones (the linear model's forecasts, in scaled units like `predictions`),
    all from the training span's data only. Metrics: MAE, RMSE, sMAPE, MASE (scaled by the
    training span's in-sample seasonal-naive MAE) and MAE per lead time; skill against each
    baseline and against the best of them.

    Returns:
        The metrics payload and a frame of one-step-ahead values for plotting, stamped with
        the time of each window's first target step (`times` is the series' index).
        `observed` is the target as observed, where prepare clipped or dropped outliers:
        the truth and the baselines' history come from it, not from the clipped series.
        `target_observed` says, per series step, whether the file held the target there;
        targets it did not hold are not scored.
    """
    series = target_series(windows, scaler, observed)
    starts, length = windows.starts, windows.length
    lo, hi = train_span or (0, int(starts.min()) if len(starts) else 0)
    train_target = series[lo:hi]
    found = metrics.seasons(train_target, freq, period)
    actual, model, forecasts = answers(predictions, windows, scaler, series, found, period, learned)
    if target_observed is not None:
        # A target prepare inserted or filled is not the truth: it is left unscored.
        scored = target_observed[starts[:, None] + length + np.arange(actual.shape[1])]
        actual = np.where(scored, actual, np.nan)
    scale = metrics.mase_scale(train_target, period)
    errors = {name: metrics.forecast_errors(actual, f) for name, f in forecasts.items()}
    for entry in [*errors.values()]:
        entry["mase"] = entry["mae"] / scale if scale else float("nan")
    result: dict[str, Any] = {
        "test_windows": len(starts),
        "test_targets_scored": int(np.sum(~np.isnan(actual))),
        "test_targets_imputed": int(np.sum(np.isnan(actual))),
        "model": metrics.forecast_errors(actual, model),
        "baselines": errors,
        "seasons": found,
        "train_steps": hi - lo,
        "changes_predictability": metrics.changes_predictability(train_target, found),
        "mase_scale": scale,
        # The lag MASE's scale used: the season, or 1 where the season does not fit.
        "mase_lag": metrics.mase_lag(hi - lo, period),
    }
    result["model"]["mase"] = result["model"]["mae"] / scale if scale else float("nan")
    if "linear" in forecasts:  # whether chance on this span explains the gap to it
        result["versus_linear"] = metrics.forecast_gap(actual, model, forecasts["linear"], starts)
    result["skill"] = {
        name: metrics.skill(result["model"]["mae"], entry["mae"]) for name, entry in errors.items()
    }
    best = min(errors, key=lambda name: errors[name]["mae"])
    result["best_baseline"] = best
    result["skill"]["best"] = result["skill"][best]
    result["mae_by_lead_time"] = {"model": metrics.mae_by_lead_time(actual, model)} | {
        name: metrics.mae_by_lead_time(actual, f) for name, f in forecasts.items()
    }
    one_step = {"time": times[starts + length], "actual": actual[:, 0], "model": model[:, 0]}
    one_step |= {name: f[:, 0] for name, f in forecasts.items()}
    return result, pd.DataFrame(one_step)


def observed_target(paths: StagePaths) -> np.ndarray | None:
    """The target as observed where prepare handled outliers, else None (the series is it)."""
    file = paths.prepared / OBSERVED_TARGET
    return pd.read_parquet(file).iloc[:, 0].to_numpy(dtype=np.float64) if file.exists() else None


def read_target_observed(paths: StagePaths) -> np.ndarray | None:
    """Per series step, whether the raw file held the target (prepare's record), or None
    where prepare kept none (every step then counts as observed)."""
    file = paths.prepared / TARGET_OBSERVED
    if not file.exists():
        return None
    return pd.read_parquet(file)["observed"].to_numpy(dtype=bool)


def evaluate_classifier(
    probabilities: np.ndarray,
    windows: Windows,
    train_labels: np.ndarray,
    classes: list[str],
    linear: np.ndarray | None = None,
) -> dict[str, Any]:
    """Accuracy and friends for the model, the majority class and (given its predicted
    classes) a linear classifier on the same sequences; skill against each and the best."""
    assert windows.labels is not None
    actual = windows.labels[windows.starts]
    predicted = probabilities.argmax(axis=1)
    majority = metrics.majority_class(train_labels)
    answers = {"majority_class": np.full_like(actual, majority)}
    if linear is not None:
        answers["linear"] = linear
    baselines = {}
    for name, answer in answers.items():
        scores = metrics.classification_scores(actual, answer, classes)
        baselines[name] = {k: scores[k] for k in ("accuracy", "balanced_accuracy")}
    result: dict[str, Any] = {
        "test_windows": len(actual),
        "classes": list(classes),
        "model": metrics.classification_scores(actual, predicted, classes),
        "baselines": baselines,
    }
    if linear is not None:  # test sequences are independent: blocks of one; loss: a miss
        result["versus_linear"] = metrics.paired_gap(predicted != actual, linear != actual)
    # Skill on the error rate: 1 - model errors / baseline errors.
    result["skill"] = {
        name: metrics.skill(1 - result["model"]["accuracy"], 1 - entry["accuracy"])
        for name, entry in baselines.items()
    }
    best = max(baselines, key=lambda name: baselines[name]["accuracy"])
    result["best_baseline"] = best
    result["skill"]["best"] = result["skill"][best]
    return result


def flat_metrics(result: dict[str, Any]) -> dict[str, float]:
    """Scalar metrics named for MLflow: test_mae, persistence_mae, skill_vs_persistence and
    the curve measures under their own names (curve_fluctuation, epochs_to_best_5pct, ...)."""
    flat = {f"test_{k}": v for k, v in result["model"].items() if isinstance(v, float)}
    for name, errors in result["baselines"].items():
        flat |= {f"{name}_{k}": v for k, v in errors.items() if isinstance(v, float)}
    flat |= {f"skill_vs_{name}": v for name, v in result["skill"].items()}
    flat |= {name: float(v) for name, v in result.get("curve", {}).items()}
    return flat


def run(cfg: Config, paths: StagePaths) -> dict[str, Any]:
    """Evaluate the trained model on the test windows and write reports/; returns what
    evaluation.json holds (the caller logs it and has the doctor read it)."""
    windows, meta = load_windows(paths, cfg.model.residual_to)
    test = windows["test"]
    model = keras.models.load_model(paths.models / MODEL_FILE, safe_mode=True)
    history = pd.read_csv(paths.models / HISTORY_FILE)
    scaler = Scaler(**meta["scaler"])
    outputs = predict(model, test)
    with atomic_dir(paths.reports, merge=True) as out:
        (out / "plots").mkdir()
        # Files git keeps carry no wall-clock times: a rerun of the same seed rewrites them
        # byte for byte, so `make run` leaves the checkout clean (times stay in
        # models/history.csv and MLflow).
        # The epochs a person reads in `dvc plots` count from 1, as the console's lines do.
        history.drop(columns=["epoch_seconds"], errors="ignore").assign(
            epoch=np.arange(1, len(history) + 1)
        ).to_csv(out / CURVES_FILE, index=False)
        plots.plot_curves(history, out / "plots" / "curves.png")
        if meta["task"] == "classify":
            train_labels = windows["train"].labels[windows["train"].starts]  # type: ignore[index]
            result = evaluate_classifier(
                outputs,
                test,
                train_labels,
                meta["classes"],
                linear_classifier(windows["train"], test),
            )
            outputs_by_split = {"val": predict(model, windows["val"]), "test": outputs}
            class_rows(windows, outputs_by_split, train_labels).to_parquet(out / TARGETS_FILE)
            plots.plot_confusion(
                result["model"]["confusion_matrix"],
                meta["classes"],
                out / "plots" / "confusion.png",
            )
        else:
            times, observed = series_times(paths), observed_target(paths)
            held = read_target_observed(paths)
            # The linear yardstick forecasts the level whatever the model's targets are, so
            # it stays the same bar for every variant of the model.
            level = {name: replace(w, lookup_lag=0) for name, w in windows.items()}
            weights, _ = fit_ridge(level["train"], level["val"])
            linear = {name: predict_ridge(weights, level[name]) for name in ("val", "test")}
            result, one_step = evaluate_forecast(
                outputs,
                test,
                scaler,
                meta.get("period"),
                times,
                observed,
                learned={"linear": linear["test"]},
                train_span=tuple(meta["bounds"]["train"]),
                freq=meta.get("freq"),
                target_observed=held,
            )
            plots.plot_lead_time(result["mae_by_lead_time"], out / "plots" / "lead_time.png")
            one_step.to_csv(out / PREDICTIONS_FILE, index=False)
            plots.plot_predictions(one_step, out / "plots" / "predictions.png")
            outputs_by_split = {"val": predict(model, windows["val"]), "test": outputs}
            forecast_rows(
                windows,
                outputs_by_split,
                scaler,
                target_series(test, scaler, observed),
                result["seasons"],
                meta.get("period"),
                {"linear": linear},
                times,
                held,
            ).to_parquet(out / TARGETS_FILE)
        result["epochs"] = len(history)
        val_loss = history["val_loss"]
        # Counted from 1, as Keras prints epochs.
        result["best_epoch"] = int(val_loss.idxmin()) + 1 if val_loss.notna().any() else None
        result["best_val_loss"] = float(val_loss.min())
        result["curve"] = curve_measures.measure(history)
        curve = {k: v for k, v in result["curve"].items() if k not in WALL_CLOCK}
        write_json(out / EVALUATION_FILE, result | {"curve": curve})
        write_json(out / METRICS_FILE, headline(result))
    return result


# Measures in wall-clock seconds: logged to MLflow, kept out of the files git tracks.
WALL_CLOCK = frozenset({"seconds_to_best_5pct"})


def headline(result: dict[str, Any]) -> dict[str, float | int | None]:
    """The few numbers people compare across runs (reports/metrics.json, what `dvc metrics
    show` and `dvc exp show` print): the test metric, the skill against the best baseline
    and the linear model, the best validation loss and the epochs run. The rest (every
    baseline, the error by lead time, the curve measures) is in evaluation.json."""
    model, skill = result["model"], result.get("skill", {})
    names = ("accuracy", "balanced_accuracy") if "accuracy" in model else ("mae", "mase")
    numbers: dict[str, float | int | None] = {f"test_{n}": model.get(n) for n in names}
    numbers |= {f"skill_vs_{k}": skill[k] for k in ("best", "linear") if k in skill}
    numbers |= {k: result.get(k) for k in ("best_val_loss", "epochs")}
    return numbers
