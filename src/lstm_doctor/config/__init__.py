"""Layer 1: the configuration. Its typed schema and every key's allowed values, composing
conf/ with Hydra into params.yaml, overrides (the fix vocabulary), the settings a command
runs with, and the sizes resolved from the data.

The schema's names are re-exported here: `from lstm_doctor.config import Config, validate`.
"""

from lstm_doctor.config.access import flatten
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
    load_params,
    validate,
)

LAYER = 1

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
