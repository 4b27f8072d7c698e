"""The training sizes that follow the data (config.sizing) on exact counts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lstm_doctor.config.schema import TrainingConfig
from lstm_doctor.config.sizing import MIN_PATIENCE_UPDATES, fit_sizes


def training(**changes: object) -> TrainingConfig:
    return replace(TrainingConfig(batch_size=64, epochs=60), **changes)  # type: ignore[arg-type]


def test_a_large_series_trains_with_what_was_configured() -> None:
    sizes = fit_sizes(18_000, training())
    assert sizes.batch_size == 64 and sizes.updates_per_epoch == 282
    cfg = training()
    assert sizes.early_stopping_patience == cfg.early_stopping.patience
    assert sizes.reduce_lr_patience == cfg.reduce_lr.patience


def test_fifty_sequences_get_several_updates_an_epoch_and_a_patience_in_updates() -> None:
    """50 training sequences at batch 64 would be one update an epoch and a stop after six."""
    sizes = fit_sizes(50, training())
    assert sizes.batch_size == 8 and sizes.updates_per_epoch == 7
    assert sizes.early_stopping_patience * 7 >= MIN_PATIENCE_UPDATES
    # The plateau cut stays before the stop, in the configured proportion (3 of 5).
    assert sizes.reduce_lr_patience < sizes.early_stopping_patience
    assert sizes.reduce_lr_patience == pytest.approx(0.6 * sizes.early_stopping_patience, abs=1)


def test_the_batch_never_grows_and_the_patience_never_outlasts_the_epochs() -> None:
    assert fit_sizes(50, training(batch_size=4)).batch_size == 4
    assert fit_sizes(1000, training(batch_size=64)).batch_size == 64  # 16 updates: enough
    assert fit_sizes(300, training()).batch_size == 38  # ceil(300 / 8): 8 updates an epoch
    short = fit_sizes(50, training(epochs=10))
    assert short.early_stopping_patience == 10 and short.reduce_lr_patience <= 10
