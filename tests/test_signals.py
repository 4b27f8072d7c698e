"""Interrupted, nothing lost: a real signal sent to a real training process ends its MLflow
run KILLED, with its curves so far and which signal at which epoch, and leaves nothing
half-written for DVC to cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from .conftest import ROOT, TINY

pytestmark = pytest.mark.slow

LONG = [*TINY, "training.epochs=400", "training.early_stopping.enabled=false"]


def wait_for_epochs(uri: str, process: subprocess.Popen[str], epochs: int = 2) -> str:
    """The id of the process's run once `epochs` epochs of its curve are in the store."""
    client = MlflowClient(uri)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        experiment = client.get_experiment_by_name("lstm-doctor")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        if runs and len(client.get_metric_history(runs[0].info.run_id, "loss")) >= epochs:
            return runs[0].info.run_id
        time.sleep(0.5)
    raise AssertionError("no epochs reached the store in time")


def assert_killed(uri: str, run_id: str, signal_name: str) -> None:
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.info.end_time is not None
    assert run.data.tags["killed_by"] == signal_name
    curve = client.get_metric_history(run_id, "loss")
    assert len(curve) >= 2
    assert run.data.tags["killed_after_epochs"] == str(max(m.step for m in curve) + 1)


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_apps_run_killed_with_its_curves(tmp_path: Path, sent: int) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_doctor.commands.app", *LONG,
         f"hydra.run.dir={tmp_path / 'job'}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    run_id = wait_for_epochs(uri, process)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=120)
    name = signal.Signals(sent).name
    assert process.returncode == 128 + sent, stderr[-2000:]
    assert "Traceback" not in stderr
    assert f"lstm-doctor: interrupted by {name}; the MLflow run is marked KILLED" in stderr
    assert_killed(uri, run_id, name)
    job = tmp_path / "job"
    assert not (job / "models").exists() and not list(job.glob(".models.*"))


def test_a_signal_to_dvcs_train_stage_leaves_nothing_to_cache(project_copy: Path) -> None:
    uri = f"sqlite:///{project_copy / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    subprocess.run([sys.executable, "-m", "lstm_doctor.config.params", *LONG],
                   cwd=project_copy, check=True, env=env, timeout=120)  # fmt: skip
    for stage in ("prepare", "scale", "window"):
        subprocess.run([sys.executable, "-m", f"lstm_doctor.stages.{stage}"],
                       cwd=project_copy, check=True, env=env, timeout=300)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_doctor.pipeline.dvc_train"],
        cwd=project_copy, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    run_id = wait_for_epochs(uri, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert_killed(uri, run_id, "SIGTERM")
    assert not (project_copy / "models").exists()
    assert not list(project_copy.glob(".models.*"))
