"""`lstm-doctor sync <output folder>`: log a run whose tracking store failed mid-training.

Training goes on when the store stops taking its logs; its outputs are complete on disk.
Once the store is back, this logs the curves (history.csv, monitors.csv), test metrics,
plots, diagnosis and model file into the same MLflow run and ends it FINISHED.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor sync <folder> [tracking.* overrides]."""
    from lstm_doctor.commands.settings import tracking_settings
    from lstm_doctor.pipeline.log_later import log_later

    parser = argparse.ArgumentParser(prog="lstm-doctor sync", description=__doc__)
    parser.add_argument("folder", help="the run's output folder (a job folder, or . for dvc)")
    parser.add_argument(
        "settings", nargs="*", help="tracking.* overrides naming the store, as for the pipeline"
    )
    args = parser.parse_args(argv)
    run_id, epochs = log_later(Path(args.folder), tracking_settings(args.settings))
    print(f"run {run_id}: {epochs} epochs, metrics and artifacts logged; run FINISHED")
