"""Interrupted, nothing lost: a real signal sent to a real training process ends its MLflow
run KILLED, with its curves so far and which signal at which epoch, and leaves nothing
half-written for DVC to cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ..conftest import ROOT, TINY, new_store

pytestmark = pytest.mark.slow

LONG = [*TINY, "training.epochs=400", "training.early_stopping.enabled=false"]


def made_store(path: Path) -> str:
    """A SQLite store with its tables made here first: the test's own polling client is
    not an lstm-doctor command, so it does not take the lock that keeps two processes from
    creating one store's tables at once."""
    return new_store(path)


def wait_for_epochs(uri: str, process: subprocess.Popen[str], epochs: int = 2) -> str:
    """The id of the process's run once `epochs` epochs of its curve are in the store."""
    client = MlflowClient(uri)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        experiment = client.get_experiment_by_name("lstm-doctor")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        if runs and len(client.get_metric_history(runs[0].info.run_id, "loss")) >= epochs:
            return runs[0].info.run_id
        time.sleep(0.5)
    raise AssertionError("no epochs reached the store in time")


def assert_killed(uri: str, run_id: str, signal_name: str) -> None:
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.info.end_time is not None
    assert run.data.tags["killed_by"] == signal_name
    curve = client.get_metric_history(run_id, "loss")
    assert len(curve) >= 2
    assert run.data.tags["killed_after_epochs"] == str(max(m.step for m in curve) + 1)


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_apps_run_killed_with_its_curves(tmp_path: Path, sent: int) -> None:
    uri = made_store(tmp_path / "mlflow.db")
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_doctor.commands.app", *LONG,
         f"hydra.run.dir={tmp_path / 'job'}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    run_id = wait_for_epochs(uri, process)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=120)
    name = signal.Signals(sent).name
    assert process.returncode == 128 + sent, stderr[-2000:]
    assert "Traceback" not in stderr
    assert f"lstm-doctor: interrupted by {name}; the MLflow run is marked KILLED" in stderr
    assert_killed(uri, run_id, name)
    job = tmp_path / "job"
    assert not (job / "models").exists() and not list(job.glob(".models.*"))


def test_a_signal_to_dvcs_train_stage_leaves_nothing_to_cache(project_copy: Path) -> None:
    uri = made_store(project_copy / "mlflow.db")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    subprocess.run([sys.executable, "-m", "lstm_doctor.config.params", *LONG],
                   cwd=project_copy, check=True, env=env, timeout=120)  # fmt: skip
    for stage in ("prepare", "scale", "window"):
        subprocess.run([sys.executable, "-m", f"lstm_doctor.pipeline.dvc_{stage}"],
                       cwd=project_copy, check=True, env=env, timeout=300)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_doctor.pipeline.dvc_train"],
        cwd=project_copy, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    run_id = wait_for_epochs(uri, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert_killed(uri, run_id, "SIGTERM")
    assert not (project_copy / "models").exists()
    assert not list(project_copy.glob(".models.*"))


def child_runs(uri: str, parent: str) -> dict[str, list]:
    """The parent's children by status."""
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    runs = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent}'")
    by_status: dict[str, list] = {}
    for run in runs:
        by_status.setdefault(run.info.status, []).append(run)
    return by_status


def wait_for(condition, what: str, process: subprocess.Popen[str], seconds: float = 240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-3000:]
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not in time")


def running_with_epochs(uri: str, parent: str, runs: int, epochs: int = 2) -> bool:
    client = MlflowClient(uri)
    running = child_runs(uri, parent).get("RUNNING", [])
    return len(running) >= runs and all(
        len(client.get_metric_history(r.info.run_id, "loss")) >= epochs for r in running
    )


def sweep_parent(uri: str) -> str | None:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor")
    if experiment is None:
        return None
    runs = client.search_runs([experiment.experiment_id], "tags.kind = 'sweep'")
    return runs[0].info.run_id if runs else None


