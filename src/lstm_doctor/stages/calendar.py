"""The calendar as inputs: sin/cos pairs for the phase of the day, the week and the year,
chosen from the data's steps and span (prepare adds them to the table it writes).

Pure functions of a time-indexed frame; the doctor reads the column names
(metrics.calendar_spans) to know which seasons the model is told about.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.metrics import autocorrelation


def add_calendar_features(
    table: pd.DataFrame, year_features: str = "auto", train_target: np.ndarray | None = None
) -> pd.DataFrame:
    """The calendar's phases as sin/cos pairs (so 23h sits next to 0h, December next to
    January): hour of day and day of week where they vary, and the year's phase as
    `year_pair` chooses it (`prepare.year_features`; `train_target`, the target over the
    training span, is what `auto` asks whether a year shows)."""
    index = pd.DatetimeIndex(table.index)
    out = table.copy()
    hour = index.hour + index.minute / 60
    if (hour != 0).any():
        _add_pair(out, "hour", hour, 24)
    # Weekly steps fall on one weekday, monthly ones on any: the weekday says nothing there.
    if len(index) > 1 and _step(index) < pd.Timedelta("7D"):
        _add_pair(out, "dow", index.day_of_week, 7)
    pair = year_pair(index, year_features, train_target)
    if pair == "doy":
        _add_pair(out, "doy", index.day_of_year - 1, 365.25)
    elif pair == "woy":
        _add_pair(out, "woy", index.isocalendar().week.to_numpy(dtype=float) - 1, 52.18)
    elif pair == "month":
        _add_pair(out, "month", index.month - 1, 12)
    return out


# A year shows in the training span when its autocorrelation a year apart is at least this
# and beats the half-year's by PEAK_MARGIN: a peak, not the slow decay of a drifting series
# (a stock price's), whose year-old value says nothing about its phase.
YEAR_ACF = 0.3
PEAK_MARGIN = 0.2


def year_pair(
    index: pd.DatetimeIndex, year_features: str, train_target: np.ndarray | None = None
) -> str | None:
    """Which pair gives the year's phase: 'doy' (steps shorter than a week), 'woy' (weekly),
    'month' (monthly or quarterly), or None. `auto` adds it at steps of a day or longer
    where the training span shows a yearly peak (two years at least): there a year is a
    few hundred steps at most, longer than a window the data can afford; at sub-daily
    steps the day and the week carry the signal and `always` asks for the year too."""
    if year_features == "never" or len(index) < 2:
        return None
    step = _step(index)
    if year_features == "auto":
        if step < pd.Timedelta("1D") or train_target is None:
            return None
        # A year in steps of this calendar (business days count about 261).
        lag = int((index < index[0] + pd.DateOffset(years=1)).sum())
        r_year = autocorrelation(train_target, lag)
        if r_year < YEAR_ACF or r_year < autocorrelation(train_target, lag // 2) + PEAK_MARGIN:
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
