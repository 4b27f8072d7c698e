"""Evaluate inside the pipeline's open MLflow run: test metrics, plots and the diagnosis,
logged into the run."""

from __future__ import annotations

from typing import Any

from lstm_doctor.base.workspace import (
    EVALUATION_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    TARGETS_FILE,
    StagePaths,
)
from lstm_doctor.config import Config
from lstm_doctor.doctor.diagnosis import diagnose, read_monitors
from lstm_doctor.doctor.report import summary_paragraph
from lstm_doctor.tracking import lifecycle


def evaluate_step(cfg: Config, paths: StagePaths, overrides: list[str]) -> dict[str, Any]:
    """Evaluate in the open run, diagnose it, and log metrics, plots and the diagnosis.

    Returns:
        evaluation.json's content with the run id and the diagnosis added.
    """
    import pandas as pd

    from lstm_doctor.stages import evaluate

    result = evaluate.run(cfg, paths)
    run_id = lifecycle.active_run_id()
    history = pd.read_csv(paths.models / HISTORY_FILE)
    diagnosis = diagnose(
        cfg, paths, history, read_monitors(paths.models), result, run_id, overrides
    )
    flat = evaluate.flat_metrics(result)
    lifecycle.log_metrics(flat)
    # Error by lead time as curves over the step ahead (1..H), one per model and baseline.
    lifecycle.log_series(
        {
            f"lead_time_mae/{name}": values
            for name, values in result.get("mae_by_lead_time", {}).items()
        }
    )
    lifecycle.log_artifact(paths.reports / METRICS_FILE)
    lifecycle.log_artifact(paths.reports / EVALUATION_FILE)
    # Every scored target, so a proof can score its runs on the targets they share.
    lifecycle.log_artifact(paths.reports / TARGETS_FILE)
    lifecycle.log_artifact(paths.reports / "plots", "plots")
    lifecycle.log_diagnosis(diagnosis, paths.reports, summary_paragraph(diagnosis))
    if cfg.tracking.register_as and cfg.tracking.log_model:
        # The version carries what was found, so the registry says which models to trust.
        tags = {"diagnosis.verdict": diagnosis["verdict"],
                "diagnosis.codes": ",".join(diagnosis["codes"]) or "none"}  # fmt: skip
        tags |= {k: f"{v:.6g}" for k, v in flat.items()
                 if k.startswith(("test_", "skill_vs_best"))}  # fmt: skip
        result["registered_version"] = lifecycle.register_model(cfg.tracking.register_as, tags)
    return result | {"run_id": run_id, "diagnosis": diagnosis}
