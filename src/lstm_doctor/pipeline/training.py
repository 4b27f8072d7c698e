"""Train inside the pipeline's open MLflow run: curves and monitors sent live, the model
kept, and a run that diverged diagnosed before it ends."""

from __future__ import annotations

from typing import Any

from lstm_doctor.base.stage_meta import ScaledMeta, WindowsMeta
from lstm_doctor.base.workspace import (
    HISTORY_FILE,
    META,
    PREPARE_REPORT,
    PREPARED_TABLE,
    SEQUENCES,
    StagePaths,
)
from lstm_doctor.config import Config
from lstm_doctor.config.sizing import fit_sizes
from lstm_doctor.doctor.diagnosis import diagnose
from lstm_doctor.doctor.report import console_summary, summary_paragraph
from lstm_doctor.tracking import keras_logging, lifecycle


def train_step(
    cfg: Config, paths: StagePaths, overrides: list[str], progress: bool = True
) -> dict[str, Any]:
    """Train in the open run: data notes, live curves and monitors, the model; one line per
    epoch on the console with `progress` (unless LSTM_DOCTOR_QUIET=1).

    Raises:
        TrainingDiverged: after the diverged run's diagnosis is written and logged.
    """
    from lstm_doctor.pipeline.run import raise_if_signalled
    from lstm_doctor.stages import train
    from lstm_doctor.stages.progress import epoch_lines, quiet
    from lstm_doctor.stages.refusals import refuse_blocked_outputs

    refuse_blocked_outputs(paths)
    for file in (
        paths.prepared / PREPARE_REPORT,
        paths.scaled / META,
        paths.windows / META,
    ):
        lifecycle.log_artifact(file, f"data/{file.parent.name}")
    run_id = lifecycle.active_run_id()
    # The batch and patience that follow the data's size, logged before the first epoch so
    # the run says what it trains with beside what was configured.
    sizes = fit_sizes(WindowsMeta.read(paths).counts["train"], cfg.training)
    lifecycle.log_params(sizes.as_params())
    log_inputs(cfg, paths, run_id)
    try:
        result = train.run(
            cfg,
            paths,
            # A signal whose raise was lost on the way still ends the fit at the epoch's end.
            callbacks=[
                keras_logging.epoch_logger(lifecycle.log_metrics_async),
                train.at_epoch_end(raise_if_signalled),
            ]
            + (
                [epoch_lines(cfg, sizes.early_stopping_patience)]
                if progress and not quiet()
                else []
            ),
            # The monitor's record joins the epoch's curves in the logger's send.
            monitor_sink=lifecycle.queue_metrics,
            run_id=run_id,
        )
    except train.TrainingDiverged as exc:
        lifecycle.flush()
        # The run ends here: diagnose it now, with its curves, so the failure is explained.
        diagnosis = diagnose(cfg, paths, exc.history, exc.monitors, None, run_id, overrides)
        lifecycle.log_diagnosis(diagnosis, paths.reports, summary_paragraph(diagnosis))
        print(console_summary(diagnosis))
        raise
    lifecycle.flush()
    lifecycle.log_artifact(paths.models / HISTORY_FILE)
    if cfg.tracking.log_model:
        lifecycle.log_model(result["model"], result["example"])
    return result


def log_inputs(cfg: Config, paths: StagePaths, run_id: str | None) -> None:
    """Each split's prepared data as an MLflow input of the run, named by the dataset and
    sourced from its raw file, so the UI's Datasets panel and filters show what fed it.

    The splits are read here; their digests and store transactions (~0.2 s, as long as
    several training steps) are made by the background sender while training begins, and
    the step's `flush` waits for them."""
    from pathlib import Path

    import numpy as np
    import pandas as pd

    bounds = ScaledMeta.read(paths).bounds
    contexts = {"train": "training", "val": "validation", "test": "testing"}
    ds = cfg.dataset
    # A file URI names the source one way only (a bare path reads as several kinds to MLflow).
    source = Path(ds.path).resolve().as_uri()
    if (paths.prepared / PREPARED_TABLE).exists():
        table = pd.read_parquet(paths.prepared / PREPARED_TABLE)
        splits = {contexts[k]: table.iloc[lo:hi] for k, (lo, hi) in bounds.items()}
        lifecycle.in_background(lifecycle.log_datasets, splits, source, ds.name, ds.target, run_id)
    else:
        arrays = np.load(paths.scaled / SEQUENCES)
        splits = {contexts[k]: (arrays["x"][lo:hi], arrays["y"][lo:hi])
                  for k, (lo, hi) in bounds.items()}  # fmt: skip
        lifecycle.in_background(lifecycle.log_datasets, splits, source, ds.name, None, run_id)
