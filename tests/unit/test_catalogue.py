"""The fixes catalogue (docs/reference.md) is what the doctor prescribes: each row's
overrides are the fixes its check gives, in order, on a case that shows the row's symptom.

A `<placeholder>` in a row stands for a value the doctor works out from the run (ten times
its learning rate, twice its batch); every other value is checked as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.config import Config, validate
from lstm_doctor.config.params import compose_config
from lstm_doctor.doctor import (
    data_checks,
    gradient_checks,
    result_checks,
    series_checks,
    training_checks,
)
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.steps import step_down, step_up

from ..conftest import ROOT

REFERENCE = (ROOT / "docs" / "reference.md").read_text()
PLACEHOLDER = re.compile(r"<[^<>]+>")
# The modules whose findings a pipeline run reports, prescribed as config overrides (a
# user's script's own findings are said in Keras code instead).
PIPELINE_CHECKS = (data_checks, series_checks, training_checks, gradient_checks, result_checks)


def config(*overrides: str) -> Config:
    """The shipped defaults with `overrides` applied."""
    return validate(compose_config(list(overrides), conf_dir=ROOT / "conf"))


# What a case gives: the finding its check made, and the run's config it judged.
Case = tuple[Finding, Config]


def only(findings: list[Finding], code: str, cfg: Config) -> Case:
    """The one finding of `code` among `findings`, with the config it was judged on."""
    (found,) = [f for f in findings if f.code == code]
    return found, cfg


def curves(loss: list[float], val: list[float] | None = None) -> pd.DataFrame:
    """Per-epoch curves as train records them."""
    return pd.DataFrame({"epoch": range(len(loss)), "loss": loss, "val_loss": val or loss})


def forecast_metrics(model: float, baselines: dict[str, float], **extra: object) -> dict:
    """Test metrics of a forecaster: its MAE beside each baseline's, and the skills."""
    skill = {name: 1 - model / mae for name, mae in baselines.items()}
    skill["best"] = min(skill.values(), key=abs)
    return {
        "model": {"mae": model},
        "baselines": {name: {"mae": mae} for name, mae in baselines.items()},
        "skill": skill,
        "train_steps": 20_000,
        **extra,
    }


def seasonal(period: int, steps: int, seed: int = 0) -> np.ndarray:
    """A noisy sine of `period` steps."""
    t = np.arange(steps)
    noise = 0.1 * np.random.default_rng(seed).standard_normal(steps)
    return np.sin(2 * np.pi * t / period) + noise


def spiking_norms(level: float = 1.0) -> pd.DataFrame:
    """Gradient norms steady but for one spike 10,000 times their level."""
    norms = level * (1 + 0.1 * np.random.default_rng(0).standard_normal(20))
    norms[15] = level * 1e4
    return pd.DataFrame({"grad_norm": norms})


def unscaled() -> Case:
    values = np.column_stack([np.linspace(20, 40, 100), np.linspace(1e6, 5e7, 100)])
    cfg = config("scaling=none")
    found = data_checks.check_scales(values, ["price", "volume"], cfg)
    return only(found, "data.unscaled_features", cfg)


SPLIT = {"train": [0, 700], "val": [700, 850], "test": [850, 1000]}


def scaler_on_all() -> Case:
    cfg = config("scaling.fit_on=all")
    return only(data_checks.check_leakage(SPLIT, cfg), "data.scaling_leakage", cfg)


def drifted() -> Case:
    level = np.concatenate([np.zeros(700), np.full(300, 3.0)])
    cfg = config()
    return only(series_checks.check_shift(level, SPLIT, cfg), "data.distribution_shift", cfg)


def hourly_daily_season() -> Case:
    cfg = config("window.length=12")
    found = series_checks.check_window(
        seasonal(24, 24 * 120), 24, cfg, calendar=frozenset(), freq="h"
    )
    return only(found, "data.window_shorter_than_season", cfg)


