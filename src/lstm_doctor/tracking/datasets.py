"""The data each split of a run fed, as MLflow inputs: its source, digest and schema, for
the UI's Datasets panel and `dataset` filters. Writes into the run named, or the active one."""

from __future__ import annotations

from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from lstm_doctor.tracking.delivery import while_store_takes


@while_store_takes
def log_datasets(
    splits: dict[str, Any],
    source: str,
    name: str,
    target: str | None = None,
    run_id: str | None = None,
) -> None:
    """The data each split fed, as MLflow inputs of `run_id` (default the active run):
    source, digest, schema; the UI's Datasets panel and `dataset` filters. Frames for a
    series, (x, y) arrays for sequences. Naming the run lets another thread log them (the
    active run is the opening thread's)."""
    import warnings

    from mlflow.data.numpy_dataset import from_numpy
    from mlflow.data.pandas_dataset import from_pandas

    for context, data in splits.items():
        # MLflow registers its local-file source twice and warns that a file path is
        # ambiguous between the two; either reads the same file.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The specified dataset source", UserWarning)
            if isinstance(data, tuple):
                dataset = from_numpy(data[0], targets=data[1], source=source, name=name)
            else:
                dataset = from_pandas(data, source=source, name=name, targets=target)
        _log_input(dataset, context, run_id or _active_run_id())


def _log_input(dataset: Any, context: str, run_id: str | None, attempts: int = 6) -> None:
    """mlflow.log_input into `run_id`, retried: parallel jobs logging the same dataset race
    to insert it into a SQL store, and the loser's insert fails although the row is then
    there."""
    import time

    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    if run_id is None:
        return
    entry = DatasetInput(dataset._to_mlflow_entity(), [InputTag(MLFLOW_DATASET_CONTEXT, context)])
    for attempt in range(attempts):
        try:
            MlflowClient().log_inputs(run_id, datasets=[entry])
            return
        except mlflow.exceptions.MlflowException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def _active_run_id() -> str | None:
    run = mlflow.active_run()
    return run.info.run_id if run else None
