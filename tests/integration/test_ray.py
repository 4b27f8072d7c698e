"""Sweeps and `lstm-doctor fix` on a Ray cluster started beforehand (`ray start --head`):
every job a nested MLflow run under the sweep's parent, a diverging job FAILED, as with joblib.

The cluster is started from its own folder with neither the store nor the project in its
environment, as a cluster started from another shell would be: the jobs find both only
if the command carries them to the workers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.jobs.cluster import LocalCluster, local_cluster

from ..conftest import ROOT, TINY, new_store

pytestmark = pytest.mark.slow

# optimizer.lr=50 diverges on purpose (as in tests/integration/test_sweep.py).
JOBS = ["optimizer=sgd", "optimizer.lr=50,0.01,0.003,0.001"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A 2-CPU Ray head on 127.0.0.1, its files in a short temp folder (Ray's socket paths
    must fit 107 bytes), stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ray-"))
    try:
        with local_cluster(folder, cpus=2) as running:
            yield running
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def app(
    uri: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=400,
        env={**os.environ, **(env or {}), "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip


@pytest.fixture(scope="module")
def ray_sweep(
    cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("ray_sweep")
    uri = new_store(folder / "mlflow.db")
    result = app(
        uri, "-m", "hydra/launcher=ray", f"hydra.launcher.ray.init.address={cluster.address}",
        *TINY, *JOBS, f"hydra.sweep.dir={folder / 'ray_sweep'}", env=cluster.env,
    )  # fmt: skip
    return folder, uri, result


def test_every_job_runs_on_the_cluster_as_a_child_run(ray_sweep, cluster: LocalCluster) -> None:
    folder, uri, result = ray_sweep
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Connecting to existing Ray cluster at address: {cluster.address}" in result.stderr
    assert "(_run_job pid=" in result.stdout + result.stderr  # lines from the Ray workers
    assert "sweep ray_sweep: 4 jobs, 1 failed" in result.stdout
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (parent,) = client.search_runs([experiment], "tags.kind = 'sweep'")
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["sweep_jobs"] == 4 and parent.data.metrics["sweep_failed"] == 1
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(c.info.run_name for c in children) == sorted(
        f"optimizer.lr={lr}" for lr in ("50", "0.01", "0.003", "0.001")
    )
    for child in children:
        losses = client.get_metric_history(child.info.run_id, "loss")
        # Each job wrote into its own folder of the sweep, where the command was typed.
        assert (folder / "ray_sweep" / child.data.tags["sweep_job"] / ".hydra").is_dir()
        if child.data.params["optimizer.lr"] == "50.0":
            assert child.info.status == "FAILED"
            assert "training diverged" in child.data.tags["error"]
            assert len(losses) >= 1  # the curve up to the blow-up is kept
        else:
            assert child.info.status == "FINISHED"
            assert [m.step for m in losses] == [0, 1]
            assert len(client.get_metric_history(child.info.run_id, "val_loss")) == 2
            assert "test_mae" in child.data.metrics


def test_fix_proves_prescriptions_as_ray_tasks(ray_sweep, cluster: LocalCluster) -> None:
    folder, uri, _ = ray_sweep
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (diverged,) = client.search_runs([experiment], "attributes.status = 'FAILED'")
    fixed = app(uri, "fix", diverged.info.run_id, "--top", "1", "--seeds", "1", "--backend",
                "ray", "--address", cluster.address, "--out", str(folder / "fix"),
                env=cluster.env)  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert "(run_variant pid=" in fixed.stdout + fixed.stderr  # ran in Ray workers
    # The diagnosed configuration diverges again; the prescribed step finishes.
    assert "2 runs (1 finished, 1 failed, 0 killed)" in fixed.stdout
    (parent,) = client.search_runs(
        [experiment], f"tags.fix_of = '{diverged.info.run_id}' and tags.kind = 'sweep'"
    )
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    status = {c.info.run_name: c.info.status for c in children}
    assert status.pop("original seed=0") == "FAILED"
    assert list(status.values()) == ["FINISHED"]
    assert (folder / "fix" / "report.html").is_file()


def test_a_cluster_that_does_not_answer_stops_the_sweep_in_one_line(tmp_path: Path) -> None:
    from lstm_doctor.tracking.server_process import free_port

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = app(uri, "-m", "hydra/launcher=ray",
                 f"hydra.launcher.ray.init.address=127.0.0.1:{free_port()}", "seed=0,1",
                 f"hydra.sweep.dir={tmp_path / 'sweep'}")  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("lstm-doctor: error:")]
    assert "no Ray cluster answers at 127.0.0.1:" in line and "ray start --head" in line
    assert not (tmp_path / "sweep" / "sweep.json").exists()  # no parent run was opened
