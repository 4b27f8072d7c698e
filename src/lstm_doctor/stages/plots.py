"""PNG plots of a run: learning curves, test predictions, confusion matrix."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lstm_doctor.base.figure_layout import fixed_margins


def plot_curves(history: pd.DataFrame, path: Path) -> None:
    """Train vs validation loss (and the task's metric) per epoch, as a PNG at `path`."""
    fig = curves_figure(history)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def curves_figure(history: pd.DataFrame) -> plt.Figure:
    """The figure of `plot_curves`: one panel a metric, train and validation per epoch."""
    metrics = [m for m in ("loss", "mae", "accuracy") if m in history]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    # One row an epoch, drawn from 1 as the console counts (history.csv's column is Keras'
    # index and MLflow's step, from 0).
    epochs = np.arange(1, len(history) + 1)
    for ax, metric in zip(axes[0], metrics, strict=True):
        ax.plot(epochs, history[metric], label=f"train {metric}")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], label=f"val {metric}")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        if metric == "loss" and (history[metric] > 0).all():
            ax.set_yscale("log")
        ax.legend()
    fixed_margins(fig)
    return fig


def plot_predictions(frame: pd.DataFrame, path: Path, max_points: int = 24 * 14) -> None:
    """The first test stretch: actual vs model vs baselines, one step ahead."""
    shown = frame.iloc[:max_points]
    fig, ax = plt.subplots(figsize=(11, 3.5))
    for column, style in (
        ("actual", "k-"),
        ("model", "C0-"),
        ("seasonal_naive", "C1:"),
        ("persistence", "C2:"),
        ("linear", "C3--"),
    ):
        if column in shown:
            ax.plot(shown["time"], shown[column], style, label=column, linewidth=1)
    ax.set_title("test set, first step ahead")
    ax.legend()
    fig.autofmt_xdate()
    fixed_margins(fig, bottom=0.8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_lead_time(by_lead: dict[str, list[float]], path: Path) -> None:
    """Test MAE at each step ahead, the model beside each baseline."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    # The scale is the model's and the baselines near it: one far worse (persistence on a
    # daily cycle) would flatten the lines worth comparing; it is named as off the chart.
    top = 1.5 * max(by_lead.get("model", [0.0]) or [0.0])
    # The model first and bold, whatever order the baselines come in (metrics.json sorts).
    names = sorted(by_lead, key=lambda name: name != "model")
    for i, name in enumerate(names):
        values = by_lead[name]
        steps = np.arange(1, len(values) + 1)
        style = "-" if name == "model" else ":"
        label = name if not top or max(values) <= top else f"{name} (above, max {max(values):.4g})"
        ax.plot(steps, values, style, color=f"C{i}", label=label, linewidth=2 if i == 0 else 1)
    if top:
        ax.set_ylim(0, top)
    ax.set_xlabel("lead time (steps ahead)")
    ax.set_ylabel("test MAE (target's units)")
    ax.set_title("error by lead time")
    ax.legend(fontsize=8)
    fixed_margins(fig, left=0.85)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(matrix: list[list[int]], classes: list[str], path: Path) -> None:
    """Counts of true (rows) vs predicted (columns) classes."""
    data = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    ax.imshow(data, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for (i, j), value in np.ndenumerate(data):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
