"""Baselines and errors on exact data."""

from __future__ import annotations

import numpy as np

from lstm_doctor.base.metrics import (
    classification_scores,
    forecast_errors,
    majority_class,
    persistence_forecast,
    seasonal_naive_forecast,
    skill,
)


def test_persistence_repeats_the_last_input() -> None:
    series = np.arange(20.0)
    forecast = persistence_forecast(series, np.array([0, 5]), length=4, horizon=3)
    assert forecast.tolist() == [[3, 3, 3], [8, 8, 8]]


def test_seasonal_naive_takes_the_same_phase_one_season_back() -> None:
    series = np.arange(100.0)
    # window starts at 10, length 8: targets t = 18, 19, 20 with period 4 -> 14, 15, 16
    forecast = seasonal_naive_forecast(series, np.array([10]), length=8, horizon=3, period=4)
    assert forecast.tolist() == [[14, 15, 16]]
    # beyond one period, t = 22 and 23: one season back (18, 19) is not yet observed,
    # so they reach two seasons back to 14 and 15
    forecast = seasonal_naive_forecast(series, np.array([10]), length=8, horizon=6, period=4)
    assert forecast.tolist() == [[14, 15, 16, 17, 14, 15]]


def test_seasonal_naive_refuses_history_before_the_series() -> None:
    assert seasonal_naive_forecast(np.arange(10.0), np.array([0]), 2, 1, period=5) is None


def test_forecast_errors_and_skill() -> None:
    errors = forecast_errors(np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]]))
    assert errors["mae"] == 1.5
    assert np.isclose(errors["rmse"], np.sqrt(2.5))
    assert np.isclose(errors["smape"], 100 * np.mean([2 / 3, 4 / 6]))
    assert skill(1.0, 4.0) == 0.75
    assert np.isnan(skill(1.0, 0.0))


def test_classification_scores_and_majority() -> None:
    scores = classification_scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["a", "b"])
    assert scores["accuracy"] == 0.75
    assert scores["confusion_matrix"] == [[1, 1], [0, 2]]
    assert np.isclose(scores["f1"]["b"], 0.8)
    assert majority_class(np.array([2, 2, 1, 0])) == 2


def test_the_changes_of_a_random_walk_are_unpredictable_and_others_not() -> None:
    """The out-of-sample test behind "moves like a random walk": a walk's changes (plain or
    with volatility that comes and goes) score t < 2 against "no change"; a walk whose changes
    carry momentum, or a seasonal series, score far above it."""
    from lstm_doctor.base.metrics import changes_predictability

    rng = np.random.default_rng(5)
    for _ in range(3):
        walk = np.cumsum(rng.normal(0, 1, 2000))
        assert changes_predictability(walk, [5])["t"] < 2
        bursts = np.cumsum(rng.standard_t(4, 2000) * np.repeat(rng.uniform(0.5, 3, 20), 100))
        assert changes_predictability(bursts, [5])["t"] < 2
    momentum = np.zeros(2000)
    for t in range(1, 2000):
        momentum[t] = 0.5 * momentum[t - 1] + rng.normal()
    assert changes_predictability(np.cumsum(momentum), [5])["t"] > 4
    seasonal = 10 * np.sin(2 * np.pi * np.arange(2000) / 24) + rng.normal(0, 1, 2000)
    found = changes_predictability(seasonal, [24])
    assert found["t"] > 4 and found["gain"] > 0.3
    assert changes_predictability(np.ones(500), []) == {}


def test_a_paired_gap_is_weighed_against_its_own_noise() -> None:
    from lstm_doctor.base.metrics import forecast_block, paired_gap

    rng = np.random.default_rng(0)
    shared = rng.gamma(2, 1, 400)  # both answers miss the hard examples alike
    # A tie: the same errors plus independent noise. The gap is a few standard errors at most.
    tie = paired_gap(shared + rng.normal(0, 0.1, 400), shared + rng.normal(0, 0.1, 400))
    assert abs(tie["t"]) < 3 and tie["blocks"] == 400
    # A small loss that is the same on every example is far beyond chance, paired.
    worse = paired_gap(shared + 0.05 + rng.normal(0, 0.01, 400), shared)
    assert worse["gap"] > 0 and worse["t"] > 10 and worse["p_worse"] < 1e-6
    # One-sided: a model better than the other is never "worse by chance or not".
    assert paired_gap(shared, shared + 0.05 + rng.normal(0, 0.01, 400))["p_worse"] > 0.999
    # Blocks of 20 examples: 20 block means; a single block gives no standard error.
    assert paired_gap(shared, shared * 0.9, block=20)["blocks"] == 20
    assert "t" not in paired_gap(shared, shared * 0.9, block=400)
    # Exactly the same answers: a tie with no spread, t = 0 (not a gap of unknown size).
    assert paired_gap(shared, shared)["t"] == 0.0
    # Overlapping windows: at least the windows a target is shared by; the root of their count.
    assert forecast_block(100, horizon=24) == 24 and forecast_block(10_000, horizon=4) == 100
    assert forecast_block(100, horizon=24, stride=24) == 10