def daily_yearly_season() -> Case:
    cfg = config("window.length=28")
    found = series_checks.check_window(
        seasonal(365, 365 * 3), None, cfg, calendar=frozenset({"7D"}), freq="D"
    )
    return only(found, "data.window_shorter_than_season", cfg)


def loses_to_seasonal_lookup() -> Case:
    metrics = forecast_metrics(1.5, {"persistence": 1.6, "seasonal_naive": 1.4, "linear": 1.45})
    cfg = config("window.length=24")
    found = result_checks.check_results(metrics, curves([1.0, 0.2], [1.0, 0.25]), cfg, 24)
    return only(found, "train.no_better_than_naive", cfg)


def random_walk() -> Case:
    metrics = forecast_metrics(
        1.02, {"persistence": 1.0, "seasonal_naive": 1.4, "linear": 1.03},
        changes_predictability={"gain": 0.0, "t": 0.4},
    )  # fmt: skip
    cfg = config()
    found = result_checks.check_results(metrics, curves([1.0, 0.9, 0.9]), cfg, None)
    return only(found, "train.no_better_than_naive", cfg)


def nan_left_in() -> Case:
    cfg = config("prepare.missing=none")
    found = data_checks.check_missing({"missing": {"y": 40}, "missing_after": 40}, 1000, cfg)
    return only(found, "data.missing_values", cfg)


def spikes() -> Case:
    values = np.random.default_rng(3).normal(100, 5, 2000)
    values[::200] = 10_000
    cfg = config("dataset.target=y")
    found = series_checks.check_outliers(pd.DataFrame({"y": values}), ["y"], cfg)
    return only(found, "data.outliers", cfg)


def too_little_capacity() -> Case:
    metrics = forecast_metrics(3.0, {"persistence": 1.0, "seasonal_naive": 1.4, "linear": 0.9},
                               changes_predictability={"gain": 0.1, "t": 9.0})  # fmt: skip
    cfg = config()
    found = result_checks.check_results(metrics, curves([1.0, 0.9, 0.9]), cfg, None)
    return only(found, "train.underfitting", cfg)


def loses_to_linear() -> Case:
    metrics = forecast_metrics(1.2, {"seasonal_naive": 1.5, "linear": 1.0}, seasons=[24, 168])
    cfg = config("window.length=48", "prepare.calendar_features=false")
    found = result_checks.check_results(metrics, curves([1.0, 0.3], [1.0, 0.35]), cfg, 24)
    return only(found, "train.no_better_than_linear", cfg)


def overfit() -> Case:
    train = list(1.0 * 0.85 ** np.arange(20))
    val = [1.0 - 0.05 * i for i in range(8)] + [0.65 + 0.04 * i for i in range(12)]
    cfg = config("training.epochs=20", "training.early_stopping.enabled=false")
    return only(training_checks.check_curves(curves(train, val), cfg), "train.overfitting", cfg)


def vanishing() -> Case:
    monitors = pd.DataFrame({"grad_norm": np.ones(10), "grad_ratio/lstm_0": np.full(10, 1e-5)})
    cfg = config()
    return only(gradient_checks.check_gradients(monitors, cfg), "train.vanishing_gradients", cfg)


def exploding(*overrides: str) -> Case:
    cfg = config(*overrides)
    found = gradient_checks.check_gradients(spiking_norms(), cfg)
    return only(found, "train.exploding_gradients", cfg)


def exploding_unbounded() -> Case:
    return exploding("model.activation=relu")


def diverged() -> Case:
    cfg = config()
    found = training_checks.check_divergence(np.array([1.0, 5.0, np.nan]), cfg)
    return only(found, "train.diverged", cfg)


def zigzag() -> Case:
    loss = [1.0, 0.6, 0.9, 0.5, 0.8, 0.45, 0.85, 0.5, 0.9, 0.55]
    cfg = config("training.epochs=10")
    return only(training_checks.check_curves(curves(loss), cfg), "train.oscillating", cfg)


