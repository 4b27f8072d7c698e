"""What every way into the pipeline shares about its run: the configuration a DVC stage
runs, and ending a run that failed."""

from __future__ import annotations

from lstm_doctor.config import Config, load_params
from lstm_doctor.tracking import lifecycle
from lstm_doctor.workspace import StagePaths


def from_params() -> tuple[Config, StagePaths, list[str]]:
    """What a DVC stage runs: params.yaml, the project layout, and the overrides that rebuild
    its configuration from conf/ (what the diagnosis tells the user to run)."""
    from lstm_doctor.config.overrides import reproduce
    from lstm_doctor.config.params import conf_dir

    cfg = load_params()
    return cfg, StagePaths.project(), reproduce(cfg, conf_dir())


def failed(exc: BaseException) -> None:
    """End the open run FAILED with the reason, as every way in does."""
    lifecycle.set_tags({"error": f"{type(exc).__name__}: {exc}"[:500]})
    lifecycle.end_run("FAILED")
