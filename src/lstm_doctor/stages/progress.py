"""One line per epoch on the console while a model trains: where it is, how long an epoch
takes, and the best validation loss so far (LSTM_DOCTOR_QUIET=1 silences it)."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from lstm_doctor.stages import keras_env  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras


def quiet() -> bool:
    """Whether the user asked for no per-epoch lines."""
    return os.environ.get("LSTM_DOCTOR_QUIET", "") not in ("", "0")


class EpochLines(keras.callbacks.Callback):
    """`epoch  3/30  loss 0.1234  val_loss 0.2345  1.2 s  best val_loss 0.2100 (epoch 2)`;
    the seconds are the epoch's `epoch_seconds`, as train's timer recorded them."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs
        self.best = (math.inf, 0)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        val = float(logs.get("val_loss", math.nan))
        if val < self.best[0]:
            self.best = (val, epoch + 1)
        width = len(str(self.epochs))
        parts = [
            f"epoch {epoch + 1:>{width}}/{self.epochs}",
            f"loss {logs.get('loss', math.nan):.4g}",
        ]
        if "val_loss" in logs:
            parts.append(f"val_loss {val:.4g}")
        if "epoch_seconds" in logs:
            parts.append(f"{logs['epoch_seconds']:.1f} s")
        if math.isfinite(self.best[0]):
            parts.append(f"best val_loss {self.best[0]:.4g} (epoch {self.best[1]})")
        print("  ".join(parts), file=sys.stdout, flush=True)
