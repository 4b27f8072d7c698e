"""The yardsticks a forecaster respects, on tiny exact data: seasons the data show, MASE's
scale, error by lead time, the linear model on the same windows, and the doctor judging
against the strongest of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base import metrics
from lstm_doctor.doctor import result_checks
from lstm_doctor.stages.linear_baseline import fit_ridge, predict_ridge
from lstm_doctor.stages.window import Windows

from ..conftest import tiny_config


def hourly_with_daily_and_weekly(n: int = 24 * 7 * 8) -> np.ndarray:
    t = np.arange(n)
    return 10 * np.sin(2 * np.pi * t / 24) + 6 * ((t // 24) % 7 >= 5) + 100


def test_seasons_are_the_data_own_for_any_frequency() -> None:
    hourly = hourly_with_daily_and_weekly()
    assert metrics.seasons(hourly, "h", 24) == [24, 168]
    # 15-minute data: a day is 96 steps, a week 672 (too long for this span: not counted)
    quarter = np.sin(2 * np.pi * np.arange(96 * 10) / 96)
    assert metrics.seasons(quarter, "15min", 96) == [96]
    daily = np.tile([1.0, 1, 1, 1, 1, 5, 5], 60)
    assert metrics.seasons(daily, "D", 7) == [7]
    monthly = np.tile(np.sin(2 * np.pi * np.arange(12) / 12), 6)
    assert metrics.seasons(monthly, "MS", None) == [12]
    noise = np.random.default_rng(0).normal(size=2000)
    assert metrics.seasons(noise, "h", None) == []


def test_mase_scale_is_the_training_span_in_sample_seasonal_naive_mae() -> None:
    y = np.array([1.0, 2, 3, 5, 4, 6])
    assert metrics.mase_scale(y, 2) == pytest.approx(np.mean([2, 3, 1, 1]))
    assert metrics.mase_scale(y, None) == pytest.approx(np.mean([1, 1, 2, 1, 2]))


def test_error_by_lead_time_is_per_step_ahead() -> None:
    actual = np.array([[1.0, 2, 3], [1, 2, 3]])
    predicted = np.array([[1.0, 3, 6], [1, 1, 0]])
    assert metrics.mae_by_lead_time(actual, predicted) == [0.0, 1.0, 3.0]


def windows_over(
    series: np.ndarray, lo: int, hi: int, length: int = 4, horizon: int = 2
) -> Windows:
    data = series[:, None].astype(np.float32)
    starts = np.arange(lo, hi - length - horizon + 1)
    return Windows(data=data, starts=starts, task="forecast", length=length, horizon=horizon)


def test_the_linear_baseline_recovers_an_exactly_linear_series() -> None:
    """A sinusoid obeys y[t] = 2cos(w)·y[t-1] - y[t-2]: a linear map of its window. Ridge
    forecasts it almost exactly, fitted on training windows, judged on windows it never saw."""
    rng = np.random.default_rng(1)
    y = np.sin(2 * np.pi * np.arange(3000) / 37) + 0.001 * rng.normal(size=3000)
    train, val, test = (
        windows_over(y, 0, 2000),
        windows_over(y, 2000, 2500),
        windows_over(y, 2500, 3000),
    )
    weights, _ = fit_ridge(train, val)
    forecast = predict_ridge(weights, test)
    actual = y[test.starts[:, None] + 4 + np.arange(2)]
    assert np.mean(np.abs(forecast - actual)) < 0.05 * np.mean(np.abs(actual))


def results(model_mae: float, linear_mae: float, naive_mae: float) -> dict:
    baselines = {"seasonal_naive": {"mae": naive_mae}, "linear": {"mae": linear_mae}}
    skill = {k: 1 - model_mae / v["mae"] for k, v in baselines.items()}
    best = min(baselines, key=lambda k: baselines[k]["mae"])
    return {"model": {"mae": model_mae}, "baselines": baselines, "seasons": [24, 168, 8760],
            "train_steps": 18_000,
            "skill": skill | {"best": skill[best]}, "best_baseline": best}  # fmt: skip


def history(loss: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"loss": loss, "val_loss": loss})


def test_a_run_that_beats_naive_but_not_linear_is_not_healthy() -> None:
    cfg = tiny_config()  # window.length=24 < the weekly season
    found = result_checks.check_results(results(89.5, 84.6, 93.9), history([1, 0.2]), cfg, 24)
    (linear,) = [f for f in found if f.code == "train.no_better_than_linear"]
    # The week, not the year: a year-long window leaves too few independent examples.
    assert linear.severity == "warning" and linear.fixes[0] == "window.length=168"
    assert "train.no_better_than_naive" not in [f.code for f in found]
    assert result_checks.check_results(results(80.0, 84.6, 93.9), history([1, 0.2]), cfg, 24) == []


def test_no_better_than_naive_is_judged_on_the_best_naive_not_the_linear() -> None:
    cfg = tiny_config()
    found = result_checks.check_results(results(95.0, 84.6, 93.9), history([1, 0.2]), cfg, 24)
    codes = [f.code for f in found]
    assert "train.no_better_than_naive" in codes and "train.no_better_than_linear" in codes
    (naive,) = [f for f in found if f.code == "train.no_better_than_naive"]
    assert "seasonal_naive_mae" in naive.evidence


def test_targets_prepare_made_up_are_never_scored() -> None:
    """The model is exact on observed targets and wildly off on the imputed ones: scored
    only where the file held the target, its error is 0 (counting them, it would not be)."""
    from lstm_doctor.stages.evaluate import evaluate_forecast
    from lstm_doctor.stages.scale import Scaler

    series = np.arange(100, dtype=float)
    test = windows_over(series, 60, 100)
    truth = series[test.starts[:, None] + test.length + np.arange(test.horizon)]
    held = np.ones(100, dtype=bool)
    held[80:85] = False
    predictions = np.where(held[test.starts[:, None] + 4 + np.arange(2)], truth, truth + 1000)
    scaler = Scaler(method="none", fit_on="train", center=[0.0], scale=[1.0])
    times = pd.date_range("2024-01-01", periods=100, freq="h")
    result, _ = evaluate_forecast(predictions, test, scaler, None, times, train_span=(0, 60),
                                  target_observed=held)  # fmt: skip
    assert result["model"]["mae"] == 0.0 and result["test_targets_imputed"] == 10
    assert result["mae_by_lead_time"]["model"] == [0.0, 0.0]
    counted, _ = evaluate_forecast(predictions, test, scaler, None, times, train_span=(0, 60))
    assert counted["model"]["mae"] > 100