@pytest.mark.parametrize("to_group", [False, True], ids=["parent-only", "process-group"])
def test_a_signal_stops_a_joblib_sweep_killed_and_the_same_folder_resumes(
    tmp_path: Path, to_group: bool
) -> None:
    """SIGTERM to the sweep's process alone (as `kill` does), or to its whole process group
    (as a scheduler, or Ctrl-C's SIGINT in a terminal, does): the parent and the running
    jobs end KILLED with their curves; the finished jobs stay; rerunning the same command
    into the same folder skips them and runs only the rest."""
    uri = made_store(tmp_path / "mlflow.db")
    command = [
        sys.executable, "-m", "lstm_doctor.commands.app", "-m", "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2", *TINY, "training.early_stopping.enabled=false",
        "training.epochs=1,60", "seed=0,1,2", f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    MlflowClient(uri).search_experiments()  # the store exists before two processes open it
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)  # fmt: skip
    parent = wait_for(lambda: sweep_parent(uri), "the sweep's parent run", process)
    wait_for(lambda: len(child_runs(uri, parent).get("FINISHED", [])) == 3, "3 jobs", process)
    wait_for(lambda: running_with_epochs(uri, parent, 2), "2 jobs training", process)
    sent = signal.SIGINT if to_group else signal.SIGTERM
    if to_group:
        os.killpg(process.pid, sent)
    else:
        process.send_signal(sent)
    _, stderr = process.communicate(timeout=180)
    name = signal.Signals(sent).name
    assert process.returncode == 128 + sent, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    # The sixth job, still queued, never starts: no run is left RUNNING behind the stop.
    assert f"stopped by {name}: 3 jobs finished, 2 killed, 0 failed" in stderr
    assert f"hydra.sweep.dir={tmp_path / 'sweep'}" in stderr

    client = MlflowClient(uri)
    run = client.get_run(parent)
    assert run.info.status == "KILLED" and run.data.tags["killed_by"] == name
    assert run.data.metrics["sweep_finished"] == 3 and run.data.metrics["sweep_killed"] == 2
    children = child_runs(uri, parent)
    assert set(children) == {"FINISHED", "KILLED"}
    for killed in children["KILLED"]:
        assert killed.data.tags["killed_by"] == name
        assert "training.epochs=60" in killed.data.tags["overrides"]
        assert len(client.get_metric_history(killed.info.run_id, "loss")) >= 2
    finished_before = {r.info.run_id for r in children["FINISHED"]}

    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env,
                             timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming run {parent}, 3 jobs finished before" in resumed.stdout
    assert resumed.stdout.count("finished before (run") == 3
    run = client.get_run(parent)
    assert run.info.status == "FINISHED" and run.data.tags["resumed"] == "1"
    children = child_runs(uri, parent)
    assert len(children["FINISHED"]) == 6 and len(children["KILLED"]) == 2
    assert finished_before < {r.info.run_id for r in children["FINISHED"]}
    epochs = {
        r.info.run_id: len(client.get_metric_history(r.info.run_id, "loss"))
        for r in children["FINISHED"]
    }
    assert sorted(epochs.values()) == [1, 1, 1, 60, 60, 60]


