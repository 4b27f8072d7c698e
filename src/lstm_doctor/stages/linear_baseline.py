"""The linear yardstick: does the LSTM earn its complexity?

Forecasts: ridge regression from the very input window the LSTM sees (every feature, the
calendar too, flattened) to the whole horizon, fitted on the training windows only; its
penalty chosen on the validation windows. The normal equations are accumulated batch by
batch (X'X is (L·F+1)² whatever the series' length), so memory stays flat in the number of
windows, as the LSTM's own data path does. Classifiers: a logistic regression on the same
sequences, flattened.
"""

from __future__ import annotations

import numpy as np

from lstm_doctor.stages.window import Windows

# Penalties tried, as shares of the mean diagonal of X'X; chosen on validation windows.
ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
BATCH = 4096


def _design(x: np.ndarray) -> np.ndarray:
    """Flattened windows with a constant column (the intercept)."""
    flat = x.reshape(len(x), -1).astype(np.float64)
    return np.hstack([flat, np.ones((len(flat), 1))])


def _chunks(windows: Windows) -> list[np.ndarray]:
    return [np.arange(lo, min(lo + BATCH, len(windows))) for lo in range(0, len(windows), BATCH)]


def fit_ridge(train: Windows, val: Windows) -> tuple[np.ndarray, float]:
    """Ridge weights (features x horizon) mapping an input window to its targets, and the
    penalty that predicted the validation windows best."""
    gram, cross = None, None
    for positions in _chunks(train):
        x, y = train.batch(positions)
        design = _design(x)
        gram = design.T @ design if gram is None else gram + design.T @ design
        block = design.T @ y.astype(np.float64)
        cross = block if cross is None else cross + block
    assert gram is not None and cross is not None
    penalty = np.eye(len(gram))
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    scale = float(np.trace(gram)) / len(gram) or 1.0  # penalties relative to the data's size
    best: tuple[float, np.ndarray, float] | None = None
    for alpha in ALPHAS:
        weights = np.linalg.lstsq(gram + alpha * scale * penalty, cross, rcond=None)[0]
        error = _mse(weights, val)
        if best is None or error < best[0]:
            best = (error, weights, alpha)
    assert best is not None
    return best[1], best[2]


def _mse(weights: np.ndarray, windows: Windows) -> float:
    total, count = 0.0, 0
    for positions in _chunks(windows):
        x, y = windows.batch(positions)
        total += float(np.sum((_design(x) @ weights - y) ** 2))
        count += y.size
    return total / max(count, 1)


def predict_ridge(weights: np.ndarray, windows: Windows) -> np.ndarray:
    """Forecasts for every window, in the scaled series' units (per-window normalisation
    undone, exactly as the LSTM's predictions are)."""
    out = []
    for positions in _chunks(windows):
        x, _, stats = windows.batch_with_stats(positions)
        out.append(windows.restore(_design(x) @ weights, stats))
    return np.concatenate(out) if out else np.empty((0, windows.horizon))


def linear_classifier(train: Windows, test: Windows) -> np.ndarray:
    """Class predictions of a logistic regression on the flattened training sequences."""
    from sklearn.linear_model import LogisticRegression

    x_train, y_train = train.batch(np.arange(len(train)))
    x_test, _ = test.batch(np.arange(len(test)))
    model = LogisticRegression(max_iter=2000)
    model.fit(x_train.reshape(len(x_train), -1), y_train)
    return model.predict(x_test.reshape(len(x_test), -1))
