"""When the gradient probe runs: on each of the first epochs, on the last one planned, on any
epoch whose loss left the run's range (not finite, or far above its best), and otherwise only
as often as keeps the probe's share of the fit's time under a budget.

A probe costs about one training step (its forward and backward pass), ~1% of a short
epoch: paid on every epoch it is most of what watching a fit costs. The epochs the doctor's
checks need are the first ones (the fastest change, and the baseline a spike is judged
against) and those where the loss jumps (where gradients explode); the plateau between needs
only a sample. Epochs not probed are missing from the monitor's gradient columns (NaN), never
zero or infinite: the checks read the probed epochs alone.
"""

from __future__ import annotations

import math

FIRST = 3  # epochs always probed from the start
# The probe's budget after the first epochs: its seconds at most this share of the fit's.
SHARE = 0.005


class ProbeCadence:
    """Decides, at each epoch's end, whether the probe runs (`due`), and keeps its cost
    (`spent`) against the fit's time."""

    def __init__(self, last_epoch: int | None = None, first: int = FIRST, share: float = SHARE):
        self.last_epoch = last_epoch
        self.first = first
        self.share = share
        self.fit_seconds = 0.0
        self.probe_seconds = 0.0
        self.last_probe = 0.0  # the last probe's seconds: what the next one will cost
        self.best_loss = math.inf

    def due(self, epoch: int, epoch_seconds: float, loss: float | None = None) -> bool:
        """Whether epoch `epoch` (from 0), which took `epoch_seconds` and ended at training
        loss `loss` (None where the fit logs none), is probed."""
        self.fit_seconds += max(epoch_seconds, 0.0)
        surge = loss is not None and self._surge(loss)
        if loss is not None and math.isfinite(loss):
            self.best_loss = min(self.best_loss, loss)
        if epoch < self.first or epoch == self.last_epoch or surge:
            return True
        return self.probe_seconds + self.last_probe <= self.share * self.fit_seconds

    def _surge(self, loss: float) -> bool:
        """A loss not finite, or above its best by more than the best's own size (twice the
        best for a positive loss; a scale-free rise whatever the loss' units or sign)."""
        if not math.isfinite(loss):
            return True
        return math.isfinite(self.best_loss) and loss - self.best_loss > abs(self.best_loss)

    def spent(self, seconds: float) -> None:
        """A probe took `seconds`."""
        self.probe_seconds += seconds
        self.last_probe = seconds
