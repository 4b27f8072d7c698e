"""The look-ups the commands make: a run's page, its logged configuration, the runs of a
sweep or experiment with their curves, the latest diagnosed run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from lstm_doctor.base.workspace import DIAGNOSIS_JSON, TARGETS_FILE
from lstm_doctor.comparison.judging import RunRecord
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking.store import CONFIG_ARTIFACT, quoted, tracking_uri, use_store


def run_status(cfg: TrackingConfig, run_id: str) -> str:
    """The run's status in the store (RUNNING, FINISHED, FAILED or KILLED)."""
    use_store(cfg)
    return MlflowClient().get_run(run_id).info.status


def run_url(cfg: TrackingConfig, run_id: str) -> str | None:
    """Where to find the run in `mlflow ui` (default port), or None if the store lacks it."""
    uri = tracking_uri(cfg)
    try:
        run = MlflowClient(uri).get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return None
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else "http://127.0.0.1:5000"
    return f"{base}/#/experiments/{run.info.experiment_id}/runs/{run_id}"


def logged_config(cfg: TrackingConfig, run_id: str) -> dict[str, Any]:
    """The configuration a run logged (config.yaml), as plain data.

    Raises:
        DataError: when the run logged none (it was made before runs carried one).
    """
    import tempfile

    from lstm_doctor.base.errors import DataError

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    client = MlflowClient(tracking_uri(cfg))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local = client.download_artifacts(run_id, CONFIG_ARTIFACT, tmp)
            return dict(OmegaConf.to_container(OmegaConf.load(local)))  # type: ignore[arg-type]
    except (mlflow.exceptions.MlflowException, OSError):
        raise DataError(
            f"run {run_id} has no {CONFIG_ARTIFACT}: it predates logged configurations; "
            "rerun it, then prove its fixes"
        ) from None


def find_runs(cfg: TrackingConfig, selector: str) -> tuple[str, list[RunRecord]]:
    """Runs named by `selector`: a sweep parent's run id, a sweep name, a DVC experiment
    name, or an MLflow experiment name. Returns a title and the runs with their curves.

    Raises:
        DataError: when nothing matches, naming what was looked for.
    """
    from lstm_doctor.base.errors import DataError

    uri = tracking_uri(cfg)
    client = MlflowClient(uri)
    experiments = {e.experiment_id: e for e in client.search_experiments()}
    ids = list(experiments)
    searches = []
    try:
        parent = client.get_run(selector)
        searches.append(
            (f"sweep {parent.info.run_name}", f"tags.mlflow.parentRunId = {quoted(selector)}")
        )
        ids = [parent.info.experiment_id]
    except mlflow.exceptions.MlflowException:
        searches += [
            (f"sweep {selector}", f"tags.sweep = {quoted(selector)}"),
            (f"DVC experiment {selector}", f"tags.dvc_experiment = {quoted(selector)}"),
        ]
        named = [e for e in experiments.values() if e.name == selector]
        if named:
            searches.append((f"experiment {selector}", ""))
    runs = []
    title = selector
    for title, query in searches:
        search_ids = ids if not title.startswith("experiment") else [named[0].experiment_id]
        if not search_ids:
            continue
        runs = client.search_runs(search_ids, filter_string=query, max_results=5000)
        runs = [r for r in runs if r.data.tags.get("kind") != "sweep"]  # parents hold no model
        if runs:
            break
    if not runs:
        raise DataError(
            f"no runs found for '{selector}' in {uri}: give a sweep's parent run id, a sweep "
            "name (multirun/<date>/<time> -> <time>), a DVC experiment or an MLflow experiment"
        )
    records = []
    for run in runs:
        curves = {
            key: [
                m.value
                for m in sorted(
                    client.get_metric_history(run.info.run_id, key), key=lambda m: m.step
                )
            ]
            # epoch_seconds: a run that logged no curve measures has them computed from these
            for key in ("loss", "val_loss", "epoch_seconds")
            if key in run.data.metrics
        }
        records.append(
            RunRecord(
                run_id=run.info.run_id,
                name=run.info.run_name or run.info.run_id,
                status=run.info.status,
                overrides=run.data.tags.get("varied")
                or run.data.tags.get("overrides")
                or run.data.tags.get("dvc_experiment", ""),
                params=dict(run.data.params),
                metrics=dict(run.data.metrics),
                tags=dict(run.data.tags),
                curves=curves,
            )
        )
    return title, records


