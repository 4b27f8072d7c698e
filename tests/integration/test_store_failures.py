"""The tracking store failing: refused in one line before any work when it cannot be reached
or written; lost mid-training, the training finishes, its outputs are written, and
`lstm-doctor sync` logs the run once the store is back. Real stores, real processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.tracking.server_process import free_port

from ..conftest import ROOT, TINY, cli, mlflow_server

pytestmark = pytest.mark.slow


def app(uri: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return cli(*args, store=uri, timeout=timeout)


def assert_refused(result: subprocess.CompletedProcess[str], says: str, job: Path) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("lstm-doctor:")]
    assert len(lines) == 1 and says in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    # Refused before any stage ran: nothing written in the job's folder but Hydra's own.
    assert not [p.name for p in job.iterdir() if not p.name.startswith((".hydra", "app.log"))]


def test_a_server_that_does_not_answer_is_refused_before_any_work(tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    result = app(uri, *TINY, f"hydra.run.dir={tmp_path / 'job'}")
    assert_refused(result, f"tracking server {uri} cannot be reached", tmp_path / "job")
    # MLflow's own retries would take minutes; the check answers at once.
    assert time.monotonic() - start < 120


def test_a_locked_sqlite_store_is_refused_in_one_line(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()
    holder = sqlite3.connect(tmp_path / "mlflow.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, and never letting go
    try:
        result = app(uri, *TINY, f"hydra.run.dir={tmp_path / 'job'}")
    finally:
        holder.close()
    assert_refused(result, "database is locked", tmp_path / "job")


def test_a_read_only_sqlite_store_is_refused_in_one_line(tmp_path: Path) -> None:
    MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_experiments()
    # SQLite's own read-only mode (chmod would not stop a root user).
    uri = f"sqlite:///file:{tmp_path / 'mlflow.db'}?mode=ro&uri=true"
    result = app(uri, *TINY, f"hydra.run.dir={tmp_path / 'job'}")
    assert_refused(result, "tracking store sqlite:///file:", tmp_path / "job")
    assert "readonly" in result.stderr or "read-only" in result.stderr


def test_a_server_lost_mid_training_keeps_the_outputs_and_sync_logs_them_later(
    tmp_path: Path,
) -> None:
    port = free_port()
    job = tmp_path / "job"
    epochs = 40
    with mlflow_server(tmp_path / "server", port) as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "lstm_doctor.commands.app", *TINY,
             f"training.epochs={epochs}", "training.early_stopping.enabled=false",
             f"hydra.run.dir={job}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "MLFLOW_TRACKING_URI": url},
        )  # fmt: skip
        client = MlflowClient(url)
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "no epochs reached the server"
            experiment = client.get_experiment_by_name("lstm-doctor")
            runs = client.search_runs([experiment.experiment_id]) if experiment else []
            if runs and len(client.get_metric_history(runs[0].info.run_id, "loss")) >= 2:
                run_id = runs[0].info.run_id
                break
            time.sleep(0.3)
    # The server is gone, mid-training.
    start = time.monotonic()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    assert time.monotonic() - start < 180  # never a hang on MLflow's retries
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "stopped taking this run's logs" in stderr
    assert f"once it is back, log the run with: lstm-doctor sync {job.resolve()}" in stderr
    history = (job / "models" / "history.csv").read_text().splitlines()
    assert len(history) == epochs + 1
    assert (job / "reports" / "metrics.json").exists() and (job / "models" / "model.keras").exists()

    with mlflow_server(tmp_path / "server", port) as url:
        client = MlflowClient(url)
        assert client.get_run(run_id).info.status == "RUNNING"  # what the server last heard
        synced = app(url, "sync", str(job))
        assert synced.returncode == 0, synced.stderr[-3000:]
        assert f"run {run_id}: {epochs} epochs" in synced.stdout
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED" and run.data.tags["logged_later"] == "true"
        steps = [m.step for m in client.get_metric_history(run_id, "loss")]
        assert sorted(steps) == list(range(epochs))  # every epoch, once
        assert "test_mae" in run.data.metrics and "diagnosis.verdict" in run.data.tags
        artifacts = {a.path for a in client.list_artifacts(run_id)}
        assert {"history.csv", "metrics.json", "model_file"} <= artifacts


def test_a_skipped_jobs_objective_is_the_best_val_loss_its_run_logged(tmp_path: Path) -> None:
    """A resumed sweep returns a finished job's objective from its run: the least val loss
    it logged, as the pipeline returns it (no metric named best_val_loss is ever logged)."""
    from lstm_doctor.config import TrackingConfig
    from lstm_doctor.tracking.store import best_val_loss

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    run = client.create_run(client.create_experiment("objective")).info.run_id
    for step, value in enumerate([0.9, 0.4, float("nan"), 0.5]):
        client.log_metric(run, "val_loss", value, step=step)
    empty = client.create_run(client.get_experiment_by_name("objective").experiment_id)
    cfg = TrackingConfig(uri=uri)
    assert best_val_loss(cfg, run) == 0.4
    assert best_val_loss(cfg, empty.info.run_id) != best_val_loss(cfg, empty.info.run_id)
