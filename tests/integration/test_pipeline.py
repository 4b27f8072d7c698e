"""The real pipeline, small: Keras training, a real MLflow store, the shipped data sliced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.base.curve_measures import NAMES, measure
from lstm_doctor.base.workspace import StagePaths

from ..conftest import ROOT, TINY, assert_fix_reruns_the_run, cli, new_store, tiny_config, tiny_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, StagePaths, str]:
    """One tiny forecasting run of all five stages, shared by the assertions below."""
    folder = tmp_path_factory.mktemp("forecast")
    return tiny_run(folder, "tracking.register_as=tiny-forecaster")


def test_run_logs_params_curves_tags_and_test_metrics(forecast_run) -> None:
    result, _, uri = forecast_run
    client = MlflowClient(uri)
    run = client.get_run(result["run_id"])
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["optimizer.lr"] == str(tiny_config().optimizer.lr)
    assert params["training.early_stopping.patience"] == str(
        tiny_config().training.early_stopping.patience
    )
    assert params["window.horizon"] == "4"
    for curve in ("loss", "val_loss", "mae", "val_mae", "learning_rate"):
        history = client.get_metric_history(run.info.run_id, curve)
        assert [m.step for m in history] == [0, 1], curve
    metrics = run.data.metrics
    for key in ("test_mae", "test_rmse", "test_smape", "persistence_mae", "seasonal_naive_mae"):
        assert np.isfinite(metrics[key]), key
    assert metrics["skill_vs_persistence"] == pytest.approx(
        1 - metrics["test_mae"] / metrics["persistence_mae"]
    )
    tags = run.data.tags
    assert tags["task"] == "forecast"
    # The tags say exactly what diagnosis.json says (not merely "some verdict").
    diagnosis = result["diagnosis"]
    assert tags["diagnosis.verdict"] == diagnosis["verdict"]
    assert tags["diagnosis.codes"] == (",".join(diagnosis["codes"]) or "none")
    assert tags["diagnosis.primary"] == (",".join(diagnosis["primary"]) or "none")
    serious = [f for f in diagnosis["findings"] if f["severity"] != "info"]
    assert diagnosis["verdict"] == ("sick" if serious else "healthy")
    curves = ("grad_norm", "grad_norm/lstm_0", "update_ratio/output", "step_ratio/lstm_0")
    for curve in (*curves, "probe_loss"):
        assert len(client.get_metric_history(run.info.run_id, curve)) == 2, curve
    assert len(tags["data_sha256"]) == 16
    assert len(tags["git_commit"]) == 40


def test_run_times_its_epochs_and_logs_the_curve_measures(forecast_run) -> None:
    """Each epoch's wall time in history.csv and as a curve; the curve measures, as
    curve_measures defines them, as the run's metrics and in evaluation.json's `curve`
    (there without wall-clock seconds: git keeps that file, and a rerun must not change it)."""
    result, paths, uri = forecast_run
    history = pd.read_csv(paths.models / "history.csv")
    assert (history["epoch_seconds"] > 0).all()
    measured = measure(history)
    saved = json.loads((paths.reports / "evaluation.json").read_text())["curve"]
    assert set(saved) == set(NAMES) - {"seconds_to_best_5pct"}
    assert saved == pytest.approx({k: measured[k] for k in saved}, nan_ok=True)
    curves = pd.read_csv(paths.reports / "curves.csv")
    assert "epoch_seconds" not in curves
    # The report a person plots counts epochs from 1, as the console does; history.csv keeps
    # Keras' index, which is MLflow's step (from 0).
    assert list(curves["epoch"]) == list(history["epoch"] + 1) == list(range(1, len(history) + 1))
    client = MlflowClient(uri)
    # MLflow's step is Keras' index: its step 0 is the report's epoch 1 (the README says so).
    steps = sorted(m.step for m in client.get_metric_history(result["run_id"], "loss"))
    assert steps == list(history["epoch"]) == list(curves["epoch"] - 1)
    run = client.get_run(result["run_id"])
    logged = {name: run.data.metrics[name] for name in NAMES}
    assert logged == pytest.approx(measured, nan_ok=True)
    epochs = int(measured["epochs_to_best_5pct"])
    assert logged["seconds_to_best_5pct"] == pytest.approx(history["epoch_seconds"][:epochs].sum())
    steps = [m.step for m in client.get_metric_history(result["run_id"], "epoch_seconds")]
    assert steps == [0, 1]


def test_run_shows_its_datasets_description_and_registered_version(forecast_run) -> None:
    """MLflow's own conventions: the data each split fed as inputs (the UI's Datasets panel),
    the diagnosis as the run's description, the model version tagged with the verdict."""
    result, _, uri = forecast_run
    client = MlflowClient(uri)
    run = client.get_run(result["run_id"])
    inputs = {
        (i.dataset.name, next(t.value for t in i.tags if t.key == "mlflow.data.context"))
        for i in run.inputs.dataset_inputs
    }
    assert inputs == {("electricity", c) for c in ("training", "validation", "testing")}
    sources = [i.dataset.source for i in run.inputs.dataset_inputs]
    assert all("hourly_electricity.csv" in source for source in sources), sources
    assert run.data.tags["mlflow.note.content"].startswith(
        f"Diagnosis: {result['diagnosis']['verdict']}."
    )
    version = client.get_model_version("tiny-forecaster", result["registered_version"])
    assert version.run_id == result["run_id"]
    assert version.tags["diagnosis.verdict"] == result["diagnosis"]["verdict"]
    assert float(version.tags["test_mae"]) == pytest.approx(result["model"]["mae"], rel=1e-5)


