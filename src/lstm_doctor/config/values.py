"""The values each config key may take, checked once for every entry point.

Every leaf of the schema is in exactly one table here (a test keeps it so): a numeric range,
a set of choices, a check of its own, or free text. A value out of range would otherwise
validate and then fail deep inside Keras or pandas, or, worse, run and be silently wrong
(a negative gap puts validation windows inside the training span).
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass
from typing import Any

from lstm_doctor.base.errors import ConfigError
from lstm_doctor.config.access import value_at
from lstm_doctor.config.optimizers import OPTIMIZERS


@dataclass(frozen=True)
class Range:
    """lo < x < hi, with either end closed; None for no bound on that side."""

    lo: float | None = None
    hi: float | None = None
    lo_closed: bool = True
    hi_closed: bool = False
    optional: bool = False  # None (null) is allowed

    def contains(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_closed)):
            return False
        return not (
            self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_closed))
        )

    def describe(self) -> str:
        if self.hi is None:
            return f"it must be {'>=' if self.lo_closed else '>'} {self.lo:g}"
        left = "[" if self.lo_closed else "("
        right = "]" if self.hi_closed else ")"
        return f"use a value in {left}{self.lo:g}, {self.hi:g}{right}"


AT_LEAST_1 = Range(1)
AT_LEAST_0 = Range(0)
POSITIVE = Range(0, lo_closed=False)
RATE = Range(0, 1)  # dropout rates: 1 would drop everything

RANGES: dict[str, Range] = {
    "seed": AT_LEAST_0,
    "dataset.period": Range(1, optional=True),
    "dataset.max_rows": Range(1, optional=True),
    "prepare.outlier_threshold": POSITIVE,
    "prepare.sequence_length": Range(1, optional=True),
    "split.val_fraction": Range(0, 0.5, lo_closed=False),
    "split.test_fraction": Range(0, 0.5, lo_closed=False),
    "window.length": AT_LEAST_1,
    "window.horizon": AT_LEAST_1,
    "window.stride": AT_LEAST_1,
    "window.gap": AT_LEAST_0,
    "model.units": AT_LEAST_1,
    "model.layers": AT_LEAST_1,
    "model.dropout": RATE,
    "model.recurrent_dropout": RATE,
    "model.layer_dropout": RATE,
    "model.dense_units": AT_LEAST_0,
    "optimizer.lr": POSITIVE,
    "optimizer.momentum": Range(0, 1),
    "optimizer.clipnorm": Range(0, lo_closed=False, optional=True),
    "training.batch_size": AT_LEAST_1,
    "training.epochs": AT_LEAST_1,
    "training.max_steps_per_epoch": Range(1, optional=True),
    "training.early_stopping.patience": AT_LEAST_0,
    "training.early_stopping.min_delta": AT_LEAST_0,
    "training.reduce_lr.factor": Range(0, 1, lo_closed=False),
    "training.reduce_lr.patience": AT_LEAST_0,
    "training.reduce_lr.min_lr": AT_LEAST_0,
}

# Keras' own names (a test checks each against keras.activations / keras.initializers).
ACTIVATIONS = (
    "tanh", "sigmoid", "hard_sigmoid", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu",
    "silu", "swish", "mish", "softsign", "softplus", "exponential", "linear",
)  # fmt: skip
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "zeros", "ones",
)  # fmt: skip
MONITORED = ("val_loss", "loss", "val_mae", "mae", "val_accuracy", "accuracy")

CHOICES: dict[str, tuple[str | None, ...]] = {
    "dataset.task": ("forecast", "classify"),
    "dataset.format": ("csv", "ts"),
    "dataset.time_unit": (None, "s", "ms", "us", "ns"),
    "prepare.duplicates": ("reject", "drop"),
    "prepare.missing": ("none", "ffill", "interpolate", "drop"),
    "prepare.outliers": ("none", "clip", "drop"),
    "prepare.pad": ("post", "pre"),
    "scaling.method": ("none", "standard", "minmax", "robust"),
    "scaling.fit_on": ("train", "all"),
    "window.normalize": ("none", "last", "standard"),
    "model.residual_to": ("none", "persistence", "seasonal_naive"),
    "prepare.year_features": ("auto", "always", "never"),
    "model.activation": ACTIVATIONS,
    "model.recurrent_activation": ACTIVATIONS,
    "model.kernel_initializer": INITIALIZERS,
    "model.recurrent_initializer": INITIALIZERS,
    "optimizer.name": tuple(OPTIMIZERS),
    "training.class_weight": ("none", "balanced"),
    "training.early_stopping.monitor": MONITORED,
    "training.reduce_lr.monitor": MONITORED,
}

# Checked by a function of their own below (a library says whether the value is real).
CHECKED = ("dataset.freq", "dataset.timezone", "dataset.encoding", "dataset.sep")

# Names, paths and switches: any value of the right type is a valid one.
FREE = (
    "dataset.name", "dataset.path", "dataset.test_path", "dataset.time_column",
    "dataset.target", "dataset.features", "dataset.categorical", "dataset.select",
    "prepare.sort", "prepare.calendar_features", "model.unroll", "training.shuffle",
    "training.early_stopping.enabled", "training.early_stopping.restore_best",
    "training.reduce_lr.enabled", "tracking.uri", "tracking.experiment", "tracking.run_name",
    "tracking.log_model", "tracking.register_as",
)  # fmt: skip


def check_values(cfg: Any) -> None:
    """Every key's range or choices, then the rules that tie keys together.

    Raises:
        ConfigError: naming the first offending key and what it may be.
    """
    for key, allowed in CHOICES.items():
        value = value_at(cfg, key)
        if value not in allowed:
            options = ", ".join("null" if a is None else a for a in allowed)
            raise ConfigError(f"config key '{key}' is {value!r}; use one of {options}")
    for key, spec in RANGES.items():
        value = value_at(cfg, key)
        if value is None and spec.optional:
            continue
        if value is None or isinstance(value, bool) or not spec.contains(value):
            raise ConfigError(f"config key '{key}' is {value!r}; {spec.describe()}")
    _check_library_values(cfg)
    _check_combinations(cfg)


def _check_library_values(cfg: Any) -> None:
    ds = cfg.dataset
    if ds.freq is not None:
        import pandas as pd

        try:
            pd.tseries.frequencies.to_offset(ds.freq)
        except ValueError:
            raise ConfigError(
                f"config key 'dataset.freq' is {ds.freq!r}, not a pandas frequency; "
                "use e.g. h, 15min, D, B, W, MS (or null to infer it)"
            ) from None
    if ds.timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(ds.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"config key 'dataset.timezone' is {ds.timezone!r}, not a time zone; "
                "use an IANA name such as UTC or Europe/Rome"
            ) from None
    try:
        codecs.lookup(ds.encoding)
    except LookupError:
        raise ConfigError(
            f"config key 'dataset.encoding' is {ds.encoding!r}, not a text encoding; "
            "use e.g. utf-8 or latin-1"
        ) from None
    # `\t` (two characters) is how a tab is typed in an override; the reader maps it.
    if len(ds.sep) != 1 and ds.sep != "\\t":
        raise ConfigError(
            f"config key 'dataset.sep' is {ds.sep!r}; use one character, e.g. ',' or ';' "
            "(or \\t for a tab)"
        )


def _check_combinations(cfg: Any) -> None:
    if cfg.dataset.task == "forecast" and not [c for c in cfg.dataset.time_columns if c]:
        raise ConfigError(
            f"config key 'dataset.time_column' is {cfg.dataset.time_column!r}; name the "
            "file's time column (e.g. dataset.time_column=ts) or a list of its parts"
        )
    if cfg.dataset.task == "forecast" and cfg.dataset.format != "csv":
        raise ConfigError("config key 'dataset.format' must be csv for dataset.task=forecast")
    if cfg.dataset.task == "classify" and cfg.dataset.format != "ts":
        raise ConfigError(
            "config key 'dataset.format' must be ts (labelled sequences) for dataset.task=classify"
        )
    if cfg.dataset.task == "forecast" and cfg.prepare.missing == "drop":
        # Dropping rows leaves holes in the time index, while windows, the season length
        # and seasonal naive all count rows as time steps: every forecast would be shifted.
        raise ConfigError(
            "config key 'prepare.missing' is 'drop', which breaks a forecast's time steps; "
            "use interpolate or ffill (drop is for classify)"
        )
    metric = "accuracy" if cfg.dataset.task == "classify" else "mae"
    for key in ("training.early_stopping.monitor", "training.reduce_lr.monitor"):
        monitor = value_at(cfg, key)
        if monitor.removeprefix("val_") not in ("loss", metric):
            raise ConfigError(
                f"config key '{key}' is {monitor!r}, which a {cfg.dataset.task} run does not "
                f"log; use val_loss, loss, val_{metric} or {metric}"
            )
