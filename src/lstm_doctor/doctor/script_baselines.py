"""The yardsticks a user's model must beat, fitted on their training arrays and scored on
their validation arrays: the mean (or the majority class) and a ridge (or logistic)
regression on the flattened windows always; persistence and seasonal naive when the target
is among the inputs. Returned in the shape the pipeline's evaluate writes (`model`,
`baselines`, `skill`), so the same result checks judge them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_doctor.base import metrics as measures
from lstm_doctor.doctor.script_data import labels_of

# Windows used to fit the linear yardstick: more adds time, not a better line.
MAX_FIT = 20_000


def _flat(x: np.ndarray) -> np.ndarray:
    # astype makes the one copy; the NaNs are zeroed in it, not in a second.
    return np.nan_to_num(x.reshape(len(x), -1).astype(np.float64), copy=False)


def _targets(y: np.ndarray) -> np.ndarray:
    return np.asarray(y, dtype=np.float64).reshape(len(y), -1)


def forecast_baselines(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    target_index: int | None,
    season: int | None,
) -> dict[str, np.ndarray]:
    """Each baseline's predictions of the validation targets (windows x outputs)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_y, val_y = _targets(y_train), _targets(y_val)
    out = {"mean": np.broadcast_to(train_y.mean(axis=0), val_y.shape).copy()}
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-4, 3, 8)))
    ridge.fit(_flat(x_train[:MAX_FIT]), train_y[:MAX_FIT])
    out["linear"] = ridge.predict(_flat(x_val)).reshape(val_y.shape)
    if target_index is not None:
        last = x_val[:, -1, target_index].astype(np.float64)
        out["persistence"] = np.repeat(last[:, None], val_y.shape[1], axis=1)
        length = x_val.shape[1]
        if season and 1 < season <= length:
            # Step h ahead takes the same phase one season back, within the window.
            steps = length - season + np.arange(val_y.shape[1]) % season
            out["seasonal_naive"] = x_val[:, steps, target_index].astype(np.float64)
    return out


def forecast_metrics(
    baselines: dict[str, np.ndarray], y_val: np.ndarray, predicted: np.ndarray | None
) -> dict[str, Any]:
    """MAE and MSE of each baseline and (when there is one) the model; skills against each."""
    actual = _targets(y_val)

    def errors(pred: np.ndarray) -> dict[str, float]:
        diff = pred.reshape(actual.shape) - actual
        return {"mae": float(np.mean(np.abs(diff))), "mse": float(np.mean(diff**2))}

    result: dict[str, Any] = {"baselines": {k: errors(v) for k, v in baselines.items()}}
    if predicted is not None:
        result["model"] = errors(np.asarray(predicted, dtype=np.float64))
        result["skill"] = {
            k: measures.skill(result["model"]["mae"], v["mae"])
            for k, v in result["baselines"].items()
        }
    return result


def classify_metrics(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    predicted: np.ndarray | None,
) -> dict[str, Any]:
    """Accuracy of the majority class, a logistic regression and (when there is one) the
    model on the validation windows; skills on the error rate, as evaluate's."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, actual = labels_of(y_train), labels_of(y_val)
    n_classes = int(max(train.max(), actual.max()) + 1)
    majority = measures.majority_class(train)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    logistic.fit(_flat(x_train[:MAX_FIT]), train[:MAX_FIT])
    linear = logistic.predict(_flat(x_val))
    result: dict[str, Any] = {
        "baselines": {
            "majority_class": {"accuracy": float(np.mean(actual == majority))},
            "linear": {"accuracy": float(np.mean(actual == linear))},
        }
    }
    if predicted is not None:
        predicted = np.asarray(predicted)
        if predicted.ndim == 2 and predicted.shape[1] > 1:
            labels = predicted.argmax(axis=1)
        else:  # one sigmoid output
            labels = (predicted.reshape(-1) >= 0.5).astype(int)
        classes = [str(c) for c in range(n_classes)]
        result["model"] = measures.classification_scores(actual, labels, classes)
        result["skill"] = {
            k: measures.skill(1 - result["model"]["accuracy"], 1 - v["accuracy"])
            for k, v in result["baselines"].items()
        }
    return result
