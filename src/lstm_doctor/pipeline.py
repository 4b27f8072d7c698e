"""The five stages in order, in one process: what the Hydra app runs for each job."""

from __future__ import annotations

from typing import Any

from lstm_doctor.config import Config
from lstm_doctor.paths import StagePaths


def run_pipeline(cfg: Config, paths: StagePaths) -> dict[str, Any]:
    """prepare -> scale -> window -> train -> evaluate; returns evaluate's metrics.

    The same `run` functions DVC calls stage by stage, so both ways in share one code path.
    """
    from lstm_doctor import prepare, scale, window

    prepare.run(cfg, paths)
    scale.run(cfg, paths)
    window.run(cfg, paths)
    # TensorFlow loads only now, so config and data errors are reported in a second.
    from lstm_doctor import evaluate, train

    train.run(cfg, paths)
    return evaluate.run(cfg, paths)
