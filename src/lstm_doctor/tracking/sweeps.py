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


def end_interrupted(
    cfg: TrackingConfig, parent_run_id: str, signal_name: str, wait_s: float = 60.0
) -> dict[str, int]:
    """End an interrupted sweep's parent KILLED with its children counted.

    Waits (up to `wait_s`) for the jobs, signalled too, to end their own runs KILLED with
    their curves; a job that could not (killed outright) is marked KILLED here, with the
    epochs its curve reached, so no run is left RUNNING.
    """
    import time

    client = MlflowClient(tracking_uri(cfg))
    deadline = time.monotonic() + wait_s
    while _children(client, parent_run_id, "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.5)
    for run in _children(client, parent_run_id, "RUNNING"):
        epochs = len(client.get_metric_history(run.info.run_id, "loss"))
        for key, value in {"killed_by": signal_name, "killed_after_epochs": str(epochs),
                           "error": f"{signal_name} (its sweep was stopped)"}.items():  # fmt: skip
            client.set_tag(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id, "KILLED")
    counts = count_children(cfg, parent_run_id)
    client.log_batch(
        parent_run_id, metrics=[Metric(f"sweep_{k}", v, _now_ms(), 0) for k, v in counts.items()]
    )
    client.set_tag(parent_run_id, "killed_by", signal_name)
    client.set_tag(
        parent_run_id,
        "error",
        f"{signal_name}: {counts['finished']} finished, {counts['killed']} killed, "
        f"{counts['failed']} failed",
    )
    client.set_terminated(parent_run_id, "KILLED")
    return counts


def end_failed(cfg: TrackingConfig, parent_run_id: str, error: str) -> None:
    """End a sweep's parent FAILED with the error that stopped it, never left RUNNING."""
    client = MlflowClient(tracking_uri(cfg))
    client.set_tag(parent_run_id, "error", error[:5000])
    client.set_terminated(parent_run_id, "FAILED")


def reopen(cfg: TrackingConfig, parent_run_id: str) -> bool:
    """Reopen a sweep's parent run to add jobs to it (a resumed sweep or fix); False when
    the store does not have it (a new store, or the run was deleted)."""
    client = MlflowClient(tracking_uri(cfg))
    try:
        run = client.get_run(parent_run_id)
    except Exception:  # MlflowException: no such run in this store
        return False
    if run.info.lifecycle_stage != "active":
        return False
    client.update_run(parent_run_id, status="RUNNING")
    resumed = int(run.data.tags.get("resumed", "0")) + 1
    client.set_tag(parent_run_id, "resumed", str(resumed))
    client.delete_tag(parent_run_id, "killed_by")
    return True


def finished_children(
    cfg: TrackingConfig, parent_run_id: str, key: str = "overrides"
) -> dict[str, str]:
    """The parent's FINISHED child runs: the tag naming what each ran (a sweep job's
    `overrides`, a fix's `varied`) -> run id. What a resumed sweep or fix skips."""
    client = MlflowClient(tracking_uri(cfg))
    return {
        run.data.tags.get(key, ""): run.info.run_id
        for run in _children(client, parent_run_id, "FINISHED")
    }


def latest_parent(cfg: TrackingConfig, tag: str, value: str) -> str | None:
    """The newest sweep parent run tagged `tag` = `value` (e.g. the last fix of a run)."""
    client = MlflowClient(tracking_uri(cfg))
    experiment_id = use_store(cfg)
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.kind = 'sweep' and tags.{tag} = {quoted(value)}",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def set_tag(cfg: TrackingConfig, run_id: str, key: str, value: str) -> None:
    """Tag a run (e.g. a proof's parent with what its screen kept, for --resume)."""
    MlflowClient(tracking_uri(cfg)).set_tag(run_id, key, value)


def tag_of(cfg: TrackingConfig, run_id: str, key: str) -> str | None:
    """A run's tag, or None where it has none."""
    return MlflowClient(tracking_uri(cfg)).get_run(run_id).data.tags.get(key)


def sweep_name(cfg: TrackingConfig, parent_run_id: str) -> str:
    """The name a sweep's or a fix's parent run was started with (its runs' `sweep` tag)."""
    return MlflowClient(tracking_uri(cfg)).get_run(parent_run_id).data.tags["sweep"]


def _children(client: MlflowClient, parent_run_id: str, status: str) -> list:
    parent = client.get_run(parent_run_id)
    return client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = {quoted(parent_run_id)} "
        f"and attributes.status = '{status}'",
        max_results=10_000,
    )


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
