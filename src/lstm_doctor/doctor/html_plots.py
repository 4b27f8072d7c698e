"""The figures of diagnosis.html as inline SVG: loss curves and gradient monitors with the
epochs each finding names marked, the training target's autocorrelation, and the target's
distribution in each split. Reads nothing: each takes the arrays it draws."""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator

from lstm_doctor.base.figure_layout import fixed_margins
from lstm_doctor.base.metrics import SEASON_ACF
from lstm_doctor.doctor.series_checks import acf as series_acf

SEVERITY_COLOUR = {"error": "#c0392b", "warning": "#d68910", "info": "#7f8c8d"}
# Text stays text (searchable, small); a fresh salt a figure keeps ids unique on the page.
SVG_STYLE = {"svg.fonttype": "none", "font.size": 9}
# What a standalone SVG file needs and a page does not: the XML prolog, the namespace
# declarations (HTML knows <svg> and xlink:href) and the generator's metadata, all URLs.
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)

Marks = dict[int, list[tuple[str, str]]]  # 1-based epoch -> [(code, severity)]


def figure_svg(fig: Figure) -> str:
    """The figure as an <svg> element to inline in HTML; closes the figure."""
    buffer = io.StringIO()
    try:
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    svg = _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)
    return _NAMESPACES.sub("", svg)


def epoch_marks(findings: list[dict[str, Any]]) -> Marks:
    """The epochs that triggered each finding: its `epochs`, else its evidence's epoch
    numbers (`epoch`, `best_val_epoch`: 1-based ints; counts such as `epochs_run` and
    rates such as `..._per_epoch` floats are not epochs)."""
    marks: Marks = {}
    for finding in findings:
        epochs = list(finding.get("epochs") or [])
        if not epochs:
            epochs = [
                value
                for key, value in finding["evidence"].items()
                if (key == "epoch" or key.endswith("_epoch"))
                and isinstance(value, int | np.integer)
                and not isinstance(value, bool)
            ]
        for epoch in sorted({int(e) for e in epochs if int(e) >= 1}):
            marks.setdefault(epoch, []).append((finding["code"], finding["severity"]))
    return marks


def _mark_epochs(ax: Axes, marks: Marks, labels: bool) -> None:
    """A line at each marked epoch in its worst finding's colour, labelled by code; whole
    epochs on the axis."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for epoch, found in sorted(marks.items()):
        colour = SEVERITY_COLOUR[min((s for _, s in found), key=list(SEVERITY_COLOUR).index)]
        ax.axvline(epoch, color=colour, linestyle="--", linewidth=1, alpha=0.8)
        if labels:
            ax.text(epoch, 0.98, "\n".join(code for code, _ in found), rotation=90,
                    transform=ax.get_xaxis_transform(), ha="right", va="top", fontsize=7,
                    color=colour)  # fmt: skip


class _PlainLog(LogFormatter):
    """Log-axis labels as plain numbers (0.3, 1e+10), not 3 × 10^-1; minor ticks labelled
    only where the axis spans little, as matplotlib decides."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.3g}" if super().__call__(x, pos) else ""


def _log_y(ax: Axes) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_PlainLog())
    ax.yaxis.set_minor_formatter(_PlainLog(labelOnlyBase=False))


def _log_if_positive(ax: Axes, values: np.ndarray) -> None:
    finite = values[np.isfinite(values)]
    if finite.size and (finite > 0).all():
        _log_y(ax)


def _epochs(history: pd.DataFrame) -> np.ndarray:
    """Epochs counted from 1, as Keras prints them (history.csv counts from 0)."""
    if "epoch" in history:
        return history["epoch"].to_numpy(dtype=int) + 1
    return np.arange(1, len(history) + 1)


def _finite(values: pd.Series) -> np.ndarray:
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(array), array, np.nan)


