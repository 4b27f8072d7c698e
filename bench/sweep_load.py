"""A sweep under load: 24 tiny jobs on the joblib launcher with 2 workers against the
default SQLite store, and the same 24 jobs run serially (Hydra's basic launcher).

    python bench/sweep_load.py [--jobs 24] [--epochs 5]

Each side gets a fresh store. Checks every job's run FINISHED with every epoch of its
curve logged and no "database is locked" anywhere in the output; prints both wall times
and their ratio (parallel / serial).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "dataset.max_rows=1200", "window.length=24", "window.horizon=4", "model.units=8",
    "training.batch_size=32", "training.max_steps_per_epoch=8",
    "training.early_stopping.enabled=false", "tracking.log_model=false",
]  # fmt: skip


def sweep(folder: Path, launcher: list[str], jobs: int, epochs: int) -> dict[str, float]:
    """Run the sweep into its own store; return wall time and what the store holds."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", "-m", *launcher, *TINY,
         f"training.epochs={epochs}", f"seed=range({jobs})",
         f"hydra.sweep.dir={folder / 'sweep'}"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    wall = time.monotonic() - start
    output = result.stdout + result.stderr
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lstm-doctor")
    runs = client.search_runs(
        [experiment.experiment_id], "tags.mlflow.parentRunId != ''", max_results=1000
    )
    complete = sum(
        run.info.status == "FINISHED"
        and len(client.get_metric_history(run.info.run_id, "loss")) == epochs
        for run in runs
    )
    return {
        "wall": wall,
        "exit": result.returncode,
        "complete": complete,
        "locked": output.count("database is locked"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    sides = {
        "joblib, 2 workers": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        "serial (basic launcher)": [],
    }
    rows = {}
    for name, launcher in sides.items():
        with tempfile.TemporaryDirectory(prefix="sweep-load-") as folder:
            rows[name] = sweep(Path(folder), launcher, args.jobs, args.epochs)
        r = rows[name]
        print(
            f"{name:<24} {r['wall']:7.1f} s  exit {r['exit']}  runs complete "
            f"{r['complete']}/{args.jobs}  'database is locked' x{r['locked']}",
            flush=True,
        )
    ratio = rows["joblib, 2 workers"]["wall"] / rows["serial (basic launcher)"]["wall"]
    print(f"wall time parallel / serial: {ratio:.2f}")
    ok = all(
        r["complete"] == args.jobs and not r["locked"] and not r["exit"] for r in rows.values()
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
