"""Stage prepare: raw file -> a regular, clean table (or equal-length sequences) + a report.

Reads dataset.path (and dataset.test_path for .ts archives); writes prepared/table.parquet or
prepared/sequences.npz, and prepared/report.json saying what was changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.metrics import season_lengths
from lstm_doctor.base.workspace import (
    OBSERVED_TARGET,
    PREPARE_REPORT,
    PREPARED_TABLE,
    SEQUENCES,
    TARGET_OBSERVED,
    StagePaths,
    atomic_dir,
    write_json,
)
from lstm_doctor.config import Config, DatasetConfig, PrepareConfig, SplitConfig
from lstm_doctor.stages.calendar import add_calendar_features
from lstm_doctor.stages.cleaning import fill_missing, handle_outliers
from lstm_doctor.stages.readers import LabelledSequences, numeric_columns, read_table, read_ts
from lstm_doctor.stages.refusals import (
    imputed_share,
    refuse_blocked_outputs,
    refuse_changing_offsets_off_grid,
    refuse_constant_target,
    refuse_non_finite,
    refuse_one_class,
)
from lstm_doctor.stages.splits import split_bounds
from lstm_doctor.stages.timestamps import parse_time


def prepare_table(
    frame: pd.DataFrame,
    ds: DatasetConfig,
    prep: PrepareConfig,
    split: SplitConfig | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Turn raw rows into a regular time-indexed numeric table, target first.

    Args:
        split: where the training span ends (outlier bounds are fitted on it only);
            None means the schema's default split.

    Returns:
        The table (index named "time") and a report of every change made. The table's
        attrs["target_observed"] says, per row, whether the file held its target value
        (False: prepare inserted or filled it).
    """
    source = ds.path
    needed = [*ds.time_columns, ds.target, *ds.features, *ds.categorical, *ds.select]
    missing_cols = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing_cols:
        raise DataError(
            f"{source}: no column {missing_cols[0]!r}; the file has {list(frame.columns)} "
            "(set dataset.time_column / dataset.target / dataset.features)"
        )
    report: dict[str, Any] = {"source": source, "rows_in": len(frame)}
    for column, value in ds.select.items():
        frame = frame[frame[column].astype(str) == str(value)]
        if frame.empty:
            raise DataError(f"{source}: no rows where {column} == {value!r}; check dataset.select")
    report["rows_selected"] = len(frame)
    refuse_non_finite(numeric_columns(frame, [ds.target, *ds.features], source), source)

    index, time_report = parse_time(frame, ds)
    report |= time_report
    frame = frame.set_index(index)
    if not frame.index.is_monotonic_increasing:
        if not prep.sort:
            raise DataError(f"{source}: timestamps are not in order; set prepare.sort=true")
        frame = frame.sort_index(kind="stable")
        report["sorted"] = True
    duplicated = frame.index.duplicated(keep="last")
    if duplicated.any():
        first = frame.index[duplicated][0]
        if prep.duplicates == "reject":
            raise DataError(
                f"{source}: {int(duplicated.sum())} duplicate timestamps (first {first}); "
                "set prepare.duplicates=drop to keep the last of each"
            )
        frame = frame[~duplicated]
    report["duplicates_dropped"] = int(duplicated.sum())
    if ds.max_rows:
        frame = frame.iloc[-ds.max_rows :]

    numeric = numeric_columns(frame, [ds.target, *ds.features], source)
    encoded = (
        pd.get_dummies(frame[ds.categorical].astype("string"), dtype="float64")
        if ds.categorical
        else pd.DataFrame(index=frame.index)
    )
    report["encoded_columns"] = list(encoded.columns)
    table = pd.concat([numeric, encoded], axis=1)

    freq = ds.freq or _infer_freq(table.index, source)
    table, grid_report = _regularise(table, freq)
    report |= grid_report
    report["freq"] = freq
    refuse_changing_offsets_off_grid(report, ds, source)
    report["period"] = ds.period or period_of(freq)

    value_columns = list(numeric.columns)
    observed = table[ds.target].notna()
    report["missing"] = {c: int(n) for c, n in table[value_columns].isna().sum().items() if n}
    if encoded.shape[1]:
        # A gap inserted by regularising has no category: spread it as "unknown" (all zero).
        table[list(encoded.columns)] = table[list(encoded.columns)].fillna(0.0)
    if prep.outliers != "none":
        n_train = split_bounds(len(table), split or SplitConfig())["train"][1]
        table, report["outliers"], report["outlier_bounds"] = handle_outliers(
            table, value_columns, prep, n_train
        )
        report["outlier_fit_span"] = "train"
    else:
        report["outliers"] = {}
    table = fill_missing(table, value_columns, prep.missing)
    report["missing_after"] = int(table[value_columns].isna().sum().sum())
    report |= imputed_share(observed, table, report, ds, source)
    refuse_constant_target(table, ds.target, source)
    mask = observed.reindex(table.index, fill_value=False)
    if prep.calendar_features:
        n_train = split_bounds(len(table), split or SplitConfig())["train"][1]
        train_target = table[ds.target].to_numpy(dtype=float)[:n_train]
        table = add_calendar_features(table, prep.year_features, train_target)
    report["rows_out"] = len(table)
    report["columns"] = list(table.columns)
    out = table.astype("float64")
    out.attrs["target_observed"] = mask
    return out, report


