"""No prescription that would leave the run as it ran: a row cap above the file's rows, more
epochs for a run early stopping ended, a batch or patience the data's size overrules, a
window a classifier never reads (doctor/moot_fixes.py, judged on the resolved run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config.sizing import fit_sizes
from lstm_doctor.doctor import data_checks
from lstm_doctor.doctor.diagnosis import data_findings, prune_fixes
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.moot_fixes import RanWith, changes_run
from lstm_doctor.stages import prepare, scale, window

from ..conftest import tiny_config

# A daily file of four years (1460 rows) read under a cap of 4000 rows: the cap cuts nothing.
DAILY = tiny_config("dataset.max_rows=4000", "training.epochs=60", "training.batch_size=64")
DAILY_RAN = RanWith(task="forecast", rows_available=1460, train_windows=900, epochs_run=60)


def test_a_row_cap_above_the_files_rows_is_never_prescribed() -> None:
    # 350 training steps hold under 5 independent 72-step windows: too few, whatever the cap.
    (found,) = data_checks.check_window_count(
        {"train": 279}, 350, 72, "forecast", max_rows=4000, rows_available=1460
    )
    assert not any(f.startswith("dataset.max_rows") for f in found.fixes)
    # A cap that did cut the file is lifted, as far as the rows the file holds and no further.
    (cut,) = data_checks.check_window_count(
        {"train": 279}, 350, 72, "forecast", max_rows=500, rows_available=3000
    )
    assert cut.fixes[0] == "dataset.max_rows=3000"
    (plenty,) = data_checks.check_window_count(
        {"train": 279}, 350, 72, "forecast", max_rows=500, rows_available=20_000
    )
    assert plenty.fixes[0] == "dataset.max_rows=6200"


def test_a_fix_is_judged_on_the_run_it_resolves_to() -> None:
    assert not changes_run("dataset.max_rows=17000", DAILY, DAILY_RAN)  # 1460 rows either way
    assert changes_run("dataset.max_rows=1000", DAILY, DAILY_RAN)  # now it cuts the file
    assert changes_run("optimizer.lr=0.01", DAILY, DAILY_RAN)
    # A group option resolves through Hydra, not here: never called moot.
    assert changes_run("scaling=robust", DAILY, DAILY_RAN)


def test_more_epochs_for_a_run_early_stopping_ended_is_no_fix() -> None:
    stopped = RanWith(task="forecast", rows_available=1460, train_windows=900, epochs_run=32)
    assert not changes_run("training.epochs=300", DAILY, stopped)
    assert changes_run("training.epochs=20", DAILY, stopped)  # stops it sooner
    # With a longer patience too, early stopping may end it later: a different run.
    assert changes_run("training.early_stopping.patience=50 training.epochs=300", DAILY, stopped)
    # The whole budget ran: more epochs is more training, a longer patience changes nothing
    # (without a plateau schedule, whose patience the data's size sets in proportion to it).
    assert changes_run("training.epochs=300", DAILY, DAILY_RAN)
    steady = tiny_config("training.epochs=60", "training.reduce_lr.enabled=false")
    assert not changes_run("training.early_stopping.patience=40", steady, DAILY_RAN)
    assert changes_run("training.early_stopping.patience=40", DAILY, DAILY_RAN)


def test_a_batch_or_patience_the_datas_size_overrules_is_no_fix() -> None:
    # 50 training sequences: the batch shrinks to 8 whatever the ceiling above it.
    small = RanWith(task="classify", train_windows=50, epochs_run=60, lr_cut=False)
    cfg = tiny_config("dataset=basic_motions", "training.epochs=60", "training.batch_size=64")
    assert fit_sizes(50, cfg.training).batch_size == 8
    assert not changes_run("training.batch_size=16", cfg, small)
    assert changes_run("training.batch_size=4", cfg, small)
    # The patience floor of the data's size is above 5 epochs: asking for 5 changes nothing.
    assert not changes_run("training.early_stopping.patience=5", cfg, small)
    # The plateau never cut the step: a longer plateau patience would not either.
    assert not changes_run("training.reduce_lr.patience=60", cfg, small)
    assert changes_run("training.reduce_lr.patience=1", cfg, small)
    # A classifier's examples are its sequences: no window length or row cap reaches them.
    assert not changes_run("window.length=365", cfg, small)
    assert not changes_run("dataset.max_rows=100", cfg, small)


def test_a_schedule_switched_off_takes_no_settings() -> None:
    cfg = tiny_config(
        "training.epochs=60",
        "training.early_stopping.enabled=false",
        "training.reduce_lr.enabled=false",
    )
    ran = RanWith(task="forecast", rows_available=1460, train_windows=900, epochs_run=60)
    assert not changes_run("training.early_stopping.patience=20", cfg, ran)
    assert changes_run("training.early_stopping.enabled=true", cfg, ran)


@pytest.mark.parametrize(
    ("fix", "kept"),
    [("dataset.max_rows=17000", False), ("training.epochs=300", False), ("model.units=64", True)],
)
def test_moot_fixes_are_pruned_from_a_diagnosis(fix: str, kept: bool) -> None:
    stopped = RanWith(task="forecast", rows_available=1460, train_windows=900, epochs_run=32)
    finding = Finding("x", "warning", {}, "x", [fix])
    (pruned,) = prune_fixes([finding], DAILY, DAILY, stopped)
    assert (pruned.fixes == [fix]) is kept


def test_a_short_daily_file_under_a_large_cap_is_not_told_to_raise_it(tmp_path: Path) -> None:
    """Four years of days (1460 rows) under a 4000-row cap, an 8-week window: too few
    independent windows, and no `dataset.max_rows` can add a row to the file."""
    index = pd.date_range("2019-01-01", periods=1460, freq="D")
    season = np.sin(2 * np.pi * index.day_of_year.to_numpy() / 365.25)
    y = 10 + 3 * season + np.random.default_rng(0).normal(0, 1, len(index))
    raw = tmp_path / "daily.csv"
    pd.DataFrame({"time": index, "y": y}).to_csv(raw, index=False)
    cfg = tiny_config(
        "dataset=csv", f"dataset.path={raw}", "dataset.time_column=[time]", "dataset.target=y",
        "dataset.features=[]", "dataset.max_rows=4000", "window.length=56", "window.horizon=7",
    )  # fmt: skip
    paths = StagePaths.job(tmp_path / "job")
    for stage in (prepare, scale, window):
        stage.run(cfg, paths)
    (few,) = [f for f in data_findings(cfg, paths) if f.code == "data.too_few_windows"]
    assert few.fixes and not any(f.startswith("dataset.max_rows") for f in few.fixes)


def test_a_proofs_screen_tries_no_change_the_data_overrules() -> None:
    """Half the batch of a classifier of 50 sequences is the same batch of 8: not a
    candidate, while the diagnosis records what the data decided (`ran`)."""
    from dataclasses import asdict

    from lstm_doctor.jobs.fix_screen import candidates

    cfg = tiny_config("dataset=basic_motions", "training.epochs=60", "training.batch_size=64")
    ran = asdict(RanWith(task="classify", train_windows=50, epochs_run=60, lr_cut=False))
    assert "training.batch_size=32" in candidates(cfg, [])
    screened = candidates(cfg, [], ran)
    assert "training.batch_size=32" not in screened and "model.units=16" in screened
    # A classifier reads no window: forecasting each window as a change is no candidate.
    assert "window.normalize=last" not in screened
    # On a series large enough for the ceiling to bind, half the batch is a change.
    big = asdict(RanWith(task="classify", train_windows=5000, epochs_run=60))
    assert "training.batch_size=32" in candidates(cfg, [], big)


@pytest.mark.parametrize(
    "fix",
    [
        "model.units=abc",  # the wrong type: OmegaConf's own error escaped before
        "optimizer.lr=-1",  # out of range
        "model.no_such_key=1",  # not in the schema
        "model.units=64 window.length=0",  # one good part does not save a bad one
    ],
)
def test_a_fix_the_schema_refuses_is_pruned_never_raised(fix: str) -> None:
    finding = Finding("x", "warning", {}, "x", [fix, "model.units=64"])
    (pruned,) = prune_fixes([finding], DAILY, DAILY, DAILY_RAN)
    assert pruned.fixes == ["model.units=64"]


def test_reading_a_config_by_key_agrees_with_omegaconf_on_every_leaf() -> None:
    from omegaconf import OmegaConf

    from lstm_doctor.config import flatten
    from lstm_doctor.config.access import tree, value_at

    assert tree(DAILY) == OmegaConf.to_container(OmegaConf.structured(DAILY))
    for key, value in flatten(DAILY).items():
        assert value_at(DAILY, key) == OmegaConf.select(OmegaConf.structured(DAILY), key) == value
    assert value_at(DAILY, "model.no_such_key", default="<unset>") == "<unset>"
