"""The doctor's checks on synthetic curves and data with known problems, and on healthy ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.doctor import curve_summary, data_checks, result_checks, series_checks
from lstm_doctor.doctor import training_checks as run_checks
from lstm_doctor.doctor.causes import link
from lstm_doctor.doctor.diagnosis import in_effect
from lstm_doctor.doctor.findings import Finding, verdict
from lstm_doctor.doctor.report import prescriptions, to_markdown
from lstm_doctor.jobs.fix_runs import ORIGINAL, merge, plan

from ..conftest import tiny_config


def history(loss: list[float], val: list[float] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"epoch": range(len(loss)), "loss": loss, "val_loss": val or loss})


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


CFG = tiny_config("training.epochs=20")


def test_a_healthy_curve_with_small_wiggles_is_not_flagged() -> None:
    rng = np.random.default_rng(0)
    base = 0.1 + 0.9 * np.exp(-np.arange(20) / 3)
    val = base * 1.05 * (1 + rng.normal(0, 0.02, 20))  # val wiggles by ~2%
    assert run_checks.check_curves(history(list(base), list(val)), CFG) == []


def test_flat_loss_is_not_learning() -> None:
    found = run_checks.check_curves(history([1.0, 0.999, 0.998, 0.998, 0.997, 0.997]), CFG)
    assert codes(found) == ["train.not_learning"]
    assert found[0].severity == "error"
    # Said as a person counts epochs (from 1), not as Keras indexes them.
    assert found[0].evidence["first_loss_measured"] == "the first epoch's average"
    tiny_step = tiny_config("optimizer.lr=1e-7")
    (finding,) = run_checks.check_curves(history([1.0, 0.999, 0.998, 0.998, 0.997]), tiny_step)
    assert "optimizer.lr=0.001" in finding.fixes


def test_a_flat_curve_over_a_handful_of_updates_asks_for_more_of_them() -> None:
    """Five epochs of one batch each prove nothing: more updates come first (~300 of them)."""
    flat = history([1.39, 1.389, 1.389, 1.388, 1.388])
    tiny_step = tiny_config("optimizer.lr=1e-6")
    (finding,) = run_checks.check_curves(flat, tiny_step, steps=1)
    assert finding.code == "train.not_learning" and finding.evidence["updates"] == 5
    # unscaled inputs stall any number of updates, so scaling stays first (pruned when in effect)
    assert finding.fixes[:2] == ["scaling=standard", "optimizer.lr=0.001 training.epochs=300"]
    (sane_step,) = run_checks.check_curves(flat, CFG, steps=4)
    # 5 of 20 epochs: early stopping ended it, so more epochs alone would end it there again;
    # its patience must span some 50 updates (13 epochs of 4).
    assert sane_step.fixes[1] == "training.early_stopping.patience=13 training.epochs=75"
    (budget_spent,) = run_checks.check_curves(flat, tiny_config("training.epochs=5"), steps=4)
    assert budget_spent.fixes[1] == "training.epochs=75"
    # with enough updates the usual prescriptions stand
    (many,) = run_checks.check_curves(flat, tiny_step, steps=50)
    assert many.fixes[:2] == ["scaling=standard", "optimizer.lr=0.001"]
    assert curve_summary.steps_per_epoch(40, tiny_config("training.batch_size=64")) == 1
    assert curve_summary.steps_per_epoch(1000, CFG) == 8  # capped by TINY's max_steps_per_epoch


def test_still_falling_at_the_last_epoch_is_slow_convergence() -> None:
    loss = list(1.0 * 0.9 ** np.arange(20))
    assert "train.slow_convergence" in codes(run_checks.check_curves(history(loss), CFG))


def test_a_classifier_whose_answers_stopped_changing_is_not_slow() -> None:
    """On separable data the cross-entropy falls for ever as answers grow confident: the
    validation accuracy says whether more epochs would change any answer."""
    cfg = tiny_config("dataset=basic_motions", "training.epochs=20")
    loss = 1.0 * 0.8 ** np.arange(20)
    frame = history(list(loss), list(1.1 * loss))
    frame["val_accuracy"] = np.minimum(1.0, 0.5 + 0.1 * np.arange(20))  # all right by epoch 5
    assert "train.slow_convergence" not in codes(run_checks.check_curves(frame, cfg))
    # Still answering more of the validation set right in the last third: it is slow.
    frame["val_accuracy"] = np.linspace(0.4, 0.9, 20)
    assert "train.slow_convergence" in codes(run_checks.check_curves(frame, cfg))


def test_losing_to_the_linear_model_by_chance_is_no_finding() -> None:
    """A lower score than the linear model's is a finding only beyond the test set's chance
    (the paired gap of their errors, one-sided at the project's ALPHA)."""
    metrics = {
        "model": {"accuracy": 0.95, "confusion_matrix": [[500, 20], [31, 478]]},
        "baselines": {"majority_class": {"accuracy": 0.5}, "linear": {"accuracy": 0.966}},
        "skill": {"majority_class": 0.9, "linear": -0.47},
        "versus_linear": {"gap": 0.016, "t": 1.5, "p_worse": 0.067},
    }
    cfg = tiny_config("dataset=basic_motions")
    assert result_checks.check_results(metrics, history([1.0, 0.1]), cfg, None) == []
    metrics["versus_linear"] |= {"t": 3.2, "p_worse": 0.0007}
    (found,) = result_checks.check_results(metrics, history([1.0, 0.1]), cfg, None)
    assert found.code == "train.no_better_than_linear"
    assert found.evidence["paired_gap_p_worse"] == 0.0007
    # Evaluated without the paired gap (an older run): any loss is a finding, as before.
    del metrics["versus_linear"]
    assert codes(result_checks.check_results(metrics, history([1.0, 0.1]), cfg, None)) == [
        "train.no_better_than_linear"
    ]


def test_a_loss_that_keeps_jumping_up_is_oscillating() -> None:
    loss = [1.0, 0.6, 0.9, 0.5, 0.8, 0.45, 0.85, 0.5, 0.9, 0.55]
    assert "train.oscillating" in codes(run_checks.check_curves(history(loss), CFG))


def test_val_rising_while_train_falls_is_overfitting() -> None:
    train = list(1.0 * 0.85 ** np.arange(20))
    val = [1.0 - 0.05 * i for i in range(8)] + [0.65 + 0.04 * i for i in range(12)]
    found = codes(run_checks.check_curves(history(train, val), tiny_config("training.epochs=40")))
    assert "train.overfitting" in found


def test_overfitting_evidence_is_the_raw_curve_counted_from_one() -> None:
    """The smoothed curve decides; the evidence is what metrics.json and Keras show."""
    train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15]
    val = [1.0, 0.7, 0.4, 0.7, 0.75, 0.8, 0.9, 1.0, 1.05]
    frame = pd.DataFrame({"loss": train, "val_loss": val})
    (found,) = [
        f for f in run_checks.check_curves(frame, tiny_config()) if f.code == "train.overfitting"
    ]
    assert found.evidence["best_val_loss"] == 0.4 and found.evidence["best_val_epoch"] == 3
    assert "epoch 3 (0.4)" in found.explanation