def target_tables(cfg: TrackingConfig, run_ids: list[str]) -> dict[str, Any]:
    """Each run's scored targets (the targets.parquet evaluate logged) as a DataFrame, by run
    id; runs that logged none (made before runs carried them) are left out."""
    import tempfile

    import pandas as pd

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    client = MlflowClient(tracking_uri(cfg))
    tables = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run_id in run_ids:
            try:
                Path(tmp, run_id).mkdir()
                local = client.download_artifacts(run_id, TARGETS_FILE, f"{tmp}/{run_id}")
            except (mlflow.exceptions.MlflowException, OSError):
                continue
            tables[run_id] = pd.read_parquet(local)
    return tables


@dataclass
class DiagnosedRun:
    """A run's id, its tags and the diagnosis.json it logged."""

    run_id: str
    tags: dict[str, str]
    diagnosis: dict[str, Any]


def diagnosed_run(cfg: TrackingConfig, selector: str) -> DiagnosedRun:
    """The run named by an id, or `last`: the latest run that carries a diagnosis (sweep
    parents and the runs of `lstm-doctor fix` left out), with its diagnosis.json.

    Raises:
        DataError: when no such run is in the store, naming the store.
    """
    import json

    from lstm_doctor.base.errors import DataError

    uri = tracking_uri(cfg)
    client = MlflowClient(uri)
    experiment_id = use_store(cfg)
    if selector == "last":
        runs = client.search_runs(
            [experiment_id],
            filter_string="tags.`diagnosis.verdict` != ''",
            order_by=["attributes.start_time DESC"],
            max_results=200,
        )
        run = next(
            (
                r
                for r in runs
                if r.data.tags.get("kind") != "sweep" and not r.data.tags.get("fix_of")
            ),
            None,
        )
        if run is None:
            raise DataError(
                f"no diagnosed run in {uri}; run the pipeline first (`lstm-doctor` or `dvc repro`)"
            )
    else:
        try:
            run = client.get_run(selector)
        except mlflow.exceptions.MlflowException:
            raise DataError(
                f"run '{selector}' not found in {uri}; give a run id or `last`"
            ) from None
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        local = client.download_artifacts(run.info.run_id, DIAGNOSIS_JSON)
    except (mlflow.exceptions.MlflowException, OSError):
        raise DataError(
            f"run {run.info.run_id} has no diagnosis.json artifact (it ended before evaluate); "
            "give a run that finished, or `last`"
        ) from None
    return DiagnosedRun(run.info.run_id, dict(run.data.tags), json.loads(Path(local).read_text()))


@dataclass
class CurveRuns:
    """The runs of an experiment that logged val_loss curves: ids and names, for the UI."""

    experiment_id: str
    run_ids: list[str]
    run_names: list[str]


def runs_with_curves(uri: str, experiment: str, sweep: str | None = None) -> CurveRuns | None:
    """Up to 50 runs with a val_loss curve in `experiment` (one sweep's, if named); None
    when the experiment does not exist."""
    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    query = f"tags.sweep = {quoted(sweep)}" if sweep else ""
    runs = [
        r
        for r in client.search_runs([found.experiment_id], query, max_results=50)
        if r.data.tags.get("kind") != "sweep" and "val_loss" in r.data.metrics
    ]
    return CurveRuns(
        found.experiment_id, [r.info.run_id for r in runs], [r.info.run_name for r in runs]
    )


def run_page_facts(uri: str, run_id: str) -> dict[str, list[str] | str]:
    """What a run's page in the MLflow UI should show: its datasets, the start of its
    description and the registered models made from it."""
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    versions = client.search_model_versions(f"run_id = {quoted(run_id)}")
    return {
        "datasets": sorted({i.dataset.name for i in run.inputs.dataset_inputs}),
        "description": run.data.tags.get("mlflow.note.content", "")[:40],
        "registered_models": sorted({v.name for v in versions}),
    }
