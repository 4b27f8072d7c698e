"""Real DVC in a temp copy of the project: repro, no-op repro, partial rerun, dvc exp run -S."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from .conftest import TINY, assert_fix_reruns_the_run, tiny_config

pytestmark = pytest.mark.slow


def dvc(project: Path, *args: str, **extra_env: str) -> str:
    env = {
        **os.environ,
        **extra_env,
        # dvc.yaml runs `python -m ...`: the interpreter running these tests.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout + result.stderr


def set_params(project: Path, *overrides: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "lstm_doctor.config.params", *overrides],
        cwd=project,
        check=True,
        timeout=60,
    )


def test_repro_then_noop_then_only_training_reruns(project_copy: Path) -> None:
    set_params(project_copy, *TINY)
    out = dvc(project_copy, "repro")
    for stage in ("prepare", "scale", "window", "train", "evaluate"):
        assert f"Running stage '{stage}'" in out
    metrics = json.loads((project_copy / "reports" / "metrics.json").read_text())
    assert metrics["epochs"] == 2
    assert {"persistence", "seasonal_naive", "linear"} <= set(metrics["baselines"])
    assert (project_copy / "reports" / "plots" / "curves.png").exists()
    assert "diagnosis: " in out
    assert "epoch 2/2  loss " in out  # one line an epoch while it trains
    assert (project_copy / "reports" / "diagnosis.json").exists()

    assert "Data and pipelines are up to date" in dvc(project_copy, "repro")

    default_lr = str(tiny_config().optimizer.lr)
    set_params(project_copy, *TINY, "optimizer.lr=0.0005")
    out = dvc(project_copy, "repro", LSTM_DOCTOR_QUIET="1")
    assert "epoch 1/2" not in out
    assert "Running stage 'train'" in out and "Running stage 'evaluate'" in out
    for stage in ("prepare", "scale", "window"):
        assert f"Running stage '{stage}'" not in out

    client = MlflowClient(f"sqlite:///{project_copy / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("lstm-doctor").experiment_id])
    assert sorted(r.data.params["optimizer.lr"] for r in runs) == sorted([default_lr, "0.0005"])
    # Named after what sets them apart from conf/'s defaults, not MLflow's random names.
    assert sorted(r.info.run_name for r in runs)[0].startswith("dataset.max_rows=1200 ")
    assert all(r.info.status == "FINISHED" and "test_mae" in r.data.metrics for r in runs)
    for run in runs:
        assert_fix_reruns_the_run(f"sqlite:///{project_copy / 'mlflow.db'}", run.info.run_id)


def test_exp_run_composes_conf_with_hydra_overrides(project_copy: Path) -> None:
    overrides = [arg for o in [*TINY, "scaling=none"] for arg in ("-S", o)]
    dvc(project_copy, "exp", "run", "-n", "unscaled", *overrides)
    params = (project_copy / "params.yaml").read_text()
    assert "method: none" in params and "max_rows: 1200" in params
    shown = dvc(project_copy, "exp", "show", "--csv")
    assert "unscaled" in shown
    client = MlflowClient(f"sqlite:///{project_copy / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("lstm-doctor").experiment_id])
    assert run.data.tags["dvc_experiment"] == "unscaled"
    assert run.info.run_name == "unscaled"
    assert run.data.params["scaling.method"] == "none"
    # `fix` reruns the experiment's settings, not the default electricity config.
    base = assert_fix_reruns_the_run(f"sqlite:///{project_copy / 'mlflow.db'}", run.info.run_id)
    assert "scaling=none" in base and "dataset.max_rows=1200" in base
