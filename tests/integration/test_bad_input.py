"""Bad input stops with one line naming the file or key, exit status 2, and no partial output.

These run the real entry points in subprocesses: the DVC stage commands and the Hydra app.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.config.params import compose_config, render_params

from ..conftest import cli, new_store

ROOT = Path(__file__).resolve().parents[2]


def write_params(folder: Path, *overrides: str) -> None:
    (folder / "params.yaml").write_text(
        render_params(compose_config(list(overrides), ROOT / "conf"))
    )


def run_stage(folder: Path, stage: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"lstm_doctor.pipeline.dvc_{stage}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lstm-doctor: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def hourly(n: int) -> pd.DataFrame:
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": range(n)})


def csv_cases(tmp: Path) -> dict[str, tuple[pd.DataFrame | None, list[str], list[str]]]:
    unsorted = hourly(50).iloc[::-1]
    duplicated = pd.concat([hourly(50), hourly(50).iloc[[3]]])
    text = hourly(50).astype({"y": object})
    text.loc[7, "y"] = "n/a?"
    empty = hourly(50).assign(extra=float("nan"))
    return {
        "missing_file": (None, [], ["missing.csv: file not found", "dataset.path"]),
        "unknown_column": (
            hourly(50),
            ["dataset.target=load"],
            ["no column 'load'", "dataset.target"],
        ),
        "non_numeric": (text, [], ["column 'y' has non-numeric values", "'n/a?'"]),
        "unsorted": (unsorted, ["prepare.sort=false"], ["not in order", "prepare.sort=true"]),
        "duplicates": (duplicated, [], ["1 duplicate timestamps", "prepare.duplicates=drop"]),
        "all_nan_column": (
            empty,
            ["dataset.features=[extra]"],
            ["column 'extra' is entirely missing"],
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["missing_file", "unknown_column", "non_numeric", "unsorted", "duplicates", "all_nan_column"],
)
def test_prepare_stage_rejects_bad_csv(tmp_path: Path, case: str) -> None:
    data, overrides, fragments = csv_cases(tmp_path)[case]
    path = tmp_path / ("missing.csv" if data is None else "input.csv")
    if data is not None:
        data.to_csv(path, index=False)
    write_params(tmp_path, "dataset=csv", f"dataset.path={path}", "dataset.target=y", *overrides)
    result = run_stage(tmp_path, "prepare")
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_stage_rejects_a_wrong_type_in_params_yaml(tmp_path: Path) -> None:
    write_params(tmp_path)
    text = re.sub(r"units: \d+", "units: lots", (tmp_path / "params.yaml").read_text())
    (tmp_path / "params.yaml").write_text(text)
    assert_one_line_error(run_stage(tmp_path, "prepare"), "config key 'model.units'")


def test_stage_outside_the_project_says_where_to_run(tmp_path: Path) -> None:
    assert_one_line_error(run_stage(tmp_path, "scale"), "params.yaml not found", "project root")


def run_app(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    store = folder / "mlflow.db"
    uri = f"sqlite:///{store}" if store.exists() else new_store(store)
    return cli(*args, f"hydra.run.dir={folder / 'job'}", store=uri)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["model.hidden=3"], ["config key 'model.hidden' does not exist"]),
        (["model.unitz=5"], ["config key 'model.unitz' does not exist", "model.units"]),
        (["model.units=many"], ["config key 'model.units'"]),
        (["scaling=zscore"], ["not an option of scaling", "available: minmax, none, robust"]),
        (["optimizer=adamw"], ["not an option of optimizer", "available: adam, rmsprop, sgd"]),
        (["-m", "scaling=none,zscore"], ["'scaling=zscore' is not an option of scaling"]),
        (["dataset.target=pm2.5 (ug)"], ["cannot read the override", "quote a value"]),
        (["dataset.features=[price,promo]", "model.unitz=5"], ["'model.unitz' does not"]),
        (["dataset=csv"], ["config key 'dataset.path' has no value"]),
        (["window.gap=-5"], ["config key 'window.gap' is -5"]),
    ],
)
def test_app_rejects_unknown_keys_and_wrong_types(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    # Into the test's own folder: Hydra makes the job's folder before the check refuses,
    # and tests running side by side must not share one under the project's outputs/.
    assert_one_line_error(run_app(tmp_path, *args), *fragments)


def test_app_rejects_a_series_shorter_than_window_plus_horizon(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    hourly(120).to_csv(path, index=False)
    result = run_app(
        tmp_path,
        "dataset=csv",
        f"dataset.path={path}",
        "dataset.target=y",
        "window.length=48",
        "window.horizon=24",
    )
    assert_one_line_error(result, "split 'val' has 18 steps", "window.length")
    assert not (tmp_path / "job" / "windows").exists()
    assert not list((tmp_path / "job").glob(".windows.*"))
    # the job's MLflow run is there, marked FAILED with the reason
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("lstm-doctor").experiment_id])
    assert run.info.status == "FAILED"
    assert "split 'val' has 18 steps" in run.data.tags["error"]


def test_app_rejects_an_empty_split(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    hourly(5).to_csv(path, index=False)
    result = run_app(
        tmp_path,
        "dataset=csv",
        f"dataset.path={path}",
        "dataset.target=y",
        "split.val_fraction=0.05",
    )
    assert_one_line_error(result, "split 'val' is empty", "split.val_fraction")
    assert not (tmp_path / "job" / "scaled").exists()