def test_a_signal_stops_a_fix_killed_and_resume_runs_only_the_rest(tmp_path: Path) -> None:
    """`fix` sent SIGTERM with two runs finished and two training: the proof's parent and
    the two runs end KILLED; `fix --resume` keeps the finished pair and reruns the rest."""
    uri = made_store(tmp_path / "mlflow.db")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    broken = [
        "dataset=stocks", "dataset.max_rows=1000", "scaling=none", "window.length=10",
        "window.horizon=2", "model.units=8", "training.max_steps_per_epoch=10",
        "training.early_stopping.enabled=false", "training.epochs=60",
        f"hydra.run.dir={tmp_path / 'broken'}",
    ]  # fmt: skip
    app = [sys.executable, "-m", "lstm_doctor.commands.app"]
    made = subprocess.run([*app, *broken], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert made.returncode == 0 and "scaling=standard" in made.stdout, made.stderr[-2000:]
    fix = [*app, "fix", "last", "--top", "1", "--seeds", "2", "--jobs", "2",
           "--out", str(tmp_path / "fix")]  # fmt: skip
    process = subprocess.Popen(fix, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)  # fmt: skip
    parent = wait_for(lambda: sweep_parent(uri), "the fix's parent run", process)
    wait_for(lambda: len(child_runs(uri, parent).get("FINISHED", [])) == 2, "2 runs", process)
    wait_for(lambda: running_with_epochs(uri, parent, 2), "2 runs training", process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "fix stopped by SIGTERM: 2 runs finished, 2 killed, 0 failed" in stderr
    diagnosed = MlflowClient(uri).get_run(parent).data.tags["fix_of"]
    assert f"Resume with: lstm-doctor fix {diagnosed} --resume" in stderr
    assert MlflowClient(uri).get_run(parent).info.status == "KILLED"
    killed = {r.info.run_name for r in child_runs(uri, parent)["KILLED"]}
    assert killed == {"scaling=standard seed=0", "scaling=standard seed=1"}

    resumed = subprocess.run([*fix, "--resume"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming: 2 runs finished before are kept, not rerun" in resumed.stdout
    assert "fix: 2/2 runs done" in resumed.stderr
    assert "6 runs (4 finished, 0 failed, 2 killed)" in resumed.stdout
    assert MlflowClient(uri).get_run(parent).info.status == "FINISHED"
    summary = json.loads((tmp_path / "fix" / "summary.json").read_text())
    assert {c["name"]: len(c["values"]) for c in summary["configurations"]} == {
        "original": 2, "scaling=standard": 2,
    }  # fmt: skip


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_mlflow_run_ends_the_run_killed(tmp_path: Path, sent: int) -> None:
    """SIGTERM to `mlflow run` alone (its child would train on, orphaned) or SIGINT to its
    process group (Ctrl-C): the run MLflow made ends KILLED with its curves."""
    uri = made_store(tmp_path / "mlflow.db")
    MlflowClient(uri).search_experiments()
    overrides = " ".join([*LONG, f"hydra.run.dir={tmp_path / 'job'}"])
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "run", ".", "-P", f"overrides={overrides}",
         "--env-manager", "local", "--experiment-name", "lstm-doctor"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri,
             "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    run_id = wait_for_epochs(uri, process)
    if sent == signal.SIGINT:
        os.killpg(process.pid, sent)
    else:
        process.send_signal(sent)
    process.communicate(timeout=120)
    name = signal.Signals(sent).name
    # The orphaned child ends its run on its own; after Ctrl-C, `mlflow run` marks it FAILED
    # as it exits, and the run is set back to KILLED once it has.
    # A busy machine (the whole suite on both cores) can take minutes to end the child.
    deadline = time.monotonic() + 300
    while MlflowClient(uri).get_run(run_id).info.status != "KILLED":
        assert time.monotonic() < deadline, MlflowClient(uri).get_run(run_id).info.status
        time.sleep(0.5)
    assert_killed(uri, run_id, name)


def test_ctrl_c_during_dvc_repro_ends_the_run_killed_and_the_next_repro_runs_clean(
    project_copy: Path,
) -> None:
    """Ctrl-C (SIGINT to `dvc repro`'s process group, as a terminal sends it) mid-training:
    the run is KILLED, no models/ is left for DVC to cache, and the next `dvc repro` runs
    the train stage again, cleanly."""
    from .test_dvc import dvc, set_params

    uri = made_store(project_copy / "mlflow.db")
    MlflowClient(uri).search_experiments()
    set_params(project_copy, *LONG)
    process = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro"], cwd=project_copy, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri,
             "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    run_id = wait_for_epochs(uri, process)
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=120)
    assert process.returncode != 0
    assert_killed(uri, run_id, "SIGINT")
    assert not (project_copy / "models").exists()
    assert not list(project_copy.glob(".models.*"))

    set_params(project_copy, *TINY)
    out = dvc(project_copy, "repro")
    assert "Running stage 'train'" in out and "Running stage 'evaluate'" in out
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    statuses = sorted(r.info.status for r in client.search_runs([experiment]))
    assert statuses == ["FINISHED", "KILLED"]
