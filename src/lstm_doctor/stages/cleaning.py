"""Cleaning a regular table: outliers clipped or dropped with bounds from the training span,
and gaps filled (or their rows dropped)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.base.metrics import robust_center_scale
from lstm_doctor.config import PrepareConfig


def handle_outliers(
    table: pd.DataFrame, columns: list[str], prep: PrepareConfig, n_train: int
) -> tuple[pd.DataFrame, dict[str, int], dict[str, list[float]]]:
    """Clip or drop values beyond median ± threshold·1.4826·MAD of the first `n_train` rows.

    The bounds come from the training span only (fitting on the test span would leak it)
    and apply to every row. Returns the table, flagged counts and the bounds per column.
    """
    counts: dict[str, int] = {}
    bounds: dict[str, list[float]] = {}
    table = table.copy()
    for column in columns:
        values = table[column]
        train = values.iloc[:n_train]
        median, mad = robust_center_scale(train.to_numpy())
        if not mad or np.isnan(mad):
            continue
        lo, hi = median - prep.outlier_threshold * mad, median + prep.outlier_threshold * mad
        bounds[column] = [float(lo), float(hi)]
        flagged = (values < lo) | (values > hi)
        counts[column] = int(flagged.sum())
        if prep.outliers == "clip":
            table[column] = values.clip(lo, hi)
        else:
            table.loc[flagged, column] = np.nan  # filled like any other gap below
    return table, {c: n for c, n in counts.items() if n}, bounds


def fill_missing(table: pd.DataFrame, columns: list[str], method: str) -> pd.DataFrame:
    """Fill gaps in `columns` by the method (interpolate in time, ffill), or drop the rows."""
    if method == "none":
        return table
    if method == "drop":
        return table.dropna(subset=columns)
    table = table.copy()
    if method == "interpolate":
        table[columns] = table[columns].interpolate(method="time", limit_direction="both")
    # Leading gaps have nothing before them to carry forward: take the first value seen.
    table[columns] = table[columns].ffill().bfill()
    return table
