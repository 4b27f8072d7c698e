"""Entry point for `mlflow run .`: MLflow passes `-P overrides=...` as one quoted argument;
split it into Hydra overrides and run the app as `lstm-doctor` would."""

from __future__ import annotations

import shlex
import sys

from lstm_doctor.commands.app import main


def run() -> None:
    """`python -m lstm_doctor.commands.mlproject 'scaling=none window.length=24'`."""
    sys.argv = [sys.argv[0], *shlex.split(" ".join(sys.argv[1:]))]
    main()


if __name__ == "__main__":
    run()
