"""What scale costs: the same tiny sweep on Hydra's basic launcher (one job after another),
joblib (2 workers) and Ray (a local 2-CPU cluster), each against one bare job; and what
MLflow logging costs an epoch against a real `mlflow server` (HTTP) and a local SQLite file.

    python bench/scale.py [--jobs 8] [--epochs 3] [--logged-epochs 50]

The bare job is one job's pipeline (all five stages, its MLflow run) called in this
process, warmed up first, so it carries neither process start, nor imports, nor a launcher.
Per job, each sweep costs wall time x parallel slots / jobs; its overhead is that minus the
bare job. Every sweep gets a fresh SQLite store; a job counts when its run FINISHED with
every epoch of its curve. The Ray cluster is started before its sweep (`ray start --head`,
timed apart), as a cluster would be. Logging: one `log_batch` of the metrics a tiny run
logs an epoch (what the pipeline's background sender sends), timed per call.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from sweep_load import TINY  # the same tiny job the sweep-load bench runs

from lstm_doctor.jobs.cluster import local_cluster
from lstm_doctor.tracking.server_process import free_port, mlflow_server

ROOT = Path(__file__).resolve().parents[1]


def bare_job(folder: Path, epochs: int) -> tuple[float, float, dict[str, int]]:
    """One job's pipeline in this process: seconds cold (imports, tracing) and warm, and the
    metrics its run logged an epoch (key -> epochs logged)."""
    folder.mkdir(parents=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    from lstm_doctor.stages import keras_env as backend  # noqa: F401  (before TensorFlow loads)

    # isort: split

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.in_process import run_pipeline

    cfg = validate(compose_config([*TINY, f"training.epochs={epochs}"], conf_dir=ROOT / "conf"))
    times = []
    for attempt in range(3):
        start = time.perf_counter()
        result = run_pipeline(cfg, StagePaths.job(folder / f"job{attempt}"), progress=False)
        times.append(time.perf_counter() - start)
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    run = client.get_run(result["run_id"])
    per_epoch = {
        key: len(client.get_metric_history(run.info.run_id, key)) for key in run.data.metrics
    }
    del os.environ["MLFLOW_TRACKING_URI"]
    return (
        times[0],
        statistics.median(times[1:]),
        {k: n for k, n in per_epoch.items() if n == epochs},
    )


def sweep(folder: Path, launcher: list[str], jobs: int, epochs: int, env: dict[str, str]) -> dict:
    """The sweep as a user runs it, into its own store: wall time and jobs complete."""
    folder.mkdir(parents=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", "-m", *launcher, *TINY,
         f"training.epochs={epochs}", f"seed=range({jobs})", f"hydra.sweep.dir={folder / 'sweep'}"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, **env, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    wall = time.monotonic() - start
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor")
    runs = client.search_runs(
        [experiment.experiment_id], "tags.mlflow.parentRunId != ''", max_results=1000
    ) if experiment else []  # fmt: skip
    complete = sum(
        run.info.status == "FINISHED"
        and len(client.get_metric_history(run.info.run_id, "loss")) == epochs
        for run in runs
    )
    if result.returncode:
        print(result.stderr[-2000:], file=sys.stderr)
    return {"wall": wall, "complete": complete, "exit": result.returncode}


def logging_latency(uri: str, keys: list[str], epochs: int) -> dict[str, list[float]]:
    """Milliseconds per epoch's log_batch, and per single log_metric call, against the store
    at `uri` (after one warm-up call each)."""
    client = MlflowClient(uri)
    experiment = client.create_experiment(f"latency-{time.time_ns()}")
    run_id = client.create_run(experiment).info.run_id
    times: dict[str, list[float]] = {"log_batch": [], "log_metric": []}
    for epoch in range(epochs + 1):
        batch = [Metric(key, 0.5 / (epoch + 1), int(time.time() * 1000), epoch) for key in keys]
        start = time.perf_counter()
        client.log_batch(run_id, metrics=batch)
        times["log_batch"].append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        client.log_metric(run_id, "one_metric", 0.5 / (epoch + 1), step=epoch)
        times["log_metric"].append(1000 * (time.perf_counter() - start))
    client.set_terminated(run_id)
    return {call: values[1:] for call, values in times.items()}


@contextmanager
def _removed(folder: Path) -> Iterator[None]:
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--logged-epochs", type=int, default=50)
    args = parser.parse_args()
    os.chdir(ROOT)
    work = Path(tempfile.mkdtemp(prefix="scale-"))
    with _removed(work):
        measure(args, work)


def measure(args: argparse.Namespace, work: Path) -> None:
    """Time the bare job, the three sweeps and the two stores; print the tables."""
    cold, bare, per_epoch = bare_job(work / "bare", args.epochs)
    print(
        f"bare job in process: {cold:.1f} s cold (imports, tracing), {bare:.1f} s warm", flush=True
    )

    rows: dict[str, dict] = {}
    sides = {
        "serial (basic launcher)": ([], 1),
        "joblib, 2 workers": (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], 2),
    }
    for name, (launcher, slots) in sides.items():
        rows[name] = sweep(work / name.split()[0].strip(","), launcher, args.jobs, args.epochs, {})
        rows[name]["slots"] = slots
        print(f"{name}: {rows[name]['wall']:.1f} s", flush=True)
    # A short folder: Ray's socket paths inside it must fit 107 bytes.
    ray_folder = Path(tempfile.mkdtemp(prefix="ray-"))
    start = time.monotonic()
    with _removed(ray_folder), local_cluster(ray_folder, cpus=2) as cluster:
        started = time.monotonic() - start
        print(f"ray cluster started in {started:.1f} s at {cluster.address}", flush=True)
        launcher = ["hydra/launcher=ray", f"hydra.launcher.ray.init.address={cluster.address}"]
        name = "ray, local cluster 2 CPUs"
        rows[name] = sweep(work / "ray", launcher, args.jobs, args.epochs, cluster.env)
        rows[name]["slots"] = 2
        print(f"{name}: {rows[name]['wall']:.1f} s", flush=True)

    print(f"\n{args.jobs} tiny jobs ({args.epochs} epochs each) on {os.cpu_count()} CPU cores; "
          f"bare job {bare:.1f} s (warm, in process)")  # fmt: skip
    print(
        "| launcher | wall s | jobs complete | s per job (wall x slots / jobs) | overhead s per job | x bare |"
    )
    print("|---|---|---|---|---|---|")
    print(f"| bare job, in process | {bare:.1f} | 1/1 | {bare:.1f} | 0 | 1.00 |")
    for name, r in rows.items():
        per_job = r["wall"] * r["slots"] / args.jobs
        print(f"| {name} | {r['wall']:.1f} | {r['complete']}/{args.jobs} | {per_job:.1f} | "
              f"{per_job - bare:+.1f} | {per_job / bare:.2f} |")  # fmt: skip
    print(f"(the Ray cluster's start, apart: {started:.1f} s)")

    keys = sorted(per_epoch)
    # MLflow prints a link to every run it ends on a server: noise in a table.
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    latencies = {"SQLite file (sqlite:///)": logging_latency(
        f"sqlite:///{work / 'latency.db'}", keys, args.logged_epochs)}  # fmt: skip
    with mlflow_server(f"sqlite:///{work / 'server.db'}", free_port(), timeout=180,
                       artifacts=work / "artifacts") as url:  # fmt: skip
        latencies["mlflow server (HTTP on 127.0.0.1, SQLite behind it)"] = logging_latency(
            url, keys, args.logged_epochs)  # fmt: skip
    base = statistics.median(next(iter(latencies.values()))["log_batch"])
    print(f"\nMLflow logging per epoch: one log_batch of the {len(keys)} metrics a tiny run "
          f"logs an epoch, and one log_metric, {args.logged_epochs} epochs")  # fmt: skip
    print("| store | log_batch median ms | log_batch p90 ms | x SQLite | log_metric median ms |")
    print("|---|---|---|---|---|")
    for name, times in latencies.items():
        batch = times["log_batch"]
        p90 = statistics.quantiles(batch, n=10)[-1]
        print(f"| {name} | {statistics.median(batch):.1f} | {p90:.1f} | "
              f"{statistics.median(batch) / base:.2f} | "
              f"{statistics.median(times['log_metric']):.1f} |")  # fmt: skip
    ok = all(r["complete"] == args.jobs and not r["exit"] for r in rows.values())
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
