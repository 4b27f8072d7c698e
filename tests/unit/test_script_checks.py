"""The script adapter's arithmetic on tiny exact arrays: the target found among the inputs,
a shuffled split of overlapping windows told from a chronological one, the baselines, and
prescriptions said in Keras terms."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.doctor import script_baselines, script_data
from lstm_doctor.doctor.script import ScriptRun, diagnose_script
from lstm_doctor.doctor.script_terms import ScriptTerms, translate


def _windows(series: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(len(series) - length)
    x = np.stack([series[s : s + length] for s in starts])
    return x, series[starts + length, 0]


def test_the_target_is_found_among_the_inputs() -> None:
    rng = np.random.default_rng(0)
    series = np.column_stack([rng.normal(size=200), np.arange(200.0)])
    x, y = _windows(series[:, ::-1].copy(), 8)  # the target column is feature 1 here
    x2, y2 = _windows(series, 8)
    assert script_data.find_target(x2, y2) == 0
    assert script_data.find_target(x, series[8:, 0]) == 1
    unrelated = np.random.default_rng(3).normal(size=len(y))
    assert script_data.find_target(x2, unrelated) is None


def test_a_shuffled_split_of_overlapping_windows_leaks_a_chronological_one_does_not() -> None:
    series = np.random.default_rng(1).normal(size=(300, 2))
    x, _ = _windows(series, 10)
    assert script_data.shared_windows(x[:200], x[200:]) < 0.05  # the boundary alone
    order = np.random.default_rng(2).permutation(len(x))
    assert script_data.shared_windows(x[order[:200]], x[order[200:]]) > 0.5
    assert script_data.check_leaky_split(x[order[:200]], x[order[200:]])[0].code == (
        "data.leaky_split"
    )


def test_persistence_and_seasonal_naive_on_windows() -> None:
    t = np.arange(120.0)
    series = np.column_stack([np.sin(2 * np.pi * t / 12), t % 5])
    x, y = _windows(series, 24)
    found = script_baselines.forecast_baselines(x[:60], y[:60], x[60:], y[60:], 0, 12)
    np.testing.assert_allclose(found["persistence"][:, 0], x[60:, -1, 0])
    # A pure season: seasonal naive is exact.
    np.testing.assert_allclose(found["seasonal_naive"][:, 0], y[60:], atol=1e-12)


def test_prescriptions_in_keras_terms_never_overrides() -> None:
    terms = ScriptTerms(optimizer="SGD", lr=0.5, units=8)
    said = translate(
        [
            "optimizer.lr=0.001",
            "model.units=64",
            "scaling=standard",
            "prepare.calendar_features=true",
        ],
        terms,
    )
    assert said[0] == "keras.optimizers.SGD(learning_rate=0.001)"
    assert "LSTM(64)" in said and any("standardise" in s for s in said)
    assert not any("=true" in s or s.startswith("scaling") for s in said)


def test_curves_only_says_what_it_could_not_assess() -> None:
    loss = np.linspace(1.0, 0.99, 10)
    result = diagnose_script(ScriptRun(history=pd.DataFrame({"loss": loss, "val_loss": loss})))
    assert "train.not_learning" in result["codes"]
    assert any("arrays" in need for need in result["not_assessed"].values())
    assert all("=" not in fix or "(" in fix for f in result["findings"] for fix in f["fixes"])


@pytest.mark.parametrize(
    ("hints", "named"),
    [
        ({"target_index": -1}, "target_index (--target-index) is -1"),
        ({"target_index": 3}, "under 3"),  # the windows below have 3 features: 0, 1, 2
        ({"target_index": 1.5}, "target_index (--target-index) is 1.5"),
        ({"season": 0}, "season (--season) is 0"),
        ({"season": 1}, "season (--season) is 1"),
        ({"season": -24}, "season (--season) is -24"),
        ({"task": "regress"}, "task (--task) is 'regress'"),
    ],
)
def test_a_hint_the_doctor_would_misread_is_refused_naming_it(hints: dict, named: str) -> None:
    from lstm_doctor.base.errors import DataError
    from lstm_doctor.keras import DoctorCallback

    x = np.zeros((8, 5, 3), dtype=np.float32)
    history = pd.DataFrame({"loss": [1.0, 0.5]})
    with pytest.raises(DataError, match=re.escape(named)):
        ScriptRun(history, x_train=x, y_train=np.zeros(8), **hints)
    if "under" not in named:  # a range the arrays set is known to the callback only at fit
        with pytest.raises(DataError, match=re.escape(named)):
            DoctorCallback(**hints)
    ScriptRun(history, x_train=x, target_index=2, season=2, task="forecast")  # the edges pass


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("seed", range(4))
def test_a_constant_feature_is_one_with_no_spread_whatever_the_arrays_hold(
    dtype: str, seed: int
) -> None:
    """The check's cheap test (least value equals largest) finds exactly the features whose
    spread is zero: NaNs among them, a feature of NaN alone, any dtype."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 6, 7)).astype(dtype)
    x[..., 1] = 3
    x[..., 2] = 0
    if dtype.startswith("float"):
        x[..., 4] = np.nan
        x[..., 5] = -2.5
        x[rng.integers(40), rng.integers(6), [0, 5]] = np.nan
    columns = [f"f{i}" for i in range(7)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN feature's
        spread = np.nanstd(x.reshape(-1, 7).astype(float), axis=0)
    want = [columns[i] for i in np.flatnonzero(spread == 0)]
    found = script_data.check_constant(x, columns)
    assert (found[0].evidence["constant_features"] if found else []) == want
    assert "f1" in want and "f2" in want
