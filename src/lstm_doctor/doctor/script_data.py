"""The doctor's checks on a user's own arrays of windows: values that are not finite,
constant features, which input feature is the target, and a validation split that shares
its windows with training (a shuffled split of overlapping windows leaks).

Pure functions from numpy arrays (x: windows x steps x features; y: windows, or windows x
outputs) to `Finding`s and plain facts.
"""

from __future__ import annotations

import warnings

import numpy as np

from lstm_doctor.config.prescriptions import setting
from lstm_doctor.doctor.findings import Finding

# A validation set sharing more than this share of its windows with training is a leak:
# a chronological split shares at most the few windows at its boundary.
LEAK_SHARE = 0.2
# The target found among the inputs when it matches the next window's last value this often.
MATCH_SHARE = 0.95


def as_windows(x: np.ndarray) -> np.ndarray:
    """x as windows x steps x features (a 2-D x is one feature per step)."""
    x = np.asarray(x)
    return x[..., None] if x.ndim == 2 else x


def first_target(y: np.ndarray) -> np.ndarray:
    """The first (or only) step of each window's target, as a vector."""
    y = np.asarray(y, dtype=float)
    return y.reshape(len(y), -1)[:, 0]


def check_finite(x: np.ndarray, y: np.ndarray) -> list[Finding]:
    """NaN or inf in the inputs or targets: one in a batch makes the loss NaN."""
    bad_x = int(np.size(x) - np.isfinite(x).sum())
    bad_y = int(np.size(y) - np.isfinite(np.asarray(y, dtype=float)).sum())
    if not bad_x and not bad_y:
        return []
    return [
        Finding(
            "data.missing_values",
            "error",
            {"non_finite_inputs": bad_x, "non_finite_targets": bad_y},
            f"The training arrays hold {bad_x} NaN or inf inputs and {bad_y} in the targets: "
            "one in a batch makes the loss NaN.",
            [setting("prepare.missing", "interpolate"), setting("prepare.missing", "drop")],
        )
    ]


def check_constant(x: np.ndarray, columns: list[str]) -> list[Finding]:
    """Features that never change in the training windows carry no information."""
    flat = x.reshape(-1, x.shape[-1])
    if not np.issubdtype(flat.dtype, np.number):
        flat = flat.astype(float)
    # Its least and largest values equal: as a zero spread, without a float64 copy of every
    # window (a tenth of the whole diagnosis on an hour-by-hour year). A feature of NaN
    # alone (its minimum NaN) or of infinities is not constant, as its spread is not zero.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN feature
        least, largest = np.nanmin(flat, axis=0), np.nanmax(flat, axis=0)
    constant = [columns[i] for i in np.flatnonzero((least == largest) & np.isfinite(least))]
    if not constant:
        return []
    return [
        Finding(
            "data.constant_features",
            "info",
            {"constant_features": constant},
            f"{len(constant)} input feature(s) never change in the training windows "
            f"({', '.join(constant[:5])}): they cannot inform the model.",
        )
    ]


def find_target(x: np.ndarray, y: np.ndarray) -> int | None:
    """The input feature that is the target: the next window's last value of it equals this
    window's first target (windows taken one step apart), or None."""
    if len(x) < 3 or x.ndim != 3:
        return None
    target = first_target(y)
    nxt = x[1:, -1, :].astype(float)  # the last input step of each next window
    scale = np.nanstd(target) or 1.0
    close = np.abs(nxt - target[:-1, None]) <= 1e-6 * scale + 1e-9
    share = close.mean(axis=0)
    best = int(np.argmax(share))
    return best if share[best] >= MATCH_SHARE else None


def _keys(windows: np.ndarray) -> set[bytes]:
    return {np.ascontiguousarray(w).tobytes() for w in windows}


def shared_windows(x_train: np.ndarray, x_val: np.ndarray) -> float:
    """The share of validation windows whose inputs, shifted by up to two steps, are a
    training window's too: overlapping windows split at random share almost all of them."""
    if x_train.shape[1] < 4 or not len(x_val):
        return 0.0
    x_train, x_val = x_train.astype(np.float32), x_val.astype(np.float32)
    shared = np.zeros(len(x_val), dtype=bool)
    for shift in (0, 1, 2):
        if shift == 0:
            train, val = _keys(x_train), x_val
        else:  # a validation window one or two steps after a training window
            train = _keys(x_train[:, shift:])
            val = x_val[:, :-shift]
        shared |= np.array([np.ascontiguousarray(w).tobytes() in train for w in val])
    return float(shared.mean())


def check_leaky_split(x_train: np.ndarray, x_val: np.ndarray) -> list[Finding]:
    """A validation set made of windows overlapping training ones scores what the model
    memorised, not what it generalises."""
    share = shared_windows(x_train, x_val)
    if share < LEAK_SHARE:
        return []
    return [
        Finding(
            "data.leaky_split",
            "error",
            {"validation_windows_overlapping_training": share},
            f"{100 * share:.0f}% of the validation windows are training windows shifted by a "
            "step or two: overlapping windows were split at random, so the validation loss "
            "measures memory, not forecasting.",
            ["split chronologically: the last windows for validation, with a gap of one window"],
        )
    ]


def class_counts(y: np.ndarray) -> list[int]:
    """Counts of each class in integer labels or one-hot rows."""
    y = np.asarray(y)
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return np.bincount(labels.astype(int)).tolist()


def labels_of(y: np.ndarray) -> np.ndarray:
    """Integer labels from integer labels or one-hot rows (or a sigmoid's 0/1 column)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=-1)
    return y.reshape(-1).astype(int)


def looks_like_classes(y: np.ndarray) -> bool:
    """Integer labels, or one-hot rows: a classification target."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return bool(np.isin(y, (0, 1)).all() and np.allclose(y.sum(axis=1), 1))
    flat = y.reshape(-1)
    return bool(np.issubdtype(flat.dtype, np.integer) or (np.isin(flat, (0, 1)).all()))
