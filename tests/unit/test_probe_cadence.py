"""The gradient probe's cadence: every epoch where the doctor needs one (the first, the last,
a loss that surges), a budgeted sample between; and an epoch it skipped never reads as an
explosion, in the checks or on the page."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.doctor import gradient_checks
from lstm_doctor.stages.probe_cadence import FIRST, SHARE, ProbeCadence

from ..conftest import tiny_config

pytestmark = pytest.mark.unit


def probed(
    losses: list[float], epoch_seconds: float = 1.0, probe_seconds: float = 0.011
) -> list[int]:
    """The epochs a cadence probes over a fit with these losses, each epoch as long and
    each probe as costly as given."""
    cadence = ProbeCadence(last_epoch=len(losses) - 1)
    chosen = []
    for epoch, loss in enumerate(losses):
        if cadence.due(epoch, epoch_seconds, loss):
            chosen.append(epoch)
            cadence.spent(probe_seconds)
    return chosen


def falling(n: int, scale: float = 1.0) -> list[float]:
    return [scale * (1.0 + 1.0 / (1 + e)) for e in range(n)]


def test_the_first_epochs_and_the_last_are_always_probed() -> None:
    chosen = probed(falling(40))
    assert chosen[:FIRST] == list(range(FIRST))
    assert chosen[-1] == 39
    # And between them a sample, not every epoch and not none.
    between = [e for e in chosen if FIRST <= e < 39]
    assert 0 < len(between) < 39 - FIRST


@pytest.mark.parametrize("probe_share", [0.002, 0.011, 0.05])
def test_the_probe_keeps_to_its_share_of_the_fit(probe_share: float) -> None:
    """After the first epochs, the probe's seconds stay within SHARE of the fit's (one probe's
    worth of slack), and the budget is used: it samples as often as the share allows."""
    epochs = 500
    chosen = probed(falling(epochs), 1.0, probe_share)
    later = [e for e in chosen if FIRST <= e < epochs - 1]
    allowed = SHARE * epochs / probe_share
    assert len(later) <= allowed + 1
    assert len(later) >= min(allowed, epochs - FIRST - 1) - FIRST - 2


# Powers of two: the scaled sums round exactly as the unscaled ones, so a tie at the budget's
# edge falls the same way on both sides.
@pytest.mark.parametrize("time_scale", [2.0**-10, 1.0, 2.0**12])
@pytest.mark.parametrize("loss_scale", [1e-6, 1.0, 1e6])
def test_the_cadence_is_the_same_at_any_speed_and_any_loss_scale(
    time_scale: float, loss_scale: float
) -> None:
    losses = falling(60)
    losses[30] = 5.0  # a surge
    want = probed(losses, 1.0, 2.0**-6)
    scaled = [loss * loss_scale for loss in losses]
    assert probed(scaled, time_scale, 2.0**-6 * time_scale) == want


@pytest.mark.parametrize("surge", [math.nan, math.inf, 10.0])
def test_a_loss_that_surges_is_probed_on_that_epoch(surge: float) -> None:
    losses = falling(50)
    assert 31 not in probed(losses)  # a plateau epoch the budget skips
    losses[31] = surge
    assert 31 in probed(losses)


def test_a_negative_loss_surges_by_its_size_not_its_sign() -> None:
    """A loss below zero (a log-likelihood) that rises by less than its best's size is a
    plateau; one that rises past it surges."""
    losses = [-(1.0 + 1.0 / (1 + e)) for e in range(50)]
    base = probed(losses)
    losses[31] = -0.5
    assert 31 not in base and 31 not in probed(losses)
    losses[31] = 0.5
    assert 31 in probed(losses)


def test_an_epoch_not_probed_is_not_an_explosion() -> None:
    """NaN in the gradient columns is an epoch the probe skipped: no finding, at any share of
    skipped epochs. An infinite norm is an explosion, dated to its own epoch."""
    norms = np.full(30, np.nan)
    norms[[0, 1, 2, 9, 16, 29]] = [1.0, 0.9, 1.1, 1.0, 0.95, 1.05]
    monitors = pd.DataFrame({"grad_norm": norms, "grad_ratio/lstm_0": norms * 0.1})
    assert gradient_checks.check_gradients(monitors, tiny_config()) == []
    norms[16] = np.inf
    (found,) = gradient_checks.check_gradients(pd.DataFrame({"grad_norm": norms}), tiny_config())
    assert found.code == "train.exploding_gradients" and found.epochs == [17]


def test_a_spike_between_skipped_epochs_is_dated_to_its_own_epoch() -> None:
    norms = np.full(30, np.nan)
    norms[[0, 1, 2, 9, 16, 23, 29]] = [1.0, 0.9, 1.1, 1.0, 0.95, 500.0, 1.05]
    (found,) = gradient_checks.check_gradients(pd.DataFrame({"grad_norm": norms}), tiny_config())
    assert found.code == "train.exploding_gradients" and found.epochs == [24]
