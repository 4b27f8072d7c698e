"""The MLflow store and experiment every entry point logs to, chosen here and never at
import time; values quoted for MLflow's filter strings."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first use stays a race there
    fcntl = None  # type: ignore[assignment]

import mlflow
from mlflow.tracking import MlflowClient

from lstm_doctor.config import TrackingConfig


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
    # MLflow announces creating and migrating a new store at INFO: not news to a user; and
    # it logs a database error with its traceback before raising it, which we report in one
    # line (here, or as the store lost mid-run).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    check_store(uri)
    mlflow.set_tracking_uri(uri)
    client, experiment = _open(uri, cfg.experiment)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if uri.startswith("sqlite:///"):
        location = (sqlite_path(uri).parent / "mlartifacts").resolve().as_uri()
    try:
        return client.create_experiment(cfg.experiment, artifact_location=location)
    except Exception as exc:
        # Another process created it between our look-up and create, or the store refuses.
        found = client.get_experiment_by_name(cfg.experiment)
        if found is None:
            raise _unusable(uri, exc) from None
        return found.experiment_id


# MLflow retries a failing HTTP call 7 times with doubling back-off (about two minutes a
# call): a training that lost its server would hang on every epoch. Fewer, shorter retries
# still ride out a restart, unless the user set their own.
HTTP_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


def _open(uri: str, experiment: str) -> tuple[MlflowClient, Any]:
    """A client on the store and the experiment named (None when it does not exist yet).

    MLflow creates and migrates a new SQLite store's tables on first use; two processes
    doing it at once (a sweep's jobs, two terminals) leave half-made tables behind
    (`_alembic_tmp_experiments already exists`) that break the store for good. So the first
    use holds a lock on the store's folder: one process creates, the others then find it made.
    """
    with _store_lock(uri):
        try:
            client = MlflowClient(uri)
            return client, client.get_experiment_by_name(experiment)
        except Exception as exc:  # reachable but refusing (locked, corrupt, an error page)
            raise _unusable(uri, exc) from None


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """An exclusive lock on a SQLite store's folder (no lock file to leave behind); nothing
    for a server, which creates its own tables once."""
    folder = sqlite_path(uri).parent if uri.startswith("sqlite:///") else None
    if folder is None or not folder.is_dir() or fcntl is None:
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def check_store(uri: str) -> None:
    """Refuse, in one line and before any work, a store that cannot be reached or written:
    a server that does not answer, a read-only SQLite file or folder.

    Raises:
        DoctorError: naming the store and what to do.
    """
    from lstm_doctor.base.errors import DoctorError

    if uri.startswith(("http://", "https://")):
        import requests

        for key, value in HTTP_RETRIES.items():
            os.environ.setdefault(key, value)
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        try:
            requests.get(uri.rstrip("/") + "/health", timeout=10)
        except requests.RequestException as exc:
            raise DoctorError(
                f"tracking server {uri} cannot be reached ({type(exc).__name__}); start it "
                "(`make server`) or point tracking.uri / MLFLOW_TRACKING_URI at a running one"
            ) from None
    elif uri.startswith("sqlite:///"):
        path = sqlite_path(uri)
        # SQLite writes a journal beside the file: the folder must be writable too.
        for place in (path, path.parent):
            if place.exists() and not os.access(place, os.W_OK):
                raise DoctorError(
                    f"tracking store {uri} is read-only ({place} cannot be written); make it "
                    "writable or point tracking.uri / MLFLOW_TRACKING_URI elsewhere"
                )


def sqlite_path(uri: str) -> Path:
    """The database file of a sqlite:/// URI, also in SQLite's `file:...?mode=ro` form."""
    path = uri.removeprefix("sqlite:///")
    if path.startswith("file:"):
        path = path.removeprefix("file:").split("?")[0]
    return Path(path)


def _unusable(uri: str, exc: Exception) -> Exception:
    from lstm_doctor.base.errors import DoctorError, first_line

    first = first_line(exc)
    return DoctorError(
        f"tracking store {uri} cannot be used ({first[:200]}); check it is up and writable, "
        "or point tracking.uri / MLFLOW_TRACKING_URI elsewhere"
    )


CONFIG_ARTIFACT = "config.yaml"


def best_val_loss(cfg: TrackingConfig, run_id: str) -> float:
    """A finished run's sweep objective, the least val loss it logged (what the pipeline
    returns; a resumed sweep's skipped job returns it). NaN when it logged none."""
    history = MlflowClient(tracking_uri(cfg)).get_metric_history(run_id, "val_loss")
    values = [m.value for m in history if m.value == m.value]  # NaN is not a loss
    return min(values, default=float("nan"))


def quoted(value: str) -> str:
    """A value for an MLflow filter string, quoted so a quote in it cannot break out.

    Raises:
        DataError: for a value holding both kinds of quote (no MLflow filter can say it).
    """
    from lstm_doctor.base.errors import DataError

    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise DataError(f"{value!r} holds both ' and \"; name the runs without quotes")
