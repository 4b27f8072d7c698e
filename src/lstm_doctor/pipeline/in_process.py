"""The five stages in order, in one process and one MLflow run: what each Hydra job runs."""

from __future__ import annotations

from typing import Any

from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config import Config
from lstm_doctor.pipeline.evaluation import evaluate_step
from lstm_doctor.pipeline.run import owning_the_run
from lstm_doctor.pipeline.training import train_step
from lstm_doctor.tracking import lifecycle, provenance


def run_pipeline(
    cfg: Config,
    paths: StagePaths,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    parent_run_id: str | None = None,
    overrides: list[str] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """prepare -> scale -> window -> train -> evaluate; returns evaluate's metrics.

    The same `run` functions DVC calls stage by stage, so both ways in share one code path.
    The run opens before prepare, so a job that fails on its data is recorded as FAILED too.
    """
    from lstm_doctor.stages import prepare, scale, window

    run_tags = provenance.run_tags(cfg) | (tags or {})
    with owning_the_run(
        lambda: lifecycle.start_run(cfg, run_tags, run_name=run_name, parent_run_id=parent_run_id),
        paths,
    ):
        prepare.run(cfg, paths)
        scale.run(cfg, paths)
        window.run(cfg, paths)
        # TensorFlow loads only now (train), so config and data errors come in a second.
        train_step(cfg, paths, overrides or [], progress)
        result = evaluate_step(cfg, paths, overrides or [])
    return result
