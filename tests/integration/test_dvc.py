"""Real DVC in a temp copy of the project: repro, no-op repro, partial rerun, dvc exp run -S,
and a teammate's clone pulling data and model from a DVC remote with nothing to rerun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ..conftest import TINY, assert_fix_reruns_the_run, mlflow_server, new_store, tiny_config

pytestmark = pytest.mark.slow


def dvc(project: Path, *args: str, **extra_env: str) -> str:
    if not (project / "mlflow.db").exists():
        new_store(project / "mlflow.db")
    env = {
        **os.environ,
        # dvc.yaml runs `python -m ...`: the interpreter running these tests.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        **extra_env,
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
    metrics = json.loads((project_copy / "reports" / "evaluation.json").read_text())
    assert metrics["epochs"] == 2
    # DVC's own view: a few numbers, one short line a run
    headline = json.loads((project_copy / "reports" / "metrics.json").read_text())
    assert set(headline) == {"test_mae", "test_mase", "skill_vs_best", "skill_vs_linear",
                             "best_val_loss", "epochs"}  # fmt: skip
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


def git(project: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", *args], cwd=project, check=True, env=env, timeout=120)


def test_a_clone_pulls_data_and_model_from_a_remote_and_nothing_reruns(
    project_copy: Path, tmp_path: Path
) -> None:
    set_params(project_copy, *TINY)
    # A team's setup: runs go to its tracking server, outputs to its DVC remote.
    with mlflow_server(tmp_path / "server") as url:
        dvc(project_copy, "repro", LSTM_DOCTOR_QUIET="1", MLFLOW_TRACKING_URI=url)
        run_id = json.loads((project_copy / "models" / "run.json").read_text())["run_id"]
        run = MlflowClient(url).get_run(run_id)
        assert run.info.status == "FINISHED" and "test_mae" in run.data.metrics
    # A directory every teammate reaches (a shared drive); s3://, ssh:// work the same way.
    dvc(project_copy, "remote", "add", "-d", "team", str(tmp_path / "dvc-remote"))
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-qm", "results")
    assert "pushed" in dvc(project_copy, "push")

    clone = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(project_copy), str(clone))
    assert not (clone / "models").exists()  # git holds the pipeline, not its outputs
    dvc(clone, "pull")
    produced = [
        "data/prepared/table.parquet", "data/scaled/series.npz", "data/windows/windows.npz",
        "models/model.keras", "models/history.csv", "reports/diagnosis.json",
        "reports/plots/curves.png", "reports/metrics.json",
    ]  # fmt: skip
    for name in produced:
        assert (clone / name).read_bytes() == (project_copy / name).read_bytes(), name
    assert "Data and pipelines are up to date" in dvc(clone, "status")
    rerun = dvc(clone, "repro")
    assert "Running stage" not in rerun and "Data and pipelines are up to date" in rerun
    # The pulled model names its run on the team's server.
    assert json.loads((clone / "models" / "run.json").read_text())["run_id"] == run_id
