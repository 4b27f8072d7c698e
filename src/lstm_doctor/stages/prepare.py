"""Stage prepare: raw file -> a regular, clean table (or equal-length sequences) + a report.

Reads dataset.path (and dataset.test_path for .ts archives); writes prepared/table.parquet or
prepared/sequences.npz, and prepared/report.json saying what was changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.config import Config, DatasetConfig, PrepareConfig, SplitConfig, load_params
from lstm_doctor.errors import DataError, report_errors
from lstm_doctor.stages.cleaning import fill_missing, handle_outliers
from lstm_doctor.stages.readers import LabelledSequences, read_table, read_ts
from lstm_doctor.stages.splits import split_bounds
from lstm_doctor.stages.timestamps import parse_time
from lstm_doctor.workspace import OBSERVED_TARGET, StagePaths, atomic_dir, write_json

# Season length in steps for the frequencies people use, keyed by pandas' frequency prefix.
PERIODS = {"min": 1440, "h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "M": 12}


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
        The table (index named "time") and a report of every change made.
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

    numeric = _numeric_columns(frame, [ds.target, *ds.features], source)
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
    report["period"] = ds.period or period_of(freq)

    value_columns = list(numeric.columns)
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
    if prep.calendar_features:
        table = add_calendar_features(table)
    report["rows_out"] = len(table)
    report["columns"] = list(table.columns)
    return table.astype("float64"), report


def prepare_sequences(
    train: LabelledSequences, test: LabelledSequences | None, prep: PrepareConfig
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Pad or truncate labelled sequences to one length and fill their gaps.

    Returns:
        Arrays x_train, y_train (and x_test, y_test) with integer labels, plus a report.
    """
    classes = train.classes
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


def add_calendar_features(table: pd.DataFrame) -> pd.DataFrame:
    """Hour-of-day and day-of-week as sin/cos pairs (so 23h sits next to 0h)."""
    index = pd.DatetimeIndex(table.index)
    out = table.copy()
    hour = index.hour + index.minute / 60
    if (hour != 0).any():
        out["hour_sin"] = np.sin(2 * np.pi * hour / 24)
        out["hour_cos"] = np.cos(2 * np.pi * hour / 24)
    out["dow_sin"] = np.sin(2 * np.pi * index.day_of_week / 7)
    out["dow_cos"] = np.cos(2 * np.pi * index.day_of_week / 7)
    return out


def period_of(freq: str) -> int | None:
    """The usual season length for a pandas frequency ('h' -> 24, '30min' -> 48, 'D' -> 7)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset)
    except ValueError:  # calendar offsets (business day, month) have no fixed length
        step = None
    if step is not None and step < pd.Timedelta(days=1):
        return int(pd.Timedelta(days=1) / step)
    return PERIODS.get(offset.name.split("-")[0])


def _numeric_columns(frame: pd.DataFrame, columns: list[str], source: str) -> pd.DataFrame:
    out = {}
    for column in dict.fromkeys(columns):
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            example = raw[bad].iloc[0]
            raise DataError(
                f"{source}: column {column!r} has non-numeric values (e.g. {example!r}); "
                "clean it or list it under dataset.categorical"
            )
        if values.isna().all():
            raise DataError(
                f"{source}: column {column!r} is entirely missing; drop it from the config"
            )
        out[column] = values.astype("float64")
    return pd.DataFrame(out, index=frame.index)


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
    with atomic_dir(paths.prepared) as out:
        if ds.task == "classify":
            if ds.format != "ts":
                raise DataError(
                    "dataset.task=classify needs dataset.format=ts (labelled sequences)"
                )
            train = read_ts(ds.path, "dataset.path")
            test = read_ts(ds.test_path, "dataset.test_path") if ds.test_path else None
            arrays, report = prepare_sequences(train, test, cfg.prepare)
            np.savez(out / "sequences.npz", **arrays)
        else:
            if ds.format != "csv":
                raise DataError("dataset.task=forecast needs dataset.format=csv")
            frame = read_table(ds)
            table, report = prepare_table(frame, ds, cfg.prepare, cfg.split)
            table.to_parquet(out / "table.parquet")
            if cfg.prepare.outliers != "none":
                # The model learns from clipped values, but is scored against what was
                # observed: clipped truth would flatter every metric and baseline.
                observed, _ = prepare_table(frame, ds, replace(cfg.prepare, outliers="none"),
                                            cfg.split)  # fmt: skip
                observed[[ds.target]].to_parquet(out / OBSERVED_TARGET)
        report["task"] = ds.task
        write_json(out / "report.json", report)
    return report


def main() -> None:
    """DVC entry point: `python -m lstm_doctor.stages.prepare`."""
    report_errors(lambda: run(load_params(), StagePaths.project()))


if __name__ == "__main__":
    main()