def test_epochs_long_after_the_best_are_wasted_without_early_stopping() -> None:
    cfg = tiny_config("training.early_stopping.enabled=false", "training.epochs=30")
    loss = [1.0, 0.5, 0.3, 0.25] + [0.24] * 26
    assert "train.wasted_epochs" in codes(run_checks.check_curves(history(loss), cfg))
    assert "train.wasted_epochs" not in codes(run_checks.check_curves(history(loss), CFG))


def test_nan_loss_is_divergence_with_a_smaller_step_prescribed() -> None:
    (finding,) = run_checks.check_divergence(np.array([1.0, 5.0, np.nan]), CFG)
    # The third epoch's loss is NaN: epoch 3, counted from 1 as the console's lines count.
    assert finding.code == "train.diverged" and finding.evidence["epoch"] == 3
    assert "at epoch 3:" in finding.explanation
    key, value = finding.fixes[0].split("=")
    assert key == "optimizer.lr" and float(value) == pytest.approx(CFG.optimizer.lr / 10)


def test_unscaled_price_and_volume_are_flagged_only_without_scaling() -> None:
    values = np.column_stack([np.linspace(20, 40, 100), np.linspace(1e6, 5e7, 100)])
    found = data_checks.check_scales(values, ["Close", "Volume"], tiny_config("scaling=none"))
    assert codes(found) == ["data.unscaled_features"]
    assert found[0].evidence["largest_feature"] == "Volume"
    assert found[0].fixes[0] == "scaling=standard"
    assert data_checks.check_scales(values, ["Close", "Volume"], CFG) == []


