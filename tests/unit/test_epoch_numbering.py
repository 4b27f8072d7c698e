"""Epochs a person reads count from 1, as the console's epoch lines do: the run's curves
plot, the comparison and fix reports' curves, a diverged run's epoch. Keras indexes epochs
from 0, and so do models/history.csv and MLflow's step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.comparison.judging import summarise
from lstm_doctor.comparison.page import curves_figure as comparison_figure
from lstm_doctor.comparison.run_groups import RunRecord
from lstm_doctor.stages.plots import curves_figure
from lstm_doctor.stages.progress import EpochLines


def drawn_epochs(figure: object) -> list[list[float]]:
    """The x values of every line drawn in `figure`, axis by axis."""
    return [list(line.get_xdata()) for ax in figure.axes for line in ax.lines]  # type: ignore[attr-defined]


def test_the_runs_curves_plot_counts_epochs_from_1() -> None:
    # As train writes history.csv: Keras' epoch index, from 0.
    history = pd.DataFrame(
        {"epoch": range(4), "loss": [1.0, 0.5, 0.4, 0.3], "val_loss": [1.1, 0.6, 0.5, 0.45]}
    )
    figure = curves_figure(history)
    assert drawn_epochs(figure) == [[1, 2, 3, 4], [1, 2, 3, 4]]


def run(config: str, seed: int, loss: list[float]) -> RunRecord:
    """A finished run of `config` at `seed` with these per-epoch losses."""
    return RunRecord(
        run_id=f"{config}{seed}", name=config, status="FINISHED",
        overrides=f"{config} seed={seed}", params={}, metrics={"test_mae": loss[-1] + seed},
        tags={}, curves={"loss": loss, "val_loss": [v * 1.1 for v in loss]},
    )  # fmt: skip


def test_the_comparison_and_fix_reports_curves_count_epochs_from_1() -> None:
    runs = [run(c, s, [1.0, 0.6, 0.5]) for c in ("original", "scaling=minmax") for s in (0, 1)]
    summaries, _ = summarise(runs)
    drawn = drawn_epochs(comparison_figure(runs, summaries))
    assert drawn and all(x == [1, 2, 3] for x in drawn)


def test_the_console_counts_the_first_epoch_as_1(capsys: pytest.CaptureFixture) -> None:
    lines = EpochLines(3)
    lines.on_epoch_end(0, {"loss": np.float32(0.5), "val_loss": 0.6})  # Keras' first index
    assert capsys.readouterr().out.startswith("epoch 1/3  loss 0.5  val_loss 0.6")
