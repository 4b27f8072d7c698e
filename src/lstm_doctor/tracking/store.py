"""The MLflow store and experiment every entry point logs to, chosen here and never at
import time; values quoted for MLflow's filter strings."""

from __future__ import annotations

import logging
import os
from pathlib import Path

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
    # MLflow announces creating and migrating a new store at INFO: not news to a user.
    for name in ("mlflow.store.db.utils", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
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


CONFIG_ARTIFACT = "config.yaml"


def finished_metric(cfg: TrackingConfig, run_id: str, key: str) -> float:
    """A logged run's metric (a resumed sweep's skipped job returns its objective)."""
    return float(MlflowClient(tracking_uri(cfg)).get_run(run_id).data.metrics.get(key, "nan"))


def quoted(value: str) -> str:
    """A value for an MLflow filter string, quoted so a quote in it cannot break out.

    Raises:
        DataError: for a value holding both kinds of quote (no MLflow filter can say it).
    """
    from lstm_doctor.errors import DataError

    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise DataError(f"{value!r} holds both ' and \"; name the runs without quotes")
