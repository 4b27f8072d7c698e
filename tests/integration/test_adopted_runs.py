"""Runs made for the pipeline by `mlflow run` (MLFLOW_RUN_ID): logged into as they are,
and where they landed said when it is not where lstm-doctor's runs are."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.tracking import lifecycle
from tests.conftest import tiny_config


@pytest.mark.parametrize("made_in", ["Default", "lstm-doctor"])
def test_a_run_made_by_mlflow_run_says_which_experiment_it_is_in(
    made_in: str,
    mlflow_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = MlflowClient(mlflow_uri)
    experiment = client.get_experiment_by_name(made_in)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(made_in)
    made = client.create_run(experiment_id).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", made)
    cfg = tiny_config(f"tracking.uri={mlflow_uri}")
    try:
        assert lifecycle.start_run(cfg, {}) == made
    finally:
        lifecycle.end_run()
    notes = [line for line in capsys.readouterr().err.splitlines() if "mlflow run" in line]
    if made_in == "Default":
        (note,) = notes
        assert "experiment 'Default'" in note and "--experiment-name lstm-doctor" in note
    else:
        assert notes == []
    assert client.get_run(made).data.params["seed"] == str(cfg.seed)
    assert mlflow.active_run() is None
