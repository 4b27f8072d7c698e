"""How much of a proof's wall time is training: `lstm-doctor fix` with 2 fixes x 3 seeds on a
diagnosed run, against the sum of its runs' own training times over the parallel jobs.

    python bench/proof_efficiency.py [--jobs 2] [--seeds 3] [--rows 3000] [--epochs 8]

A raw-price series (stocks, scaling=none: the doctor prescribes fixes for it) is run and
diagnosed once by the app; then `fix last --top 2` proves its first two prescriptions over
the seeds (the original and each fix, no screen, no combined run) into a temp SQLite store.
Each run's training time is the sum of its `epoch_seconds` curve in MLflow (the fit's
epochs, validation included); its span is its MLflow start to end (all five stages and their
logging). Prints the fix's wall time, training / jobs / wall (the efficiency) and where the
rest went: inside the runs but not training, and outside any run (worker processes
starting, TensorFlow's import, the parent's own work: the store, the proof, the report).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = [sys.executable, "-m", "lstm_doctor.commands.app"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="proof-efficiency-"))
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "LSTM_DOCTOR_QUIET": "1"}
    broken = [
        "dataset=stocks", f"dataset.max_rows={args.rows}", "scaling=none", "window.length=24",
        "window.horizon=4", "model.units=16", f"training.epochs={args.epochs}",
        "training.early_stopping.enabled=false",
    ]  # fmt: skip

    def app(*argv: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        start = time.perf_counter()
        done = subprocess.run([*APP, *argv], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"lstm-doctor {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
        return time.perf_counter() - start, done

    first, _ = app(*broken, f"hydra.run.dir={folder / 'diagnosed'}")
    print(f"diagnosed run: {first:.1f} s (one run, its own process)")
    max_runs = 3 * args.seeds  # the original and two fixes: no combined run
    wall, fixed = app("fix", "last", "--top", "2", "--seeds", str(args.seeds), "--max-runs",
                      str(max_runs), "--jobs", str(args.jobs), "--screen", "off",
                      "--out", str(folder / "fix"))  # fmt: skip
    print(next(line for line in fixed.stdout.splitlines() if line.startswith("proving")))

    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = [
        r
        for r in client.search_runs(experiments, "tags.fix_of != ''", max_results=1000)
        if "mlflow.parentRunId" in r.data.tags
    ]
    training = {
        r.info.run_id: sum(m.value for m in client.get_metric_history(r.info.run_id, "epoch_seconds"))
        for r in runs
    }  # fmt: skip
    spans = {r.info.run_id: (r.info.end_time - r.info.start_time) / 1000 for r in runs}
    trained, spanned = sum(training.values()), sum(spans.values())
    jobs = args.jobs
    print(f"fix: {len(runs)} runs on {jobs} jobs, wall {wall:.1f} s")
    print(f"  training (sum of epoch_seconds) {trained:.1f} s -> {trained / jobs:.1f} s a job")
    print(f"  runs' spans (MLflow start to end) {spanned:.1f} s -> {spanned / jobs:.1f} s a job")
    print(f"efficiency: training / jobs / wall = {trained / jobs / wall:.3f}")
    print("where the wall went (per job):")
    print(
        f"  training                         {trained / jobs:7.1f} s  {trained / jobs / wall:6.1%}"
    )
    rest = (spanned - trained) / jobs
    print(f"  in the runs, not training        {rest:7.1f} s  {rest / wall:6.1%}"
          "  (prepare, scale, window, evaluate, diagnosis, logging, the model)")  # fmt: skip
    outside = wall - spanned / jobs
    print(f"  outside any run                  {outside:7.1f} s  {outside / wall:6.1%}"
          "  (processes, imports, the parent's store calls, proof and report)")  # fmt: skip
    for r in sorted(runs, key=lambda r: r.info.start_time):
        print(f"  {r.info.run_name:<40} span {spans[r.info.run_id]:6.1f} s, "
              f"training {training[r.info.run_id]:6.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
