"""A team's tracking server: `lstm-doctor server` (a SQLite store, proxied artifacts) and
every way in against it over HTTP alone. A pipeline run names it by `tracking.uri`, a
parallel sweep by MLFLOW_TRACKING_URI, `compare` reads it back; runs, curves, artifacts and
the model come back through the server's URL into fresh folders. Then the same server on a
PostgreSQL store (Debian's postgresql, started here on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.tracking.server_process import free_port, serving

from ..conftest import ROOT, TINY, tiny_config

pytestmark = pytest.mark.slow

APP = [sys.executable, "-m", "lstm_doctor.commands.app"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`lstm-doctor server` on a free port: its URL and the folder holding its disk."""
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    # Options it does not know go to `mlflow server` itself (fewer workers start faster).
    argv = [*APP, "server", "--store", f"sqlite:///{folder / 'mlflow.db'}", "--artifacts",
            str(folder / "artifacts"), "--port", str(port), "--workers", "2"]  # fmt: skip
    with serving(argv, f"http://127.0.0.1:{port}", timeout=180) as url:
        yield url, folder


@pytest.fixture(scope="module")
def logged(
    server: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """One pipeline run (tracking.uri set to the server) and a 4-job sweep on 2 joblib
    workers (MLFLOW_TRACKING_URI set to it), both logged to the server alone."""
    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.pipeline.in_process import run_pipeline

    url, _ = server
    folder = tmp_path_factory.mktemp("clients")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_RUN_ID", raising=False)
        mp.chdir(ROOT)
        cfg = tiny_config(f"tracking.uri={url}", "tracking.register_as=team-model")
        result = run_pipeline(cfg, StagePaths.job(folder / "job"))
    sweep = subprocess.run(
        [*APP, "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY,
         "optimizer.lr=0.01,0.001", "seed=0,1", f"hydra.sweep.dir={folder / 'team_sweep'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MLFLOW_TRACKING_URI": url},
    )  # fmt: skip
    return result, sweep


@pytest.fixture
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1 (trust auth, no fsync): its store URI."""
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdb:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    bindir = initdb[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="lstm-doctor-pg-"))  # its own user must reach it
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as its own user
        shutil.chown(folder, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(folder / "data")]
    try:
        subprocess.run([*as_owner, str(bindir / "initdb"), "-D", str(folder / "data"),
                        "-U", "postgres", "--auth=trust", "--no-sync"],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        subprocess.run([*ctl, "-l", str(folder / "log"), "-w", "start", "-o",
                        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_bad_store_or_a_taken_port_is_refused_in_one_line(tmp_path: Path) -> None:
    refused = subprocess.run([*APP, "server", "--store", str(tmp_path / "mlflow.db")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("lstm-doctor: error: --store: ")
    assert "is not a database URL" in refused.stderr and len(refused.stderr.splitlines()) == 1
    no_driver = subprocess.run(
        [*APP, "server", "--store", "mysql://team:s3cret@127.0.0.1/mlflow"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert no_driver.returncode == 2, no_driver.stderr
    assert "needs the MySQLdb driver, which is not installed" in no_driver.stderr
    assert "team:***@" in no_driver.stderr and "s3cret" not in no_driver.stderr
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        taken = subprocess.run(
            [*APP, "server", "--store", f"sqlite:///{tmp_path / 'mlflow.db'}", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert taken.returncode == 2, taken.stderr
    assert f"--port {port}: 127.0.0.1:{port} is in use" in taken.stderr
    assert len(taken.stderr.splitlines()) == 1
    assert not (tmp_path / "mlflow.db").exists()  # refused before anything was made


def test_the_run_its_curves_artifacts_and_model_come_back_over_http(
    server: tuple[str, Path], logged: tuple[dict, subprocess.CompletedProcess[str]]
) -> None:
    url, folder = server
    result, _ = logged
    client = MlflowClient(url)
    run = client.get_run(result["run_id"])
    assert run.info.status == "FINISHED"
    # Proxied: clients hand artifacts to the server, which keeps them in its own folder.
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    assert any((folder / "artifacts").rglob("metrics.json"))
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [0, 1]
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2
    assert run.data.metrics["test_mae"] == pytest.approx(result["model"]["mae"], rel=1e-6)
    with tempfile.TemporaryDirectory() as fresh:
        local = client.download_artifacts(run.info.run_id, "evaluation.json", fresh)
        assert json.loads(Path(local).read_text())["model"]["mae"] == pytest.approx(
            result["model"]["mae"], rel=1e-6
        )
    # set_tracking_uri also sets MLFLOW_TRACKING_URI: undone here, so no later test or
    # subprocess finds this server's URL in its environment.
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as fresh:
        mp.setenv("MLFLOW_TRACKING_URI", url)
        mlflow.set_tracking_uri(url)
        model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model", dst_path=fresh)
        predictions = np.asarray(model.predict(np.zeros((3, 24, 5), dtype=np.float32)))
    assert predictions.shape == (3, 4) and np.isfinite(predictions).all()
    version = client.get_model_version("team-model", result["registered_version"])
    assert version.run_id == run.info.run_id


def test_a_parallel_sweep_nests_its_jobs_under_one_parent_on_the_server(
    server: tuple[str, Path], logged: tuple[dict, subprocess.CompletedProcess[str]]
) -> None:
    url, _ = server
    _, sweep = logged
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    assert "sweep team_sweep: 4 jobs, 0 failed" in sweep.stdout
    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (parent,) = client.search_runs([experiment], "tags.kind = 'sweep'")
    assert parent.info.status == "FINISHED" and parent.data.metrics["sweep_jobs"] == 4
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(c.info.run_name for c in children) == sorted(
        f"optimizer.lr={lr} seed={s}" for lr in ("0.01", "0.001") for s in (0, 1)
    )
    for child in children:
        assert child.info.status == "FINISHED"
        assert [m.step for m in client.get_metric_history(child.info.run_id, "loss")] == [0, 1]
        assert {"history.csv", "metrics.json"} <= {
            a.path for a in client.list_artifacts(child.info.run_id)
        }


def test_compare_reads_the_sweep_back_from_the_server(
    server: tuple[str, Path], logged: tuple[dict, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    url, _ = server
    compared = subprocess.run(
        [*APP, "compare", "team_sweep", "--out", str(tmp_path), "--baseline", "optimizer.lr=0.001"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MLFLOW_TRACKING_URI": url},
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert "optimizer.lr=0.01" in (tmp_path / "report.html").read_text()


def test_a_postgresql_store_keeps_the_pipeline_run(postgres: str, tmp_path: Path) -> None:
    import psycopg

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.pipeline.in_process import run_pipeline

    port = free_port()
    argv = [*APP, "server", "--store", postgres, "--artifacts", str(tmp_path / "artifacts"),
            "--port", str(port), "--workers", "1"]  # fmt: skip
    with serving(argv, f"http://127.0.0.1:{port}", timeout=180) as url:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("MLFLOW_TRACKING_URI", raising=False)
            mp.delenv("MLFLOW_RUN_ID", raising=False)
            mp.chdir(ROOT)
            result = run_pipeline(tiny_config(f"tracking.uri={url}"), StagePaths.job(tmp_path))
        client = MlflowClient(url)
        assert [m.step for m in client.get_metric_history(result["run_id"], "loss")] == [0, 1]
        assert {"history.csv", "metrics.json"} <= {
            a.path for a in client.list_artifacts(result["run_id"])
        }
        with tempfile.TemporaryDirectory() as fresh:
            assert Path(client.download_artifacts(result["run_id"], "history.csv", fresh)).exists()
    # The run is a row in PostgreSQL itself, not in a file beside the server.
    with psycopg.connect(postgres.replace("+psycopg", "")) as connection:
        (status,) = connection.execute(
            "SELECT status FROM runs WHERE run_uuid = %s", (result["run_id"],)
        ).fetchone()
    assert status == "FINISHED"