def prepare_sequences(
    train: LabelledSequences, test: LabelledSequences | None, prep: PrepareConfig
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Pad or truncate labelled sequences to one length and fill their gaps.

    Returns:
        Arrays x_train, y_train (and x_test, y_test) with integer labels, plus a report.
    """
    classes = train.classes
    refuse_one_class(train.labels, "dataset.path")
    parts = {"train": train} if test is None else {"train": train, "test": test}
    length = prep.sequence_length or max(len(s) for p in parts.values() for s in p.sequences)
    arrays: dict[str, np.ndarray] = {}
    report: dict[str, Any] = {"classes": classes, "sequence_length": length}
    for name, part in parts.items():
        x = np.stack([_fit_length(s, length, prep.pad) for s in part.sequences])
        y = np.array([classes.index(label) for label in part.labels], dtype=np.int64)
        report[f"{name}_sequences"] = len(x)
        report[f"{name}_missing"] = int(np.isnan(x).sum())
        if prep.missing == "drop":
            keep = ~np.isnan(x).any(axis=(1, 2))
            x, y = x[keep], y[keep]
        elif prep.missing in ("ffill", "interpolate"):
            x = np.stack([_fill_sequence(s, prep.missing) for s in x])
        arrays[f"x_{name}"], arrays[f"y_{name}"] = x.astype(np.float32), y
    report["channels"] = int(arrays["x_train"].shape[2])
    report["class_counts"] = np.bincount(arrays["y_train"], minlength=len(classes)).tolist()
    return arrays, report


def period_of(freq: str) -> int | None:
    """The usual season length for a pandas frequency, multiples included ('h' -> 24,
    '30min' -> 48, 'D' -> 7, '7min' -> 1440 (a week), '2W' -> 26, '2MS' -> 6); None when
    neither a day nor a week is a whole number of its steps ('25min', '2D'): a truncated
    season would be a seasonal-naive lag off by a fraction of a step every cycle."""
    lengths = season_lengths(freq, spans=("1D", "7D"))
    return lengths[0] if lengths else None


def _infer_freq(index: pd.DatetimeIndex, source: str) -> str:
    if len(index) < 3:
        raise DataError(f"{source}: only {len(index)} rows; a series needs many more")
    # Asking for pandas 4's offset now keeps its deprecation warning off the stage's stderr.
    with pd.option_context("future.infer_freq_returns_offset", True):
        inferred = pd.infer_freq(index[: min(len(index), 1000)])
    if inferred is not None:
        return inferred.freqstr
    # Gappy series: the most common step is the intended frequency.
    step = pd.Series(index[1:] - index[:-1]).mode().iloc[0]
    return pd.tseries.frequencies.to_offset(step).freqstr


def _regularise(table: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Put the table on a regular grid from its first timestamp, counting what that did.

    Rows between grid points cannot be kept on the grid: they are dropped, and counted, so
    that a stray 01:30 in hourly data is a number in the report rather than lost silently.
    """
    regular = table.asfreq(freq)
    off_grid = table.index[~table.index.isin(regular.index)]
    return regular, {
        "rows_inserted": int((~regular.index.isin(table.index)).sum()),
        "rows_off_grid": len(off_grid),
        "off_grid_example": off_grid[0].isoformat() if len(off_grid) else None,
    }


def _fit_length(sequence: np.ndarray, length: int, pad: str) -> np.ndarray:
    if len(sequence) >= length:
        return sequence[:length] if pad == "post" else sequence[-length:]
    width = (
        ((0, length - len(sequence)), (0, 0))
        if pad == "post"
        else ((length - len(sequence), 0), (0, 0))
    )
    return np.pad(sequence, width)


def _fill_sequence(sequence: np.ndarray, method: str) -> np.ndarray:
    frame = pd.DataFrame(sequence)
    if method == "interpolate":
        frame = frame.interpolate(limit_direction="both")
    return frame.ffill().bfill().fillna(0.0).to_numpy()


def run(cfg: Config, paths: StagePaths) -> dict[str, Any]:
    """Read the raw data named by the config and write prepared/."""
    ds = cfg.dataset
    refuse_blocked_outputs(paths)
    with atomic_dir(paths.prepared) as out:
        if ds.task == "classify":
            if ds.format != "ts":
                raise DataError(
                    "dataset.task=classify needs dataset.format=ts (labelled sequences)"
                )
            train = read_ts(ds.path, "dataset.path")
            test = read_ts(ds.test_path, "dataset.test_path") if ds.test_path else None
            arrays, report = prepare_sequences(train, test, cfg.prepare)
            np.savez(out / SEQUENCES, **arrays)
        else:
            if ds.format != "csv":
                raise DataError("dataset.task=forecast needs dataset.format=csv")
            frame = read_table(ds)
            table, report = prepare_table(frame, ds, cfg.prepare, cfg.split)
            observed_rows = table.attrs.pop("target_observed")
            table.to_parquet(out / PREPARED_TABLE)
            # Which target rows the file held and which prepare made up: evaluate scores
            # only the observed ones.
            observed_rows.rename("observed").to_frame().to_parquet(out / TARGET_OBSERVED)
            if cfg.prepare.outliers != "none":
                # The model learns from clipped values, but is scored against what was
                # observed: clipped truth would flatter every metric and baseline.
                observed, _ = prepare_table(frame, ds, replace(cfg.prepare, outliers="none"),
                                            cfg.split)  # fmt: skip
                observed.attrs.clear()
                observed[[ds.target]].to_parquet(out / OBSERVED_TARGET)
        report["task"] = ds.task
        write_json(out / PREPARE_REPORT, report)
    return report
