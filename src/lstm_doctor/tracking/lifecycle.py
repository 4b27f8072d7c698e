"""The pipeline run's lifecycle: open (or adopt, under `mlflow run`), resume, log into and
end it. Only the pipeline package calls these: it owns the run for every entry point."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from lstm_doctor.base.workspace import DIAGNOSIS_HTML, DIAGNOSIS_JSON, DIAGNOSIS_MD
from lstm_doctor.config import Config, TrackingConfig, flatten
from lstm_doctor.tracking import delivery
from lstm_doctor.tracking.datasets import log_datasets
from lstm_doctor.tracking.delivery import (
    flush,
    in_background,
    log_metrics_async,
    queue_metrics,
    store_lost,
    while_store_takes,
)
from lstm_doctor.tracking.store import CONFIG_ARTIFACT, use_store

# The pipeline reaches them from here.
__all__ = [
    "flush",
    "in_background",
    "log_datasets",
    "log_metrics_async",
    "queue_metrics",
    "store_lost",
]


def start_run(
    cfg: Config,
    tags: dict[str, str],
    run_name: str | None = None,
    parent_run_id: str | None = None,
) -> str:
    """Open the pipeline's run, log every param and tag, and return its id.

    Under `mlflow run`, MLFLOW_RUN_ID names a run already made for us: we log into it.
    A sweep's jobs name their parent run, so the MLflow UI nests them under it.
    """
    from lstm_doctor.base.errors import DoctorError, first_line

    experiment_id = use_store(cfg.tracking)  # refuses a store it cannot reach or write
    delivery.reset()
    try:
        run_id = _open_run(cfg, tags, experiment_id, run_name, parent_run_id)
    except Exception as exc:  # the store took the look-up but not the run: say so, once
        if mlflow.active_run() is not None:
            with suppress(Exception):
                mlflow.end_run("FAILED")
        first = first_line(exc)
        raise DoctorError(
            f"tracking store {mlflow.get_tracking_uri()} cannot be written ({first[:200]}); "
            "check it is up and writable, or point tracking.uri / MLFLOW_TRACKING_URI elsewhere"
        ) from None
    return run_id


def _open_run(
    cfg: Config,
    tags: dict[str, str],
    experiment_id: str,
    run_name: str | None,
    parent_run_id: str | None,
) -> str:
    adopted = os.environ.get("MLFLOW_RUN_ID")
    if adopted:
        _adopted.add(adopted)
    if parent_run_id:
        tags = {**tags, "mlflow.parentRunId": parent_run_id}
    run = mlflow.start_run(
        run_id=adopted or None,
        experiment_id=None if adopted else experiment_id,
        # A DVC experiment's run takes the experiment's name, as `dvc exp show` lists it.
        run_name=None
        if adopted
        else (cfg.tracking.run_name or os.environ.get("DVC_EXP_NAME") or run_name),
        tags=tags,
    )
    if adopted and run.info.experiment_id != experiment_id:
        _say_where_mlflow_run_logged(cfg, run.info.experiment_id)
    params = {k: ("" if v is None else v) for k, v in flatten(cfg).items()}
    mlflow.log_params(params)
    # The whole configuration, typed: what `fix` reruns, whichever way the run was made.
    mlflow.log_dict(OmegaConf.to_container(OmegaConf.structured(cfg)), CONFIG_ARTIFACT)
    return run.info.run_id


def _say_where_mlflow_run_logged(cfg: Config, experiment_id: str) -> None:
    """`mlflow run` made the run in its own experiment (MLflow's "Default" unless told):
    a run cannot move, so say where it is and how to put the next one beside the others."""
    experiment = mlflow.get_experiment(experiment_id)
    print(
        f"note: mlflow run logged this run into experiment '{experiment.name}', not "
        f"tracking.experiment '{cfg.tracking.experiment}' where lstm-doctor's runs are; "
        f"add --experiment-name {cfg.tracking.experiment} to put it beside them",
        file=sys.stderr,
    )


def active_run_id() -> str | None:
    """The run this process has open, if any (the Hydra app opens one per job)."""
    run = mlflow.active_run()
    return run.info.run_id if run else None


def resume(cfg: TrackingConfig, run_id: str) -> None:
    """Reopen `run_id` to log into it (as evaluate does after a separate `dvc repro` train
    stage); a no-op when it is the run already open."""
    if active_run_id() == run_id:
        return
    use_store(cfg)
    mlflow.start_run(run_id=run_id)


@while_store_takes
def end_run(status: str = "FINISHED") -> None:
    """Close the active run with a status (FINISHED, FAILED, KILLED), its curves still
    queued sent first."""
    flush()
    if mlflow.active_run() is not None:
        mlflow.end_run(status=status)


# Runs made for us by `mlflow run` (MLflow reads and clears MLFLOW_RUN_ID as we adopt one).
_adopted: set[str] = set()

# Run by a detached process: wait for `mlflow run` to exit, then restore KILLED.
_RESTORE_KILLED = """
import os, sys, time
from mlflow.tracking import MlflowClient
parent, uri, run_id = int(sys.argv[1]), sys.argv[2], sys.argv[3]
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        os.kill(parent, 0)
    except OSError:
        break
    time.sleep(0.2)
client = MlflowClient(uri)
if client.get_run(run_id).info.status != "KILLED":
    client.set_terminated(run_id, "KILLED")
"""


def keep_killed_under_mlflow_run(run_id: str) -> None:
    """A run made by `mlflow run` and killed by a signal must stay KILLED. After Ctrl-C,
    `mlflow run` marks its run FAILED once we exit, whatever we set (MLflow 3 compares the
    stored status, a string, with integer constants, so it never sees the run as ended).
    A detached process waits for it to exit and sets KILLED back."""
    if run_id not in _adopted or os.getppid() == 1:  # no `mlflow run` left to overwrite it
        return
    import subprocess

    subprocess.Popen(
        [sys.executable, "-c", _RESTORE_KILLED, str(os.getppid()), mlflow.get_tracking_uri(),
         run_id],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@while_store_takes
def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log finite numeric metrics to the active run (NaN is kept: MLflow shows it)."""
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)


