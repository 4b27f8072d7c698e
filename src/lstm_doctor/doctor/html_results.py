"""diagnosis.html's results: the model against every baseline in numbers, and the test span
drawn (the truth, the model and the best baseline; a confusion matrix for classifiers).

Reads <reports>/evaluation.json and predictions.csv, as evaluate wrote them; a page for a run
that has neither (a user's script without test arrays) has no results section.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.figure_layout import fixed_margins
from lstm_doctor.base.workspace import EVALUATION_FILE, PREDICTIONS_FILE, read_json

# The test span drawn: its last this-many steps, so a year of hours stays legible.
SHOWN_STEPS = 24 * 14


def section(reports: Path) -> str:
    """The results section, or '' where evaluate wrote no metrics."""
    file = reports / EVALUATION_FILE
    if not file.exists():
        return ""
    result = read_json(file)
    if "model" not in result or "baselines" not in result:
        return ""
    parts = ["<h2>Results on the test span</h2>", table(result)]
    predictions = reports / PREDICTIONS_FILE
    if "accuracy" in result["model"]:
        svg = confusion_svg(result["model"].get("confusion_matrix"), result.get("classes"))
        caption = "Confusion matrix on the test sequences (rows: the true class)."
    elif predictions.exists():
        svg = test_span_svg(pd.read_csv(predictions), result.get("best_baseline"))
        caption = (f"The test span, one step ahead (its last {SHOWN_STEPS} steps at most): "
                   "the truth, the model and the best baseline.")  # fmt: skip
    else:
        svg = None
    if svg:
        parts.append(f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>")
    return "\n".join(parts)


def table(result: dict[str, Any]) -> str:
    """The model's row, then each baseline's, with the skill against it (> 0 beats it)."""
    classify = "accuracy" in result["model"]
    columns = ["accuracy", "balanced_accuracy"] if classify else ["mae", "mase", "rmse"]
    best = result.get("best_baseline")
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in ["", *columns, "model's skill"])
    rows = [_row("model", result["model"], columns, None)]
    for name, scores in result["baselines"].items():
        label = f"{name} (best)" if name == best else name
        rows.append(_row(label, scores, columns, result.get("skill", {}).get(name)))
    verdict = result.get("skill", {}).get("best")
    said = ""
    if verdict is not None and np.isfinite(verdict):
        said = (f"<p>The model {'beats' if verdict > 0 else 'does not beat'} the best baseline "
                f"(<code>{escape(str(best))}</code>): skill {verdict:+.3f}.</p>")  # fmt: skip
    return (
        f'<table class="results"><tr>{head}</tr>{"".join(rows)}</table>{said}'
        '<p class="muted">Skill = 1 − model error / baseline error (error rate for '
        "classifiers), on the same test targets.</p>"
    )


def _row(name: str, scores: dict[str, Any], columns: list[str], skill: float | None) -> str:
    cells = [f"<td><code>{escape(name)}</code></td>"]
    for column in columns:
        value = scores.get(column)
        cells.append(f"<td>{value:.4g}</td>" if isinstance(value, int | float) else "<td>—</td>")
    cells.append("<td></td>" if skill is None else f"<td>{skill:+.3f}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def test_span_svg(frame: pd.DataFrame, best: str | None) -> str | None:
    """The last SHOWN_STEPS of the test span: truth, model, and the best baseline."""
    import matplotlib.pyplot as plt

    from lstm_doctor.doctor.html_plots import SVG_STYLE, figure_svg

    if frame.empty or "actual" not in frame or "model" not in frame:
        return None
    shown = frame.tail(SHOWN_STEPS)
    times = pd.to_datetime(shown["time"]) if "time" in shown else np.arange(len(shown))
    with plt.rc_context(SVG_STYLE):
        fig, ax = plt.subplots(figsize=(10, 3.0))
        ax.plot(times, shown["actual"], color="#222", linewidth=1.2, label="actual")
        ax.plot(times, shown["model"], color="C0", linewidth=1.0, label="model")
        if best and best in shown:
            ax.plot(times, shown[best], color="C1", linewidth=1.0, linestyle="--",
                    label=best.replace("_", " "))  # fmt: skip
        ax.set_ylabel("target")
        ax.set_title("test span, one step ahead")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
        fig.autofmt_xdate()
        # The legend sits right of the axes: as wide as its longest name (~0.07 in a letter).
        longest = max(len(text.get_text()) for text in ax.get_legend().get_texts())
        fixed_margins(fig, right=0.6 + 0.075 * longest, bottom=0.75)
        return figure_svg(fig)


def confusion_svg(matrix: list[list[int]] | None, classes: list[str] | None) -> str | None:
    """The confusion matrix, counts written in each cell."""
    import matplotlib.pyplot as plt

    from lstm_doctor.doctor.html_plots import SVG_STYLE, figure_svg

    if not matrix:
        return None
    counts = np.asarray(matrix)
    labels = classes or [str(i) for i in range(len(counts))]
    with plt.rc_context(SVG_STYLE):
        fig, ax = plt.subplots(figsize=(4.5, 3.6))
        ax.imshow(counts, cmap="Blues")
        for (i, j), value in np.ndenumerate(counts):
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > counts.max() / 2 else "#222")  # fmt: skip
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        fig.tight_layout()
        return figure_svg(fig)
