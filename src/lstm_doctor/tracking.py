"""Everything that talks to MLflow: one run per pipeline execution, curves logged live.

No other module imports mlflow. The tracking URI is chosen here, never at import time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from lstm_doctor.config import Config, TrackingConfig, flatten


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


def start_run(
    cfg: Config,
    tags: dict[str, str],
    run_name: str | None = None,
    parent_run_id: str | None = None,
) -> str:
    """Open the pipeline's run, log every param and tag, and return its id.

    Under `mlflow run`, MLFLOW_RUN_ID names a run already made for us: we log into it.
    A sweep's jobs name their parent run, so the MLflow UI nests them under it.
    """
    experiment_id = use_store(cfg.tracking)
    adopted = os.environ.get("MLFLOW_RUN_ID")
    if parent_run_id:
        tags = {**tags, "mlflow.parentRunId": parent_run_id}
    run = mlflow.start_run(
        run_id=adopted or None,
        experiment_id=None if adopted else experiment_id,
        # A DVC experiment's run takes the experiment's name, as `dvc exp show` lists it.
        run_name=None
        if adopted
        else (cfg.tracking.run_name or run_name or os.environ.get("DVC_EXP_NAME")),
        tags=tags,
    )
    params = {k: ("" if v is None else v) for k, v in flatten(cfg).items()}
    mlflow.log_params(params)
    # The whole configuration, typed: what `fix` reruns, whichever way the run was made.
    mlflow.log_dict(OmegaConf.to_container(OmegaConf.structured(cfg)), CONFIG_ARTIFACT)
    return run.info.run_id


CONFIG_ARTIFACT = "config.yaml"


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
    parent = client.get_run(parent_run_id)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = {quoted(parent_run_id)}",
        max_results=10_000,
    )
    counts = {
        "jobs": len(children),
        "failed": sum(c.info.status == "FAILED" for c in children),
        "finished": sum(c.info.status == "FINISHED" for c in children),
    }
    client.log_batch(
        parent_run_id, metrics=[Metric(f"sweep_{k}", v, _now_ms(), 0) for k, v in counts.items()]
    )
    client.set_terminated(parent_run_id, "FINISHED")
    return counts


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def active_run_id() -> str | None:
    """The run this process has open, if any (the Hydra app opens one per job)."""
    run = mlflow.active_run()
    return run.info.run_id if run else None


@contextmanager
def resumed(cfg: TrackingConfig, run_id: str) -> Iterator[None]:
    """Log into `run_id`: the open run if it is that one, else reopen it until the block ends
    (as evaluate does after a separate `dvc repro` train stage)."""
    if active_run_id() == run_id:
        yield
        return
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


def log_metrics_async(metrics: dict[str, float], step: int) -> None:
    """Log per-epoch metrics without waiting for the store (used inside the fit loop)."""
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step, synchronous=False)


def log_diagnosis(result: dict[str, Any], reports: Path) -> None:
    """The diagnosis as run tags (filterable in the UI) and its files as artifacts."""
    codes = result["codes"]
    tags = {"diagnosis.verdict": result["verdict"], "diagnosis.codes": ",".join(codes) or "none"}
    tags |= {f"diagnosis.{f['code']}": f["severity"] for f in result["findings"]}
    mlflow.set_tags(tags)
    for name in ("diagnosis.json", "diagnosis.md"):
        if (reports / name).exists():
            mlflow.log_artifact(str(reports / name))


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


def run_tags(cfg: Config) -> dict[str, str]:
    """Tags that say where a run came from: git commit, data hash, task, DVC experiment."""
    tags = {
        "task": cfg.dataset.task,
        "dataset": cfg.dataset.name,
        "data_sha256": _hash_files(cfg.dataset.files),
    }
    commit = _git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
        tags["git_commit"] = commit
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_experiment"] = os.environ["DVC_EXP_NAME"]
    return tags


def _hash_files(files: list[Path]) -> str:
    """The data's digest; a file that is not there is left to prepare to report (in one
    line, into a FAILED run) rather than failing here before the run exists."""
    digest = hashlib.sha256()
    for file in files:
        if not file.is_file():
            return "missing"
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

    from lstm_doctor.errors import DataError

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


@dataclass
class RunRecord:
    """What a comparison needs from one MLflow run, as plain data."""

    run_id: str
    name: str
    status: str
    overrides: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    curves: dict[str, list[float]] = field(default_factory=dict)


def find_runs(cfg: TrackingConfig, selector: str) -> tuple[str, list[RunRecord]]:
    """Runs named by `selector`: a sweep parent's run id, a sweep name, a DVC experiment
    name, or an MLflow experiment name. Returns a title and the runs with their curves.

    Raises:
        DataError: when nothing matches, naming what was looked for.
    """
    from lstm_doctor.errors import DataError

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
            for key in ("loss", "val_loss")
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

    from lstm_doctor.errors import DataError

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
        local = client.download_artifacts(run.info.run_id, "diagnosis.json")
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
