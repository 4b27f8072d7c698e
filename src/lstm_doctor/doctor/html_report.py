"""diagnosis.html: the diagnosis a person reads in one glance, offline and self-contained.

Reads the run's prepared table and scaled meta.json (for the series plots) beside the
diagnosis result, the curves and the monitors it is handed; writes <reports>/diagnosis.html.
Top to bottom: the verdict, the primary cause(s) and the one fix to try first with its
command, the symptoms that follow from them, the curves, the data, every finding as a card.
"""

from __future__ import annotations

import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from lstm_doctor.base.metrics import seasons
from lstm_doctor.base.stage_meta import ScaledMeta
from lstm_doctor.base.workspace import (
    DIAGNOSIS_HTML,
    META,
    PREPARE_REPORT,
    PREPARED_TABLE,
    StagePaths,
    read_json,
)
from lstm_doctor.config import Config
from lstm_doctor.doctor.report import (
    first_prescription,
    format_value,
    prescriptions,
    serious_findings,
    try_command,
)

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       width: 1000px; margin: 24px auto; background: #fafafa; }
h1 { margin: 0; font-size: 26px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.verdict { padding: 16px 20px; border-radius: 6px; border-left: 8px solid; }
.verdict.sick { background: #fdecea; border-color: #c0392b; }
.verdict.healthy { background: #e9f7ef; border-color: #1e8449; }
.muted { color: #666; font-size: 13px; }
pre { background: #1f2430; color: #e6e6e6; padding: 10px 14px; border-radius: 4px;
      overflow-x: auto; font-size: 13px; margin: 6px 0; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
.fix code, .card code { background: #eef0f3; padding: 1px 5px; border-radius: 3px; }
figure { margin: 10px 0; background: #fff; border: 1px solid #e3e3e3; border-radius: 4px;
         padding: 6px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: #555; padding: 2px 6px; }
.cards { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.card { background: #fff; border: 1px solid #e3e3e3; border-left: 5px solid;
        border-radius: 4px; padding: 8px 12px; font-size: 13.5px; }
.card p { margin: 4px 0; }
.card.error { border-left-color: #c0392b; } .card.warning { border-left-color: #d68910; }
.card.info { border-left-color: #7f8c8d; }
.sev { font-size: 11px; font-weight: 700; text-transform: uppercase; padding: 1px 6px;
       border-radius: 3px; color: #fff; margin-right: 6px; }
.sev.error { background: #c0392b; } .sev.warning { background: #d68910; }
.sev.info { background: #7f8c8d; }
ul.symptoms { margin: 4px 0; padding-left: 20px; }
table.results { border-collapse: collapse; background: #fff; }
table.results th, table.results td { border: 1px solid #ddd; padding: 3px 10px;
       text-align: right; font-size: 13.5px; }
table.results td:first-child { text-align: left; }
"""


def write(
    result: dict[str, Any],
    cfg: Config,
    paths: StagePaths,
    history: pd.DataFrame,
    monitors: pd.DataFrame,
) -> Path:
    """Render the diagnosis page and write it atomically as <reports>/diagnosis.html.

    Returns:
        the path written.
    """
    page = render(result, cfg, paths, history, monitors)
    target = paths.reports / DIAGNOSIS_HTML
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".diagnosis.", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(page)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def render(
    result: dict[str, Any],
    cfg: Config,
    paths: StagePaths,
    history: pd.DataFrame,
    monitors: pd.DataFrame,
) -> str:
    """The whole page as one HTML string (the plots inlined as SVG)."""
    from lstm_doctor.doctor import html_plots, html_results

    marks = html_plots.epoch_marks(result["findings"])
    training = [
        (html_plots.loss_svg(history, marks),
         "Train and validation loss; dashed lines mark the epochs a finding points at."),
        (html_plots.monitor_svg(monitors, marks),
         "Gradient norm on a fixed probe batch, at the epochs probed (the dots; the probe "
         "skips some once training settles), and update/weight ratio every epoch."),
    ]  # fmt: skip
    parts = [
        _head(result),
        _summary(result),
        html_results.section(paths.reports),
        _figures("Training", training),
        _figures("Data", _series_figures(cfg, paths)),
        _cards(result),
        "</body></html>",
    ]
    return "\n".join(parts)


def _series_figures(cfg: Config, paths: StagePaths) -> list[tuple[str | None, str]]:
    """The data plots that matter for a forecast (none for classification, or before the
    prepare and scale stages have written their files)."""
    from lstm_doctor.doctor import html_plots

    table_file, meta_file = paths.prepared / PREPARED_TABLE, paths.scaled / META
    if cfg.dataset.task == "classify" or not (table_file.exists() and meta_file.exists()):
        return []
    meta = ScaledMeta.read(paths)
    report_file = paths.prepared / PREPARE_REPORT
    freq = (read_json(report_file) if report_file.exists() else {}).get("freq") or meta.freq
    name = cfg.dataset.target
    target = pd.read_parquet(table_file, columns=[name])[name].to_numpy(dtype=float)
    lo, hi = meta.bounds["train"]
    found = seasons(target[lo:hi], freq, meta.period)
    length = cfg.window.length
    season_text = ", ".join(map(str, found)) or "none found"
    return [
        (html_plots.acf_svg(target[lo:hi], found, length),
         f"Seasons (dashed): {season_text} steps; the shaded span is what a window of "
         f"{length} steps sees. A season beyond it is one the model cannot look back to."),
        (html_plots.distribution_svg(target, meta.bounds, name),
         "The target in each split: levels validation or test reach that training never "
         "shows are levels the model cannot predict."),
    ]  # fmt: skip


def _head(result: dict[str, Any]) -> str:
    run = result.get("run_id")
    title = f"Diagnosis: {result['verdict']}" + (f" — run {run}" if run else "")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
    )


def _primary_causes(result: dict[str, Any]) -> list[str]:
    """The primary causes the doctor named, or (from an older diagnosis) the finding whose
    fix comes first, else the most severe one."""
    if result.get("primary") is not None:
        return list(result["primary"])
    found = serious_findings(result)
    fixes = prescriptions(result, limit=1)
    first = next(
        (f for f in found if fixes and fixes[0] in f["fixes"]), found[0] if found else None
    )
    return [first["code"]] if first else []


def _first_fix(result: dict[str, Any]) -> tuple[str | None, str | None]:
    """The one fix to try first and the exact command that tries it."""
    fix = result["first_fix"] if "first_fix" in result else first_prescription(result)
    command = result.get("first_command")
    if command is None and fix:
        command = try_command(result.get("overrides", []), fix)
    return fix, command


def _summary(result: dict[str, Any]) -> str:
    sick = result["verdict"] != "healthy"
    run = result.get("run_id")
    out = [f'<section class="verdict {"sick" if sick else "healthy"}">',
           f"<h1>Diagnosis: {escape(result['verdict'])}</h1>"]  # fmt: skip
    if run:
        out.append(f'<div class="muted">MLflow run <code>{escape(run)}</code></div>')
    by_code = {f["code"]: f for f in result["findings"]}
    primary = [by_code[c] for c in _primary_causes(result) if c in by_code]
    if not sick or not primary:
        out.append(
            "<p>Nothing a warning's worth: the data look usable, the curves fall and settle, "
            "and the model beats every baseline (the numbers below).</p>"
            if not sick
            else "<p>See the findings below.</p>"
        )
    if primary:
        out.append(f"<h2>Primary cause{'s' * (len(primary) > 1)}</h2>")
        out += [f"<p><b><code>{escape(f['code'])}</code></b> {escape(f['explanation'])}</p>"
                for f in primary]  # fmt: skip
    fix, command = _first_fix(result)
    if fix:
        out.append(f'<p class="fix">Try first: <code>{escape(fix)}</code></p>')
    elif primary:  # the honest prescription when the cause is in the data's nature
        out.append("<p>No configuration change is prescribed: none addresses this cause.</p>")
    if command:
        out.append(f'<pre id="first-command">{escape(command)}</pre>')
    if sick and run and fix:
        out.append(
            '<p class="muted">Prove the fixes beat seed noise (3 seeds each):</p>'
            f"<pre>lstm-doctor fix {escape(run)}</pre>"
        )
    out.append("</section>")
    out.append(_symptoms(result, [f["code"] for f in primary]))
    return "\n".join(out)


def _symptoms(result: dict[str, Any], primary: list[str]) -> str:
    """Each primary cause with the symptoms that follow from it, directly or through another
    symptom; a symptom is said once, under the first cause that reaches it."""
    said = set(primary)
    items = []
    for cause in primary:
        reached, frontier = [], [cause]
        while frontier:
            code = frontier.pop(0)
            for f in result["findings"]:
                if code in f.get("explained_by", []) and f["code"] not in said:
                    said.add(f["code"])
                    reached.append(f["code"])
                    frontier.append(f["code"])
        if reached:
            codes = ", ".join(f"<code>{escape(c)}</code>" for c in reached)
            items.append(f"<li>{codes}: these usually follow from <code>{escape(cause)}</code>."
                         " Fix it first, then look again.</li>")  # fmt: skip
    if not items:
        return ""
    return f'<h2>Symptoms</h2><ul class="symptoms">{"".join(items)}</ul>'


def _figures(title: str, figures: list[tuple[str | None, str]]) -> str:
    shown = [(svg, caption) for svg, caption in figures if svg]
    if not shown:
        return ""
    blocks = [f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"
              for svg, caption in shown]  # fmt: skip
    return f"<h2>{escape(title)}</h2>" + "".join(blocks)


def _cards(result: dict[str, Any]) -> str:
    if not result["findings"]:
        return ""
    overrides = result.get("overrides", [])
    cards = []
    for f in result["findings"]:
        severity = escape(f["severity"])
        lines = [
            f'<div class="card {severity}" id="{escape(f["code"])}">',
            f'<p><span class="sev {severity}">{severity}</span><b>{escape(f["code"])}</b></p>',
            f"<p>{escape(f['explanation'])}</p>",
        ]
        if f.get("explained_by"):
            causes = ", ".join(f"<code>{escape(c)}</code>" for c in f["explained_by"])
            lines.append(f'<p class="muted">Follows from {causes}.</p>')
        evidence = ", ".join(f"{k} = {format_value(v)}" for k, v in f["evidence"].items())
        if f.get("epochs"):
            evidence += f"{'; ' * bool(evidence)}epochs {', '.join(map(str, f['epochs']))}"
        if evidence:
            lines.append(f'<p class="muted">Seen: {escape(evidence)}</p>')
        if f["fixes"]:
            fixes = " ".join(
                f'<code title="{escape(try_command(overrides, fix))}">{escape(fix)}</code>'
                for fix in f["fixes"]
            )
            lines.append(f"<p>Try, in this order: {fixes}</p>")
        cards.append("".join(lines) + "</div>")
    return f'<h2>Findings</h2><div class="cards">{"".join(cards)}</div>'