def test_window_shorter_than_a_daily_cycle() -> None:
    t = np.arange(24 * 60)
    target = np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(1).normal(size=t.size)
    found = series_checks.check_window(target, 24, tiny_config("window.length=6"), calendar=False)
    assert codes(found) == ["data.window_shorter_than_season"]
    assert found[0].fixes[0] == "window.length=24"
    assert (
        series_checks.check_window(target, 24, tiny_config("window.length=24"), calendar=False)
        == []
    )


def test_noise_has_no_season() -> None:
    target = np.random.default_rng(2).normal(size=2000)
    assert (
        series_checks.check_window(target, 24, tiny_config("window.length=6"), calendar=False) == []
    )


def test_spikes_are_outliers_unless_handled() -> None:
    values = np.random.default_rng(3).normal(100, 5, 2000)
    values[::200] = 10_000
    table = pd.DataFrame({"y": values})
    (found,) = series_checks.check_outliers(table, ["y"], CFG)
    assert found.code == "data.outliers" and found.severity == "warning"
    assert found.evidence["share_of_squared_deviation"]["y"] > 0.99
    assert series_checks.check_outliers(table, ["y"], tiny_config("prepare.outliers=clip")) == []


def test_spikes_only_in_an_input_are_a_note() -> None:
    rng = np.random.default_rng(4)
    wind = rng.normal(10, 1, 2000)
    wind[::100] = 500
    table = pd.DataFrame({"y": rng.normal(100, 5, 2000), "wind": wind})
    (found,) = series_checks.check_outliers(table, ["y", "wind"], CFG)
    assert found.severity == "info" and found.evidence["outliers_by_column"] == {"wind": 20}


def test_a_trend_is_not_outliers_within_the_training_span() -> None:
    """Prices that double after the training span are drift (checked elsewhere), not spikes."""
    rng = np.random.default_rng(5)
    level = np.concatenate([np.full(1400, 100.0), np.linspace(100, 400, 600)])
    table = pd.DataFrame({"y": level + rng.normal(0, 5, 2000)})
    assert series_checks.check_outliers(table, ["y"], CFG, train=(0, 1400)) == []
    assert codes(series_checks.check_outliers(table, ["y"], CFG)) == ["data.outliers"]


def test_missing_values_left_in_are_an_error() -> None:
    found = data_checks.check_missing(
        {"missing": {"y": 40}, "missing_after": 40}, 1000, tiny_config("prepare.missing=none")
    )
    assert found[0].severity == "error" and found[0].fixes[0] == "prepare.missing=interpolate"


def test_classifier_answering_one_class() -> None:
    metrics = {
        "model": {"accuracy": 0.25, "confusion_matrix": [[10, 0], [30, 0]]},
        "baselines": {"majority_class": {"accuracy": 0.75}},
        "skill": {"majority_class": -2.0},
    }
    found = result_checks.check_results(
        metrics, history([1.0, 0.9]), tiny_config("dataset=basic_motions"), None
    )
    assert codes(found) == ["train.majority_class"]


def test_a_perfect_classifier_on_an_imbalanced_test_set_is_not_majority_class() -> None:
    """95% of its answers are class 0 because 95% of the test set is class 0."""
    metrics = {
        "model": {"accuracy": 1.0, "confusion_matrix": [[95, 0], [0, 5]]},
        "baselines": {"majority_class": {"accuracy": 0.95}},
        "skill": {"majority_class": 1.0},
    }
    cfg = tiny_config("dataset=basic_motions")
    assert result_checks.check_results(metrics, history([1.0, 0.1]), cfg, None) == []
    # The same share of answers where class 0 is only 60% of the test set is collapse.
    metrics["model"] = {"accuracy": 0.65, "confusion_matrix": [[60, 0], [35, 5]]}
    metrics["baselines"]["majority_class"]["accuracy"] = 0.6
    assert codes(result_checks.check_results(metrics, history([1.0, 0.9]), cfg, None)) == [
        "train.majority_class"
    ]


def test_a_fix_that_would_make_the_run_invalid_is_never_prescribed() -> None:
    from lstm_doctor.doctor.diagnosis import prune_fixes
    from lstm_doctor.doctor.findings import Finding

    cfg = tiny_config()
    finding = Finding("x", "warning", {"a": 1}, "x", [
        "prepare.missing=drop", "window.gap=-1", "window.length=48", "scaling=robust",
    ])  # fmt: skip
    (pruned,) = prune_fixes([finding], cfg)
    assert pruned.fixes == ["window.length=48", "scaling=robust"]
    # A forecast with gaps left in is never told to drop rows (holes in the time steps).
    report = {"missing": {"y": 5}, "missing_after": 5}
    (missing,) = data_checks.check_missing(report, 100, tiny_config("prepare.missing=none"))
    assert missing.fixes and "prepare.missing=drop" not in missing.fixes


