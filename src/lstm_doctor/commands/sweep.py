"""Hydra multirun sweeps as MLflow parent runs: one parent per sweep, one child per job.

Registered in conf/config.yaml under hydra.callbacks. The parent's id is written to
<sweep dir>/sweep.json, where every job (in this process or a joblib worker) finds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

SWEEP_FILE = "sweep.json"


class SweepRun(Callback):
    """Opens the sweep's parent run before the first job and closes it after the last."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from lstm_doctor.config import validate
        from lstm_doctor.tracking import sweeps

        cfg = validate(config)
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        overrides = list(OmegaConf.to_container(config.hydra.overrides.task, resolve=True))
        # The parent is made here, before any worker starts: this also creates the store
        # and experiment once, so parallel jobs never race to initialise them.
        parent = sweeps.start_sweep_run(cfg.tracking, sweep_dir.name, overrides)
        (sweep_dir / SWEEP_FILE).write_text(
            json.dumps({"parent_run_id": parent, "overrides": overrides}, indent=2) + "\n"
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from lstm_doctor.config import validate
        from lstm_doctor.tracking import sweeps

        info = read_sweep(Path(config.hydra.sweep.dir))
        if info is None:
            return
        counts = sweeps.finish_sweep_run(validate(config).tracking, info["parent_run_id"])
        print(
            f"sweep {Path(config.hydra.sweep.dir).name}: {counts['jobs']} jobs, "
            f"{counts['failed']} failed; MLflow parent run {info['parent_run_id']}"
        )


def read_sweep(sweep_dir: Path) -> dict[str, Any] | None:
    """The sweep's record (parent run id, overrides), if this is a sweep folder."""
    file = sweep_dir / SWEEP_FILE
    return json.loads(file.read_text()) if file.exists() else None
