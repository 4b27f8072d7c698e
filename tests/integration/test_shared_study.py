"""One Optuna search shared by several processes (or machines): each sweep keeps the study
in one database (`hydra.sweeper.storage`), so every process samples knowing the trials of
the others, and every trial is one MLflow run. Real Optuna, real sweeps, run side by side."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.tracking.server_process import free_port

from ..conftest import ROOT, TINY

pytestmark = pytest.mark.slow


def search(storage: str, uri: str, sweep_dir: Path, seed: int) -> subprocess.Popen[str]:
    """One process of the search: 2 trials of the shared study, its own sampler seed (with
    the same seed, processes would propose the same trials)."""
    return subprocess.Popen(
        [sys.executable, "-m", "lstm_doctor.commands.app", "-m", "hparams_search=optuna",
         f"hydra.sweeper.storage={storage}", "hydra.sweeper.study_name=shared",
         "hydra.sweeper.n_trials=2", f"hydra.sweeper.sampler.seed={seed}", *TINY,
         f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip


def test_two_processes_search_one_study_and_every_trial_is_a_run(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # As a team would: the study and the store made once, before the workers start (two
    # processes creating one new database at the same moment would race).
    subprocess.run(
        [Path(sys.executable).parent / "optuna", "create-study", "--storage", storage,
         "--study-name", "shared", "--direction", "minimize"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    MlflowClient(uri).search_experiments()
    processes = {name: search(storage, uri, tmp_path / name, seed)
                 for name, seed in (("first", 1), ("second", 2))}  # fmt: skip
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=540)
        assert process.returncode == 0, (name, stderr[-3000:])
        assert f"sweep {name}: 2 jobs, 0 failed" in stdout

    study = optuna.load_study(study_name="shared", storage=storage)
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(trials) == len(study.trials) == 4
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    runs = [r for r in client.search_runs([experiment]) if r.data.tags.get("kind") != "sweep"]
    assert len(runs) == 4 and all(r.info.status == "FINISHED" for r in runs)

    # Each trial is the run that set exactly its values, and its value is that run's best
    # val_loss (the sweep's objective).
    set_by = {r.info.run_id: dict(o.split("=", 1) for o in r.data.tags["varied"].split())
              for r in runs}  # fmt: skip
    sweeps_of_trials = []
    for trial in trials:
        asked = {key: str(value) for key, value in trial.params.items()}
        (run,) = [r for r in runs if set_by[r.info.run_id] == asked]
        curve = client.get_metric_history(run.info.run_id, "val_loss")
        assert min(m.value for m in curve) == pytest.approx(trial.value, rel=1e-6)
        sweeps_of_trials.append(run.data.tags["sweep"])
    # Both processes wrote into the one study, two trials each, side by side in time.
    assert sorted(sweeps_of_trials) == ["first", "first", "second", "second"]
    spans = []
    for name in processes:
        mine = [r for r in runs if r.data.tags["sweep"] == name]
        spans.append((min(r.info.start_time for r in mine), max(r.info.end_time for r in mine)))
    assert max(start for start, _ in spans) < min(end for _, end in spans)


@pytest.mark.parametrize(
    ("storage", "says"),
    [
        ("study.db", "'study.db' is not a database URL"),
        ("sqlite:///no/such/folder/study.db", "folder no/such/folder does not exist"),
        ("postgresql+psycopg://team:s3cret@127.0.0.1:{port}/optuna", "cannot be reached"),
    ],
)
def test_a_storage_that_cannot_work_is_refused_before_the_sweep(
    storage: str, says: str, tmp_path: Path
) -> None:
    storage = storage.format(port=free_port())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = search(storage, uri, tmp_path / "sweep", seed=1)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr[-2000:]
    assert stderr.startswith("lstm-doctor: error: hydra.sweeper.storage: ") and says in stderr
    assert len(stderr.splitlines()) == 1 and "s3cret" not in stderr
    assert not (tmp_path / "mlflow.db").exists()  # no sweep run was opened
