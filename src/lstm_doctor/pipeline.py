"""The five stages in order, in one process and one MLflow run: what each Hydra job runs."""

from __future__ import annotations

from typing import Any

from lstm_doctor.config import Config
from lstm_doctor.paths import StagePaths


def run_pipeline(
    cfg: Config,
    paths: StagePaths,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    parent_run_id: str | None = None,
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """prepare -> scale -> window -> train -> evaluate; returns evaluate's metrics.

    The same `run` functions DVC calls stage by stage, so both ways in share one code path.
    The run opens before prepare, so a job that fails on its data is recorded as FAILED too.
    """
    from lstm_doctor import prepare, scale, tracking, window

    run_tags = tracking.run_tags(cfg) | (tags or {})
    run_id = tracking.start_run(cfg, run_tags, run_name=run_name, parent_run_id=parent_run_id)
    try:
        prepare.run(cfg, paths)
        scale.run(cfg, paths)
        window.run(cfg, paths)
        # TensorFlow loads only now, so config and data errors are reported in a second.
        from lstm_doctor import evaluate, train

        train.run(cfg, paths, overrides)
        result = evaluate.run(cfg, paths, overrides)
    except BaseException as exc:
        tracking.set_tags({"error": f"{type(exc).__name__}: {exc}"[:500]})
        tracking.end_run("FAILED")
        raise
    tracking.end_run("FINISHED")
    result["run_id"] = run_id
    return result
