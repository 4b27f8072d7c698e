"""Train inside the pipeline's open MLflow run: curves and monitors sent live, the model
kept, and a run that diverged diagnosed before it ends."""

from __future__ import annotations

from typing import Any

from lstm_doctor.config import Config
from lstm_doctor.doctor.diagnose import diagnose
from lstm_doctor.doctor.report import console_summary
from lstm_doctor.tracking import keras_logging, lifecycle
from lstm_doctor.workspace import StagePaths


def train_step(cfg: Config, paths: StagePaths, overrides: list[str]) -> dict[str, Any]:
    """Train in the open run: data notes, live curves and monitors, the model.

    Raises:
        TrainingDiverged: after the diverged run's diagnosis is written and logged.
    """
    from lstm_doctor.stages import train

    for file in (
        paths.prepared / "report.json",
        paths.scaled / "meta.json",
        paths.windows / "meta.json",
    ):
        lifecycle.log_artifact(file, f"data/{file.parent.name}")
    run_id = lifecycle.active_run_id()
    try:
        result = train.run(
            cfg,
            paths,
            callbacks=[keras_logging.epoch_logger()],
            monitor_sink=lifecycle.log_metrics_async,
            run_id=run_id,
        )
    except train.TrainingDiverged as exc:
        lifecycle.flush()
        # The run ends here: diagnose it now, with its curves, so the failure is explained.
        diagnosis = diagnose(cfg, paths, exc.history, exc.monitors, None, run_id, overrides)
        lifecycle.log_diagnosis(diagnosis, paths.reports)
        print(console_summary(diagnosis))
        raise
    lifecycle.flush()
    lifecycle.log_artifact(paths.models / "history.csv")
    if cfg.tracking.log_model:
        keras_logging.log_keras_model(result["model"], result["example"])
    return result
