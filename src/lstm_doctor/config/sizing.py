"""The training sizes that follow the data: the batch, and the early-stopping and plateau
patience, resolved from the configured values and the number of training windows.

The configured batch size is a ceiling and the configured patience a floor: on a large
series they are what runs; on a small one (a classifier of 50 sequences) the batch shrinks
so an epoch holds a few updates, and the patience grows so no run is stopped, or its step
cut, before the model has taken enough updates to have learned anything.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from lstm_doctor.config.schema import TrainingConfig

# An epoch of fewer updates than this says little about learning: the batch shrinks to give
# at least this many, never below MIN_BATCH (gradients on fewer examples are mostly noise).
MIN_UPDATES_PER_EPOCH = 8
MIN_BATCH = 8
# Early stopping waits at least this many updates without improvement: a validation set of
# a handful of sequences moves by chance for far longer than one or two tiny epochs.
MIN_PATIENCE_UPDATES = 200


@dataclass(frozen=True)
class FitSizes:
    """What a run trains with, resolved from the config and the data's size."""

    batch_size: int
    updates_per_epoch: int
    early_stopping_patience: int
    reduce_lr_patience: int

    def as_params(self) -> dict[str, Any]:
        """The sizes as `resolved.training.*` params, beside the configured ones."""
        return {f"resolved.training.{key}": value for key, value in asdict(self).items()}


def fit_sizes(train_windows: int, cfg: TrainingConfig) -> FitSizes:
    """The batch and patience a run of `train_windows` training examples uses.

    The batch is the configured one unless an epoch would then hold fewer than
    MIN_UPDATES_PER_EPOCH updates; each patience (in epochs) is the configured one unless
    that would be fewer than MIN_PATIENCE_UPDATES updates (the plateau's in the same
    proportion to early stopping's as configured), and never more than the epochs.
    """
    n = max(int(train_windows), 1)
    batch = cfg.batch_size
    if math.ceil(n / batch) < MIN_UPDATES_PER_EPOCH:
        batch = max(min(MIN_BATCH, batch), math.ceil(n / MIN_UPDATES_PER_EPOCH))
    updates = math.ceil(n / batch)
    if cfg.max_steps_per_epoch:
        updates = min(updates, cfg.max_steps_per_epoch)
    floor = math.ceil(MIN_PATIENCE_UPDATES / updates)
    stop = cfg.early_stopping.patience
    plateau = cfg.reduce_lr.patience
    if stop < floor:
        # The plateau cut keeps its place before the stop, in the configured proportion.
        plateau = max(plateau, math.ceil(floor * plateau / max(stop, 1)))
        stop = floor
    return FitSizes(
        batch_size=batch,
        updates_per_epoch=updates,
        early_stopping_patience=min(stop, cfg.epochs),
        reduce_lr_patience=min(plateau, cfg.epochs),
    )
