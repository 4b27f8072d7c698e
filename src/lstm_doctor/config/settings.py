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


def only_tracking(overrides: list[str], command: str) -> TrackingConfig:
    """tracking.* for a command that reads runs and trains nothing: any other key would be
    ignored silently, so it is refused (`lstm-doctor show model.units=3`)."""
    from lstm_doctor.base.errors import ConfigError
    from lstm_doctor.config.overrides import parse

    for override in parse(overrides):
        if not override.key_or_group.startswith("tracking"):
            raise ConfigError(
                f"lstm-doctor {command} uses only tracking.* settings, not "
                f"'{override.input_line}'; drop it (it would change nothing here)"
            )
    return tracking_settings(overrides)
