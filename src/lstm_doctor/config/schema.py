"""Typed schema of the configuration composed from conf/ (and written to params.yaml).

Hydra composes plain YAML (so DVC's own Hydra composition can read conf/ too); every entry
point then validates the result against these dataclasses with `validate`, so an unknown
key or a wrong type stops the run with one line naming the key.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from lstm_doctor.base.errors import ConfigError


@dataclass
class DatasetConfig:
    """Where the raw data is and what to predict."""

    name: str = "electricity"
    task: str = "forecast"  # forecast | classify
    format: str = "csv"  # csv (also .csv.gz) | ts (sktime/aeon sequence files)
    path: str = "data/raw/electricity/hourly_electricity.csv"
    test_path: str | None = None  # ts only: the archive's own test file
    # One column name, or a list (year, month, day, hour) that pandas assembles into a timestamp.
    time_column: Any = field(default_factory=lambda: ["ts"])
    target: str = "y"
    features: list[str] = field(default_factory=list)  # extra input columns besides the target
    categorical: list[str] = field(default_factory=list)  # one-hot encoded
    select: dict[str, str] = field(default_factory=dict)  # keep rows where column == value
    freq: str | None = None  # pandas frequency; None infers it
    period: int | None = None  # season length in steps; None derives it from freq
    max_rows: int | None = None  # keep only the last N rows (quick runs, tests)
    # A numeric time column counts this unit since 1970-01-01 (s | ms | us | ns); None
    # refuses numbers, which would otherwise silently read as nanoseconds.
    time_unit: str | None = None
    # Offset-aware timestamps are read as UTC, then shown in this zone (e.g. Europe/Rome).
    timezone: str | None = None
    sep: str = ","  # the CSV's column separator
    encoding: str = "utf-8"  # the CSV's text encoding (e.g. latin-1)

    @property
    def time_columns(self) -> list[str]:
        """`time_column` as a list, whether one name or several were given."""
        value = self.time_column
        return [value] if isinstance(value, str) else [str(v) for v in value or []]

    @property
    def files(self) -> list[Path]:
        """The raw files this dataset reads."""
        return [Path(p) for p in (self.path, self.test_path) if p]


@dataclass
class PrepareConfig:
    """How raw rows become a regular, clean table."""

    sort: bool = True  # sort unsorted timestamps; False rejects them
    duplicates: str = "reject"  # reject | drop (keep the last)
    missing: str = "interpolate"  # none | ffill | interpolate | drop
    outliers: str = "none"  # none | clip | drop
    outlier_threshold: float = 6.0  # robust z (median / MAD) beyond which a value is an outlier
    calendar_features: bool = True  # add hour-of-day / day-of-week sin-cos columns
    # With calendar_features, the year's phase too (day of year; week of year for weekly
    # data, month for monthly): auto | always | never. auto adds it at daily or longer
    # steps when the data span two years (sub-daily data: ask for it with always).
    year_features: str = "auto"
    sequence_length: int | None = None  # classify: pad/truncate every sequence to this
    pad: str = "post"  # post | pre


@dataclass
class SplitConfig:
    """Chronological split (forecast) or holdout from the training file (classify)."""

    val_fraction: float = 0.15
    test_fraction: float = 0.15


@dataclass
class ScalingConfig:
    """Feature scaling: the statistics come from `fit_on`."""

    method: str = "standard"  # none | standard | minmax | robust
    fit_on: str = "train"  # train | all (all leaks the future: kept only to show the harm)


@dataclass
class WindowConfig:
    """Sliding windows over the scaled series."""

    length: int = 48
    horizon: int = 24
    stride: int = 1
    gap: int = 0  # extra steps skipped at the start of val and test
    normalize: str = "none"  # none | last | standard (per-window)


@dataclass
class ModelConfig:
    """The LSTM and its head."""

    units: int = 64
    layers: int = 1
    dropout: float = 0.0  # on each LSTM's inputs
    recurrent_dropout: float = 0.0
    layer_dropout: float = 0.0  # Dropout layer after each LSTM
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    kernel_initializer: str = "glorot_uniform"
    recurrent_initializer: str = "orthogonal"
    dense_units: int = 0  # hidden Dense before the output; 0 = none
    unroll: bool = False
    # Forecast the correction to a lookup instead of the level: none | persistence |
    # seasonal_naive (an output of zero is then that lookup's forecast).
    residual_to: str = "none"


@dataclass
class OptimizerConfig:
    """Optimizer and its step size."""

    name: str = "adam"  # a key of config/optimizers.OPTIMIZERS
    lr: float = 3e-3
    momentum: float = 0.0  # for the optimizers that take one
    clipnorm: float | None = None


@dataclass
class EarlyStoppingConfig:
    enabled: bool = True
    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True


@dataclass
class ReduceLRConfig:
    enabled: bool = True
    monitor: str = "val_loss"
    factor: float = 0.5
    patience: int = 3
    min_lr: float = 1e-6


@dataclass
class TrainingConfig:
    """The fit loop."""

    batch_size: int = 64
    epochs: int = 60
    shuffle: bool = True
    max_steps_per_epoch: int | None = None  # cap batches per epoch (quick runs)
    class_weight: str = "none"  # none | balanced (classification: weigh rare classes up)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    reduce_lr: ReduceLRConfig = field(default_factory=ReduceLRConfig)


@dataclass
class TrackingConfig:
    """Where runs are recorded. uri None means MLFLOW_TRACKING_URI, else ./mlflow.db."""

    uri: str | None = None
    experiment: str = "lstm-doctor"
    run_name: str | None = None
    log_model: bool = True
    register_as: str | None = None  # register the model under this name, verdict as tags


@dataclass
class Config:
    """The whole composed configuration."""

    seed: int = 0
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    prepare: PrepareConfig = field(default_factory=PrepareConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)


def mapping_keys() -> set[str]:
    """Keys whose value is a mapping of the user's own entries (dataset.select.<column>)."""
    return {"dataset.select"}


