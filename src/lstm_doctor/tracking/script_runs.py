"""A user's own MLflow runs, as the doctor reads and tags them: the per-epoch curves and
params a run logged (for example by `mlflow.keras.autolog()`), and the diagnosis sent back
to that run as tags and artifacts, as for pipeline runs; and the runs `prove` opens in the
user's store (a parent, one nested run a fit)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from lstm_doctor.base.errors import DataError, Interrupted, first_line
from lstm_doctor.base.workspace import DIAGNOSIS_HTML, DIAGNOSIS_JSON, DIAGNOSIS_MD
from lstm_doctor.tracking.lifecycle import diagnosis_tags

# Keys Keras' autolog logs without a step at each evaluation (mlflow#14293): not curves.
STEPLESS_PREFIX = "validation_"


def active_run_id() -> str | None:
    """The id of the MLflow run active in this process, if any."""
    run = mlflow.active_run()
    return run.info.run_id if run else None


def _client() -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient()


def read_run(run_id: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """A run's per-epoch curves (one row a step, one column a metric) and its params.

    Raises:
        DataError: no such run in the store, or a run with no `loss` curve.
    """
    from mlflow.exceptions import MlflowException

    _existing_store(f"no MLflow run '{run_id}'")
    client = _client()
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise DataError(
            f"no MLflow run '{run_id}' in the store {mlflow.get_tracking_uri()} "
            "(set MLFLOW_TRACKING_URI to the store that logged it)"
        ) from None
    curves: dict[str, dict[int, float]] = {}
    for key in run.data.metrics:
        if key.startswith(STEPLESS_PREFIX):
            continue
        curves[key] = {m.step: m.value for m in client.get_metric_history(run_id, key)}
    if "loss" not in curves:
        raise DataError(f"MLflow run '{run_id}' logged no per-epoch 'loss' curve to diagnose")
    history = pd.DataFrame(curves).sort_index()
    return history.reset_index(drop=True), dict(run.data.params)


def log_to_run(run_id: str, result: dict[str, Any], folder: Path) -> None:
    """The diagnosis' tags and its three files (as artifacts) on the given run."""
    client = _client()
    for key, value in diagnosis_tags(result).items():
        client.set_tag(run_id, key, value)
    for name in (DIAGNOSIS_JSON, DIAGNOSIS_MD, DIAGNOSIS_HTML):
        if (folder / name).exists():
            client.log_artifact(run_id, str(folder / name))


def _existing_store(what: str) -> None:
    """Refuse to read from a SQLite store that is not there (MLflow would make an empty one,
    left behind), and keep MLflow's notes on its tables out of the answer.

    Raises:
        DataError: starting with `what`, naming the store.
    """
    import logging

    from lstm_doctor.tracking.store import sqlite_path

    uri = mlflow.get_tracking_uri()
    if uri.startswith("sqlite:///") and not sqlite_path(uri).exists():
        raise DataError(
            f"{what}: there is no store at {uri} (set MLFLOW_TRACKING_URI to the store "
            "that logged it)"
        )
    # Reading a run is no news: MLflow's notes on its database tables would bury the answer.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def load_model(uri: str) -> Any:
    """A Keras model logged to MLflow (runs:/..., models:/...)."""
    import mlflow.keras
    from mlflow.exceptions import MlflowException

    if uri.startswith(("runs:/", "models:/")):
        _existing_store(f"--model {uri}")
    try:
        return mlflow.keras.load_model(uri)
    except (MlflowException, OSError) as exc:
        raise DataError(
            f"--model {uri}: MLflow cannot load it ({first_line(exc)[:160]}); check the run or "
            "model and the store (MLFLOW_TRACKING_URI)"
        ) from None


def store_set() -> bool:
    """Whether the user's script set a store (MLFLOW_TRACKING_URI or
    `mlflow.set_tracking_uri`) or has a run active: else MLflow would make one of its own."""
    from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

    return is_tracking_uri_set() or mlflow.active_run() is not None


def check_active_store() -> None:
    """Refuse, in one line and before any work, the store MLflow would log to when it cannot
    be reached or written (store.check_store); keep its notes on a new store's tables quiet."""
    from lstm_doctor.tracking.store import check_store

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    check_store(mlflow.get_tracking_uri())


@contextmanager
def opened(
    name: str, params: dict[str, Any] | None = None, tags: dict[str, str] | None = None
) -> Iterator[str]:
    """A run, nested under the active one when there is one (in its experiment), active
    inside the block; ended FINISHED, or FAILED (KILLED by a signal) with the error as a tag
    when the block raises. The run active before is active again after, still open."""
    outer = mlflow.active_run()
    run = mlflow.start_run(
        run_name=name,
        nested=outer is not None,
        experiment_id=outer.info.experiment_id if outer else None,
        tags=tags,
    )
    status = "FINISHED"
    try:
        if params:
            mlflow.log_params(params)
        yield run.info.run_id
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt | Interrupted) else "FAILED"
        with suppress(Exception):
            mlflow.set_tag("error", f"{type(exc).__name__}: {exc}"[:5000])
        raise
    finally:
        mlflow.end_run(status)


def epoch_callback() -> Any:
    """A Keras callback logging each epoch's logs to the active run, step = epoch (0-based,
    as `mlflow.keras.autolog()` counts)."""
    from lstm_doctor.tracking.keras_logging import epoch_logger

    return epoch_logger(lambda values, epoch: mlflow.log_metrics(values, step=epoch))


def log_metrics(metrics: dict[str, float]) -> None:
    """Metrics of the active run."""
    mlflow.log_metrics(metrics)


def set_tags(tags: dict[str, str]) -> None:
    """Tags of the active run."""
    mlflow.set_tags(tags)
