"""`lstm-doctor diagnose SOURCE [--data arrays.npz] [--model PATH|URI] [--out DIR]`: the
doctor on a run it did not make: an MLflow run id (e.g. `mlflow.keras.autolog()`'s), a Keras
History JSON or a CSVLogger CSV. Writes diagnosis.json/.md/.html into --out (default a new
folder under ./lstm-doctor/) and, for a run, tags it and attaches them."""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str]) -> None:
    """Parse the options, read the source, diagnose and report."""
    parser = argparse.ArgumentParser(prog="lstm-doctor diagnose", description=__doc__)
    parser.add_argument("source", help="an MLflow run id, a History .json or a CSVLogger .csv")
    parser.add_argument("--data", type=Path, help=".npz with x_train, y_train[, x_val, y_val]")
    parser.add_argument("--model", help="a .keras file or an MLflow model URI")
    parser.add_argument("--out", type=Path, help="where the diagnosis files go")
    parser.add_argument("--target-index", type=int, help="the input feature that is the target")
    parser.add_argument("--season", type=int, help="the season in steps")
    parser.add_argument("--task", choices=("forecast", "classify"))
    args = parser.parse_args(argv)
    from lstm_doctor.keras.finish import finish
    from lstm_doctor.keras.sources import script_run

    if args.model:
        from lstm_doctor.stages import keras_env  # noqa: F401  (TensorFlow's start-up notes off)

    hints = {"target_index": args.target_index, "season": args.season, "task": args.task}
    run, run_id = script_run(args.source, args.data, args.model, hints)
    finish(run, args.out, log_to=run_id)
