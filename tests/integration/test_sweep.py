"""Hydra multirun sweeps in parallel (joblib), nested MLflow runs, failures, the comparison."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from ..conftest import ROOT, assert_fix_reruns_the_run

pytestmark = pytest.mark.slow


def test_every_job_is_a_child_run_with_all_its_epochs(sweep) -> None:
    _, uri, result = sweep
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sweep lr_sweep: 6 jobs, 2 failed" in result.stdout
    # Each job, as it ends, says how far the sweep has got (the last says 6/6).
    assert "sweep lr_sweep: 6/6 jobs done, 2 failed" in result.stdout
    assert "compare them: lstm-doctor compare lr_sweep" in result.stdout
    assert "database is locked" not in result.stderr
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (parent,) = client.search_runs([experiment], "tags.kind = 'sweep'")
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["sweep_jobs"] == 6
    assert "optimizer.lr=50,0.01,0.001" in parent.data.tags["sweep_overrides"]
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    names = sorted(c.info.run_name for c in children)
    assert names == sorted(
        f"optimizer.lr={lr} seed={s}" for lr in ("50", "0.01", "0.001") for s in (0, 1)
    )
    for child in children:
        losses = client.get_metric_history(child.info.run_id, "loss")
        if child.data.params["optimizer.lr"] == "50.0":
            assert child.info.status == "FAILED"
            assert "training diverged" in child.data.tags["error"]
            assert len(losses) >= 1  # the partial curve up to the blow-up is kept
        else:
            assert child.info.status == "FINISHED"
            assert "optimizer=sgd" in assert_fix_reruns_the_run(uri, child.info.run_id)
            assert [m.step for m in losses] == [0, 1, 2]
            assert len(client.get_metric_history(child.info.run_id, "val_loss")) == 3
            assert "test_mae" in child.data.metrics


def test_failed_jobs_are_reported_and_the_sweep_goes_on(sweep) -> None:
    _, _, result = sweep
    failures = [line for line in result.stderr.splitlines() if "failed: training diverged" in line]
    assert len(failures) == 2
    assert result.stdout.count("test MAE") == 4


def test_compare_writes_a_self_contained_report(sweep) -> None:
    folder, uri, _ = sweep
    out = folder / "report"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lstm_doctor.commands.app",
            "compare",
            "lr_sweep",
            "--out",
            str(out),
            "--baseline",
            "optimizer.lr=0.001",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )
    assert result.returncode == 0, result.stderr
    page = (out / "report.html").read_text()
    assert "optimizer.lr=0.01" in page and "Welch" in page
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page  # nothing fetched: works offline
    assert "failed in every seed" in page  # lr=50
    assert (out / "curves.png").stat().st_size > 10_000
    lines = result.stdout.splitlines()
    assert lines[0].startswith("optimizer.lr=0.001") and "baseline" in lines[0]