def step_ratios(ratio: float) -> pd.DataFrame:
    """Monitors whose first optimiser step moves the weights by `ratio` of their norm."""
    return pd.DataFrame({"grad_norm": np.ones(10), "step_ratio/lstm_0": np.full(10, ratio)})


def step_too_large() -> Case:
    cfg = config()
    found = gradient_checks.check_step_size(step_ratios(1.0), cfg, {"train.oscillating"})
    return only(found, "train.step_too_large", cfg)


def step_too_small() -> Case:
    cfg = config("optimizer.lr=1e-6")
    found = gradient_checks.check_step_size(step_ratios(1e-7), cfg, {"train.slow_convergence"})
    return only(found, "train.step_too_small", cfg)


def flat() -> Case:
    cfg = config("training.epochs=6")
    loss = [1.0, 0.999, 0.998, 0.998, 0.997, 0.997]
    return only(training_checks.check_curves(curves(loss), cfg), "train.not_learning", cfg)


def still_falling() -> Case:
    cfg = config("training.epochs=20")
    loss = list(1.0 * 0.9 ** np.arange(20))
    return only(training_checks.check_curves(curves(loss), cfg), "train.slow_convergence", cfg)


def wasted() -> Case:
    cfg = config("training.early_stopping.enabled=false", "training.epochs=30")
    loss = [1.0, 0.5, 0.3, 0.25] + [0.24] * 26
    return only(training_checks.check_curves(curves(loss), cfg), "train.wasted_epochs", cfg)


def one_class() -> Case:
    metrics = {
        "model": {"accuracy": 0.5, "confusion_matrix": [[50, 0], [50, 0]]},
        "baselines": {"majority_class": {"accuracy": 0.5}, "linear": {"accuracy": 0.8}},
        "skill": {"majority_class": 0.0, "linear": -0.6},
    }
    cfg = config("dataset=italy_power")
    found = result_checks.check_results(metrics, curves([1.0, 0.7]), cfg, None)
    return only(found, "train.majority_class", cfg)


def rare_class() -> Case:
    found = data_checks.check_classes([90, 10], ["a", "b"])
    return only(found, "data.class_imbalance", config())


def few_windows() -> Case:
    found = data_checks.check_window_count(
        {"train": 500}, 600, 48 + 24, "forecast", max_rows=1000, window_length=48, period=24
    )
    return only(found, "data.too_few_windows", config("dataset.max_rows=1000"))


def gpu_slow() -> Case:
    cfg = config(
        "model.activation=relu", "model.recurrent_activation=hard_sigmoid",
        "model.recurrent_dropout=0.2", "model.unroll=true",
    )  # fmt: skip
    return only(result_checks.check_model(cfg), "model.cudnn_ineligible", cfg)


def off_grid() -> Case:
    report = {"rows_off_grid": 50, "rows_out": 1000, "rows_inserted": 0, "freq": "h"}
    return only(data_checks.check_off_grid(report), "data.off_grid_rows", config())


# Each row of the catalogue, in its order: the code it names and a case showing its symptom.
SCENARIOS: dict[str, list[Callable[[], Case]]] = {
    "data.unscaled_features": [unscaled],
    "data.scaling_leakage": [scaler_on_all],
    "data.distribution_shift": [drifted],
    "data.window_shorter_than_season": [hourly_daily_season, daily_yearly_season],
    "train.no_better_than_naive": [loses_to_seasonal_lookup, random_walk],
    "data.missing_values": [nan_left_in],
    "data.outliers": [spikes],
    "train.underfitting": [too_little_capacity],
    "train.no_better_than_linear": [loses_to_linear],
    "train.overfitting": [overfit],
    "train.vanishing_gradients": [vanishing],
    "train.exploding_gradients": [exploding, exploding_unbounded],
    "train.diverged": [diverged],
    "train.oscillating": [zigzag],
    "train.step_too_large": [step_too_large],
    "train.step_too_small": [step_too_small],
    "train.not_learning": [flat],
    "train.slow_convergence": [still_falling],
    "train.wasted_epochs": [wasted],
    "train.majority_class": [one_class],
    "data.class_imbalance": [rare_class],
    "data.too_few_windows": [few_windows],
    "model.cudnn_ineligible": [gpu_slow],
}