def test_run_artifacts_hold_plots_reports_and_data_notes(forecast_run) -> None:
    result, _, uri = forecast_run
    client = MlflowClient(uri)
    names = {a.path for a in client.list_artifacts(result["run_id"], "plots")}
    assert names == {"plots/curves.png", "plots/predictions.png", "plots/lead_time.png"}
    top = {a.path for a in client.list_artifacts(result["run_id"])}
    assert {"metrics.json", "diagnosis.json", "diagnosis.md", "history.csv"} <= top
    data = {a.path for a in client.list_artifacts(result["run_id"], "data/prepared")}
    assert "data/prepared/report.json" in data


def test_logged_model_predicts_windows_through_pyfunc(forecast_run) -> None:
    result, _, uri = forecast_run
    mlflow.set_tracking_uri(uri)
    experiment_id = MlflowClient(uri).get_run(result["run_id"]).info.experiment_id
    models = mlflow.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string=f"source_run_id = '{result['run_id']}'",
        output_format="list",
    )
    assert len(models) == 1
    loaded = mlflow.pyfunc.load_model(models[0].model_uri)
    assert loaded.metadata.signature is not None
    windows = np.zeros((5, 24, 5), dtype=np.float32)  # y + 4 calendar features
    predictions = np.asarray(loaded.predict(windows))
    assert predictions.shape == (5, 4)
    # The check MLflow would make on every logging, made here once: the logged example serves.
    from mlflow.models import validate_serving_input
    from mlflow.models.utils import load_serving_example

    served = validate_serving_input(models[0].model_uri, load_serving_example(models[0].model_uri))
    assert np.asarray(served).shape[-1] == 4


def test_diagnosis_names_codes_with_evidence_and_overrides(forecast_run) -> None:
    result, paths, _ = forecast_run
    diagnosis = json.loads((paths.reports / "diagnosis.json").read_text())
    assert diagnosis == result["diagnosis"]
    assert diagnosis["run_id"] == result["run_id"]
    for finding in diagnosis["findings"]:
        assert finding["severity"] in ("info", "warning", "error")
        assert finding["evidence"] and finding["explanation"]
        assert all("=" in fix for fix in finding["fixes"])
        assert "scaling=standard" not in finding["fixes"]  # already in effect: not prescribed
    # 2 epochs of 8 steps cannot beat "same hour yesterday": the doctor must say so
    assert result["skill"]["seasonal_naive"] < 0
    assert "train.no_better_than_naive" in diagnosis["codes"]
    assert diagnosis["verdict"] == "sick"
    text = (paths.reports / "diagnosis.md").read_text()
    assert text.startswith("# Diagnosis: sick") and "lstm-doctor fix " in text


def test_metrics_are_in_the_targets_units(forecast_run) -> None:
    """Recompute the persistence baseline from the raw CSV: it must match evaluation.json."""
    _, paths, _ = forecast_run
    metrics = json.loads((paths.reports / "evaluation.json").read_text())
    raw = pd.read_csv(ROOT / "data/raw/electricity/hourly_electricity.csv")["y"].to_numpy()[-1200:]
    starts = np.load(paths.windows / "windows.npz")["test"]
    last = raw[starts + 23]
    actual = raw[starts[:, None] + 24 + np.arange(4)]
    expected = np.mean(np.abs(actual - last[:, None]))
    assert metrics["baselines"]["persistence"]["mae"] == pytest.approx(expected, rel=1e-5)
    predictions = pd.read_csv(paths.reports / "predictions.csv")
    assert predictions["actual"].to_numpy() == pytest.approx(actual[:, 0], rel=1e-5)
    # ...at the raw file's own dates: the first target hour of each test window.
    raw_times = pd.to_datetime(
        pd.read_csv(ROOT / "data/raw/electricity/hourly_electricity.csv")["ts"]
    ).to_numpy()[-1200:]
    assert (pd.to_datetime(predictions["time"]).to_numpy() == raw_times[starts + 24]).all()


