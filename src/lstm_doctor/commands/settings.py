"""The settings a command runs with: its conf/ and the tracking settings composed from it.

`fix`, `compare`, `show` and `ui-check` read tracking.* from the composition of conf/ (plus
any overrides given), exactly as the pipeline does, so a store or experiment set in conf/
is the one every command looks in; MLFLOW_TRACKING_URI applies when tracking.uri is null.
"""

from __future__ import annotations

from lstm_doctor.config import Config, TrackingConfig, validate
from lstm_doctor.config.params import conf_dir


def composed(overrides: list[str] | None = None) -> Config:
    """The configuration conf/ composes to, with overrides applied and checked."""
    from lstm_doctor.config.overrides import check
    from lstm_doctor.config.params import compose_config

    check(list(overrides or []), conf_dir())
    return validate(compose_config(list(overrides or []), conf_dir=conf_dir()))


def tracking_settings(overrides: list[str] | None = None) -> TrackingConfig:
    """tracking.* as the pipeline would see it (conf/, then the given overrides)."""
    return composed(overrides).tracking