@while_store_takes
def log_params(params: dict[str, Any]) -> None:
    """Params decided during the run (the sizes resolved from the data), beside the config's."""
    mlflow.log_params(params)


@while_store_takes
def log_diagnosis(result: dict[str, Any], reports: Path, summary: str = "") -> None:
    """The diagnosis as run tags (filterable in the UI), its summary as the run's
    description (the UI shows it on the run page) and its files as artifacts."""
    mlflow.set_tags(diagnosis_tags(result, summary))
    for name in (DIAGNOSIS_JSON, DIAGNOSIS_MD, DIAGNOSIS_HTML):
        if (reports / name).exists():
            mlflow.log_artifact(str(reports / name))


def diagnosis_tags(result: dict[str, Any], summary: str = "") -> dict[str, str]:
    """The verdict, the primary causes, the codes and each finding's severity as run tags."""
    tags = {
        "diagnosis.verdict": result["verdict"],
        "diagnosis.codes": ",".join(result["codes"]) or "none",
        "diagnosis.primary": ",".join(result.get("primary") or []) or "none",
    }
    if summary:
        tags["mlflow.note.content"] = summary
    return tags | {f"diagnosis.{f['code']}": f["severity"] for f in result["findings"]}


@while_store_takes
def log_artifact(path: Path, folder: str | None = None) -> None:
    """Attach a file or folder to the active run."""
    if path.is_dir():
        mlflow.log_artifacts(str(path), artifact_path=folder)
    else:
        mlflow.log_artifact(str(path), artifact_path=folder)


@while_store_takes
def set_tags(tags: dict[str, str]) -> None:
    """Tag the active run."""
    mlflow.set_tags(tags)


@while_store_takes
def log_series(series: dict[str, list[float]], first_step: int = 1) -> None:
    """Curves over a step other than the epoch (MAE by lead time), in one batch per 1000."""
    import time

    run = mlflow.active_run()
    if run is None or not series:
        return
    now = int(time.time() * 1000)
    points = [
        Metric(key, float(value), now, step)
        for key, values in series.items()
        for step, value in enumerate(values, start=first_step)
    ]
    client = MlflowClient()
    for lo in range(0, len(points), 1000):  # MLflow's limit of metrics per batch
        client.log_batch(run.info.run_id, metrics=points[lo : lo + 1000])


@while_store_takes
def log_points(series: dict[str, dict[int, float]]) -> None:
    """Curves given as {key: {step: value}}, in batches of MLflow's 1000-metric limit."""
    run = mlflow.active_run()
    if run is None:
        return
    now = delivery.now_ms()
    points = [Metric(k, v, now, step) for k, steps in series.items() for step, v in steps.items()]
    client = MlflowClient()
    for lo in range(0, len(points), 1000):
        client.log_batch(run.info.run_id, metrics=points[lo : lo + 1000])


@while_store_takes
def logged_steps(run_id: str) -> dict[str, set[int]]:
    """The steps of every curve the store already has for the run."""
    client = MlflowClient()
    run = client.get_run(run_id)
    return {
        key: {m.step for m in client.get_metric_history(run_id, key)} for key in run.data.metrics
    }


def epochs_logged() -> int:
    """How many epochs of the open run's training curve reached the store (0 if none)."""
    run = mlflow.active_run()
    if run is None or store_lost():
        return 0
    flush()
    history = MlflowClient().get_metric_history(run.info.run_id, "loss")
    return max((m.step for m in history), default=-1) + 1


@while_store_takes
def log_model(model: Any, example: Any) -> None:
    """The trained Keras model, with the Keras flavour, into the open run."""
    from lstm_doctor.tracking.keras_logging import log_keras_model

    log_keras_model(model, example)


@while_store_takes
def register_model(name: str, tags: dict[str, str]) -> str | None:
    """Register the open run's logged model under `name`, the tags on the new version;
    returns the version."""
    run = mlflow.active_run()
    assert run is not None
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name, tags=tags)
    return str(version.version)
