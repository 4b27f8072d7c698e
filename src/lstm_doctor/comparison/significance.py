"""The seed-noise call: Welch's t-test of a configuration against the baseline's, and Holm's
correction when several are tested at once.

Every "better" or "worse" the project prints comes from `judge` with a p-value that Holm's
step-down method has adjusted for the other comparisons of the same family (the fixes of
one proof, or every curve measure of every configuration), so that a proof of k changes
that cannot matter calls one of them better no more often than ALPHA.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

ALPHA = 0.05
TEST = "Welch's t-test (unequal variances, two-sided), Holm-adjusted over the family"


def welch_p(values: list[float], baseline: list[float]) -> float | None:
    """Welch's two-sided p, or None where it cannot be had: fewer than 2 seeds a side, or no
    spread on either side (a zero-variance difference is not evidence against noise, and
    would give p = 0)."""
    if len(values) < 2 or len(baseline) < 2:
        return None
    if np.std(values) == 0 and np.std(baseline) == 0:
        return None
    p = float(stats.ttest_ind(values, baseline, equal_var=False).pvalue)
    return None if math.isnan(p) else p


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None stays None and does not
    count): the i-th smallest of m is multiplied by m − i, made monotone, capped at 1."""
    ranked = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(ranked)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(ranked):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def call(p: float | None, difference: float | None, higher_is_better: bool, reason: str) -> str:
    """The verdict for an (adjusted) p and the difference of means; `reason` says why there
    is no p where there is none."""
    if p is None:
        return reason
    if p >= ALPHA or difference is None:
        return "no clear change"
    improved = difference > 0 if higher_is_better else difference < 0
    return "better beyond seed noise" if improved else "worse beyond seed noise"


def no_p_reason(values: list[float], baseline: list[float]) -> str:
    """Why `welch_p` gave no p for these two samples."""
    if len(values) < 2 or len(baseline) < 2:
        return "too few seeds to tell"
    return "no spread over seeds: cannot tell from noise"


def judge(
    values: list[float], baseline: list[float], higher_is_better: bool
) -> tuple[str, float | None, float | None]:
    """One comparison on its own (a family of one): better / worse / no clear change, the
    p-value and the difference of means."""
    difference = float(np.mean(values) - np.mean(baseline)) if values and baseline else None
    p = welch_p(values, baseline)
    return call(p, difference, higher_is_better, no_p_reason(values, baseline)), p, difference
