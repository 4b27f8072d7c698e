"""The commands beside the pipeline (show, compare, fix) on the stores and checkouts people
have: a fresh clone, a store configured in conf/, run names with quotes in them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.base.errors import DataError
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking import queries, store

from ..conftest import ROOT, cli


def lstm_doctor(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, cwd=cwd, env=env)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    return line


def test_show_on_a_fresh_clone_says_what_to_run_first(project_copy: Path) -> None:
    """A clone has the committed reports/ but no models/run.json and no mlflow.db."""
    assert (project_copy / "reports" / "metrics.json").exists()
    line = one_line(lstm_doctor(project_copy, "show"))
    assert "has not run the pipeline yet" in line and "dvc repro" in line
    assert not (project_copy / "mlflow.db").exists()


def test_a_selector_with_quotes_is_looked_up_not_injected(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings = TrackingConfig(uri=uri)
    client = MlflowClient(uri)
    experiment = store.use_store(settings)
    run = client.create_run(experiment, tags={"sweep": "it's mine"})
    client.set_tag(run.info.run_id, "mlflow.runName", "x")
    _, runs = queries.find_runs(settings, "it's mine")
    assert [r.run_id for r in runs] == [run.info.run_id]
    for selector in ("it's' OR tags.sweep != '", 'say "hi"'):
        with pytest.raises(DataError, match="no runs found"):
            queries.find_runs(settings, selector)
    with pytest.raises(DataError, match="both"):
        queries.find_runs(settings, 'it\'s "both"')
    assert queries.runs_with_curves(uri, settings.experiment, "it's mine") is not None


def test_commands_look_in_the_store_and_experiment_conf_names(tmp_path: Path) -> None:
    """tracking.uri and tracking.experiment set in conf/ are where fix and compare look."""
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    team_db = tmp_path / "team.db"
    (conf / "tracking" / "local.yaml").write_text(
        f"uri: sqlite:///{team_db}\nexperiment: team-x\nrun_name: null\nlog_model: true\n"
    )
    settings = TrackingConfig(uri=f"sqlite:///{team_db}", experiment="team-x")
    client = MlflowClient(settings.uri)
    run = client.create_run(store.use_store(settings), tags={"sweep": "s1"})
    client.set_terminated(run.info.run_id)
    env = {"LSTM_DOCTOR_CONF": str(conf), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    found = lstm_doctor(tmp_path, "compare", "s1", "--out", str(tmp_path / "cmp"), **env)
    assert found.returncode == 0, found.stderr
    assert (tmp_path / "cmp" / "report.html").exists()
    # `fix last` looks in team-x of team.db: the one run there has no diagnosis yet.
    line = one_line(lstm_doctor(tmp_path, "fix", "last", **env))
    assert "no diagnosed run in sqlite:///" in line and "team.db" in line


def test_a_missing_data_file_is_one_line_and_a_failed_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = lstm_doctor(
        ROOT, "dataset=csv", "dataset.path=nope.csv", "dataset.target=y",
        f"hydra.run.dir={tmp_path / 'job'}", MLFLOW_TRACKING_URI=uri,
    )  # fmt: skip
    assert "nope.csv: file not found" in one_line(result)
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("lstm-doctor").experiment_id])
    assert run.info.status == "FAILED"
    assert "nope.csv: file not found" in run.data.tags["error"]
