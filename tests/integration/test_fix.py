"""`lstm-doctor fix`: a diagnosed run's prescription rerun over seeds, under one parent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking import queries

from ..conftest import cli, new_store

pytestmark = pytest.mark.slow

BROKEN = [
    "dataset=stocks", "dataset.max_rows=1000", "scaling=none", "window.length=10",
    "window.horizon=2", "model.units=8", "training.epochs=3", "training.max_steps_per_epoch=10",
]  # fmt: skip


def app(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, store=f"sqlite:///{folder / 'mlflow.db'}", timeout=600)


@pytest.fixture(scope="module")
def broken_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess]:
    """The BROKEN configuration run once by the app: the folder of its store, its output."""
    folder = tmp_path_factory.mktemp("broken")
    new_store(folder / "mlflow.db")
    return folder, app(folder, *BROKEN, f"hydra.run.dir={folder / 'broken'}")


def store_with_the_broken_run(broken_run, folder: Path) -> subprocess.CompletedProcess:
    """A copy of the broken run's store in `folder`, for a test's own `fix` to write into
    (the run's artifacts stay where it logged them, beside the first store)."""
    source, broken = broken_run
    assert broken.returncode == 0, broken.stderr[-2000:]
    shutil.copy2(source / "mlflow.db", folder / "mlflow.db")
    return broken


def test_unscaled_run_is_diagnosed_and_its_fix_proven(
    broken_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = store_with_the_broken_run(broken_run, tmp_path)
    assert "data.unscaled_features (warning)" in broken.stdout
    assert "try first: lstm-doctor" in broken.stdout and "scaling=standard" in broken.stdout

    report = tmp_path / "fix"
    fixed = app(tmp_path, "fix", "last", "--top", "1", "--seeds", "2", "--out", str(report))
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert "proving 1 prescriptions x 2 seeds" in fixed.stdout
    assert "judged on mae over the targets every run shares" in fixed.stdout
    # Not a terminal: plain progress lines, one a run, with the count and the time left.
    assert "fix: 4/4 runs done, 0 failed" in fixed.stderr
    summary = json.loads((report / "summary.json").read_text())
    # Chosen on the validation targets every run shares, confirmed once on the test ones.
    assert summary["configurations"][0]["metric"] == "val_common_mae"
    assert summary["notes"][0].startswith("targets common to every run")
    assert "chosen on validation: `scaling=standard`" in fixed.stdout
    assert "confirmed on test (test_common_mae, one test)" in fixed.stdout
    verdicts = {c["name"]: c["verdict"] for c in summary["configurations"]}
    assert verdicts["original"] == "baseline"
    # Raw prices and volumes against standardised ones: the gap dwarfs seed noise.
    assert verdicts["scaling=standard"] == "better beyond seed noise"
    assert "scaling=standard" in fixed.stdout and "report:" in fixed.stdout

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (parent,) = client.search_runs([experiment], "tags.kind = 'sweep'")
    assert parent.data.tags["fix_of"]
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(c.info.run_name for c in children) == [
        "original seed=0", "original seed=1", "scaling=standard seed=0", "scaling=standard seed=1",
    ]  # fmt: skip
    assert {c.data.params["scaling.method"] for c in children} == {"none", "standard"}
    # The fix's own runs are diagnosed too, but `fix last` still means the user's run.
    assert {c.data.tags["fix_of"] for c in children} == {parent.data.tags["fix_of"]}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    last = queries.diagnosed_run(TrackingConfig(), "last")
    assert last.run_id == parent.data.tags["fix_of"]
    assert "data.unscaled_features" in last.diagnosis["codes"]


def test_fix_names_a_run_without_a_diagnosis(tmp_path: Path) -> None:
    """A run that failed before evaluate has no diagnosis.json: a clear error, exit 2."""
    data = tmp_path / "series.csv"
    data.write_text("time,y\n2020-01-01 00:00,1\n2020-01-01 01:00,n/a?\n")
    bad = app(tmp_path, "dataset=csv", f"dataset.path={data}", "dataset.target=y",
              f"hydra.run.dir={tmp_path / 'x'}")  # fmt: skip
    assert "non-numeric" in bad.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (failed,) = client.search_runs([experiment])
    result = app(tmp_path, "fix", failed.info.run_id)
    assert result.returncode == 2
    assert f"run {failed.info.run_id} has no diagnosis.json" in result.stderr


def test_fix_names_a_missing_run(tmp_path: Path) -> None:
    result = app(tmp_path, "fix", "nope")
    assert result.returncode == 2
    assert "run 'nope' not found" in result.stderr


def test_a_screen_finds_the_change_before_the_proof(broken_run, tmp_path: Path) -> None:
    """Forced on a run whose cause is known (raw prices): the screen's one round of short
    runs must keep scaling among its survivors, and the proof then proves it."""
    store_with_the_broken_run(broken_run, tmp_path)
    report = tmp_path / "fix"
    fixed = app(tmp_path, "fix", "last", "--screen", "on", "--seeds", "2", "--max-runs", "6",
                "--out", str(report))  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    line = next(li for li in fixed.stdout.splitlines() if li.startswith("screen:"))
    assert "1 rounds of successive halving" in line and "`scaling=standard`" in line
    assert "screen round 1 (3 epochs)" in fixed.stderr
    summary = json.loads((report / "summary.json").read_text())
    names = {c["name"] for c in summary["configurations"]}
    assert "scaling=standard" in names and not any("screen" in n for n in names)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lstm-doctor").experiment_id
    (parent,) = client.search_runs([experiment], "tags.kind = 'sweep'")
    assert "scaling=standard" in parent.data.tags["screen_survivors"]


def test_fix_refuses_arguments_that_cannot_make_a_proof(tmp_path: Path) -> None:
    """Checked before any run opens: one line each, exit 2, nothing left in the store."""
    for args, said in (
        (["--seeds", "0"], "--seeds 0: give a whole number of at least 1"),
        (["--seeds", "-1"], "--seeds -1"),
        (["--top", "0"], "--top 0"),
        (["--jobs", "0"], "--jobs 0"),
        (["--max-runs", "2"], "--max-runs 2 cannot hold the original and one fix"),
        (["model.units=3"], "'model.units=3': fix reruns the diagnosed run's own"),
    ):
        result = app(tmp_path, "fix", "last", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert said in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "mlflow.db").exists()
