"""The configuration: its typed schema and every key's allowed values, composing conf/ with
Hydra into params.yaml, and overrides (the fix vocabulary).

The schema's names are re-exported here: `from lstm_doctor.config import Config, validate`.
"""

from lstm_doctor.config.schema import (
    Config,
    DatasetConfig,
    EarlyStoppingConfig,
    ModelConfig,
    OptimizerConfig,
    PrepareConfig,
    ReduceLRConfig,
    ScalingConfig,
    SplitConfig,
    TrackingConfig,
    TrainingConfig,
    WindowConfig,
    flatten,
    load_params,
    validate,
)

__all__ = [
    "Config",
    "DatasetConfig",
    "EarlyStoppingConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PrepareConfig",
    "ReduceLRConfig",
    "ScalingConfig",
    "SplitConfig",
    "TrackingConfig",
    "TrainingConfig",
    "WindowConfig",
    "flatten",
    "load_params",
    "validate",
]
