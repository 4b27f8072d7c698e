"""A run whose tracking store failed mid-training, logged once the store is back: its
curves from history.csv and monitors.csv, its test metrics, plots, diagnosis and model file,
into the same MLflow run (`lstm-doctor sync <output folder>`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lstm_doctor.config import TrackingConfig
from lstm_doctor.errors import DataError, DoctorError
from lstm_doctor.tracking import lifecycle
from lstm_doctor.workspace import StagePaths, read_json


def tell_if_store_lost(paths: StagePaths) -> None:
    """After a pipeline whose store failed mid-run: say that the outputs are complete and
    how to log them later."""
    reason = lifecycle.store_lost()
    if reason is None:
        return
    root = paths.models.parent.resolve()
    print(
        f"lstm-doctor: the outputs are complete in {root}, but the tracking store failed "
        f"({reason}); once it is back, log the run with: lstm-doctor sync {root}",
        file=sys.stderr,
        flush=True,
    )


def log_later(root: Path, tracking: TrackingConfig) -> tuple[str, int]:
    """Log what the run in `root` (a Hydra job folder or the DVC project) could not, into
    its MLflow run, and end it FINISHED; returns the run id and the epochs now logged.

    Points already in the store are not logged twice: a store that failed at epoch 12
    gets epochs 12 onwards.

    Raises:
        DataError: when `root` holds no finished training.
    """
    import pandas as pd

    from lstm_doctor.stages.evaluate import flat_metrics

    paths = StagePaths.job(root)  # models/ and reports/ sit the same in both layouts
    run_file = paths.models / "run.json"
    if not run_file.exists() or not (paths.models / "history.csv").exists():
        raise DataError(f"{root}: no finished training here (models/run.json, history.csv)")
    run_id = read_json(run_file)["run_id"]
    try:
        lifecycle.resume(tracking, run_id)
    except DoctorError:
        raise
    except Exception as exc:  # MLflow: no such run in this store
        raise DataError(
            f"run {run_id} (from {run_file}) is not in this tracking store ({exc}); point "
            "MLFLOW_TRACKING_URI or tracking.uri at the store the run started in"
        ) from None
    logged = lifecycle.logged_steps(run_id) or {}
    curves = pd.read_csv(paths.models / "history.csv").set_index("epoch")
    monitors = paths.models / "monitors.csv"
    frames = [curves] + ([pd.read_csv(monitors)] if monitors.exists() else [])
    for frame in frames:
        lifecycle.log_points({str(key): _new_points(column, logged.get(str(key), set()))
                              for key, column in frame.items()})  # fmt: skip
    metrics_file = paths.reports / "metrics.json"
    if metrics_file.exists():
        result = read_json(metrics_file)
        lifecycle.log_metrics(flat_metrics(result))
        lifecycle.log_series(
            {f"lead_time_mae/{k}": v for k, v in result.get("mae_by_lead_time", {}).items()}
        )
        lifecycle.log_artifact(metrics_file)
        if (paths.reports / "plots").exists():
            lifecycle.log_artifact(paths.reports / "plots", "plots")
    diagnosis_file = paths.reports / "diagnosis.json"
    if diagnosis_file.exists():
        lifecycle.log_diagnosis(json.loads(diagnosis_file.read_text()), paths.reports)
    lifecycle.log_artifact(paths.models / "history.csv")
    lifecycle.log_artifact(paths.models / "model.keras", "model_file")
    lifecycle.set_tags({"logged_later": "true"})
    lifecycle.end_run("FINISHED")
    if lifecycle.store_lost():
        raise DataError(f"the tracking store failed again ({lifecycle.store_lost()}); try later")
    return run_id, len(curves)


def _new_points(column: object, logged: set[int]) -> dict[int, float]:
    """A curve's points (step -> value) that the store does not have yet."""
    return {int(step): float(v) for step, v in column.dropna().items() if int(step) not in logged}  # type: ignore[attr-defined]
