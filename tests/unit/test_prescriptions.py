"""Prescriptions that fix the cause, and the quantity each is proved on: a step sent back to
the optimiser's usual one, an unbounded cell activation bounded, persistence made the
model's zero, and a fix judged on what it is meant to move (doctor/proof.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.errors import DataError
from lstm_doctor.comparison.judging import RunRecord, higher_is_better, summarise
from lstm_doctor.config.optimizers import OPTIMIZERS
from lstm_doctor.doctor import gradient_checks, result_checks
from lstm_doctor.doctor.proof import HONESTY, finding_of, judged_on, proof_metric, why_metric
from lstm_doctor.doctor.steps import step_down, step_up
from lstm_doctor.doctor.training_checks import check_divergence

from ..conftest import tiny_config

USUAL_STEP = {name: spec.usual_lr for name, spec in OPTIMIZERS.items()}


@pytest.mark.parametrize("optimizer", sorted(USUAL_STEP))
def test_a_step_orders_of_magnitude_off_goes_back_to_the_usual_one(optimizer: str) -> None:
    usual = USUAL_STEP[optimizer]
    # Ten times (or a tenth of) a hopeless step is still hopeless: the usual step instead.
    assert step_up(usual / 1000, optimizer) == usual
    assert step_down(usual * 1000, optimizer) == usual
    # Near the usual step, one order of magnitude, never past ten times the usual.
    assert step_up(usual / 3, optimizer) == pytest.approx(usual * 10 / 3)
    assert step_up(usual * 5, optimizer) == pytest.approx(usual * 10)
    assert step_down(usual * 3, optimizer) == pytest.approx(usual * 3 / 10)


def test_a_diverged_run_at_a_huge_step_is_sent_to_the_usual_step() -> None:
    (found,) = check_divergence(np.array([1.0, np.nan]), tiny_config("optimizer.lr=50"))
    assert found.fixes[0] == "optimizer.lr=0.001"
    (sgd,) = check_divergence(
        np.array([1.0, np.nan]), tiny_config("optimizer=sgd", "optimizer.lr=5")
    )
    assert sgd.fixes[0] == "optimizer.lr=0.01"


def spiking(level: float = 1.0) -> pd.DataFrame:
    norms = level * (1 + 0.1 * np.random.default_rng(0).standard_normal(20))
    norms[15] = level * 1e4
    return pd.DataFrame({"grad_norm": norms})


@pytest.mark.parametrize("activation", ["relu", "elu", "linear"])
def test_exploding_under_an_unbounded_cell_activation_bounds_it_first(activation: str) -> None:
    cfg = tiny_config(f"model.activation={activation}")
    (found,) = gradient_checks.check_gradients(spiking(), cfg)
    assert found.fixes[0] == "model.activation=tanh"
    assert f"`{activation}` has no bound" in found.explanation
    # Under tanh the cell is bounded: clipping first, as before.
    (bounded,) = gradient_checks.check_gradients(spiking(), tiny_config())
    assert bounded.fixes[0] == "optimizer.clipnorm=1.0" and "no bound" not in bounded.explanation


def naive_results(model_mae: float, persistence_mae: float, seasonal_mae: float) -> dict:
    baselines = {"persistence": {"mae": persistence_mae}, "seasonal_naive": {"mae": seasonal_mae}}
    skill = {k: 1 - model_mae / v["mae"] for k, v in baselines.items()}
    best = min(baselines, key=lambda k: baselines[k]["mae"])
    return {"model": {"mae": model_mae}, "baselines": baselines, "train_steps": 5000,
            "skill": skill, "best_baseline": best}  # fmt: skip


def test_losing_to_persistence_prescribes_forecasting_the_change_from_the_last_value() -> None:
    history = pd.DataFrame({"loss": [1.0, 0.2], "val_loss": [1.0, 0.25]})
    cfg = tiny_config("window.length=24")
    found = result_checks.check_results(naive_results(1.1, 1.0, 1.4), history, cfg, 24)
    (naive,) = [f for f in found if f.code == "train.no_better_than_naive"]
    assert naive.fixes[0] == "window.normalize=last"
    # Already in effect: not prescribed again. A seasonal lookup the best: not prescribed.
    normalised = tiny_config("window.length=24", "window.normalize=last")
    found = result_checks.check_results(naive_results(1.1, 1.0, 1.4), history, normalised, 24)
    assert all("window.normalize=last" not in f.fixes for f in found)
    found = result_checks.check_results(naive_results(1.5, 1.6, 1.4), history, cfg, 24)
    assert all("window.normalize=last" not in f.fixes for f in found)


@pytest.mark.parametrize(
    ("code", "fix", "task", "metric"),
    [
        ("train.underfitting", "model.units=64", "forecast", "test_mae"),
        ("data.too_few_windows", "dataset.max_rows=6200", "forecast", "test_mase"),
        ("data.too_few_windows", "split.val_fraction=0.1 split.test_fraction=0.1", "forecast",
         "test_mase"),
        ("data.class_imbalance", "training.class_weight=balanced", "classify",
         "test_balanced_accuracy"),
        ("train.majority_class", "scaling=standard", "classify", "test_balanced_accuracy"),
        ("train.step_too_small", "optimizer.lr=0.001", "classify", "test_accuracy"),
        ("data.scaling_leakage", "scaling.fit_on=train", "forecast", None),
        (None, "model.units=64", "forecast", "test_mae"),
    ],
)  # fmt: skip
def test_each_fix_is_proved_on_the_quantity_it_is_meant_to_move(
    code: str | None, fix: str, task: str, metric: str | None
) -> None:
    assert proof_metric(code, fix, task) == metric
    reason = why_metric(code, metric)
    assert reason and (metric is None or metric in reason)
    if code in HONESTY:
        assert "honest" in reason


def test_the_finding_behind_a_fix_is_the_first_that_prescribes_it() -> None:
    result = {
        "primary": ["data.class_imbalance"],
        "findings": [
            {"code": "train.not_learning", "severity": "error", "fixes": ["scaling=standard"],
             "explained_by": ["data.class_imbalance"]},
            {"code": "data.class_imbalance", "severity": "warning",
             "fixes": ["training.class_weight=balanced"], "explained_by": []},
        ],
    }  # fmt: skip
    assert finding_of(result, "training.class_weight=balanced")["code"] == "data.class_imbalance"
    assert finding_of(result, "scaling=standard")["code"] == "train.not_learning"
    assert finding_of(result, "model.units=64") is None
    assert judged_on(result, "training.class_weight=balanced", "classify") == (
        "data.class_imbalance",
        "test_balanced_accuracy",
    )


def run(name: str, seed: int, mae: float, mase: float) -> RunRecord:
    return RunRecord(
        run_id=f"{name}{seed}", name=name, status="FINISHED", overrides=f"{name} seed={seed}",
        params={}, metrics={"test_mae": mae, "test_mase": mase}, tags={}, curves={},
    )  # fmt: skip


def test_a_comparison_can_be_judged_on_any_logged_metric() -> None:
    """More data moves the test span: MAE says worse (a harder span), MASE says better."""
    runs = [run("original", s, 1.6 + 0.01 * s, 1.2 + 0.01 * s) for s in range(3)]
    runs += [run("dataset.max_rows=6200", s, 1.9 + 0.01 * s, 0.9 + 0.01 * s) for s in range(3)]
    by_mae = {s.name: s.verdict for s in summarise(runs, baseline="original")[0]}
    by_mase = {s.name: s.verdict for s in summarise(runs, "original", "test_mase")[0]}
    assert by_mae["dataset.max_rows=6200"] == "worse beyond seed noise"
    assert by_mase["dataset.max_rows=6200"] == "better beyond seed noise"
    with pytest.raises(DataError, match=r"test_balanced_accuracy.*test_mae"):
        summarise(runs, "original", "test_balanced_accuracy")


@pytest.mark.parametrize(
    ("metric", "higher"),
    [("test_accuracy", True), ("test_balanced_accuracy", True), ("skill_vs_best", True),
     ("test_mae", False), ("test_mase", False), ("test_rmse", False), ("best_val_loss", False)],
)  # fmt: skip
def test_scores_are_higher_is_better_errors_lower(metric: str, higher: bool) -> None:
    assert higher_is_better(metric) is higher


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_a_flat_curve_at_a_rate_far_below_the_usual_is_a_step_too_small(optimizer: str) -> None:
    """An adaptive optimiser's updates shrink less than its rate: at 1e-5 they may sit only
    ~12x under the healthy 1e-3. A crawling curve with updates under the healthy size and a
    rate far below the optimiser's usual step is a step too small; the same updates at the
    usual rate are not blamed on it."""
    monitors = pd.DataFrame({"step_ratio/lstm_0": np.full(20, 8e-5)})
    crawl = {"train.not_learning"}
    cfg = tiny_config(f"optimizer={optimizer}", "optimizer.lr=1e-5")
    (found,) = gradient_checks.check_step_size(monitors, cfg, crawl)
    assert found.code == "train.step_too_small"
    assert found.fixes[0] == f"optimizer.lr={USUAL_STEP[optimizer]:g}"
    assert "100x below" in found.explanation
    usual = tiny_config(f"optimizer={optimizer}", f"optimizer.lr={USUAL_STEP[optimizer]:g}")
    assert gradient_checks.check_step_size(monitors, usual, crawl) == []
    assert gradient_checks.check_step_size(monitors, cfg, set()) == []  # a settled curve


def walk_metrics(model_mae: float, linear_mae: float, changes_t: float) -> dict:
    """Test metrics where persistence (1.0) is the best lookup."""
    baselines = {"persistence": {"mae": 1.0}, "seasonal_naive": {"mae": 1.4},
                 "linear": {"mae": linear_mae}}  # fmt: skip
    skill = {k: 1 - model_mae / v["mae"] for k, v in baselines.items()}
    return {"model": {"mae": model_mae}, "baselines": baselines, "train_steps": 5000,
            "skill": skill, "changes_predictability": {"gain": 0.0, "t": changes_t}}  # fmt: skip


def test_a_random_walk_is_named_and_given_no_futile_fix() -> None:
    """Persistence the best lookup, the linear model no better, the changes unpredictable
    from their past: nothing to learn beyond persistence. Said as such, with no capacity or
    step prescription, and not called underfitting (no fitted model finds more)."""
    history = pd.DataFrame({"loss": [1.0, 0.9, 0.9], "val_loss": [1.0, 0.95, 0.95]})
    cfg = tiny_config("window.normalize=last")
    found = result_checks.check_results(walk_metrics(1.02, 1.03, 0.4), history, cfg, None)
    codes = [f.code for f in found]
    assert "train.underfitting" not in codes
    (naive,) = [f for f in found if f.code == "train.no_better_than_naive"]
    assert "random walk" in naive.explanation and naive.fixes == []
    assert naive.evidence["changes_predictability"]["t"] == 0.4
    # Changes their past forecasts, or a linear model that beats persistence: not a walk.
    for metrics in (walk_metrics(1.02, 1.03, 5.0), walk_metrics(1.02, 0.9, 0.4)):
        (naive,) = [f for f in result_checks.check_results(metrics, history, cfg, None)
                    if f.code == "train.no_better_than_naive"]  # fmt: skip
        assert "random walk" not in naive.explanation and "model.units=64" in naive.fixes


def test_underfitting_needs_a_fitted_model_that_does_better() -> None:
    """Losing to a lookup with high loss is underfitting when a linear model on the same
    inputs fits better; tying the linear model while both lose is not a capacity problem."""
    history = pd.DataFrame({"loss": [1.0, 0.9, 0.9], "val_loss": [1.0, 0.95, 0.95]})
    cfg = tiny_config()
    worse = result_checks.check_results(walk_metrics(3.0, 0.9, 9.0), history, cfg, None)
    assert "train.underfitting" in [f.code for f in worse]
    tie = result_checks.check_results(walk_metrics(1.2, 1.25, 9.0), history, cfg, None)
    assert "train.underfitting" not in [f.code for f in tie]


def test_a_cause_with_nothing_to_prescribe_says_so() -> None:
    from lstm_doctor.doctor.report import console_summary, to_markdown

    result = {"verdict": "sick", "run_id": "abc", "overrides": [], "primary": ["x.y"],
              "findings": [{"code": "x.y", "severity": "warning", "evidence": {},
                            "explanation": "seen", "fixes": [], "explained_by": []}]}  # fmt: skip
    text = to_markdown(result)
    assert "No configuration change is prescribed" in text
    assert "lstm-doctor fix" not in text and "Try first" not in text
    console = console_summary(result)
    assert "no configuration change is prescribed" in console and "fix" not in console
    from lstm_doctor.doctor.html_report import _summary

    page = _summary(result)
    assert "No configuration change is prescribed" in page and "lstm-doctor fix" not in page


def test_losing_to_the_seasonal_lookup_prescribes_forecasting_the_correction_to_it() -> None:
    """No specific cause (the window covers the season): the model is given the winning
    lookup as its starting point, and not again once it has it."""
    history = pd.DataFrame({"loss": [1.0, 0.2], "val_loss": [1.0, 0.25]})
    cfg = tiny_config("window.length=24")
    found = result_checks.check_results(naive_results(1.5, 1.6, 1.4), history, cfg, 24)
    (naive,) = [f for f in found if f.code == "train.no_better_than_naive"]
    assert naive.fixes[0] == "model.residual_to=seasonal_naive"
    has_it = tiny_config("window.length=24", "model.residual_to=seasonal_naive")
    found = result_checks.check_results(naive_results(1.5, 1.6, 1.4), history, has_it, 24)
    assert all(not fix.startswith("model.residual_to") for f in found for fix in f.fixes)


def test_a_prescription_names_a_real_key_or_fails_where_it_is_said() -> None:
    from lstm_doctor.config.prescriptions import option, setting, together

    assert setting("optimizer.lr", 0.003 * 10) == "optimizer.lr=0.03"
    assert setting("optimizer.clipnorm", 1.0) == "optimizer.clipnorm=1.0"
    assert setting("model.unroll", False) == "model.unroll=false"
    assert setting("dataset.freq", None) == "dataset.freq=null"
    assert setting("dataset.name", "my data") == "dataset.name='my data'"
    assert together(option("scaling", "robust"), "", setting("window.length", 24)) == (
        "scaling=robust window.length=24"
    )
    for bad in ("optimizer.learning_rate", "model", "training.early_stopping"):
        with pytest.raises(KeyError):
            setting(bad, 1)
    with pytest.raises(KeyError):
        option("scalers", "robust")


def test_every_option_the_doctor_prescribes_is_a_file_in_its_group() -> None:
    """option("scaling", "robust") is conf/scaling/robust.yaml: read from the doctor's
    source, every literal option call names a file that exists."""
    import ast

    from ..conftest import ROOT

    calls = []
    for path in (ROOT / "src" / "lstm_doctor" / "doctor").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "option"
                and all(isinstance(a, ast.Constant) for a in node.args)
            ):
                calls.append(tuple(a.value for a in node.args))
    assert len(calls) >= 5
    missing = [f"{g}/{n}.yaml" for g, n in calls if not (ROOT / "conf" / g / f"{n}.yaml").is_file()]
    assert not missing, missing
