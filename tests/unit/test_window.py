"""Window arithmetic on exact data: offsets, labels, gaps, per-window normalisation, memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from lstm_doctor.base.errors import DataError
from lstm_doctor.config import WindowConfig
from lstm_doctor.stages.window import Windows, forecast_starts, window_starts


def test_starts_keep_inputs_and_labels_inside_the_split() -> None:
    cfg = WindowConfig(length=3, horizon=2, stride=1)
    starts = window_starts((10, 20), cfg)
    # last start s satisfies s + 3 + 2 <= 20
    assert starts.tolist() == list(range(10, 16))


def test_stride_and_gap() -> None:
    cfg = WindowConfig(length=3, horizon=1, stride=2, gap=4)
    starts = forecast_starts({"train": (0, 10), "val": (10, 20), "test": (20, 30)}, cfg)
    assert starts["train"].tolist() == [0, 2, 4, 6]
    assert starts["val"].tolist() == [14, 16]  # skips 4 steps after the split point
    assert starts["test"].tolist() == [24, 26]


def test_split_too_short_names_the_split_and_the_keys() -> None:
    cfg = WindowConfig(length=8, horizon=4)
    with pytest.raises(DataError, match=r"split 'val' has 5 steps.*window.length"):
        forecast_starts({"train": (0, 50), "val": (50, 55), "test": (55, 100)}, cfg)


def test_batch_gathers_inputs_and_labels_from_offsets() -> None:
    series = np.arange(20, dtype=np.float32).reshape(10, 2)  # row r = [2r, 2r+1]
    w = Windows(series, np.array([0, 3]), "forecast", length=3, horizon=2, target_index=0)
    x, y = w.batch(np.array([0, 1]))
    assert x.shape == (2, 3, 2)
    assert x[1, :, 0].tolist() == [6, 8, 10]  # rows 3, 4, 5
    assert y.tolist() == [[6, 8], [12, 14]]  # target of rows 3,4 and 6,7


@pytest.mark.parametrize("mode", ["last", "standard"])
def test_per_window_normalisation_round_trips(mode: str) -> None:
    rng = np.random.default_rng(0)
    series = rng.normal(5, 3, size=(50, 3)).astype(np.float32)
    plain = Windows(series, np.arange(0, 40, 5), "forecast", length=6, horizon=3)
    normed = Windows(series, np.arange(0, 40, 5), "forecast", length=6, horizon=3, normalize=mode)
    positions = np.arange(len(plain))
    _, y_plain = plain.batch(positions)
    x_norm, y_norm = normed.batch(positions)
    if mode == "last":
        assert np.allclose(x_norm[:, -1, :], 0)
    else:
        assert np.allclose(x_norm.mean(axis=1), 0, atol=1e-5)
    assert np.allclose(normed.denormalize(positions, y_norm), y_plain, atol=1e-4)


def test_memory_grows_with_the_series_not_the_window_length() -> None:
    # 2M steps x 8 features with 168-step windows would be ~10 GB materialised.
    series = np.zeros((2_000_000, 8), dtype=np.float32)
    tracemalloc.start()
    starts = window_starts((0, len(series)), WindowConfig(length=168, horizon=24))
    w = Windows(series, starts, "forecast", length=168, horizon=24)
    x, _ = w.batch(np.arange(256))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(w) == 2_000_000 - 168 - 24 + 1
    assert x.shape == (256, 168, 8)
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_residual_targets_are_corrections_to_the_lookup() -> None:
    # series[t] = t: window start 0, length 4, horizon 3, targets 4, 5, 6. The lag-2 lookup
    # reads the latest same-phase value before the window's end: 2, 3, then 2 again (6 - 4).
    series = np.arange(20, dtype=np.float32).reshape(20, 1)
    w = Windows(series, np.array([0, 5]), "forecast", length=4, horizon=3, lookup_lag=2)
    x, y, stats = w.batch_with_stats(np.array([0, 1]))
    assert x[0, :, 0].tolist() == [0, 1, 2, 3]  # inputs are unchanged
    assert stats is not None and stats[0].tolist() == [[2, 3, 2], [7, 8, 7]]
    assert y.tolist() == [[2, 2, 4], [2, 2, 4]]
    # An untrained model's zero is the lookup; the restored truth is the truth.
    assert w.restore(np.zeros((2, 3)), stats).tolist() == [[2, 3, 2], [7, 8, 7]]
    assert w.restore(y, stats).tolist() == [[4, 5, 6], [9, 10, 11]]


def test_persistence_residual_with_per_window_normalisation() -> None:
    series = np.arange(20, dtype=np.float32).reshape(20, 1) ** 2
    w = Windows(series, np.array([2]), "forecast", length=3, horizon=2, lookup_lag=1,
                normalize="standard")  # fmt: skip
    _, y, stats = w.batch_with_stats(np.array([0]))
    truth = series[5:7, 0]
    assert stats is not None and stats[0].tolist() == [[16.0, 16.0]]  # the last input, twice
    np.testing.assert_allclose(w.restore(y, stats)[0], truth, rtol=1e-6)


def test_a_lookup_before_the_series_reads_its_first_step() -> None:
    series = np.arange(10, dtype=np.float32).reshape(10, 1) + 100
    w = Windows(series, np.array([0]), "forecast", length=2, horizon=1, lookup_lag=5)
    assert w.lookups(np.array([0])).tolist() == [[100.0]]  # step -3 does not exist
