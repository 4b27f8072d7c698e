"""The comparison as files: one self-contained HTML page (inline CSS, the curves embedded),
curves.png and summary.json, from the summaries judging.py computes."""

from __future__ import annotations

import base64
import html
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lstm_doctor.base.curve_measures import DEFINITIONS
from lstm_doctor.base.workspace import write_json
from lstm_doctor.comparison.judging import (
    CURVE_METHOD,
    METHOD,
    ConfigSummary,
    RunRecord,
    group_by_configuration,
    higher_is_better,
    spread,
    summarise,
)

if TYPE_CHECKING:  # matplotlib loads only when a report is drawn
    from matplotlib.figure import Figure


def plot_curves(runs: list[RunRecord], summaries: list[ConfigSummary], path: Path) -> None:
    """Train (dashed) and val (solid) loss per configuration, as a PNG at `path`."""
    fig = curves_figure(runs, summaries)  # sets the file-only backend before pyplot loads
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)


def curves_figure(runs: list[RunRecord], summaries: list[ConfigSummary]) -> Figure:
    """The figure of `plot_curves`: per configuration the mean over seeds, min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    groups = group_by_configuration(runs)  # the same groups, under the same names, as summarise
    for i, summary in enumerate(summaries):
        members = groups.get(summary.name, [])
        for ax, key, style in ((axes[0], "loss", "--"), (axes[1], "val_loss", "-")):
            curves = [np.asarray(r.curves[key], dtype=float) for r in members if r.curves.get(key)]
            # A diverged run's inf/NaN epochs are not drawn; its finite start still is.
            curves = [np.where(np.isfinite(c), c, np.nan) for c in curves]
            if not curves:
                continue
            length = max(len(c) for c in curves)
            padded = np.full((len(curves), length), np.nan)
            for row, curve in zip(padded, curves, strict=True):
                row[: len(curve)] = curve
            with np.errstate(all="ignore"):
                mean = np.nanmean(padded, axis=0)
                low, high = np.nanmin(padded, axis=0), np.nanmax(padded, axis=0)
            epochs = np.arange(1, length + 1)  # from 1, as the console's epoch lines count
            ax.plot(epochs, mean, style, color=f"C{i % 10}", label=summary.name)
            ax.fill_between(epochs, low, high, color=f"C{i % 10}", alpha=0.15)
    for ax, title in zip(axes, ("train loss", "val loss"), strict=True):
        ax.set_title(f"{title} (mean over seeds, band = min-max)")
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
    axes[1].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def render_html(
    title: str,
    summaries: list[ConfigSummary],
    baseline: str,
    png: bytes,
    notes: list[str] | None = None,
) -> str:
    """A one-file report: the proof's notes, the table, the plot inline, the method."""
    said = "".join(f"<li>{html.escape(note)}</li>" for note in notes or [])
    metric = summaries[0].metric if summaries else ""
    skill_names = sorted({k for s in summaries for k in s.skills})
    head = "".join(
        f"<th>{h}</th>"
        for h in ["configuration", "seeds", "failed", f"{metric} (mean ± std)", "best val loss"]
        + [f"skill vs {k}" for k in skill_names]
        + ["vs baseline", "p (Welch, Holm)"]
    )
    rows = []
    for s in summaries:
        cells = [
            f"<td><code>{html.escape(s.name)}</code></td>",
            f"<td>{len(s.values)}</td>",
            f"<td>{s.failed}</td>",
            f"<td>{spread(s.values)}</td>",
            f"<td>{spread(s.best_val_loss)}</td>",
            *[f"<td>{spread(s.skills.get(k, []))}</td>" for k in skill_names],
            f'<td class="{_verdict_class(s.verdict)}">{html.escape(s.verdict)}</td>',
            f"<td>{'' if s.p_value is None else f'{s.p_value:.3g}'}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    image = base64.b64encode(png).decode()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lstm-doctor: {html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
.better {{ background: #d9f2d9; }} .worse {{ background: #f7d4d4; }}
.baseline {{ font-weight: bold; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Baseline configuration: <code>{html.escape(baseline)}</code>. Compared on <b>{metric}</b>
({"higher" if higher_is_better(metric) else "lower"} is better).
Skill = 1 − model error / baseline error (naive or linear; best = the strongest) on the same
test windows (&gt; 0 beats it).</p>
{f"<ul>{said}</ul>" if said else ""}
<table><tr>{head}</tr>
{chr(10).join(rows)}
</table>
<p><i>Method.</i> {METHOD}</p>
{curve_table(summaries)}
<img alt="learning curves" src="data:image/png;base64,{image}">
</body></html>
"""


def _verdict_class(verdict: str) -> str:
    return verdict.split()[0] if verdict else ""


def curve_table(summaries: list[ConfigSummary]) -> str:
    """The learning curves' measures per configuration: mean ± std over seeds, the verdict
    against the baseline and Welch's p in each cell; each measure defined under its name."""
    head = "".join(
        f'<th title="{html.escape(definition)}">{name}</th>'
        for name, definition in [("configuration", ""), *DEFINITIONS.items()]
    )
    rows = []
    for s in summaries:
        cells = [f"<td><code>{html.escape(s.name)}</code></td>"]
        for name in DEFINITIONS:
            m = s.curve.get(name)
            if m is None:
                cells.append("<td>—</td>")
                continue
            p_value = "" if m.p_value is None else f", p={m.p_value:.3g}"
            cells.append(
                f'<td class="{_verdict_class(m.verdict)}">{spread(m.values)}<br>'
                f"<small>{html.escape(m.verdict)}{p_value}</small></td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    defined = "".join(
        f"<li><code>{name}</code>: {html.escape(text)}</li>" for name, text in DEFINITIONS.items()
    )
    return (
        f"<h2>Learning curves</h2>\n<table><tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>\n"
        f"<ul>{defined}</ul>\n<p><i>Method.</i> {html.escape(CURVE_METHOD)}</p>"
    )


def write_report(
    title: str,
    runs: list[RunRecord],
    out: Path,
    baseline: str | None = None,
    metric: str | None = None,
    notes: list[str] | None = None,
) -> list[ConfigSummary]:
    """Summarise on `metric` (default: the task's test metric), plot and write the report
    files into `out`; `notes` (what the comparison was scored on, what it chose) lead it."""
    summaries, baseline_name = summarise(runs, baseline, metric)
    out.mkdir(parents=True, exist_ok=True)
    plot_curves(runs, summaries, out / "curves.png")
    (out / "report.html").write_text(
        render_html(title, summaries, baseline_name, (out / "curves.png").read_bytes(), notes)
    )
    write_json(
        out / "summary.json",
        {
            "title": title,
            "baseline": baseline_name,
            "notes": notes or [],
            "method": METHOD,
            "curve_method": CURVE_METHOD,
            "curve_definitions": DEFINITIONS,
            "configurations": [
                asdict(s)
                | {"mean": s.mean, "std": s.std}
                | {
                    "curve": {
                        name: asdict(m) | {"mean": m.mean, "std": m.std}
                        for name, m in s.curve.items()
                    }
                }
                for s in summaries
            ],
        },
    )
    return summaries
