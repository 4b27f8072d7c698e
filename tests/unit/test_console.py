"""What the console says where a person would otherwise dig: an early stop, the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_doctor.pipeline.summary import summary
from lstm_doctor.stages.progress import EpochLines


def test_an_early_stop_is_said_with_the_epoch_restored(capsys: pytest.CaptureFixture) -> None:
    lines = EpochLines(60, patience=2)
    for epoch, val in enumerate([0.5, 0.3, 0.31, 0.32]):
        lines.on_epoch_end(epoch, {"loss": 1.0, "val_loss": val})
    lines.on_train_end()
    said = capsys.readouterr().out.splitlines()[-1]
    assert said == (
        "early stopping: val_loss did not improve for 2 epochs; stopped after epoch 4 of 60; "
        "weights of epoch 2 (best val_loss 0.3) restored"
    )


def test_a_run_that_used_every_epoch_says_nothing_more(capsys: pytest.CaptureFixture) -> None:
    lines = EpochLines(2, patience=5)
    for epoch in range(2):
        lines.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 0.5})
    lines.on_train_end()
    assert "early stopping" not in capsys.readouterr().out


def test_the_summary_gives_the_diagnosis_page_as_a_path_and_a_link(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    page = tmp_path / "reports" / "diagnosis.html"
    page.write_text("<html></html>")
    result = {
        "model": {"accuracy": 0.9, "balanced_accuracy": 0.8},
        "baselines": {"majority_class": {"accuracy": 0.5}},
        "skill": {"majority_class": 0.8, "best": 0.8},
        "best_baseline": "majority_class",
        "run_id": "abc",
    }
    said = summary(result, tmp_path, "sqlite:///mlflow.db")
    assert f"diagnosis page: {page.resolve()}  (file://{page.resolve()})" in said


def test_a_run_stopped_by_a_nan_is_not_said_to_have_stopped_early(
    capsys: pytest.CaptureFixture,
) -> None:
    lines = EpochLines(40, patience=5)
    lines.on_epoch_end(0, {"loss": 1.0, "val_loss": 0.5})
    lines.on_train_end()
    assert "early stopping" not in capsys.readouterr().out
