"""Parent runs of sweeps and fix proofs, and the FAILED record of a job that could not
start: runs that hold other runs, not a pipeline."""

from __future__ import annotations

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking.store import quoted, tracking_uri, use_store


def start_sweep_run(
    cfg: TrackingConfig, name: str, overrides: list[str], tags: dict[str, str] | None = None
) -> str:
    """Create (and leave open) the parent run of a sweep; return its id."""
    experiment_id = use_store(cfg)
    client = MlflowClient(tracking_uri(cfg))
    run = client.create_run(
        experiment_id,
        run_name=f"sweep {name}",
        tags={"sweep": name, "sweep_overrides": " ".join(overrides), "kind": "sweep"}
        | (tags or {}),
    )
    client.log_param(run.info.run_id, "sweep.overrides", " ".join(overrides))
    return run.info.run_id


def record_failed_run(
    cfg: TrackingConfig, name: str, tags: dict[str, str], parent_run_id: str | None
) -> str:
    """A FAILED run for a job that could not start (its config was invalid)."""
    experiment_id = use_store(cfg)
    client = MlflowClient(tracking_uri(cfg))
    if parent_run_id:
        tags = {**tags, "mlflow.parentRunId": parent_run_id}
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    client.set_terminated(run.info.run_id, "FAILED")
    return run.info.run_id


def finish_sweep_run(cfg: TrackingConfig, parent_run_id: str) -> dict[str, int]:
    """Count the sweep's child runs by status, log the counts and close the parent."""
    client = MlflowClient(tracking_uri(cfg))
    counts = count_children(cfg, parent_run_id)
    client.log_batch(
        parent_run_id, metrics=[Metric(f"sweep_{k}", v, _now_ms(), 0) for k, v in counts.items()]
    )
    client.set_terminated(parent_run_id, "FINISHED")
    return counts


def count_children(cfg: TrackingConfig, parent_run_id: str) -> dict[str, int]:
    """The parent's child runs, by status: jobs (all), finished, failed, killed."""
    client = MlflowClient(tracking_uri(cfg))
    parent = client.get_run(parent_run_id)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = {quoted(parent_run_id)}",
        max_results=10_000,
    )
    return {
        "jobs": len(children),
        "failed": sum(c.info.status == "FAILED" for c in children),
        "finished": sum(c.info.status == "FINISHED" for c in children),
        "killed": sum(c.info.status == "KILLED" for c in children),
    }


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
