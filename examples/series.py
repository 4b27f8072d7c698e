"""Synthetic series and sliding windows shared by the example scripts (no network)."""

from __future__ import annotations

import numpy as np


def smooth_noise(n: int, rng: np.random.Generator, phi: float = 0.9) -> np.ndarray:
    """An AR(1) series: wanders smoothly around zero."""
    out = np.zeros(n)
    shocks = rng.normal(size=n)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + shocks[t]
    return out / out.std()


def windows(features: np.ndarray, target: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """x[i] = features[i : i + length], y[i] = target[i + length] (one step ahead)."""
    starts = np.arange(len(target) - length)
    x = np.stack([features[s : s + length] for s in starts]).astype("float32")
    return x, target[starts + length].astype("float32")


def chronological(x: np.ndarray, y: np.ndarray, val: float = 0.2) -> tuple[np.ndarray, ...]:
    """The last `val` share of the windows for validation, as a forecaster must split."""
    at = int(len(x) * (1 - val))
    return x[:at], y[:at], x[at:], y[at:]


def seasonal_series(n: int, seed: int = 0, season: int = 24) -> np.ndarray:
    """A target and two fast-changing inputs: each value is a season plus the product of
    the inputs one step before (a lookup or a line cannot forecast it, an LSTM can)."""
    rng = np.random.default_rng(seed)
    a, b = smooth_noise(n, rng, 0.5), smooth_noise(n, rng, 0.5)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / season) + 0.05 * rng.normal(size=n)
    y[1:] += np.tanh(2 * a[:-1]) * b[:-1]
    return np.column_stack([y, a, b])
