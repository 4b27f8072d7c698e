"""Everything that talks to MLflow: one run per pipeline execution, curves logged live.

No other module imports mlflow. The tracking URI is chosen here, never at import time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from lstm_doctor.config import Config, TrackingConfig, flatten

PARENT_ENV = "LSTM_DOCTOR_PARENT_RUN_ID"


def tracking_uri(cfg: TrackingConfig) -> str:
    """The store: the config's uri, else MLFLOW_TRACKING_URI, else mlflow.db (SQLite) in the
    project root; DVC_ROOT names it when `dvc exp run --queue` runs us in a temp copy."""
    if cfg.uri:
        return cfg.uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    root = Path(os.environ.get("DVC_ROOT", "."))
    return f"sqlite:///{(root / 'mlflow.db').resolve()}"


def use_store(cfg: TrackingConfig) -> str:
    """Point MLflow at the store and experiment; return the experiment id.

    A new experiment on a local SQLite store keeps its artifacts beside the database
    (not in whatever folder the command happened to run from).
    """
    uri = tracking_uri(cfg)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(cfg.experiment)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if uri.startswith("sqlite:///"):
        location = (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
    try:
        return client.create_experiment(cfg.experiment, artifact_location=location)
    except mlflow.exceptions.MlflowException:
        # Another process created it between our look-up and create.
        found = client.get_experiment_by_name(cfg.experiment)
        assert found is not None
        return found.experiment_id


def start_run(cfg: Config, tags: dict[str, str]) -> str:
    """Open the pipeline's run, log every param and tag, and return its id.

    Under `mlflow run`, MLFLOW_RUN_ID names a run already made for us: we log into it.
    """
    experiment_id = use_store(cfg.tracking)
    adopted = os.environ.get("MLFLOW_RUN_ID")
    parent = os.environ.get(PARENT_ENV)
    if parent:
        tags = {**tags, "mlflow.parentRunId": parent}
    run = mlflow.start_run(
        run_id=adopted or None,
        experiment_id=None if adopted else experiment_id,
        run_name=None if adopted else cfg.tracking.run_name,
        tags=tags,
    )
    params = {k: ("" if v is None else v) for k, v in flatten(cfg).items()}
    mlflow.log_params(params)
    return run.info.run_id


@contextmanager
def resumed(cfg: TrackingConfig, run_id: str) -> Iterator[None]:
    """Reopen a run (evaluate adds to the run train made), ending it as FINISHED or FAILED."""
    use_store(cfg)
    with mlflow.start_run(run_id=run_id):
        yield


def end_run(status: str = "FINISHED") -> None:
    """Close the active run with a status (FINISHED, FAILED, KILLED)."""
    if mlflow.active_run() is not None:
        mlflow.end_run(status=status)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log finite numeric metrics to the active run (NaN is kept: MLflow shows it)."""
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)


def log_artifact(path: Path, folder: str | None = None) -> None:
    """Attach a file or folder to the active run."""
    if path.is_dir():
        mlflow.log_artifacts(str(path), artifact_path=folder)
    else:
        mlflow.log_artifact(str(path), artifact_path=folder)


def set_tags(tags: dict[str, str]) -> None:
    """Tag the active run."""
    mlflow.set_tags(tags)


def epoch_logger() -> Any:
    """A Keras callback that sends each epoch's logs (loss, val_loss, lr, ...) to the run."""
    import keras

    class EpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            values = dict(logs or {})
            lr = getattr(self.model.optimizer, "learning_rate", None)
            if lr is not None and "learning_rate" not in values:
                values["learning_rate"] = float(keras.ops.convert_to_numpy(lr))
            # Asynchronous logging keeps the store's latency out of the training loop.
            mlflow.log_metrics(
                {k: float(v) for k, v in values.items()}, step=epoch, synchronous=False
            )

    return EpochLogger()


class _KerasFlavor:
    """mlflow.keras, but creating the model folder before the input example is written.

    mlflow.keras.save_model (3.17, 3.18) writes input_example.json before it creates the
    folder, so log_model(..., input_example=...) fails; every other step is mlflow.keras.
    """

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        import mlflow.keras

        os.makedirs(path, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def log_keras_model(model: Any, example: Any) -> None:
    """Log the model with the Keras flavour, a signature and an input example."""
    import keras
    from mlflow.models import Model, infer_signature

    signature = infer_signature(example, model.predict_on_batch(example))
    # Naming the requirements spares MLflow a subprocess that reloads the model to guess them.
    requirements = [f"keras=={keras.__version__}", f"mlflow=={mlflow.__version__}"]
    try:
        import tensorflow as tf

        requirements.append(f"tensorflow-cpu=={tf.__version__}")
    except ImportError:
        pass
    Model.log(
        artifact_path=None,
        name="model",
        flavor=_KerasFlavor,
        model=model,
        signature=signature,
        input_example=example,
        pip_requirements=requirements,
    )


def flush() -> None:
    """Wait for asynchronous metric logging to land."""
    mlflow.flush_async_logging()


def run_tags(cfg: Config, data_files: list[Path]) -> dict[str, str]:
    """Tags that say where a run came from: git commit, data hash, task, DVC experiment."""
    tags = {
        "task": cfg.dataset.task,
        "dataset": cfg.dataset.name,
        "data_sha256": _hash_files(data_files),
    }
    commit = _git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
        tags["git_commit"] = commit
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_experiment"] = os.environ["DVC_EXP_NAME"]
    return tags


def _hash_files(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_url(cfg: TrackingConfig, run_id: str) -> str:
    """Where to find the run in `mlflow ui` (default port)."""
    run = MlflowClient(tracking_uri(cfg)).get_run(run_id)
    return f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run_id}"
