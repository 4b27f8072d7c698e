"""Shared fixtures: a temporary MLflow store, tiny configs composed from the real conf/."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config import Config, validate
from lstm_doctor.config.params import compose_config

ROOT = Path(__file__).resolve().parents[1]

# A test's layer is its folder (docs/ARCHITECTURE.md): tests/unit, tests/data,
# tests/integration; `pytest -m unit` runs in about a minute. A test marked slow is
# integration wherever it lives.
TEST_LAYERS = ("unit", "data", "integration")
# The suite draws the same examples every run (a red CI names a bug, never a lucky draw);
# HYPOTHESIS_PROFILE=explore draws new ones, many more, to hunt for the next bug.
settings.register_profile("suite", max_examples=40, derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its layer."""
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if item.get_closest_marker("slow"):
            layer = "integration"
        item.add_marker(getattr(pytest.mark, layer))


def cli(
    *args: str,
    cwd: Path = ROOT,
    store: str | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    """`lstm-doctor ARGS` in its own process, as a user runs it: the one way the tests drive
    the command line. `store` is the MLflow store (MLFLOW_TRACKING_URI) it logs to."""
    extra = {**(env or {}), **({"MLFLOW_TRACKING_URI": store} if store else {})}
    return subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", *args], cwd=cwd,
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **extra},
    )  # fmt: skip


@functools.cache
def _empty_store() -> Path:
    """An empty MLflow SQLite store made by MLflow, once per test process: a new store's
    tables take MLflow's migrations about 1-2 s of CPU, paid by every test that makes one."""
    from mlflow.tracking import MlflowClient

    folder = Path(tempfile.mkdtemp(prefix="lstm-doctor-store-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()
    return folder / "mlflow.db"


def new_store(path: Path) -> str:
    """A new, empty MLflow SQLite store at `path` (a copy of one MLflow made), its URI.
    Its Default experiment keeps its artifacts beside it, as a store made there would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_empty_store(), path)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            (str(path.parent / "mlruns" / "0"),),
        )
    return f"sqlite:///{path}"


# Small enough to train in seconds on 2 CPU cores, big enough that every split has windows.
TINY = [
    "dataset.max_rows=1200",
    "window.length=24",
    "window.horizon=4",
    "model.units=8",
    "training.epochs=2",
    "training.batch_size=32",
    "training.max_steps_per_epoch=8",
]


def tiny_run(folder: Path, *overrides: str, **kwargs: object) -> tuple[dict, StagePaths, str]:
    """One tiny run of all five stages into `folder`, logged to a SQLite store there: the
    pipeline's result, the job's paths and the store's URI (for module-scoped fixtures)."""
    from lstm_doctor.pipeline.in_process import run_pipeline

    uri = new_store(folder / "mlflow.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.delenv("MLFLOW_RUN_ID", raising=False)
        mp.chdir(ROOT)
        paths = StagePaths.job(folder / "job")
        result = run_pipeline(tiny_config(*overrides), paths, **kwargs)  # type: ignore[arg-type]
    return result, paths, uri


def tiny_config(*overrides: str) -> Config:
    """The real default composition, shrunk, with extra overrides applied last."""
    return validate(compose_config([*TINY, *overrides], conf_dir=ROOT / "conf"))


@pytest.fixture
def mlflow_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite MLflow store for one test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    return uri


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the project root, where data/raw paths in conf/ resolve."""
    monkeypatch.chdir(ROOT)


@pytest.fixture
def project_copy(tmp_path: Path) -> Iterator[Path]:
    """A git + DVC checkout of the project in a temp folder (tracked files only)."""
    target = tmp_path / "project"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=target, check=True, env=env)
    yield target


@pytest.fixture(scope="session")
def sweep(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, str, subprocess.CompletedProcess[str]]:
    """6 jobs on 2 joblib workers against one SQLite store; lr=50 diverges on purpose."""
    folder = tmp_path_factory.mktemp("sweep")
    uri = new_store(folder / "mlflow.db")
    result = cli(
        "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY, "training.epochs=3",
        "optimizer=sgd", "optimizer.lr=50,0.01,0.001", "tracking.register_as=sweep-model",
        "seed=0,1", f"hydra.sweep.dir={folder / 'lr_sweep'}", store=uri, timeout=600,
    )  # fmt: skip
    return folder, uri, result


def assert_fix_reruns_the_run(uri: str, run_id: str) -> list[str]:
    """What `lstm-doctor fix` reruns as "original" composes to exactly the configuration
    the run logged as params, however the run was made. Returns those overrides."""
    from mlflow.tracking import MlflowClient

    from lstm_doctor.commands.fix import diagnosed_overrides
    from lstm_doctor.config import TrackingConfig, flatten
    from lstm_doctor.tracking import queries

    settings = TrackingConfig(uri=uri)
    found = queries.diagnosed_run(settings, run_id)
    base = diagnosed_overrides(queries.logged_config(settings, run_id),
                               found.diagnosis["overrides"])  # fmt: skip
    rerun = validate(compose_config(base, conf_dir=ROOT / "conf"))
    params = MlflowClient(uri).get_run(run_id).data.params
    expected = {k: "" if v is None else str(v) for k, v in flatten(rerun).items()}
    # `mlflow run` adds the MLproject's own parameter (overrides) beside the config's, and
    # every run logs the sizes it resolved from its data (`resolved.*`), which follow.
    logged = {k: v for k, v in params.items() if k != "overrides" and not k.startswith("resolved.")}
    assert expected == logged, (base, set(expected.items()) ^ set(logged.items()))
    return base


@contextmanager
def mlflow_server(folder: Path, port: int | None = None) -> Iterator[str]:
    """A real `mlflow server` on 127.0.0.1 (SQLite backend, proxied artifacts in `folder`),
    stopped on leaving; yields its URL. Restarted on the same folder and port, it serves the
    same runs."""
    from lstm_doctor.tracking import server_process

    folder.mkdir(parents=True, exist_ok=True)
    with server_process.mlflow_server(
        f"sqlite:///{folder / 'server.db'}", port or server_process.free_port(), timeout=180,
        artifacts=folder / "artifacts",
    ) as url:  # fmt: skip
        yield url


def pytest_configure(config: pytest.Config) -> None:
    """Group and order the tests for pytest-xdist's workers (tests/parallel.py)."""
    from .parallel import ParallelPlan

    config.pluginmanager.register(ParallelPlan(), "lstm-doctor-parallel-plan")
