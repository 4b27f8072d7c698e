"""`lstm-doctor sync <output folder>`: log a run whose tracking store failed mid-training.

Training goes on when the store stops taking its logs; its outputs are complete on disk.
Once the store is back, this logs the curves (history.csv, monitors.csv), test metrics,
plots, diagnosis and model file into the same MLflow run and ends it FINISHED. Run again,
it logs nothing twice; a run that ended KILLED or FAILED keeps its status.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor sync <folder> [tracking.* overrides]."""
    parser = argparse.ArgumentParser(prog="lstm-doctor sync", description=__doc__)
    parser.add_argument("folder", help="the run's output folder (a job folder, or . for dvc)")
    parser.add_argument(
        "settings", nargs="*", help="tracking.* overrides naming the store, as for the pipeline"
    )
    args = parser.parse_args(argv)
    # Loaded after the arguments are read and checked: `sync --help` and a refused argument
    # answer without MLflow.
    from lstm_doctor.config.settings import only_tracking

    settings = only_tracking(args.settings, "sync")

    from lstm_doctor.pipeline.log_later import log_later

    done = log_later(Path(args.folder), settings)
    before, after = done["status_before"], done["status_after"]
    status = f"run {after}" if before == after else f"run {before} -> {after}"
    if not done["points"] and not done["metrics"] and before == after:
        print(f"run {done['run_id']}: {done['epochs']} epochs, nothing missing in the store; "
              f"{status}, unchanged")  # fmt: skip
        return
    print(
        f"run {done['run_id']}: {done['epochs']} epochs, {done['points']} curve points and "
        f"{done['metrics']} test metrics newly logged; {status}"
    )