# Codes a pipeline run reports that prescribe nothing, each with a case that shows it.
NOTHING_PRESCRIBED: dict[str, Callable[[], Case]] = {"data.off_grid_rows": off_grid}


def catalogue() -> list[tuple[str, list[str]]]:
    """The catalogue's rows in order: the code each names and the fixes it quotes (each
    backticked override; prose around them is the reader's)."""
    section = REFERENCE[REFERENCE.index("## Fixes are config: the catalogue") :]
    section = section[: section.index("\n#", 1)]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if len(cells) != 3 or cells[0] in ("symptom", "---|---|---"):
            continue
        (code,) = re.findall(r"`((?:data|train|model)\.[a-z_]+)`", cells[1])
        rows.append((code, [fix for fix in re.findall(r"`([^`]+)`", cells[2]) if "=" in fix]))
    return rows


def as_pattern(quoted: str, cfg: Config) -> re.Pattern[str]:
    """A quoted fix as a pattern: its text exactly; `<up>` and `<down>` the learning rates
    steps.py works out for `cfg`, any other placeholder any value."""
    named = {
        "<up>": f"{step_up(cfg.optimizer.lr, cfg.optimizer.name):g}",
        "<down>": f"{step_down(cfg.optimizer.lr, cfg.optimizer.name):g}",
    }
    pattern = ""
    for part in re.split(r"(<[^<>]+>)", quoted):
        if part in named:
            pattern += re.escape(named[part])
        elif PLACEHOLDER.fullmatch(part):
            pattern += r"\S+"
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


def cases() -> list[tuple[str, Callable[[], Case], list[str]]]:
    """Each catalogue row beside the case for it: its code's cases in the rows' order."""
    by_code: dict[str, list[list[str]]] = {}
    for code, fixes in catalogue():
        by_code.setdefault(code, []).append(fixes)
    assert {code: len(rows) for code, rows in by_code.items()} == {
        code: len(made) for code, made in SCENARIOS.items()
    }, "each code's rows in the catalogue must match its cases here, one to one"
    return [
        (code, made, quoted)
        for code, rows in by_code.items()
        for made, quoted in zip(SCENARIOS[code], rows, strict=True)
    ]


@pytest.mark.parametrize(
    ("code", "made", "quoted"), cases(), ids=lambda v: getattr(v, "__name__", None)
)
def test_each_row_is_what_the_doctor_prescribes(
    code: str, made: Callable[[], Case], quoted: list[str]
) -> None:
    """The row's overrides are the fixes its check gives, all of them, in their order
    (the catalogue once advised reduce_lr for a step too small: it lowers the step)."""
    finding, cfg = made()
    assert finding.code == code
    assert len(quoted) == len(finding.fixes), (quoted, finding.fixes)
    for said, prescribed in zip(quoted, finding.fixes, strict=True):
        assert as_pattern(said, cfg).fullmatch(prescribed), (said, prescribed)


def test_every_code_with_a_prescription_has_a_row() -> None:
    """A code a pipeline check can report is in the catalogue, or prescribes nothing."""
    emitted = set()
    for module in PIPELINE_CHECKS:
        source = Path(module.__file__ or "").read_text()
        emitted |= set(re.findall(r'Finding\(\s*"((?:data|train|model)\.[a-z_]+)"', source))
    assert emitted == set(SCENARIOS) | set(NOTHING_PRESCRIBED)
    assert {code for code, _ in catalogue()} == set(SCENARIOS)
    for code, made in NOTHING_PRESCRIBED.items():
        finding, _ = made()
        assert finding.code == code and finding.fixes == []
