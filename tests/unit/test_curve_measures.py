"""Curve measures on synthetic curves whose answers are known: each definition pinned."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.curve_measures import (
    NAMES,
    fluctuation,
    generalisation_gap,
    measure,
    rise_share,
    speed,
)

EPOCHS = np.arange(31)
DECAY = 2.0 * np.exp(-EPOCHS / 20)  # slow enough that every other epoch 10% up is a rise
ZIGZAG = DECAY * np.where(EPOCHS % 2 == 1, 1.1, 1.0)
SCALES = [1e-3, 1.0, 1e6]


def floor_at(k: int, epochs: int = 30) -> np.ndarray:
    """Falls in a straight line from 1 to its floor 0.1 at epoch k (from 1), then wobbles
    just above the floor."""
    e = np.arange(1, epochs + 1)
    falling = 0.1 + 0.9 * np.clip((k - e) / max(k - 1, 1), 0, None)
    return np.where(e > k, 0.1 * (1 + 0.02 * np.abs(np.sin(e))), falling)


@pytest.mark.parametrize("scale", SCALES)
def test_a_smooth_decay_does_not_fluctuate_or_rise(scale: float) -> None:
    assert fluctuation(scale * DECAY) == pytest.approx(0.0, abs=1e-12)
    assert rise_share(scale * DECAY) == 0.0
    # Decaying onto a floor bends the log curve; it still scores near 0.
    onto_floor = scale * (0.3 + np.exp(-EPOCHS / 5))
    assert fluctuation(onto_floor) < 0.01
    assert rise_share(onto_floor) == 0.0


@pytest.mark.parametrize("scale", SCALES)
def test_a_zigzag_fluctuates_by_its_step_and_rises_every_other_epoch(scale: float) -> None:
    assert fluctuation(scale * ZIGZAG) == pytest.approx(math.log(1.1), rel=1e-9)
    assert rise_share(scale * ZIGZAG) == 0.5  # 15 rises in 30 steps
    plus_minus = DECAY * np.where(EPOCHS % 2 == 1, 1.1, 0.9)
    assert fluctuation(scale * plus_minus) == pytest.approx(math.log(1.1 / 0.9), rel=1e-9)


def test_one_spike_does_not_make_a_run_fluctuate() -> None:
    spiked = DECAY.copy()
    spiked[15] *= 3
    assert fluctuation(spiked) == pytest.approx(0.0, abs=1e-12)
    assert rise_share(spiked) == pytest.approx(1 / 30)


@pytest.mark.parametrize("k", [1, 2, 7, 20])
@pytest.mark.parametrize("scale", SCALES)
def test_speed_is_the_epoch_the_floor_is_reached_at_any_scale(k: int, scale: float) -> None:
    epochs, seconds = speed(scale * floor_at(k), seconds_per_epoch=np.full(30, 2.5))
    assert epochs == k
    assert seconds == pytest.approx(2.5 * k)


def test_speed_is_measured_on_the_drop_so_a_loss_ending_at_zero_works() -> None:
    to_zero = np.clip(1 - np.arange(20) / 9, 0, None)  # 1 at epoch 1, 0 from epoch 10
    assert speed(to_zero)[0] == 10
    # An exponential decay comes within 5% of its drop when e^(-t/4) <= ~0.05: t = 12.
    assert speed(np.exp(-np.arange(40) / 4))[0] == 13


def test_seconds_need_every_epoch_timed_up_to_the_one_reached() -> None:
    assert math.isnan(speed(floor_at(5))[1])
    assert math.isnan(speed(floor_at(5), [1.0, 1.0, 1.0])[1])
    assert math.isnan(speed(floor_at(5), [1.0, np.nan, 1.0, 1.0, 1.0])[1])
    assert speed(floor_at(5), [1.0, 2.0, 3.0, 4.0, 5.0])[1] == 15.0


def test_the_gap_is_val_minus_train_at_the_best_val_epoch() -> None:
    loss = np.array([1.0, 0.6, 0.4, 0.3, 0.2])
    val = np.array([1.2, 0.7, 0.5, 0.5, 0.6])  # best first reached at index 2
    gap, relative = generalisation_gap(loss, val)
    assert gap == pytest.approx(0.1)
    assert relative == pytest.approx(0.25)
    gap, relative = generalisation_gap(loss, val * 0.5)  # validation below training
    assert gap == pytest.approx(0.25 - 0.4) and gap < 0
    assert relative == pytest.approx((0.25 - 0.4) / 0.4)
    assert generalisation_gap(loss * 1e6, val * 1e6)[1] == pytest.approx(0.25)


def test_too_short_or_empty_curves_are_nan() -> None:
    for curve in ([], [1.0], [1.0, 0.5]):
        assert math.isnan(fluctuation(curve)) and math.isnan(rise_share(curve))
    assert all(math.isnan(v) for v in speed([]))
    assert all(math.isnan(v) for v in generalisation_gap([], []))
    assert all(math.isnan(v) for v in generalisation_gap([1.0, 0.5], [np.nan, np.inf]))
    assert all(math.isnan(v) for v in measure({}).values())
    two = measure({"loss": [1.0, 0.5], "val_loss": [1.2, 0.8]})
    assert math.isnan(two["curve_fluctuation"]) and two["epochs_to_best_5pct"] == 2


def test_a_diverged_validation_curve_is_measured_on_its_finite_epochs() -> None:
    val = np.array([1.0, 0.5, 0.4, np.inf, np.nan])
    assert speed(val)[0] == 3
    assert rise_share(val) == 0.0
    assert fluctuation(val) == pytest.approx(abs(np.log(0.5) - (np.log(1.0) + np.log(0.4)) / 2))


def test_measure_reads_history_csv_columns_under_stable_names() -> None:
    history = pd.DataFrame(
        {"epoch": range(10), "loss": floor_at(4, 10) * 0.8, "val_loss": floor_at(4, 10)}
    )
    history["epoch_seconds"] = 3.0
    measured = measure(history)
    assert tuple(measured) == NAMES
    assert measured["epochs_to_best_5pct"] == 4
    assert measured["seconds_to_best_5pct"] == 12.0
    assert measured["gap_at_best_relative"] == pytest.approx(0.25)
    assert measure(history, seconds_per_epoch=np.ones(10))["seconds_to_best_5pct"] == 4.0
    assert math.isnan(measure(history.drop(columns="epoch_seconds"))["seconds_to_best_5pct"])