def test_rows_off_the_grid_are_said_in_the_diagnosis() -> None:
    # 20,050 rows read, the last 1,000 kept (dataset.max_rows): 30 of those were off the grid.
    report = {"rows_selected": 20050, "rows_out": 975, "rows_inserted": 5, "rows_off_grid": 30,
              "off_grid_example": "2024-01-01 01:30", "freq": "h"}  # fmt: skip
    (finding,) = data_checks.check_off_grid(report)
    assert finding.code == "data.off_grid_rows" and finding.severity == "warning"
    assert "30 rows" in finding.explanation and "01:30" in finding.explanation
    assert finding.evidence["share"] == pytest.approx(30 / 1000)
    assert data_checks.check_off_grid(report | {"rows_off_grid": 2})[0].severity == "info"
    assert data_checks.check_off_grid(report | {"rows_off_grid": 0}) == []


def test_two_values_for_one_key_are_never_prescribed_or_combined() -> None:
    findings = [
        Finding("train.no_better_than_naive", "warning", {"a": 1}, "x", ["model.units=64"]),
        Finding("train.underfitting", "warning", {"a": 1}, "x", ["model.units=128"]),
        Finding("data.unscaled_features", "warning", {"a": 1}, "x", ["scaling=standard"]),
    ]
    result = {"findings": [f.as_dict() for f in findings]}
    assert prescriptions(result) == ["model.units=64", "scaling=standard"]
    labels = [v.label for v in plan([], ["model.units=64", "model.units=128"], 15, 3)]
    assert labels == ["original", "model.units=64", "model.units=128"]


def test_recurrent_dropout_rules_out_cudnn_as_a_note() -> None:
    (finding,) = result_checks.check_model(tiny_config("model.recurrent_dropout=0.2"))
    assert finding.code == "model.cudnn_ineligible" and finding.severity == "info"
    assert verdict([finding]) == "healthy"
    assert result_checks.check_model(CFG) == []


def test_fixes_already_in_effect_are_not_prescribed() -> None:
    assert in_effect("scaling=standard", CFG)
    assert not in_effect("scaling=robust", CFG)
    assert in_effect(f"optimizer.lr={CFG.optimizer.lr}", CFG)
    assert not in_effect(f"optimizer.lr={CFG.optimizer.lr * 10}", CFG)


def test_prescriptions_take_the_first_fix_of_each_serious_finding() -> None:
    result = {
        "findings": [
            {"code": "a", "severity": "error", "fixes": ["x=1", "x=2"]},
            {"code": "b", "severity": "info", "fixes": ["y=1"]},
            {"code": "c", "severity": "warning", "fixes": ["x=1"]},
            {"code": "d", "severity": "warning", "fixes": ["z=1"]},
        ]
    }
    assert prescriptions(result) == ["x=1", "z=1"]


def test_markdown_says_what_was_seen_and_the_exact_command_to_try_first() -> None:
    loss = [1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09, 0.08, 0.07, 0.065, 0.06]
    val = [1.0, 0.5, 0.3, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65]
    cfg = tiny_config("training.early_stopping.enabled=false", "training.epochs=12")
    findings = run_checks.check_curves(history(loss, val), cfg)
    result = {
        "verdict": verdict(findings),
        "run_id": "abc123",
        "findings": [f.as_dict() for f in findings],
        "codes": codes(findings),
        "overrides": ["dataset=stocks", "training.early_stopping.enabled=false"],
    }
    result["primary"] = link(findings)
    text = to_markdown(result)
    assert text.startswith("# Diagnosis: sick")
    # overfitting explains nothing here and nothing explains it: it leads
    assert "## Primary cause" in text and "`train.overfitting`" in text.split("## Notes")[0]
    # the exact command: the run's overrides with the first fix on top
    assert "    lstm-doctor dataset=stocks training.early_stopping.enabled=false " in text
    assert "model.dropout=0.2 model.layer_dropout=0.2" in text
    assert "*Seen:* best_val_epoch = 4, best_val_loss = 0.25" in text  # the raw numbers
    assert "    lstm-doctor fix abc123" in text