def mapping_entry(override: Any, conf_dir: Path) -> bool:
    """An entry of a mapping key (dataset.select.<column>): new ones need Hydra's '+'
    (without it Hydra fails in seven lines), unless some option of the group has it."""
    name = override.key_or_group
    if not any(name.startswith(f"{m}.") for m in mapping_keys()):
        return False
    group, _, rest = name.partition(".")
    if (
        override.is_add()
        or override.is_force_add()
        or any(
            OmegaConf.select(OmegaConf.load(f), rest) is not None
            for f in (conf_dir / group).glob("*.yaml")
        )
    ):
        return True
    value = override.get_value_element_as_str()
    raise ConfigError(f"config key '{name}' is a new entry: add it with a '+': '+{name}={value}'")


def validate(raw: DictConfig | dict[str, Any]) -> Config:
    """Check a composed config against the schema and every key's allowed values.

    Raises:
        ConfigError: one line naming the offending key and what is allowed.
    """
    from lstm_doctor.config.values import check_values

    node = OmegaConf.create(raw)
    # Hydra's own node is not ours to check (and resolves only inside a running app).
    node = OmegaConf.masked_copy(node, [k for k in node if k != "hydra"])
    unset = sorted(k for k in OmegaConf.missing_keys(node) if not k.startswith("hydra"))
    if unset:
        raise ConfigError(
            f"config key '{unset[0]}' has no value (???); set it, e.g. {unset[0]}=..."
        )
    data = OmegaConf.to_container(node, resolve=True)
    assert isinstance(data, dict)
    try:
        merged = OmegaConf.merge(_schema(), data)
    except OmegaConfBaseException as exc:
        section = _value_for_section(data, Config, "")
        if section:
            raise ConfigError(section) from None
        key = getattr(exc, "full_key", None) or "?"
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"config key '{key}': {reason}") from None
    cfg: Config = OmegaConf.to_object(merged)  # type: ignore[assignment]
    check_values(cfg)
    return cfg


_SCHEMA: list[DictConfig] = []


def _schema() -> DictConfig:
    """The schema as an OmegaConf node, made once: merge copies it, never changes it, and
    making it costs a validation a third of its time (the doctor validates a config for
    every fix it weighs)."""
    if not _SCHEMA:
        _SCHEMA.append(OmegaConf.structured(Config))
    return _SCHEMA[0]


def _value_for_section(data: dict[str, Any], cls: Any, prefix: str) -> str | None:
    """Where a plain value stands in for a whole section (`window: 5`), say so by name:
    OmegaConf's own error names no key."""
    for item in fields(cls):
        kind = typing.get_type_hints(cls)[item.name]
        if not is_dataclass(kind) or item.name not in data:
            continue
        key, value = f"{prefix}{item.name}", data[item.name]
        if not isinstance(value, dict):
            inner = ", ".join(f.name for f in fields(kind))
            return (
                f"config key '{key}' is {value!r}, but it is a section ({inner}); "
                f"set one of its keys, e.g. {key}.{fields(kind)[0].name}=..."
            )
        found = _value_for_section(value, kind, f"{key}.")
        if found:
            return found
    return None


def load_params(path: str = "params.yaml") -> Config:
    """Read and validate params.yaml (what DVC stages run from)."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{path} not found; run from the project root (where dvc.yaml is)")
    try:
        raw = OmegaConf.load(file)
    except Exception as exc:  # a YAML syntax error, reported in one line
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return validate(raw)  # type: ignore[arg-type]
