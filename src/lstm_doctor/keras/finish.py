"""The end of every entry point for a user's script: diagnose what the run showed, write
the three files into a fresh folder, print the console lines, and tag the MLflow run (the
active one, or the one named) when there is one."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from lstm_doctor.base.workspace import DIAGNOSIS_HTML, DIAGNOSIS_MD
from lstm_doctor.doctor.script import ScriptRun, diagnose_script, script_config, task_of
from lstm_doctor.doctor.script_report import console_lines, write


def new_folder(parent: Path | str = "lstm-doctor") -> Path:
    """A new folder under ./lstm-doctor/ named for the time (never one already there)."""
    base = Path(parent) / time.strftime("%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def active_mlflow_run() -> str | None:
    """The active MLflow run's id, without loading MLflow when the script never did."""
    if "mlflow" not in sys.modules:
        return None
    from lstm_doctor.tracking.script_runs import active_run_id

    return active_run_id()


def finish(run: ScriptRun, out_dir: Path | str | None, log_to: str | None = None) -> dict[str, Any]:
    """Diagnose, write diagnosis.json/.md/.html, print the summary, log to `log_to`'s run.

    Returns:
        the diagnosis dict (as diagnosis.json), with `out_dir` added.
    """
    result = diagnose_script(run)
    folder = Path(out_dir) if out_dir else new_folder()
    write(result, folder, script_config(run, task_of(run)), run.history, run.monitors)
    if log_to:
        from lstm_doctor.tracking.script_runs import log_to_run

        log_to_run(log_to, result, folder)
    print(console_lines(result))
    page = (folder / DIAGNOSIS_HTML).resolve()
    print(f"  details: {folder / DIAGNOSIS_MD}   page: {page}  ({page.as_uri()})")
    result["out_dir"] = str(folder)
    return result
