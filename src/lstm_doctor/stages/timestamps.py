"""Reading a table's time column(s) as instants: date strings, UTC offsets, epoch numbers.

A pure helper of prepare: a frame and the dataset config in, a DatetimeIndex and what was
done to it out. Offset-aware and epoch times are instants: they come out in dataset.timezone
when it is set, else in the file's offset when every row has the same one, else in UTC. Date
strings without offsets stay naive, as written.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.errors import DataError
from lstm_doctor.config import DatasetConfig

EPOCH_UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# Epoch numbers that land outside these years were almost surely read in the wrong unit.
PLAUSIBLE_YEARS = (1971, 2200)


def parse_time(frame: pd.DataFrame, ds: DatasetConfig) -> tuple[pd.DatetimeIndex, dict[str, Any]]:
    """The frame's timestamps as an index named "time", and report entries saying how.

    Returns:
        The index, and {"time_unit", "timezone", "utc_offsets_converted",
        "utc_offsets_change"} for the report.
    """
    source, columns = ds.path, ds.time_columns
    converted = changing = False
    if len(columns) > 1:
        parts = frame[columns].rename(columns=str.lower)
        time = _strict(lambda: pd.to_datetime(parts), columns, source)
    elif ds.time_unit is not None:
        time = _from_epoch(frame[columns[0]], columns[0], ds.time_unit, source)
    elif pd.api.types.is_numeric_dtype(frame[columns[0]]) and frame[columns[0]].notna().any():
        raise DataError(_numbers_message(frame[columns[0]], columns[0], source))
    else:
        time = _from_strings(frame[columns[0]], columns, source)
        converted = time.dt.tz is not None
        # Read as UTC only when the offsets change (a fixed one keeps its own clock).
        changing = converted and str(time.dt.tz) == "UTC" and _offsets_change(frame[columns[0]])
    index = pd.DatetimeIndex(time, name="time")
    if index.hasnans:
        raise DataError(
            f"{source}: {int(index.isna().sum())} rows have no timestamp in column "
            f"{columns[0]!r}; fill them in or remove those rows"
        )
    if ds.timezone is not None:
        index = _to_zone(index, ds.timezone, columns[0], source)
    zone = None if index.tz is None else str(index.tz)
    return index, {
        "time_unit": ds.time_unit,
        "timezone": zone,
        "utc_offsets_converted": converted,
        "utc_offsets_change": changing,
    }


def _offsets_change(raw: pd.Series) -> bool:
    """Whether the strings carry more than one UTC offset (a daylight-saving clock)."""
    offsets = raw.dropna().astype(str).str.extract(r"([+-]\d\d:?\d\d|Z)$")[0]
    return offsets.replace({"Z": "+00:00"}).str.replace(":", "").nunique() > 1


def _strict(parse: Any, columns: list[str], source: str) -> pd.Series:
    try:
        return parse()
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{source}: column(s) {columns} do not parse as timestamps "
            f"({str(exc).splitlines()[0]}); check dataset.time_column"
        ) from None


def _from_strings(raw: pd.Series, columns: list[str], source: str) -> pd.Series:
    try:
        time = pd.to_datetime(raw)
    except ValueError as exc:
        if "Mixed timezones" not in str(exc):
            return _strict(lambda: pd.to_datetime(raw), columns, source)
        # Offsets that change (daylight saving) name one clock only once read as UTC.
        time = _strict(lambda: pd.to_datetime(raw, utc=True), columns, source)
    if time.dt.tz is not None and time.dt.tz.utcoffset(None) is None:
        # Offsets that change are instants only: they come out in UTC.
        time = time.dt.tz_convert("UTC")
    # One fixed offset for every row (+05:30 all year) is the file's own clock: kept, so a
    # local calendar (business days, midnights) stays a regular grid. Read as UTC, Indian
    # business days are Sunday to Thursday at 18:30, and a 'B' series turns into a gappy 'D'.
    return time


def _from_epoch(raw: pd.Series, column: str, unit: str, source: str) -> pd.Series:
    if unit not in EPOCH_UNITS:
        raise DataError(f"dataset.time_unit is {unit!r}; use one of {', '.join(EPOCH_UNITS)}")
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna() & raw.notna()
    if bad.any():
        raise DataError(
            f"{source}: column {column!r} has non-numeric values (e.g. {raw[bad].iloc[0]!r}) "
            f"but dataset.time_unit={unit} reads it as numbers since 1970; "
            "set dataset.time_unit=null for date strings"
        )
    try:
        time = pd.to_datetime(numbers, unit=unit)
    except (ValueError, OverflowError):
        time = None
    years = (time.min().year, time.max().year) if time is not None else (0, 0)
    if time is None or years[0] < PLAUSIBLE_YEARS[0] or years[1] >= PLAUSIBLE_YEARS[1]:
        span = (
            "beyond any date" if time is None else f"{time.min():%Y-%m-%d} to {time.max():%Y-%m-%d}"
        )
        fits = _fitting_unit(numbers)
        hint = f"set dataset.time_unit={fits}" if fits else "check dataset.time_unit"
        raise DataError(
            f"{source}: column {column!r} read as {unit} since 1970 spans {span}; {hint}"
        )
    # An epoch counts from 1970-01-01 UTC: the numbers name instants, not a local clock.
    return time.dt.tz_localize("UTC")


def _fitting_unit(numbers: pd.Series) -> str | None:
    """The epoch unit under which these numbers land in plausible years, if one does."""
    values = numbers.dropna().to_numpy(dtype=np.float64)
    if values.size == 0:
        return None
    lo, hi = (pd.Timestamp(f"{y}-01-01", tz="UTC").timestamp() for y in PLAUSIBLE_YEARS)
    for unit, per_second in zip(EPOCH_UNITS, (1, 1e3, 1e6, 1e9), strict=True):
        seconds = values / per_second
        if lo <= seconds.min() and seconds.max() < hi:
            return unit
    return None


def _numbers_message(raw: pd.Series, column: str, source: str) -> str:
    fits = _fitting_unit(pd.to_numeric(raw, errors="coerce"))
    looks = f" (they look like {EPOCH_UNITS[fits]}: dataset.time_unit={fits})" if fits else ""
    return (
        f"{source}: column {column!r} holds numbers (e.g. {raw.dropna().iloc[0]}), not dates; "
        f"if they count time since 1970-01-01 UTC, set dataset.time_unit=s|ms|us|ns{looks}"
    )


def _to_zone(index: pd.DatetimeIndex, zone: str, column: str, source: str) -> pd.DatetimeIndex:
    if index.tz is None:
        # A naive clock may repeat or skip an hour at a daylight-saving change: guessing
        # which instant it meant would be silent, so it is refused.
        raise DataError(
            f"{source}: column {column!r} has no UTC offsets, so dataset.timezone={zone} has "
            "nothing to convert; write offsets (e.g. +01:00) or set dataset.timezone=null"
        )
    try:
        return index.tz_convert(zone)
    except (KeyError, ValueError, TypeError):
        raise DataError(
            f"dataset.timezone {zone!r} is not a time zone; use an IANA name such as "
            "UTC or Europe/Rome"
        ) from None
