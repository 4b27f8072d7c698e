"""The learning rates the doctor prescribes: one order of magnitude at a time near the
optimiser's usual step, straight back to it when the step is orders of magnitude off."""

from __future__ import annotations

# Each optimiser's usual step (config/optimizers) is where a step orders of magnitude off is
# sent back to, since ten times a hopeless step is still hopeless.
from lstm_doctor.config.optimizers import usual_lr


def step_up(lr: float, optimizer: str = "adam") -> float:
    """A larger learning rate to try: the optimiser's usual step when `lr` is more than an
    order of magnitude below it, else ten times `lr`, at most ten times the usual step."""
    usual = usual_lr(optimizer)
    return usual if lr < usual / 10 else min(lr * 10, usual * 10)


def step_down(lr: float, optimizer: str = "adam") -> float:
    """A smaller learning rate to try: the optimiser's usual step when `lr` is more than an
    order of magnitude above it (a tenth of a huge step still overshoots), else a tenth."""
    usual = usual_lr(optimizer)
    return usual if lr > usual * 10 else lr / 10
