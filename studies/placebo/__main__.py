"""Calibration of the proof: how often it calls a change that cannot matter better or worse.

    python -m studies.placebo [--seeds 24] [--proofs 1000] [--epochs 4]

Trains one tiny configuration over `--seeds` seeds as a real sweep (the Hydra app, an
MLflow store in a temp folder), then makes `--proofs` placebo proofs from those runs: each
draws 3 seeds as the "original" and 3 other seeds for each of 3 "fixes" that are the same
configuration under another name, and judges them exactly as `lstm-doctor fix` does
(lstm_doctor.comparison.selection: common validation targets, Welch, Holm over the fixes; the chosen
fix confirmed once on test). Prints how often a proof called any placebo better or worse,
how often a single placebo comparison was called, and how often a "confirmed" fix came
out; all three should be within the test's nominal rate (5%).
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lstm_doctor.comparison import selection as proving
from lstm_doctor.comparison.judging import RunRecord
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking import queries

ROOT = Path(__file__).resolve().parents[2]
TINY = [
    "dataset.max_rows=1500", "window.length=24", "window.horizon=4", "model.units=8",
    "training.batch_size=32", "training.max_steps_per_epoch=10", "tracking.log_model=false",
]  # fmt: skip
FIXES = ("placebo_a", "placebo_b", "placebo_c")


def sweep(folder: Path, seeds: int, epochs: int) -> list[RunRecord]:
    """Train the configuration once per seed; return its finished runs."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", "-m", *TINY,
         f"training.epochs={epochs}", f"seed=range({seeds})", "hydra/launcher=joblib",
         "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={folder / 'sweep'}"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"the sweep failed:\n{done.stderr[-3000:]}")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    _, runs = queries.find_runs(TrackingConfig(), "lstm-doctor")
    return [r for r in runs if r.status == "FINISHED"]


def relabel(run: RunRecord, label: str) -> RunRecord:
    """The same run under another configuration's name (the placebo)."""
    copied = copy.deepcopy(run)
    copied.overrides = f"{label} seed={run.params['seed']}"
    copied.params = {**copied.params, "placebo": label}
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    if args.seeds < 12:
        sys.exit("--seeds: at least 12 (3 for the original and 3 for each of 3 placebos)")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        runs = sweep(Path(tmp), args.seeds, args.epochs)
        trained = time.monotonic() - started
        tables = queries.target_tables(TrackingConfig(), [r.run_id for r in runs])
    rng = np.random.default_rng(0)
    any_call = single_calls = comparisons = confirmed = 0
    started = time.monotonic()
    for _ in range(args.proofs):
        order = rng.permutation(len(runs))
        chosen = [runs[i] for i in order[:12]]
        family = [relabel(r, "original") for r in chosen[:3]]
        for k, label in enumerate(FIXES):
            family += [relabel(r, label) for r in chosen[3 + 3 * k : 6 + 3 * k]]
        proof = proving.prove(family, tables, "mae", "original")
        verdicts = [s.verdict for s in proof.summaries if s.name != "original"]
        calls = sum(v.startswith(("better", "worse")) for v in verdicts)
        any_call += calls > 0
        single_calls += calls
        comparisons += len(verdicts)
        if proof.confirmation and proof.confirmation[0].startswith("better"):
            confirmed += 1
    judged = time.monotonic() - started
    print(f"runs: {len(runs)} finished ({trained:.0f} s of training); proofs: {args.proofs} "
          f"({judged:.1f} s to judge)")  # fmt: skip
    print(f"judged on: {proof.metric}; {proof.basis}")
    print(f"proofs calling any placebo better or worse: {any_call}/{args.proofs} = "
          f"{any_call / args.proofs:.3f} (nominal <= 0.05)")  # fmt: skip
    print(f"single comparisons called: {single_calls}/{comparisons} = "
          f"{single_calls / comparisons:.3f}")  # fmt: skip
    print(f"placebos chosen and confirmed better on test: {confirmed}/{args.proofs} = "
          f"{confirmed / args.proofs:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