def loss_svg(history: pd.DataFrame, marks: Marks) -> str | None:
    """Train and validation loss per epoch (log y when positive), findings' epochs marked."""
    if "loss" not in history or history.empty:
        return None
    epochs = _epochs(history)
    with plt.rc_context(SVG_STYLE):
        fig, ax = plt.subplots(figsize=(10, 3.0))
        shown = []
        for column, style in (("loss", "C0-o"), ("val_loss", "C1-o")):
            if column in history:
                values = _finite(history[column])
                ax.plot(epochs, values, style, markersize=3, label=column.replace("_", " "))
                shown.append(values)
        _log_if_positive(ax, np.concatenate(shown))
        _mark_epochs(ax, marks, labels=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title("learning curves")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # clear of the marks' labels
        fixed_margins(fig, right=1.1)
        return figure_svg(fig)


def _layer(column: str) -> str:
    return column.partition("/")[2]


def monitor_svg(monitors: pd.DataFrame, marks: Marks) -> str | None:
    """Gradient norms (overall and per layer) on the probed epochs and update/weight ratios
    per layer per epoch, log y; the step/weight ratio dotted beside its layer's update
    ratio. A line joins the epochs measured (the probe skips some: see probe_cadence)."""
    norms = [c for c in monitors.columns if c == "grad_norm" or c.startswith("grad_norm/")]
    ratios = [c for c in monitors.columns if c.startswith("update_ratio/")]
    if monitors.empty or not (norms or ratios):
        return None
    epochs = np.arange(1, len(monitors) + 1)
    panels = [(t, cs) for t, cs in (("gradient norm", norms), ("update / weight", ratios)) if cs]
    with plt.rc_context(SVG_STYLE):
        fig, axes = plt.subplots(1, len(panels), figsize=(10, 2.9), squeeze=False)
        for ax, (title, columns) in zip(axes[0], panels, strict=True):
            for i, column in enumerate(columns):
                measured = monitors[column].notna().to_numpy()
                values = _finite(monitors[column])
                values[values <= 0] = np.nan
                label = _layer(column) or "all layers"
                width = 2 if column == "grad_norm" else 1
                ax.plot(epochs[measured], values[measured], "-o", color=f"C{i}", markersize=3,
                        linewidth=width, label=label)  # fmt: skip
                step = f"step_ratio/{_layer(column)}"
                if column.startswith("update_ratio/") and step in monitors:
                    step_values = _finite(monitors[step])
                    step_values[step_values <= 0] = np.nan
                    ax.plot(epochs, step_values, ":", color=f"C{i}", label=f"{label} (step)")
            if any(np.isfinite(_finite(monitors[c])).any() for c in columns):
                _log_y(ax)
            _mark_epochs(ax, marks, labels=False)
            ax.set_xlabel("epoch")
            ax.set_title(title)
            ax.legend(fontsize=7)
        fixed_margins(fig)
        return figure_svg(fig)


def acf_svg(train_target: np.ndarray, seasons: list[int], window_length: int) -> str | None:
    """The training target's autocorrelation out to about three seasons, each season and
    the window's reach marked: a window shorter than a season cannot see it."""
    n = int(np.isfinite(train_target).sum())
    # Seasons within ~8x the window (or the shortest season) stay readable on one axis; a
    # yearly season in hourly data would squeeze the daily one into a few pixels.
    near = 8 * max(window_length, min(seasons, default=1))
    shown = [m for m in seasons if m <= near] or seasons[:1]
    reach = max(int(1.25 * max(shown, default=0)), int(1.5 * window_length), 10)
    lags = np.arange(1, min(reach, n // 2) + 1)
    if lags.size < 2:
        return None
    acf = series_acf(train_target, int(lags[-1]))[1:]
    with plt.rc_context(SVG_STYLE):
        fig, ax = plt.subplots(figsize=(10, 2.9))
        ax.axvspan(0, window_length, color="C0", alpha=0.08)
        ax.text(window_length, 0.88, f" window {window_length}", ha="left", va="top",
                transform=ax.get_xaxis_transform(), fontsize=8, color="C0")  # fmt: skip
        ax.axvline(window_length, color="C0", linewidth=1.5)
        ax.fill_between(lags, acf, color="#555", alpha=0.25, linewidth=0)
        ax.plot(lags, acf, color="#333", linewidth=1)
        ax.axhline(0, color="#999", linewidth=0.8)
        ax.axhline(SEASON_ACF, color="#999", linewidth=0.8, linestyle=":")
        for season in shown:
            if season <= lags[-1]:
                ax.axvline(season, color="C3", linestyle="--", linewidth=1.2)
                ax.text(season, 0.98, f" season {season}", transform=ax.get_xaxis_transform(),
                        ha="left", va="top", fontsize=8, color="C3")  # fmt: skip
        ax.set_xlim(0, lags[-1])
        ax.set_xlabel("lag (steps)")
        ax.set_ylabel("autocorrelation")
        ax.set_title("training target: autocorrelation by lag")
        fixed_margins(fig)
        return figure_svg(fig)


def distribution_svg(target: np.ndarray, bounds: dict[str, list[int]], name: str) -> str | None:
    """The target's histogram in each split on shared bins (density): levels the training
    span never shows are levels the model cannot predict."""
    spans = {
        split: target[lo:hi][np.isfinite(target[lo:hi])]
        for split, (lo, hi) in bounds.items()
        if split in ("train", "val", "test")
    }
    spans = {split: values for split, values in spans.items() if values.size}
    if "train" not in spans:
        return None
    edges = np.histogram_bin_edges(np.concatenate(list(spans.values())), bins=50)
    with plt.rc_context(SVG_STYLE):
        fig, ax = plt.subplots(figsize=(10, 2.9))
        for split, colour in (("train", "C0"), ("val", "C1"), ("test", "C2")):
            if split in spans:
                values = spans[split]
                label = f"{split} (n={values.size}, median {np.median(values):.4g})"
                filled = split == "train"
                ax.hist(values, bins=edges, density=True, color=colour, label=label,
                        histtype="stepfilled" if filled else "step",
                        alpha=0.35 if filled else 1.0, linewidth=1.5)  # fmt: skip
        ax.set_xlabel(name)
        ax.set_ylabel("density")
        ax.set_title(f"{name}: training span against validation and test")
        ax.legend(fontsize=8)
        fixed_margins(fig)
        return figure_svg(fig)
