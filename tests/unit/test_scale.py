"""Splits and scalers: boundaries, training-span-only statistics, inverse scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from lstm_doctor.base.errors import DataError
from lstm_doctor.config import ScalingConfig, SplitConfig
from lstm_doctor.stages.scale import fit_scaler, scale_series, split_sequences
from lstm_doctor.stages.splits import split_bounds


def test_split_bounds_are_chronological_and_cover_everything() -> None:
    bounds = split_bounds(100, SplitConfig(val_fraction=0.2, test_fraction=0.1))
    assert bounds == {"train": (0, 70), "val": (70, 90), "test": (90, 100)}


def test_empty_split_is_an_error_naming_the_key() -> None:
    with pytest.raises(DataError, match=r"split 'val' is empty.*split.val_fraction"):
        split_bounds(3, SplitConfig(val_fraction=0.1, test_fraction=0.4))


@pytest.mark.parametrize(
    ("method", "reference"),
    [("standard", StandardScaler), ("minmax", MinMaxScaler), ("robust", RobustScaler)],
)
def test_scaler_matches_sklearn_fitted_on_train_only(method: str, reference: type) -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, size=(100, 2)) * [1, 1e6] + [0, 5e6]
    values[70:] += 1e3  # the future looks different: it must not move the statistics
    table = pd.DataFrame(values, columns=["a", "b"])
    scaled, bounds, scaler = scale_series(table, SplitConfig(0.15, 0.15), ScalingConfig(method))
    expected = reference().fit(values[: bounds["train"][1]]).transform(values)
    assert np.allclose(scaled, expected, atol=1e-5)
    assert np.allclose(scaler.inverse(scaled[:, 1].astype(np.float64), 1), values[:, 1], rtol=1e-6)


def test_fit_on_all_leaks_future_statistics() -> None:
    # The training span varies (a constant one is refused), the future sits far above it.
    values = np.r_[np.arange(70) % 2, np.full(30, 100.0)][:, None].astype(float)
    table = pd.DataFrame(values, columns=["y"])
    _, _, honest = scale_series(table, SplitConfig(0.15, 0.15), ScalingConfig("standard", "train"))
    _, _, leaky = scale_series(table, SplitConfig(0.15, 0.15), ScalingConfig("standard", "all"))
    assert honest.center == [0.5]
    assert leaky.center == [pytest.approx(30.35)]


def test_constant_feature_is_left_unscaled_not_divided_by_zero() -> None:
    scaler = fit_scaler(np.ones((10, 1)), ScalingConfig("standard"))
    assert scaler.scale == [1.0]


def test_sequence_splits_hold_every_class() -> None:
    labels = np.array([0] * 10 + [1] * 10)
    parts = split_sequences(labels, has_test=False, split=SplitConfig(0.2, 0.2), seed=0)
    for name in ("train", "val", "test"):
        assert set(labels[parts[name]]) == {0, 1}
    assert sorted(np.concatenate(list(parts.values()))) == list(range(20))
