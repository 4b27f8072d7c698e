"""Helpers of studies/claims/__main__.py: each claim's figure (every preset's validation-loss curve,
mean over seeds with a min-max band, on a log scale, so a fluctuation or a speed difference
shows), and each quantity's Welch verdict against the baseline, read as a plain verdict.

Reads the runs and summaries it is given (comparison.summarise's); writes only the PNG.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_doctor.base.curve_measures import DEFINITIONS
from lstm_doctor.comparison import judging as comparison
from lstm_doctor.comparison.judging import ConfigSummary, RunRecord

# ~700 x 350 px: a figure that sits in a page beside its table, not a report of its own.
SIZE_IN, DPI = (7.0, 3.5), 100
HIGHER_IS_BETTER = {"skill_vs_best"}  # and test accuracy; lower is better for every other


def band(curves: list[list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Mean, min and max over seeds at each epoch (curves of unequal length padded with NaN;
    a diverged epoch's inf/NaN left out), or None without a curve."""
    rows = [np.asarray(c, dtype=float) for c in curves if len(c)]
    if not rows:
        return None
    padded = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for out, row in zip(padded, rows, strict=False):
        out[: len(row)] = np.where(np.isfinite(row), row, np.nan)
    with warnings.catch_warnings():  # an epoch where every seed diverged: NaN, not drawn
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(padded, 0), np.nanmin(padded, 0), np.nanmax(padded, 0)


def plot_claim(
    title: str, curves: dict[str, list[list[float]]], path: Path, note: str = ""
) -> None:
    """Overlay each preset's val-loss curves: mean over seeds (line), min-max (band), log y.

    Args:
        title: the claim, as the figure's title.
        curves: preset label -> its runs' val_loss curves (one per seed); the first is the
            baseline, drawn in black.
        path: the PNG to write (its folder is made).
        note: a line under the title (e.g. that some presets' losses are in other units).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=SIZE_IN, dpi=DPI)
    for i, (label, runs) in enumerate(curves.items()):
        stats = band(runs)
        if stats is None:
            continue
        mean, low, high = stats
        epochs = np.arange(1, len(mean) + 1)
        color = "black" if i == 0 else f"C{(i - 1) % 10}"
        ax.plot(epochs, mean, color=color, lw=1.6, label=f"{label} (n={len(runs)})")
        ax.fill_between(epochs, low, high, color=color, alpha=0.15, lw=0)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("val loss (mean, band = min-max over seeds)", fontsize=8)
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize=9)
    ax.tick_params(labelsize=8)
    if ax.lines:
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


@dataclass
class Cell:
    """One quantity of a variant beside the baseline's, with the Welch verdict."""

    values: list[float]
    base: list[float]
    verdict: str
    p_value: float | None


def finished(runs: list[RunRecord], metric: str) -> list[RunRecord]:
    """The runs the comparison counts: finished, with a finite test metric."""
    ok = [r for r in runs if r.status == "FINISHED"]
    return [r for r in ok if math.isfinite(r.metrics.get(metric, math.nan))]


def quantity_values(q: str, s: ConfigSummary, runs: list[RunRecord]) -> list[float]:
    """A quantity's values over a configuration's finished seeds (not the test metric)."""
    done = finished(runs, s.metric)
    if q == "test_mase":
        return [
            r.metrics["test_mase"]
            for r in done
            if math.isfinite(r.metrics.get("test_mase", math.nan))
        ]
    if q == "skill_vs_best":
        return s.skills.get("best", [])
    if q == "best_val_loss":
        return s.best_val_loss
    if q == "epochs_run":
        return [float(len(r.curves["loss"])) for r in done if r.curves.get("loss")]
    raise KeyError(q)


def cell(
    q: str, s: ConfigSummary, base: ConfigSummary, runs: list[RunRecord], base_runs: list[RunRecord]
) -> Cell:
    """The quantity `q` of summary `s` against the baseline's: the verdicts summarise() made
    for the test metric and the curve measures, the same Welch test for the others."""
    if q == "test":
        return Cell(s.values, base.values, s.verdict, s.p_value)
    if q in DEFINITIONS:
        m = s.curve[q]
        return Cell(m.values, base.curve[q].values, m.verdict, m.p_value)
    values, theirs = quantity_values(q, s, runs), quantity_values(q, base, base_runs)
    verdict, p, _ = comparison.verdict_against(
        values, theirs, bool(s.values), bool(base.values), q in HIGHER_IS_BETTER
    )
    return Cell(values, theirs, verdict, p)


def direction(verdict: str) -> str | None:
    """Which way a Welch verdict points: better, worse (failing every seed is worse) or None."""
    if verdict.startswith("better"):
        return "better"
    if verdict.startswith(("worse", "failed")):
        return "worse"
    return None


def plain(kind: str, expected: str, decisive: list[Cell]) -> str:
    """What the measurement says of the claim, in words: borne out, not borne out here, or
    the opposite here, read from the decisive quantities' Welch verdicts (in KINDS' order).

    speed, fluctuation, accuracy: borne out when one points the expected way beyond seed
    noise and none the other way. generalisation (gap, test): the test metric decides, the
    gap may not point against it (dropout narrows the measured gap by itself). epochs (epochs
    run, test): fewer epochs and a test metric no worse.
    """
    ways = [direction(c.verdict) for c in decisive]
    if kind == "epochs":
        fewer, test = ways
        if test == "worse":
            return "not borne out here (it cost accuracy)"
        return "borne out" if fewer == "better" else "not borne out here (no fewer epochs)"
    if kind == "generalisation":
        gap, test = ways
        if test == expected and gap != "worse":
            return "borne out"
        if test == ("worse" if expected == "better" else "better"):
            return "the opposite here"
        return "not borne out here" + (" (only the gap narrowed)" if gap == "better" else "")
    against = "worse" if expected == "better" else "better"
    hits, misses = expected in ways, against in ways
    if hits and not misses:
        return "borne out"
    if misses and not hits:
        return "the opposite here"
    return "not borne out here (mixed)" if hits else "not borne out here"


def welch(c: Cell) -> str:
    """The Welch verdict with its p-value, as a table cell shows it."""
    return c.verdict + ("" if c.p_value is None else f", p={c.p_value:.2g}")


def setup(run: RunRecord) -> str:
    """What a run cost, from the params it logged: the data slice, the model, the epochs."""
    p = run.params
    rows = p.get("dataset.max_rows") or "None"  # MLflow logs a null as ""
    data = f"{p.get('dataset.name', '?')}, " + (
        "all rows" if rows == "None" else f"last {rows} rows"
    )
    stop = (
        "early stopping"
        if p.get("training.early_stopping.enabled") == "True"
        else "no early stopping"
    )
    return (f"{data}; {p.get('model.layers')}x{p.get('model.units')} LSTM; {p.get('optimizer.name')} "
            f"{p.get('optimizer.lr')}; batch {p.get('training.batch_size')}; "
            f"≤ {p.get('training.epochs')} epochs, {stop}")  # fmt: skip