def test_fix_plan_runs_original_each_fix_and_the_combination() -> None:
    base = ["dataset=stocks", "scaling=none", "seed=4"]
    assert merge(base, "scaling=standard") == ["dataset=stocks", "seed=4", "scaling=standard"]
    variants = plan(base, ["scaling=standard", "optimizer.lr=0.01"], max_runs=30, seeds=3)
    assert [v.label for v in variants] == [
        ORIGINAL,
        "scaling=standard",
        "optimizer.lr=0.01",
        "scaling=standard + optimizer.lr=0.01",
    ]
    assert variants[-1].overrides == [
        "dataset=stocks",
        "seed=4",
        "scaling=standard",
        "optimizer.lr=0.01",
    ]
    assert len(plan(base, ["a=1", "b=2"], max_runs=6, seeds=3)) == 2  # the budget cuts the tail


@pytest.mark.parametrize("counts", [[10, 10, 10], [10, 9, 11]])
def test_balanced_classes_are_fine(counts: list[int]) -> None:
    assert data_checks.check_classes(counts, ["a", "b", "c"]) == []


def test_imbalanced_classes() -> None:
    assert codes(data_checks.check_classes([90, 10], ["a", "b"])) == ["data.class_imbalance"]


def test_few_independent_windows_are_flagged_however_many_overlap() -> None:
    # 350 training steps hold 279 overlapping 72-step windows but under 5 independent ones
    found = data_checks.check_window_count({"train": 279}, 350, 72, "forecast")
    assert codes(found) == ["data.too_few_windows"]
    assert found[0].fixes[0] == "split.val_fraction=0.1 split.test_fraction=0.1"  # no cap to lift
    # 500 rows capped: enough rows for 60 independent windows of 72 steps (350 -> 4320 steps)
    (capped,) = data_checks.check_window_count({"train": 279}, 350, 72, "forecast", max_rows=500)
    assert capped.fixes[0] == "dataset.max_rows=6200"
    assert data_checks.check_window_count({"train": 6000}, 6132, 72, "forecast") == []
    assert codes(data_checks.check_window_count({"train": 20}, None, None, "classify")) == [
        "data.too_few_windows"
    ]
    # A shorter window is prescribed only when it is shorter, never below the season, and
    # never for a classifier (whose sequences have no window length to set).
    (short,) = data_checks.check_window_count({"train": 279}, 350, 72, "forecast", None, 48, 24)
    assert "window.length=24" in short.fixes
    (tiny,) = data_checks.check_window_count({"train": 300}, 350, 16, "forecast", None, 6, 24)
    assert not any(f.startswith("window.length") for f in tiny.fixes)
    (seqs,) = data_checks.check_window_count({"train": 20}, None, None, "classify", None, 48)
    assert not any(f.startswith("window.length") for f in seqs.fixes)


def test_a_zigzag_loss_that_never_settles_is_oscillating() -> None:
    loss = [3.608, 1.623, 1.467, 1.376, 1.832, 1.757, 1.692, 1.497, 1.757, 1.692, 1.51, 1.548]
    assert "train.oscillating" in codes(run_checks.check_curves(history(loss), CFG))


def yearly_daily(years: int = 3) -> np.ndarray:
    t = np.arange(365 * years)
    return np.sin(2 * np.pi * t / 365) + 0.1 * np.random.default_rng(1).standard_normal(len(t))


def test_a_long_season_the_calendar_tells_is_not_unseen() -> None:
    target = yearly_daily()
    cfg = tiny_config("window.length=28")
    told = frozenset({"7D", "365D"})
    assert series_checks.check_window(target, None, cfg, calendar=told, freq="D") == []


def test_a_long_season_no_window_can_cover_is_prescribed_as_its_calendar_input() -> None:
    """Three years of daily data cannot fill 30 year-long windows: the year's phase is given
    through the calendar, never as window.length=365."""
    target = yearly_daily()
    (found,) = series_checks.check_window(
        target, None, tiny_config("window.length=28"), calendar=frozenset({"7D"}), freq="D"
    )
    assert found.severity == "warning" and found.evidence["calendar_span"] == "365D"
    assert found.fixes == ["prepare.year_features=always"]
    off = tiny_config("window.length=28", "prepare.calendar_features=false")
    (found,) = series_checks.check_window(target, None, off, calendar=False, freq="D")
    assert found.fixes == ["prepare.calendar_features=true prepare.year_features=always"]


def test_a_short_season_keeps_the_window_that_covers_it() -> None:
    t = np.arange(7 * 100)
    target = np.sin(2 * np.pi * t / 7) + 0.1 * np.random.default_rng(2).standard_normal(len(t))
    (found,) = series_checks.check_window(
        target, None, tiny_config("window.length=3"), calendar=frozenset(), freq="D"
    )
    assert found.fixes[0] == "window.length=7"
