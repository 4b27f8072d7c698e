"""Prescribing more training only where more training can happen.

A run that early stopping ended before its last epoch would end at the same place with
more epochs: its patience (in epochs) is what ran out. Such a run is prescribed a patience
that spans enough updates, with the epochs it asks for.
"""

from __future__ import annotations

from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import setting, together

# Updates a patience should span before it gives up on a curve judged over a handful.
PATIENCE_UPDATES = 50


def stopped_early(cfg: Config, epochs_run: int) -> bool:
    """Whether early stopping ended the run before its configured epochs."""
    return cfg.training.early_stopping.enabled and epochs_run < cfg.training.epochs


def longer(fix: str, cfg: Config, epochs_run: int, steps: int | None) -> str:
    """`fix` (a `training.epochs=N` prescription) as it must be said for this run: with a
    longer patience where early stopping, not the epoch budget, ended it."""
    if not stopped_early(cfg, epochs_run):
        return fix
    patience = cfg.training.early_stopping.patience
    needed = max(2 * patience, -(-PATIENCE_UPDATES // steps) if steps else 0)
    return together(setting("training.early_stopping.patience", needed), fix)
