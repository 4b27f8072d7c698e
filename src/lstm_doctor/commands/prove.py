"""`lstm-doctor prove --model m.keras --data d.npz --change optimizer.learning_rate=1e-3`:
a change to a user's own model, refitted over seeds beside the original and judged by
Welch's test on the best validation loss, Holm-adjusted over the changes
(lstm_doctor.keras.prove). With MLFLOW_TRACKING_URI set, each fit is an MLflow run nested
under one parent run."""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str]) -> None:
    """Parse the options, load the model and arrays, prove each change."""
    parser = argparse.ArgumentParser(prog="lstm-doctor prove", description=__doc__)
    parser.add_argument("--model", required=True, help="a .keras file or an MLflow model URI")
    parser.add_argument("--data", type=Path, required=True, help=".npz with train and val arrays")
    parser.add_argument("--change", action="append", required=True, help="e.g. epochs=20")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    from lstm_doctor.base.errors import DataError
    from lstm_doctor.keras.proving import check_changes, check_counts, prove

    # Before Keras loads: a bad count or change answers at once.
    check_counts({"--seeds": args.seeds, "--epochs": args.epochs, "--batch-size": args.batch_size})
    check_changes(args.change)
    from lstm_doctor.keras.sources import load_model, read_arrays
    from lstm_doctor.stages import keras_env  # noqa: F401  (TensorFlow's start-up notes off)

    arrays = read_arrays(args.data)
    if arrays["x_val"] is None:
        raise DataError(f"--data {args.data}: prove needs x_val and y_val (or x_test, y_test)")
    model = load_model(args.model)
    prove(
        model, arrays["x_train"], arrays["y_train"], (arrays["x_val"], arrays["y_val"]),
        args.change, seeds=args.seeds, epochs=args.epochs, batch_size=args.batch_size,
    )  # fmt: skip
