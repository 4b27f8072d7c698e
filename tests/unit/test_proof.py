"""The proof's soundness on hand-made runs: common targets, choice on validation and
confirmation on test, Holm's correction, no p from zero spread, honest grouping."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.errors import DataError
from lstm_doctor.comparison import selection as proving
from lstm_doctor.comparison import significance
from lstm_doctor.comparison.common_targets import score_on_common
from lstm_doctor.comparison.judging import RunRecord, summarise
from lstm_doctor.stages.targets import split_rows

TIMES = pd.date_range("2024-01-01", periods=400, freq="h")


def targets(first: int, last: int, error: np.ndarray, split: str = "test") -> pd.DataFrame:
    """A one-step forecaster's targets at hours first..last-1: truth 100, the model off by
    `error` at each hour, seasonal naive off by 10 everywhere."""
    hours = np.arange(first, last)
    actual = np.full((len(hours), 1), 100.0)
    return split_rows(
        split,
        TIMES,
        hours - 1,
        1,
        actual,
        {"model": actual + error[hours, None], "seasonal_naive": actual + 10.0},
    )


def run(label: str, seed: int, metrics: dict[str, float] | None = None) -> RunRecord:
    return RunRecord(
        run_id=f"{label}#{seed}",
        name=f"{label} seed={seed}",
        status="FINISHED",
        overrides=f"{label} seed={seed}",
        params={"seed": str(seed)},
        metrics={"test_mae": 1.0, "skill_vs_best": 0.0, **(metrics or {})},
        tags={},
    )


def proof_tables(
    fix: str, fix_start: int, fix_error: np.ndarray, seeds: int = 3
) -> tuple[list[RunRecord], dict[str, pd.DataFrame]]:
    """Original runs scoring hours 100..300 of each split; the fix's scoring from
    `fix_start`, with its own error profile. Seeds add a little noise."""
    rng = np.random.default_rng(0)
    runs, tables = [], {}
    hard_early = np.where(np.arange(400) < 200, 20.0, 2.0)  # early targets are hard
    for label, start, error in (("original", 100, hard_early), (fix, fix_start, fix_error)):
        for seed in range(seeds):
            record = run(label, seed)
            noisy = error + rng.normal(0, 0.2, 400)
            tables[record.run_id] = pd.concat(
                [targets(start, 300, noisy, "val"), targets(start, 300, noisy, "test")]
            )
            runs.append(record)
    return runs, tables


def test_a_fix_that_only_moves_the_scored_span_cannot_win() -> None:
    """The fix scores only the easy late targets; on the targets both score it is the same
    model, so the proof finds no change (its own-span MAE would have called it far better)."""
    hard_early = np.where(np.arange(400) < 200, 20.0, 2.0)
    runs, tables = proof_tables("window.length=168", 200, hard_early)
    proof = proving.prove(runs, tables, "mae", "original")
    assert proof.metric == "val_common_mae"
    fix = next(s for s in proof.summaries if s.name == "window.length=168")
    assert fix.verdict == "no clear change"
    assert proof.chosen is None
    assert "val: 100 of up to 200" in proof.basis


def test_a_real_fix_is_chosen_on_validation_and_confirmed_on_test() -> None:
    runs, tables = proof_tables("scaling=standard", 100, np.full(400, 1.0))
    proof = proving.prove(runs, tables, "mae", "original")
    assert proof.chosen == "scaling=standard"
    assert proof.confirm_metric == "test_common_mae"
    verdict, p, difference = proof.confirmation  # type: ignore[misc]
    assert verdict == "better beyond seed noise" and p is not None and difference < 0
    # Where the fixed model stands: against seasonal naive (off by 10) on the same targets.
    assert proof.standing["skill against the best"] == pytest.approx([0.9] * 3, abs=0.05)
    assert any(line.startswith("confirmed on test") for line in proof.notes())
    # The report's table says it too, beside the verdict: skill on the same targets.
    from lstm_doctor.comparison.page import render_html

    page = render_html("t", proof.summaries, "original", b"", proof.notes())
    assert "skill vs best (same targets)" in page and "chosen on validation" in page


def test_no_common_target_is_said_and_judged_on_own_span_skill() -> None:
    runs, tables = proof_tables("split.val=0.3", 100, np.full(400, 1.0))
    for record in runs:
        if record.name.startswith("split"):
            tables[record.run_id]["time"] += pd.Timedelta(days=400)
    proof = proving.prove(runs, tables, "mae", "original")
    # Chosen on each run's own validation span's skill; nothing common on test either.
    assert proof.metric == "val_own_skill_vs_best" and proof.confirm_metric is None
    assert proof.basis.startswith("no validation target is common to every run")


def test_imputed_targets_are_never_scored() -> None:
    observed = np.ones(len(TIMES), dtype=bool)
    observed[150:160] = False
    rows = split_rows(
        "test", TIMES, np.arange(100, 200), 10, np.zeros((100, 2)), {"model": np.zeros((100, 2))},
        observed,
    )  # fmt: skip
    assert not rows["time"].isin(TIMES[150:160]).any()
    assert len(rows) == 200 - 2 * 10


def test_common_scores_use_the_intersection_of_time_and_lead() -> None:
    error = np.arange(400, dtype=float)
    scores = score_on_common({"a": targets(100, 300, error), "b": targets(250, 350, error)})
    assert scores.shared == {"val": 0, "test": 50} and scores.largest["test"] == 200
    assert scores.by_run["a"]["test_common_mae"] == pytest.approx(np.mean(np.arange(250, 300)))
    common = {k: v for k, v in scores.by_run["a"].items() if "_common_" in k}
    assert common == {k: v for k, v in scores.by_run["b"].items() if "_common_" in k}
    # Each on its own targets too: a's 100..299, b's 250..349.
    assert scores.by_run["a"]["test_own_mae"] == pytest.approx(np.mean(np.arange(100, 300)))
    assert scores.by_run["b"]["test_own_mae"] == pytest.approx(np.mean(np.arange(250, 350)))


def test_holm_adjusts_step_down_and_stays_monotone() -> None:
    assert significance.holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])
    assert significance.holm([0.5]) == [0.5]


def test_zero_spread_gives_no_p() -> None:
    verdict, p, difference = significance.judge([1.0, 1.0, 1.0], [2.0, 2.0, 2.0], False)
    assert p is None and verdict == "no spread over seeds: cannot tell from noise"
    assert difference == pytest.approx(-1.0)


def test_placebo_proofs_call_a_change_no_more_often_than_alpha() -> None:
    """Three changes that cannot matter, each against the original over 3 seeds, drawn from
    one distribution: Holm keeps the share of proofs that call any of them better or worse
    at or under the nominal 5% (uncorrected, about 9% of such proofs call one)."""
    rng = np.random.default_rng(7)
    trials, calls, uncorrected = 4000, 0, 0
    for _ in range(trials):
        original = list(rng.normal(10, 1, 3))
        raw = [significance.welch_p(list(rng.normal(10, 1, 3)), original) for _ in range(3)]
        calls += any(p is not None and p < significance.ALPHA for p in significance.holm(raw))
        uncorrected += any(p is not None and p < significance.ALPHA for p in raw)
    assert calls / trials <= significance.ALPHA
    assert uncorrected / trials > significance.ALPHA


def test_compare_counts_a_configuration_and_seed_once() -> None:
    runs = [run("original", s, {"test_mae": 5.0 + s}) for s in range(3)]
    runs.append(run("original", 0, {"test_mae": 5.0}))  # the same seed rerun by a proof
    summaries, _ = summarise(runs)
    assert len(summaries[0].values) == 3


def test_compare_refuses_runs_of_different_datasets() -> None:
    runs = [run("a", s) for s in range(2)] + [run("b", s) for s in range(2)]
    for r in runs[2:]:
        r.params["dataset.name"] = "stocks"
    with pytest.raises(DataError, match="2 different datasets"):
        summarise(runs)


def test_the_original_is_the_baseline_whatever_the_labels_sort_to() -> None:
    runs = [run("original", s, {"test_mae": 5.0 + s / 10}) for s in range(3)]
    runs += [run("model.units=64", s, {"test_mae": 4.0 + s / 10}) for s in range(3)]
    _, baseline = summarise(runs)
    assert baseline == "original"


def test_finished_runs_without_the_metric_are_not_failed() -> None:
    runs = [run("original", s, {"test_mae": 5.0 + s}) for s in range(3)]
    runs += [run("x", s, {"test_mae": math.nan}) for s in range(2)]
    summary = next(s for s in summarise(runs, "original")[0] if s.name == "x")
    assert summary.failed == 0 and summary.unscored == 2


def test_a_signed_gap_is_judged_by_its_size() -> None:
    def curved(label: str, seed: int, gap: float) -> RunRecord:
        record = run(label, seed)
        record.curves = {"loss": [2.0, 1.0, 0.5, 0.4], "val_loss": [2.0, 1.0, 0.5 + gap, 0.6]}
        return record

    runs = [curved("original", s, -0.3 - 0.01 * s) for s in range(3)]
    runs += [curved("x", s, -0.04 - 0.01 * s) for s in range(3)]
    x = next(s for s in summarise(runs, "original")[0] if s.name == "x")
    assert x.curve["gap_at_best"].verdict == "better beyond seed noise"


def test_the_screen_halves_on_validation_and_keeps_only_changes_that_beat_the_original() -> None:
    """Eight candidates, each with a true validation loss; the original's is 5. Rounds
    double the epochs (4, 8, 16) and keep the better half of those under the original's."""
    from lstm_doctor.jobs.fix_screen import halving_rounds, screen, unexplained

    truth = {"": 5.0, **{f"c{k}": float(k + 1) for k in range(8)}}  # c0 best ... c7 worst
    seen: list[tuple[int, list[str]]] = []

    def train(changes: list[str], epochs: int, number: int) -> dict[str, float]:
        seen.append((epochs, changes))
        return {c: truth[c] for c in changes}

    found = screen([f"c{k}" for k in range(8)], 60, train)
    assert [e for e, _ in seen] == [4, 8]
    assert seen[1][1] == ["", "c0", "c1", "c2", "c3"]  # c4..c7 lose to the original's 5
    assert found.survivors == ["c0", "c1"] and found.runs == 9 + 5
    assert "8 candidate changes, 2 rounds" in found.says()
    assert halving_rounds(8, 6) == [4, 6] and halving_rounds(3, 60) == [4, 8]
    assert screen(["c7"], 60, train).survivors == []  # nothing beats it: no cause found
    assert unexplained({"primary": ["train.no_better_than_naive"]})
    assert not unexplained({"primary": ["train.no_better_than_naive", "data.unscaled_features"]})
