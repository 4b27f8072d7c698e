"""A run whose tracking store failed mid-training, logged once the store is back: its
curves from history.csv and monitors.csv, its test metrics, plots, diagnosis and model file,
into the same MLflow run (`lstm-doctor sync <output folder>`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lstm_doctor.base.errors import DataError, DoctorError
from lstm_doctor.base.workspace import (
    DIAGNOSIS_JSON,
    EVALUATION_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    MONITORS_FILE,
    RUN_FILE,
    StagePaths,
    read_json,
)
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking import lifecycle, queries


def tell_if_store_lost(paths: StagePaths) -> None:
    """After a pipeline whose store failed mid-run: say that the outputs are complete and
    how to log them later."""
    reason = lifecycle.store_lost()
    if reason is None:
        return
    print(store_lost_line(paths.models.parent.resolve(), reason), file=sys.stderr, flush=True)


def store_lost_line(root: Path, reason: str) -> str:
    """The last line of a run whose store failed: its outputs are whole, and how to log them."""
    return (
        f"lstm-doctor: the outputs are complete in {root}, but the tracking store failed "
        f"({reason}); once it is back, log the run with: lstm-doctor sync {root}"
    )


def log_later(root: Path, tracking: TrackingConfig) -> dict[str, Any]:
    """Log what the run in `root` (a Hydra job folder or the DVC project) could not, into
    its MLflow run; returns what was done (run_id, epochs, points and metrics newly
    logged, the status before and after).

    Idempotent: points and metrics already in the store are never sent again, so a second
    call logs nothing. Truthful: only a run still RUNNING (the store failed before it could
    be ended) whose evaluation finished on disk is ended FINISHED; a run that ended KILLED
    or FAILED keeps its status, and gets its missing curve points only.

    Raises:
        DataError: when `root` holds no finished training, or its run is not in the store.
    """
    import pandas as pd

    from lstm_doctor.stages.evaluate import flat_metrics

    paths = StagePaths.job(root)  # models/ and reports/ sit the same in both layouts
    run_file = paths.models / RUN_FILE
    if not run_file.exists() or not (paths.models / HISTORY_FILE).exists():
        raise DataError(f"{root}: no finished training here (models/run.json, history.csv)")
    run_id = read_json(run_file).get("run_id")
    if not run_id:
        raise DataError(
            f"{run_file}: names no MLflow run (no run_id): this training was never recorded "
            "in a store, so there is no run to complete; rerun it to record one"
        )
    status = _status(tracking, run_id, run_file)
    metrics_file = paths.reports / EVALUATION_FILE
    completing = status == "RUNNING"
    if completing and not metrics_file.exists():
        raise DataError(
            f"{root}: run {run_id} is RUNNING but its evaluation never finished here (no "
            f"reports/{EVALUATION_FILE}); rerun it rather than end it FINISHED"
        )
    logged = lifecycle.logged_steps(run_id) or {}
    curves = pd.read_csv(paths.models / HISTORY_FILE).set_index("epoch")
    monitors = paths.models / MONITORS_FILE
    frames = [curves] + ([pd.read_csv(monitors)] if monitors.exists() else [])
    points = {
        str(key): _new_points(column, logged.get(str(key), set()))
        for frame in frames
        for key, column in frame.items()
    }
    points = {key: p for key, p in points.items() if p}
    metrics: dict[str, float] = {}
    series: dict[str, list[float]] = {}
    if completing:
        result = read_json(metrics_file)
        metrics = {k: v for k, v in flat_metrics(result).items() if k not in logged}
        series = {
            f"lead_time_mae/{k}": v
            for k, v in result.get("mae_by_lead_time", {}).items()
            if f"lead_time_mae/{k}" not in logged
        }
    done = {"run_id": run_id, "epochs": len(curves), "points": sum(map(len, points.values()))}
    done |= {"metrics": len(metrics), "status_before": status, "status_after": status}
    if not (points or metrics or series or completing):
        return done  # nothing missing: the store is left as it is
    lifecycle.resume(tracking, run_id)
    lifecycle.log_points(points)
    if completing:
        _log_outputs(paths, metrics, series)
        done["status_after"] = "FINISHED"
    lifecycle.end_run(done["status_after"])
    if lifecycle.store_lost():
        raise DataError(f"the tracking store failed again ({lifecycle.store_lost()}); try later")
    return done


def _status(tracking: TrackingConfig, run_id: str, run_file: Path) -> str:
    """The run's status in the store, read before anything reopens it."""
    try:
        return queries.run_status(tracking, run_id)
    except DoctorError:
        raise
    except Exception as exc:  # MLflow: no such run in this store
        raise DataError(
            f"run {run_id} (from {run_file}) is not in this tracking store ({exc}); point "
            "MLFLOW_TRACKING_URI or tracking.uri at the store the run started in"
        ) from None


def _log_outputs(paths: StagePaths, metrics: dict[str, float], series: dict) -> None:
    """A completed run's outputs: test metrics not yet logged, artifacts, the diagnosis."""
    lifecycle.log_metrics(metrics)
    lifecycle.log_series(series)
    for name in (METRICS_FILE, EVALUATION_FILE):
        if (paths.reports / name).exists():
            lifecycle.log_artifact(paths.reports / name)
    if (paths.reports / "plots").exists():
        lifecycle.log_artifact(paths.reports / "plots", "plots")
    diagnosis_file = paths.reports / DIAGNOSIS_JSON
    if diagnosis_file.exists():
        lifecycle.log_diagnosis(json.loads(diagnosis_file.read_text()), paths.reports)
    lifecycle.log_artifact(paths.models / HISTORY_FILE)
    lifecycle.log_artifact(paths.models / MODEL_FILE, "model_file")
    lifecycle.set_tags({"logged_later": "true"})


def _new_points(column: object, logged: set[int]) -> dict[int, float]:
    """A curve's points (step -> value) that the store does not have yet."""
    return {int(step): float(v) for step, v in column.dropna().items() if int(step) not in logged}  # type: ignore[attr-defined]
