"""Parallel jobs log into one store at once (a sweep on joblib workers): the same dataset
logged by several processes at the same moment must not fail any of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow

WORKER = """
import sys, time
import mlflow, pandas as pd
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking import lifecycle
from lstm_doctor.tracking.store import use_store
uri, start = sys.argv[1], float(sys.argv[2])
experiment = use_store(TrackingConfig(uri=uri))
frame = pd.DataFrame({"y": [1.0, 2.0, 3.0]})
while time.time() < start:  # all workers begin together
    time.sleep(0.01)
for i in range(15):
    with mlflow.start_run(experiment_id=experiment):
        lifecycle.log_datasets({"training": frame.assign(i=i)}, "file:///data.csv", "d", "y")
"""


def test_the_same_dataset_logged_by_parallel_processes_never_fails_a_run(tmp_path: Path) -> None:
    import time

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()  # create the store once, as a sweep's parent does
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    start = str(time.time() + 8)
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), uri, start], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr[-2000:]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    assert len(runs) == 45 and all(r.inputs.dataset_inputs for r in runs)


OPENER = """
import sys, time
from lstm_doctor.tracking.store import use_store
from lstm_doctor.config import TrackingConfig
uri, start = sys.argv[1], float(sys.argv[2])
import mlflow.store.tracking.sqlalchemy_store  # the import's cost outside the race
while time.time() < start:
    time.sleep(0.005)
print(use_store(TrackingConfig(uri=uri)))
"""


def test_processes_opening_one_new_store_at_once_all_get_its_experiment(tmp_path: Path) -> None:
    """Two commands started together on a fresh SQLite store (a test and the run it
    watches, two terminals) race to create its tables; neither may be refused for it."""
    import time

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = tmp_path / "opener.py"
    script.write_text(OPENER)
    start = str(time.time() + 10)
    openers = [
        subprocess.Popen(
            [sys.executable, str(script), uri, start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    ids = set()
    for opener in openers:
        out, err = opener.communicate(timeout=300)
        assert opener.returncode == 0, err[-2000:]
        ids.add(out.strip().splitlines()[-1])
    assert len(ids) == 1
