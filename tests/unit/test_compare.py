"""Comparison arithmetic on hand-made runs: grouping by configuration, the seed-noise call."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_doctor.base.curve_measures import NAMES, measure
from lstm_doctor.comparison.judging import (
    RunRecord,
    configuration_of,
    format_table,
    judge,
    summarise,
)
from lstm_doctor.comparison.page import render_html


def record(overrides: str, mae: float, status: str = "FINISHED") -> RunRecord:
    return RunRecord(
        run_id=overrides,
        name=overrides,
        status=status,
        overrides=overrides,
        params={},
        metrics={"test_mae": mae, "skill_vs_persistence": 1 - mae / 10},
        tags={},
        curves={"loss": [2.0, 1.0], "val_loss": [2.5, mae / 10]},
    )


def test_configuration_drops_only_the_seed() -> None:
    assert configuration_of("optimizer.lr=0.1 seed=2") == "optimizer.lr=0.1"
    assert configuration_of("seed=2") == "defaults"


def test_clear_improvement_is_beyond_seed_noise() -> None:
    verdict, p, diff = judge([1.0, 1.1, 0.9], [2.0, 2.1, 1.9], higher_is_better=False)
    assert verdict == "better beyond seed noise"
    assert p is not None and p < 0.01
    assert diff == pytest.approx(-1.0)


def test_overlapping_seeds_are_no_clear_change() -> None:
    verdict, p, _ = judge([1.0, 2.0, 3.0], [1.5, 2.5, 2.0], higher_is_better=False)
    assert verdict == "no clear change" and p is not None and p > 0.05


def test_higher_is_better_for_accuracy() -> None:
    verdict, _, _ = judge([0.6, 0.61, 0.62], [0.9, 0.91, 0.92], higher_is_better=True)
    assert verdict == "worse beyond seed noise"


def test_one_seed_is_too_few_to_tell() -> None:
    assert judge([1.0], [2.0, 2.1], higher_is_better=False)[0] == "too few seeds to tell"


def test_summarise_groups_seeds_and_picks_the_plainest_baseline() -> None:
    runs = [
        record("seed=0", 5.0),
        record("seed=1", 5.2),
        record("seed=2", 4.8),
        record("window.length=24 seed=0", 3.0),
        record("window.length=24 seed=1", 3.1),
        record("window.length=24 seed=2", 2.9),
        record("optimizer.lr=9 seed=0", float("nan"), "FAILED"),
    ]
    summaries, baseline = summarise(runs)
    assert baseline == "defaults"
    by_name = {s.name: s for s in summaries}
    assert by_name["defaults"].verdict == "baseline"
    assert by_name["window.length=24"].verdict == "better beyond seed noise"
    assert by_name["window.length=24"].mean == pytest.approx(3.0)
    assert by_name["window.length=24"].skills["persistence"] == pytest.approx([0.7, 0.69, 0.71])
    assert by_name["optimizer.lr=9"].verdict == "failed in every seed"
    assert summaries[0].name == "defaults"


def with_params(overrides: str, mae: float, **params: str) -> RunRecord:
    run = record(overrides, mae)
    run.params = {"seed": overrides[-1], **params}
    return run


def test_runs_that_ran_different_configurations_are_never_one_group() -> None:
    """Two sweeps that held epochs at 5 and 50 both label their runs `optimizer.lr=0.001`;
    DVC runs carry no label at all. Their params tell them apart."""
    runs = [
        with_params("optimizer.lr=0.001 seed=0", 10.0, **{"training.epochs": "5"}),
        with_params("optimizer.lr=0.001 seed=1", 10.2, **{"training.epochs": "5"}),
        with_params("optimizer.lr=0.001 seed=0", 5.0, **{"training.epochs": "50"}),
        with_params("optimizer.lr=0.001 seed=1", 5.1, **{"training.epochs": "50"}),
        with_params("seed=0", 30.0, **{"scaling.method": "none"}),
        with_params("seed=1", 1.0, **{"scaling.method": "standard"}),
    ]
    summaries, _ = summarise(runs)
    by_name = {s.name: s for s in summaries}
    assert sorted(len(s.values) for s in summaries) == [1, 1, 2, 2]
    assert by_name["optimizer.lr=0.001 [training.epochs=5]"].mean == pytest.approx(10.1)
    assert by_name["optimizer.lr=0.001 [training.epochs=50]"].mean == pytest.approx(5.05)


def test_a_configuration_that_failed_every_seed_sorts_last() -> None:
    runs = [record(f"a seed={s}", 10.0 + s) for s in range(3)]
    runs += [record(f"b seed={s}", float("nan"), status="FAILED") for s in range(3)]
    runs += [record(f"c seed={s}", 5.0 + s) for s in range(3)]
    summaries, _ = summarise(runs, baseline="a")
    assert [s.name for s in summaries] == ["a", "c", "b"]


def curved(overrides: str, seed: int, zigzag: float, logged: bool = True) -> RunRecord:
    """A run whose val loss decays smoothly with every other epoch `zigzag` x higher;
    its curve measures logged as evaluation logs them, or only its curves (an older run)."""
    epochs = np.arange(12)
    val = np.exp(-epochs / 20) * np.where(epochs % 2 == 1, zigzag, 1.0)
    curves = {
        "loss": list((0.8 - 0.01 * seed) * val),
        "val_loss": list(val),
        "epoch_seconds": [2.0] * 12,
    }
    run = record(f"{overrides} seed={seed}".strip(), 5.0 + 0.1 * seed)
    run.curves = curves
    if logged:
        run.metrics |= measure(curves)
    return run


@pytest.mark.parametrize("logged", [True, False])
def test_curve_measures_are_summarised_and_judged_like_the_test_metric(logged: bool) -> None:
    runs = [curved("", s, 1.0 + 0.001 * s, logged) for s in range(3)]
    runs += [curved("optimizer.lr=0.1", s, 1.1 + 0.01 * s, logged) for s in range(3)]
    summaries, _ = summarise(runs)
    by_name = {s.name: s for s in summaries}
    base, jumpy = by_name["defaults"], by_name["optimizer.lr=0.1"]
    assert set(base.curve) == set(jumpy.curve) == set(NAMES)
    assert base.curve["curve_fluctuation"].values == pytest.approx(
        [math.log(1 + 0.001 * s) for s in range(3)]
    )
    assert base.curve["curve_fluctuation"].verdict == "baseline"
    fluctuation = jumpy.curve["curve_fluctuation"]
    assert fluctuation.values == pytest.approx([math.log(1.1 + 0.01 * s) for s in range(3)])
    assert fluctuation.std == pytest.approx(np.std(fluctuation.values, ddof=1))
    assert fluctuation.verdict == "worse beyond seed noise"
    assert fluctuation.p_value is not None and fluctuation.p_value < 0.05
    assert jumpy.curve["curve_rise_share"].mean > base.curve["curve_rise_share"].mean
    assert jumpy.curve["seconds_to_best_5pct"].values  # timed epochs, logged or as curves
    assert jumpy.verdict == "no clear change"  # the test metric, judged as before

    table = format_table(summaries)
    assert f"curve_fluctuation {fluctuation.mean:.4g} ± {fluctuation.std:.2g}" in " ".join(
        table.split()
    )
    assert "worse beyond seed noise  p=" in table
    page = render_html("t", summaries, "defaults", b"")
    assert "<h2>Learning curves</h2>" in page and "gap_at_best_relative" in page
    assert f"{fluctuation.mean:.4g} ± {fluctuation.std:.2g}" in page