def test_same_seed_same_curves(tmp_path: Path) -> None:
    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import train
    from lstm_doctor.stages.window import load_windows

    cfg = tiny_config()
    paths = StagePaths.job(tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        for stage in (prepare, scale, window):
            stage.run(cfg, paths)
    windows, _ = load_windows(paths)
    _, first = train(cfg, windows, outputs=4)
    _, second = train(cfg, windows, outputs=4)
    assert first["loss"].tolist() == second["loss"].tolist()
    assert first["val_loss"].tolist() == second["val_loss"].tolist()


def test_curves_reach_mlflow_while_training_runs(
    tmp_path: Path, mlflow_uri: str, in_root: None
) -> None:
    import keras

    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import train
    from lstm_doctor.stages.window import load_windows
    from lstm_doctor.tracking import keras_logging, lifecycle

    cfg = tiny_config("training.epochs=3")
    paths = StagePaths.job(tmp_path)
    for stage in (prepare, scale, window):
        stage.run(cfg, paths)
    windows, _ = load_windows(paths)
    run_id = lifecycle.start_run(cfg, {})
    seen: list[int] = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            lifecycle.flush()
            seen.append(len(MlflowClient(mlflow_uri).get_metric_history(run_id, "val_loss")))

    try:
        logger = keras_logging.epoch_logger(lifecycle.log_metrics_async)
        train(cfg, windows, outputs=4, extra_callbacks=[logger, Probe()])
    finally:
        lifecycle.end_run()
    assert seen == [0, 1, 2]


def test_app_trains_a_classifier_with_accuracy_curves(tmp_path: Path) -> None:
    uri = new_store(tmp_path / "mlflow.db")
    result = cli(
        "dataset=basic_motions", "model.units=8", "training.epochs=2",
        f"hydra.run.dir={tmp_path / 'job'}", store=uri,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy" in result.stdout and "majority_class" in result.stdout
    metrics = json.loads((tmp_path / "job" / "reports" / "evaluation.json").read_text())
    assert metrics["test_windows"] == 40
    assert set(metrics["model"]["f1"]) == {"Standing", "Running", "Walking", "Badminton"}
    assert np.asarray(metrics["model"]["confusion_matrix"]).sum() == 40
    assert metrics["baselines"]["majority_class"]["accuracy"] == pytest.approx(0.25)
    client = MlflowClient(uri)
    (run,) = client.search_runs(client.get_experiment_by_name("lstm-doctor").experiment_id)
    assert run.data.tags["task"] == "classify"
    assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 2
    assert "test_accuracy" in run.data.metrics and "majority_class_accuracy" in run.data.metrics
    assert "dataset=basic_motions" in assert_fix_reruns_the_run(uri, run.info.run_id)


def test_mlflow_run_of_the_mlproject_logs_into_its_own_run(tmp_path: Path) -> None:
    uri = new_store(tmp_path / "mlflow.db")
    overrides = " ".join([*TINY, "scaling=none", f"hydra.run.dir={tmp_path / 'job'}"])
    result = subprocess.run(
        [sys.executable, "-m", "mlflow", "run", ".", "-P", f"overrides={overrides}",
         "--env-manager", "local", "--experiment-name", "lstm-doctor"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        # `--env-manager local` runs `python` from PATH: this environment's, as when activated
        env={**os.environ, "MLFLOW_TRACKING_URI": uri,
             "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("lstm-doctor").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["scaling.method"] == "none"
    assert "test_mae" in run.data.metrics and "diagnosis.verdict" in run.data.tags
    assert "scaling=none" in assert_fix_reruns_the_run(uri, run.info.run_id)


def test_verbose_shows_keras_own_epoch_lines(
    forecast_run, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from lstm_doctor.stages.train import train
    from lstm_doctor.stages.window import load_windows

    _, paths, _ = forecast_run
    windows, meta = load_windows(paths)
    cfg = tiny_config("training.epochs=1")
    monkeypatch.setenv("LSTM_DOCTOR_VERBOSE", "1")
    train(cfg, windows, meta["horizon"])
    assert "val_loss: " in capfd.readouterr().out
    monkeypatch.delenv("LSTM_DOCTOR_VERBOSE")
    train(cfg, windows, meta["horizon"])
    assert "val_loss: " not in capfd.readouterr().out
