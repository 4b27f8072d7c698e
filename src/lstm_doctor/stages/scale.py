"""Stage scale: split chronologically and scale with statistics from the training span only.

Reads prepared/; writes scaled/series.npz (or sequences.npz) and scaled/meta.json holding the
split boundaries and the scaler statistics (JSON, never pickle).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.metrics import mase_lag
from lstm_doctor.base.stage_meta import ScaledMeta
from lstm_doctor.base.workspace import (
    PREPARE_REPORT,
    PREPARED_TABLE,
    SCALED_SERIES,
    SEQUENCES,
    StagePaths,
    atomic_dir,
    read_json,
)
from lstm_doctor.config import Config, ScalingConfig, SplitConfig
from lstm_doctor.stages.splits import SPLITS, split_bounds


@dataclass
class Scaler:
    """x_scaled = (x - center) / scale, per feature; `notes` says, per column, where the
    method's own spread could not be used and what was used instead."""

    method: str
    fit_on: str
    center: list[float]
    scale: list[float]
    notes: dict[str, str] = field(default_factory=dict)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.center)) / np.asarray(self.scale)

    def inverse(self, values: np.ndarray, feature: int) -> np.ndarray:
        """Undo the scaling of one feature (e.g. the target) in any array shape."""
        return values * self.scale[feature] + self.center[feature]


def fit_scaler(values: np.ndarray, cfg: ScalingConfig, columns: list[str] | None = None) -> Scaler:
    """Fit scaler statistics on `values` (rows x features, or sequences x steps x features).

    A spread of zero is never silently replaced by 1 on a column that varies: robust
    scaling of a mostly-zero column (interquartile range 0) falls back to the median
    absolute deviation, then the standard deviation, and says so in `notes`. Only a
    column constant over the fitted span keeps scale 1 (it becomes 0), also noted.

    Raises:
        DataError: a column whose statistics are not finite (values near the float limit).
    """
    flat = values.reshape(-1, values.shape[-1])
    names = columns or [f"channel_{i}" for i in range(flat.shape[1])]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: checked below
        if cfg.method == "none":
            center, scale = np.zeros(flat.shape[1]), np.ones(flat.shape[1])
        elif cfg.method == "standard":
            center, scale = np.nanmean(flat, axis=0), np.nanstd(flat, axis=0)
        elif cfg.method == "minmax":
            center = np.nanmin(flat, axis=0)
            scale = np.nanmax(flat, axis=0) - center
        else:  # robust: median and interquartile range, as sklearn's RobustScaler
            q1, center, q3 = np.nanpercentile(flat, [25, 50, 75], axis=0)
            scale = q3 - q1
        fallbacks = {
            "median absolute deviation": np.nanmedian(np.abs(flat - center), axis=0),
            "standard deviation": np.nanstd(flat, axis=0),
        }
        varies = np.nanmax(flat, axis=0) > np.nanmin(flat, axis=0)
    notes: dict[str, str] = {}
    center, scale = np.array(center, dtype=np.float64), np.array(scale, dtype=np.float64)
    for i, name in enumerate(names):
        if not (np.isfinite(center[i]) and np.isfinite(scale[i])) and varies[i]:
            raise DataError(
                f"column {name!r}: its {cfg.method} statistics overflow (values too large "
                "to scale as float); divide the column by a power of ten before training"
            )
        if scale[i] > 0 or cfg.method == "none":
            continue
        if not varies[i]:
            notes[name] = f"constant over the {cfg.fit_on} span: left at scale 1 (becomes 0)"
            scale[i], center[i] = 1.0, center[i] if np.isfinite(center[i]) else 0.0
            continue
        spread, value = next(
            (k, float(v[i])) for k, v in fallbacks.items() if np.isfinite(v[i]) and v[i] > 0
        )
        notes[name] = f"{cfg.method} spread is 0 (mostly one value): scaled by its {spread}"
        scale[i] = value
    return Scaler(cfg.method, cfg.fit_on, center.tolist(), scale.tolist(), notes)


def checked_transform(scaler: Scaler, values: np.ndarray, columns: list[str]) -> np.ndarray:
    """The scaled values as float32, refusing any column the scaling made non-finite
    (float32 overflows beyond 3.4e38, where float64 did not)."""
    with np.errstate(all="ignore"):
        scaled = scaler.transform(values).astype(np.float32)
    broken = np.isinf(scaled).reshape(-1, scaled.shape[-1]).any(axis=0)
    if broken.any():
        name = columns[int(np.flatnonzero(broken)[0])]
        raise DataError(
            f"column {name!r} does not fit in float32 after {scaler.method} scaling (its "
            "values are near 1e38 or beyond); divide it by a power of ten or set "
            "scaling=standard"
        )
    return scaled


def scale_series(
    table: pd.DataFrame, split: SplitConfig, cfg: ScalingConfig
) -> tuple[np.ndarray, dict[str, tuple[int, int]], Scaler]:
    """Split a table by time and scale it with training-span statistics (or all, if asked)."""
    values = table.to_numpy(dtype=np.float64)
    bounds = split_bounds(len(values), split)
    lo, hi = bounds["train"] if cfg.fit_on == "train" else (0, len(values))
    columns = [str(c) for c in table.columns]
    target = values[bounds["train"][0] : bounds["train"][1], 0]
    if not np.nanmax(target) > np.nanmin(target):
        raise DataError(
            f"the target {columns[0]!r} is constant over the training span (rows "
            f"{bounds['train'][0]}-{bounds['train'][1] - 1}): nothing to learn and MASE is "
            "undefined; use a span where it varies (dataset.max_rows, split.*_fraction)"
        )
    scaler = fit_scaler(values[lo:hi], cfg, columns)
    return checked_transform(scaler, values, columns), bounds, scaler


