"""Stage evaluate: test metrics in the target's own units, beside naive baselines.

Reads models/ and the test windows; writes reports/metrics.json (DVC metrics),
reports/curves.csv and reports/predictions.csv (DVC plots) and reports/plots/*.png.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_doctor.stages import keras_env  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras
import pandas as pd

from lstm_doctor import metrics
from lstm_doctor.config import Config
from lstm_doctor.stages import plots
from lstm_doctor.stages.scale import Scaler, series_times
from lstm_doctor.stages.window import Windows, load_windows
from lstm_doctor.workspace import OBSERVED_TARGET, StagePaths, atomic_dir, write_json


def predict(model: keras.Model, windows: Windows, batch_size: int = 512) -> np.ndarray:
    """Model outputs for every window, in order, mapped back from per-window normalisation."""
    outputs = []
    for lo in range(0, len(windows), batch_size):
        positions = np.arange(lo, min(lo + batch_size, len(windows)))
        x, _, stats = windows.batch_with_stats(positions)
        outputs.append(windows.restore(model.predict_on_batch(x), stats))
    return np.concatenate(outputs)


def evaluate_forecast(
    predictions: np.ndarray,
    windows: Windows,
    scaler: Scaler,
    period: int | None,
    times: pd.DatetimeIndex,
    observed: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Model and baselines on the same test windows, in the target's units.

    Returns:
        The metrics payload and a frame of one-step-ahead values for plotting, stamped with
        the time of each window's first target step (`times` is the series' index).
        `observed` is the target as observed, where prepare clipped or dropped outliers:
        the truth and the baselines' history come from it, not from the clipped series.
    """
    t = windows.target_index
    series = (
        scaler.inverse(windows.data[:, t].astype(np.float64), t) if observed is None else observed
    )
    starts, length, horizon = windows.starts, windows.length, windows.horizon
    actual = series[starts[:, None] + length + np.arange(horizon)]
    model = scaler.inverse(predictions.astype(np.float64), t)
    forecasts = {"persistence": metrics.persistence_forecast(series, starts, length, horizon)}
    if period and period > 1:
        seasonal = metrics.seasonal_naive_forecast(series, starts, length, horizon, period)
        if seasonal is not None:
            forecasts["seasonal_naive"] = seasonal
    result: dict[str, Any] = {
        "test_windows": len(starts),
        "model": metrics.forecast_errors(actual, model),
        "baselines": {name: metrics.forecast_errors(actual, f) for name, f in forecasts.items()},
    }
    result["skill"] = {
        name: metrics.skill(result["model"]["mae"], errors["mae"])
        for name, errors in result["baselines"].items()
    }
    one_step = {"time": times[starts + length], "actual": actual[:, 0], "model": model[:, 0]}
    one_step |= {name: f[:, 0] for name, f in forecasts.items()}
    return result, pd.DataFrame(one_step)


def observed_target(paths: StagePaths) -> np.ndarray | None:
    """The target as observed where prepare handled outliers, else None (the series is it)."""
    file = paths.prepared / OBSERVED_TARGET
    return pd.read_parquet(file).iloc[:, 0].to_numpy(dtype=np.float64) if file.exists() else None


def evaluate_classifier(
    probabilities: np.ndarray, windows: Windows, train_labels: np.ndarray, classes: list[str]
) -> dict[str, Any]:
    """Accuracy and friends for the model and the majority-class baseline."""
    assert windows.labels is not None
    actual = windows.labels[windows.starts]
    predicted = probabilities.argmax(axis=1)
    majority = metrics.majority_class(train_labels)
    baseline = metrics.classification_scores(actual, np.full_like(actual, majority), classes)
    result: dict[str, Any] = {
        "test_windows": len(actual),
        "model": metrics.classification_scores(actual, predicted, classes),
        "baselines": {
            "majority_class": {k: baseline[k] for k in ("accuracy", "balanced_accuracy")}
        },
    }
    result["skill"] = {
        "majority_class": metrics.skill(1 - result["model"]["accuracy"], 1 - baseline["accuracy"])
    }
    return result


def flat_metrics(result: dict[str, Any]) -> dict[str, float]:
    """Scalar test metrics named for MLflow: test_mae, persistence_mae, skill_vs_persistence."""
    flat = {f"test_{k}": v for k, v in result["model"].items() if isinstance(v, float)}
    for name, errors in result["baselines"].items():
        flat |= {f"{name}_{k}": v for k, v in errors.items() if isinstance(v, float)}
    flat |= {f"skill_vs_{name}": v for name, v in result["skill"].items()}
    return flat


def run(cfg: Config, paths: StagePaths) -> dict[str, Any]:
    """Evaluate the trained model on the test windows and write reports/; returns what
    metrics.json holds (the caller logs it and has the doctor read it)."""
    windows, meta = load_windows(paths)
    test = windows["test"]
    model = keras.models.load_model(paths.models / "model.keras", safe_mode=True)
    history = pd.read_csv(paths.models / "history.csv")
    scaler = Scaler(**meta["scaler"])
    outputs = predict(model, test)
    with atomic_dir(paths.reports, merge=True) as out:
        (out / "plots").mkdir()
        history.to_csv(out / "curves.csv", index=False)
        plots.plot_curves(history, out / "plots" / "curves.png")
        if meta["task"] == "classify":
            train_labels = windows["train"].labels[windows["train"].starts]  # type: ignore[index]
            result = evaluate_classifier(outputs, test, train_labels, meta["classes"])
            plots.plot_confusion(
                result["model"]["confusion_matrix"],
                meta["classes"],
                out / "plots" / "confusion.png",
            )
        else:
            result, one_step = evaluate_forecast(
                outputs,
                test,
                scaler,
                meta.get("period"),
                series_times(paths),
                observed_target(paths),
            )
            one_step.to_csv(out / "predictions.csv", index=False)
            plots.plot_predictions(one_step, out / "plots" / "predictions.png")
        result["epochs"] = len(history)
        val_loss = history["val_loss"]
        # Counted from 1, as Keras prints epochs.
        result["best_epoch"] = int(val_loss.idxmin()) + 1 if val_loss.notna().any() else None
        result["best_val_loss"] = float(val_loss.min())
        write_json(out / "metrics.json", result)
    return result
