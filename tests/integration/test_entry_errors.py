"""A value out of range stops every entry point the same way: one line naming the key,
no traceback, nothing written for DVC to cache. Every key's range is checked in process
(test_config_values); here each entry point's wiring is proven on a key of each section."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from lstm_doctor.config.params import compose_config

from ..conftest import ROOT

# One out-of-range value per section: what validated before each key had its range.
BAD = [
    ("window.gap", "-5"),
    ("dataset.max_rows", "-100"),
    ("model.dense_units", "-1"),
    ("optimizer.momentum", "-0.5"),
    ("optimizer.clipnorm", "-1.0"),
    ("dataset.period", "-24"),
    ("training.early_stopping.monitor", "val_los"),
    ("seed", "-1"),
]


def write_bad_params(folder: Path, key: str, value: str) -> None:
    """params.yaml as a hand edit would leave it: the default composition, one value changed
    without going through any check."""
    node = compose_config([], ROOT / "conf")
    OmegaConf.update(node, key, yaml.safe_load(value), merge=False)
    OmegaConf.save(node, folder / "params.yaml")


def one_line_naming(stderr: str, key: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("lstm-doctor: error:")]
    assert len(lines) == 1 and f"'{key}'" in lines[0], stderr


@pytest.mark.parametrize(("key", "value"), BAD)
def test_a_stage_as_dvc_runs_it_refuses_the_value(tmp_path: Path, key: str, value: str) -> None:
    write_bad_params(tmp_path, key, value)
    result = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.pipeline.dvc_prepare"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    one_line_naming(result.stderr, key)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("key", "value"), BAD)
def test_the_app_refuses_the_value(tmp_path: Path, key: str, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", f"{key}={value}",
         f"hydra.run.dir={tmp_path / 'job'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}"},
    )  # fmt: skip
    assert result.returncode == 2
    one_line_naming(result.stderr, key)
    assert not (tmp_path / "job" / "prepared").exists()


@pytest.mark.slow
def test_dvc_repro_refuses_the_value_and_caches_nothing(project_copy: Path) -> None:
    write_bad_params(project_copy, "window.gap", "-5")
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=project_copy, capture_output=True,
        text=True, timeout=300,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
             "MLFLOW_TRACKING_URI": f"sqlite:///{project_copy / 'm.db'}"},
    )  # fmt: skip
    assert result.returncode != 0
    one_line_naming(result.stdout + result.stderr, "window.gap")
    assert not (project_copy / "data" / "prepared").exists()


@pytest.mark.slow
def test_mlflow_run_refuses_the_value(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlflow", "run", str(ROOT), "-P",
         f"overrides=window.gap=-5 hydra.run.dir={tmp_path / 'job'}",
         "--env-manager", "local", "--experiment-name", "lstm-doctor"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}",
             "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    assert result.returncode != 0
    one_line_naming(result.stderr, "window.gap")