def split_sequences(
    y_train: np.ndarray,
    has_test: bool,
    split: SplitConfig,
    seed: int,
    classes: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """Indices of each split for labelled sequences: val (and test, if no test file) are
    drawn per class from the training file so every class is present in each."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {name: [] for name in SPLITS}
    needed = 2 if has_test else 3
    for label in np.unique(y_train):
        members = rng.permutation(np.flatnonzero(y_train == label))
        if len(members) < needed:
            # Stratifying cannot place it in every split: it would vanish from training
            # (and a balanced class weight would skip it) without a word.
            raise DataError(
                f"dataset.path: class {classes[label] if classes else label!r} has "
                f"{len(members)} sequence(s), and each of the {needed} splits (train, val"
                f"{'' if has_test else ', test'}) needs one; add sequences of it or remove it"
            )
        n_val = max(1, round(len(members) * split.val_fraction))
        n_test = 0 if has_test else max(1, round(len(members) * split.test_fraction))
        parts["val"] += members[:n_val].tolist()
        parts["test"] += members[n_val : n_val + n_test].tolist()
        parts["train"] += members[n_val + n_test :].tolist()
    out = {name: np.sort(np.asarray(idx, dtype=np.int64)) for name, idx in parts.items()}
    for name in ("train", "val") if has_test else SPLITS:
        if len(out[name]) == 0:
            raise DataError(
                f"split '{name}' is empty; raise split.{name}_fraction or use more data"
            )
    return out


def time_values(index: pd.DatetimeIndex) -> tuple[np.ndarray, str | None]:
    """The index as datetime64[us] in UTC (its unit travels with the array) and its zone.

    Bare integers would lose the unit: pandas 3 parses dates at microseconds, and integers
    read back as nanoseconds land in 1970.
    """
    zone = None if index.tz is None else str(index.tz)
    if zone is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy().astype("datetime64[us]"), zone


def series_times(paths: StagePaths) -> pd.DatetimeIndex:
    """The scaled series' timestamps, in the zone the data were prepared in."""
    times = pd.DatetimeIndex(np.load(paths.scaled / SCALED_SERIES)["time"])
    zone = ScaledMeta.read(paths).timezone
    return times.tz_localize("UTC").tz_convert(zone) if zone else times


def run(cfg: Config, paths: StagePaths) -> ScaledMeta:
    """Read prepared/ and write scaled/."""
    report = read_json(paths.prepared / PREPARE_REPORT)
    extra: dict[str, Any] = {}
    with atomic_dir(paths.scaled) as out:
        if report["task"] == "classify":
            arrays = dict(np.load(paths.prepared / SEQUENCES))
            has_test = "x_test" in arrays
            index = split_sequences(
                arrays["y_train"], has_test, cfg.split, cfg.seed, report["classes"]
            )
            x_parts = {n: arrays["x_train"][index[n]] for n in ("train", "val")}
            y_parts = {n: arrays["y_train"][index[n]] for n in ("train", "val")}
            if has_test:
                x_parts["test"], y_parts["test"] = arrays["x_test"], arrays["y_test"]
            else:
                x_parts["test"] = arrays["x_train"][index["test"]]
                y_parts["test"] = arrays["y_train"][index["test"]]
            fit = (
                x_parts["train"]
                if cfg.scaling.fit_on == "train"
                else np.concatenate(list(x_parts.values()))
            )
            scaler = fit_scaler(fit, cfg.scaling)
            x = np.concatenate([x_parts[n] for n in SPLITS])
            y = np.concatenate([y_parts[n] for n in SPLITS])
            sizes = np.cumsum([0] + [len(x_parts[n]) for n in SPLITS])
            bounds = {n: (int(sizes[i]), int(sizes[i + 1])) for i, n in enumerate(SPLITS)}
            columns = [f"channel_{i}" for i in range(x.shape[2])]
            x = checked_transform(scaler, x, columns)
            np.savez(out / SEQUENCES, x=x, y=y)
            extra = {"classes": report["classes"]}
        else:
            table = pd.read_parquet(paths.prepared / PREPARED_TABLE)
            values, bounds, scaler = scale_series(table, cfg.split, cfg.scaling)
            time, zone = time_values(pd.DatetimeIndex(table.index))
            np.savez(out / SCALED_SERIES, values=values, time=time)
            columns = list(table.columns)
            extra = {"timezone": zone, "freq": report["freq"], "period": report["period"]}
            extra |= _mase_lag(report["period"], bounds["train"][1] - bounds["train"][0])
        meta = ScaledMeta(
            task=report["task"], split=asdict(cfg.split), columns=columns, bounds=bounds,
            scaler=asdict(scaler), **extra,
        )  # fmt: skip
        meta.write(out)
    return meta


def _mase_lag(period: int | None, train_steps: int) -> dict[str, Any]:
    """MASE's in-sample lag, and why it is not the season when it falls back to 1."""
    lag = mase_lag(train_steps, period)
    if period and period > 1 and lag == 1:
        return {
            "mase_lag": 1,
            "mase_lag_note": f"the season ({period} steps) does not fit in the training span "
            f"({train_steps} steps): MASE is scaled by persistence (lag 1)",
        }
    return {"mase_lag": lag}
