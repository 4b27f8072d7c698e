"""`lstm-doctor sync` is idempotent and truthful: a second call logs nothing, a KILLED or
FAILED run keeps its status, only a RUNNING run whose evaluation finished is ended
FINISHED, and a run.json without a run id is refused in one line. Real SQLite stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.workspace import write_json
from lstm_doctor.commands import sync
from lstm_doctor.config import TrackingConfig
from lstm_doctor.pipeline.log_later import log_later

EPOCHS = 4


def job_folder(root: Path, run_id: str | None, evaluated: bool = True) -> Path:
    """The outputs a job leaves on disk: curves, the model file, its run, its metrics."""
    job = root / "job"
    (job / "models").mkdir(parents=True)
    (job / "reports").mkdir()
    rows = "\n".join(f"{e},{1.0 / (e + 1)},{1.2 / (e + 1)}" for e in range(EPOCHS))
    (job / "models" / "history.csv").write_text("epoch,loss,val_loss\n" + rows + "\n")
    (job / "models" / "model.keras").write_bytes(b"model")
    write_json(job / "models" / "run.json", {"run_id": run_id} if run_id else {})
    if evaluated:
        metrics = {
            "model": {"mae": 1.5},
            "baselines": {"persistence": {"mae": 2.0}},
            "skill": {"persistence": 0.25},
            "mae_by_lead_time": {"model": [1.0, 2.0]},
        }
        write_json(job / "reports" / "evaluation.json", metrics)
        write_json(job / "reports" / "metrics.json", {"test_mae": 1.5})
    return job


def new_run(uri: str, status: str, logged_epochs: int) -> str:
    client = MlflowClient(uri)
    artifacts = Path(uri.split("///")[1]).parent / "artifacts"
    experiment = client.create_experiment("lstm-doctor", artifact_location=str(artifacts))
    run_id = client.create_run(experiment).info.run_id
    for epoch in range(logged_epochs):
        client.log_metric(run_id, "loss", 1.0 / (epoch + 1), step=epoch)
    if status != "RUNNING":
        client.set_terminated(run_id, status)
    return run_id


@pytest.fixture
def store(mlflow_uri: str) -> str:
    """conftest's fresh SQLite store, under the name these tests read best."""
    return mlflow_uri


def test_running_run_completed_once_then_nothing_twice(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = new_run(store, "RUNNING", logged_epochs=2)
    job = job_folder(tmp_path, run_id)
    sync.main([str(job)])
    first = capsys.readouterr().out
    assert f"run {run_id}: {EPOCHS} epochs" in first and "run RUNNING -> FINISHED" in first
    sync.main([str(job)])
    assert "nothing missing in the store; run FINISHED, unchanged" in capsys.readouterr().out
    client = MlflowClient(store)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert len(client.get_metric_history(run_id, "test_mae")) == 1
    assert len(client.get_metric_history(run_id, "lead_time_mae/model")) == 2
    assert sorted(m.step for m in client.get_metric_history(run_id, "loss")) == [0, 1, 2, 3]


@pytest.mark.parametrize("status", ["KILLED", "FAILED"])
def test_ended_run_keeps_its_status_and_gets_no_metrics(
    tmp_path: Path, store: str, status: str
) -> None:
    run_id = new_run(store, status, logged_epochs=2)
    done = log_later(job_folder(tmp_path, run_id), TrackingConfig(uri=store))
    assert done["status_after"] == status and done["points"] > 0 and done["metrics"] == 0
    run = MlflowClient(store).get_run(run_id)
    assert run.info.status == status and "test_mae" not in run.data.metrics
    again = log_later(tmp_path / "job", TrackingConfig(uri=store))
    assert again["points"] == 0 and again["status_after"] == status


def test_running_run_without_its_evaluation_is_not_ended(tmp_path: Path, store: str) -> None:
    run_id = new_run(store, "RUNNING", logged_epochs=1)
    job = job_folder(tmp_path, run_id, evaluated=False)
    with pytest.raises(DataError, match=r"evaluation never finished here"):
        log_later(job, TrackingConfig(uri=store))
    assert MlflowClient(store).get_run(run_id).info.status == "RUNNING"


def test_run_json_without_a_run_id_is_named(tmp_path: Path, store: str) -> None:
    with pytest.raises(DataError, match=r"run.json: names no MLflow run"):
        log_later(job_folder(tmp_path, None), TrackingConfig(uri=store))
