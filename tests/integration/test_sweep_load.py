"""A sweep under load: 24 tiny jobs on 2 joblib workers against one SQLite store, every
run complete and no "database is locked" (bench/sweep_load.py times it against serial)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ..conftest import ROOT, TINY, new_store

pytestmark = pytest.mark.slow

JOBS, EPOCHS = 24, 3


def test_24_jobs_on_two_workers_all_log_every_epoch(tmp_path: Path) -> None:
    uri = new_store(tmp_path / "mlflow.db")
    result = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", "-m", "hydra/launcher=joblib",
         "hydra.launcher.n_jobs=2", *TINY, f"training.epochs={EPOCHS}",
         "training.early_stopping.enabled=false", "tracking.log_model=false",
         f"seed=range({JOBS})", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "database is locked" not in output
    assert f"{JOBS} jobs, 0 failed" in output
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    runs = client.search_runs([experiment], "tags.mlflow.parentRunId != ''", max_results=100)
    assert len(runs) == JOBS
    assert {r.data.params["seed"] for r in runs} == {str(s) for s in range(JOBS)}
    for run in runs:
        assert run.info.status == "FINISHED"
        steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, "loss"))
        assert steps == list(range(EPOCHS)), run.info.run_name
