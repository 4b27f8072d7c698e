"""A user's script's diagnosis said and written: diagnosis.json, diagnosis.md and
diagnosis.html into one folder, and the few console lines a pipeline run prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lstm_doctor.base.workspace import DIAGNOSIS_JSON, DIAGNOSIS_MD, StagePaths, write_json
from lstm_doctor.config import Config
from lstm_doctor.doctor.report import first_prescription, format_value, primaries, symptoms


def console_lines(result: dict[str, Any]) -> str:
    """The cause, what follows from it, what to try, and what could not be assessed."""
    lines = []
    if result["verdict"] == "healthy":
        notes = [f["code"] for f in result["findings"]]
        lines.append("diagnosis: healthy" + (f" (notes: {', '.join(notes)})" if notes else ""))
    else:
        causes, follow = primaries(result), symptoms(result)
        lines.append("diagnosis: " + ", ".join(f"{f['code']} ({f['severity']})" for f in causes))
        if follow:
            lines.append("  follows from it: " + ", ".join(f["code"] for f in follow))
        fix = first_prescription(result)
        lines.append(
            f"  try first: {fix}"
            if fix
            else "  no change to the script is prescribed: none addresses this cause"
        )
    missing = result.get("not_assessed") or {}
    if missing:
        checks = "1 check" if len(missing) == 1 else f"{len(missing)} checks"
        lines.append(f"  not assessed: {checks} (see diagnosis.md)")
    return "\n".join(lines)


def to_markdown(result: dict[str, Any]) -> str:
    """The diagnosis as a colleague would say it, in the script's own terms."""
    lines = [f"# Diagnosis: {result['verdict']}", ""]
    if result.get("mlflow_run_id"):
        lines += [f"MLflow run `{result['mlflow_run_id']}`.", ""]
    causes = primaries(result)
    if causes:
        lines += ["## Primary cause" + "s" * (len(causes) > 1), ""]
        for f in causes:
            lines += [f"### `{f['code']}` ({f['severity']})", "", f["explanation"], ""]
            lines += [
                "*Seen:* "
                + ", ".join(f"{k} = {format_value(v)}" for k, v in f["evidence"].items()),
                "",
            ]
            lines += [f"- try: `{fix}`" for fix in f["fixes"]] + [""]
    follow = symptoms(result)
    if follow:
        lines += ["## What follows from it", ""]
        lines += [f"- `{f['code']}`: {f['explanation']}" for f in follow] + [""]
    notes = [f for f in result["findings"] if f["severity"] == "info"]
    if notes:
        lines += ["## Notes", ""] + [f"- `{f['code']}`: {f['explanation']}" for f in notes] + [""]
    base = result.get("baselines") or {}
    if base:
        lines += ["## The baselines on your validation windows", "", "| | score |", "|---|---|"]
        rows = {
            **{k: v for k, v in base["baselines"].items()},
            **({"your model": base["model"]} if "model" in base else {}),
        }
        for name, scores in rows.items():
            shown = {k: v for k, v in scores.items() if k in ("mae", "mse", "accuracy")}
            lines.append(f"| {name} | {format_value(shown)} |")
        lines.append("")
    missing = result.get("not_assessed") or {}
    if missing:
        lines += ["## Not assessed", ""]
        lines += [f"- {check}: needs {need}" for check, need in missing.items()] + [""]
    return "\n".join(lines)


def write(
    result: dict[str, Any],
    out_dir: Path,
    cfg: Config,
    history: pd.DataFrame,
    monitors: pd.DataFrame,
) -> Path:
    """diagnosis.json, diagnosis.md and diagnosis.html into `out_dir` (made if need be)."""
    from lstm_doctor.doctor import html_report  # matplotlib loads only when a run is diagnosed

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / DIAGNOSIS_JSON, result)
    (out_dir / DIAGNOSIS_MD).write_text(to_markdown(result))
    nowhere = out_dir / ".no-stage-files"  # a script has no stage folders: no series plots
    paths = StagePaths(nowhere, nowhere, nowhere, nowhere, out_dir)
    html_report.write(result, cfg, paths, history, monitors)
    return out_dir
