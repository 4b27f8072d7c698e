"""One line per epoch on the console while a model trains: where it is, how long an epoch
takes, and the best validation loss so far (LSTM_DOCTOR_QUIET=1 silences it)."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from lstm_doctor.config import Config
from lstm_doctor.stages import keras_env  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras


def quiet() -> bool:
    """Whether the user asked for no per-epoch lines."""
    return os.environ.get("LSTM_DOCTOR_QUIET", "") not in ("", "0")


class EpochLines(keras.callbacks.Callback):
    """`epoch  3/30  loss 0.1234  val_loss 0.2345  1.2 s  best val_loss 0.2100 (epoch 2)`;
    the seconds are the epoch's `epoch_seconds`, as train's timer recorded them."""

    def __init__(
        self,
        epochs: int,
        patience: int | None = None,
        restores: bool = True,
        monitor: str = "val_loss",
    ) -> None:
        super().__init__()
        self.epochs = epochs
        self.monitor = monitor
        self.patience = patience
        self.restores = restores
        self.best = (math.inf, 0)
        self.ran = 0

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # An early stop is said, so 31/60 on the last line is never a mystery.
        if self.patience is None or self.ran >= self.epochs or not self.ran:
            return
        if self.ran - self.best[1] < self.patience:
            return  # stopped for another reason (a loss gone NaN): not early stopping's doing
        line = (f"early stopping: {self.monitor} did not improve for {self.patience} epochs; "
                f"stopped after epoch {self.ran} of {self.epochs}")  # fmt: skip
        if self.restores and math.isfinite(self.best[0]):
            line += f"; weights of epoch {self.best[1]} (best val_loss {self.best[0]:.4g}) restored"
        print(line, file=sys.stdout, flush=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self.ran = epoch + 1
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


def epoch_lines(cfg: Config, patience: int | None = None) -> EpochLines:
    """The epoch lines for a run of `cfg`, saying an early stop when its settings allow one
    (with `patience`, the one resolved for the data's size, when given)."""
    stopping = cfg.training.early_stopping
    return EpochLines(
        cfg.training.epochs,
        (patience or stopping.patience) if stopping.enabled else None,
        stopping.restore_best,
        stopping.monitor,
    )
