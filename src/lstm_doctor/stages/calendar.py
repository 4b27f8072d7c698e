"""The calendar as inputs: sin/cos pairs for the phase of the day, the week and the year,
chosen from the data's steps and span (prepare adds them to the table it writes).

Pure functions of a time-indexed frame; the doctor reads the column names
(metrics.calendar_spans) to know which seasons the model is told about.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def add_calendar_features(table: pd.DataFrame, year_features: str = "auto") -> pd.DataFrame:
    """The calendar's phases as sin/cos pairs (so 23h sits next to 0h, December next to
    January): hour of day and day of week where they vary, and the year's phase as
    `year_pair` chooses it (`prepare.year_features`)."""
    index = pd.DatetimeIndex(table.index)
    out = table.copy()
    hour = index.hour + index.minute / 60
    if (hour != 0).any():
        _add_pair(out, "hour", hour, 24)
    # Weekly steps fall on one weekday, monthly ones on any: the weekday says nothing there.
    if len(index) > 1 and _step(index) < pd.Timedelta("7D"):
        _add_pair(out, "dow", index.day_of_week, 7)
    pair = year_pair(index, year_features)
    if pair == "doy":
        _add_pair(out, "doy", index.day_of_year - 1, 365.25)
    elif pair == "woy":
        _add_pair(out, "woy", index.isocalendar().week.to_numpy(dtype=float) - 1, 52.18)
    elif pair == "month":
        _add_pair(out, "month", index.month - 1, 12)
    return out


# The year's phase is learnable from a span of at least two years (each phase seen twice
# in the whole table, more than once in the training span).
YEAR_SPAN_DAYS = 2 * 365


def year_pair(index: pd.DatetimeIndex, year_features: str) -> str | None:
    """Which pair gives the year's phase: 'doy' (steps shorter than a week), 'woy' (weekly),
    'month' (monthly or quarterly), or None. `auto` adds it where the steps are a day or
    longer and the data span two years: there a year is a few hundred steps at most, too
    long for a window the data can afford yet the season that matters most; at sub-daily
    steps the day and the week carry the signal and `always` asks for the year too."""
    if year_features == "never" or len(index) < 2:
        return None
    step = _step(index)
    span_days = (index[-1] - index[0]) / pd.Timedelta("1D")
    if year_features == "auto" and (step < pd.Timedelta("1D") or span_days < YEAR_SPAN_DAYS):
        return None
    if step < pd.Timedelta("6D"):
        return "doy"
    return "woy" if step < pd.Timedelta("28D") else "month"


def _add_pair(out: pd.DataFrame, name: str, phase: Any, cycle: float) -> None:
    angle = 2 * np.pi * np.asarray(phase, dtype=float) / cycle
    out[f"{name}_sin"] = np.sin(angle)
    out[f"{name}_cos"] = np.cos(angle)


def _step(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The series' typical step (the median, so a gap or a month's length does not count)."""
    return pd.Series(index[1:] - index[:-1]).median()
