"""What prepare refuses rather than prepare silently wrong: non-finite values, a constant
target, a series mostly made up by filling its gaps or knocked off its grid by daylight
saving, classes too small for every split.

Pure checks on frames and arrays; each raises a DataError naming the file, the column or
class, and what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.workspace import StagePaths

# Above this share of imputed target rows a series is mostly invented: refused (README).
MAX_IMPUTED_SHARE = 0.5


def refuse_non_finite(values: pd.DataFrame, source: str) -> None:
    """Refuse inf / -inf (also numbers too large for a float, which read as inf).

    `values` holds the numeric columns with the raw file's row labels (0 = first data row):
    an infinite value would make every statistic fitted on its column infinite, so scaling
    would silently give up on the column.
    """
    for column in values.columns:
        bad = np.isinf(values[column].to_numpy(dtype=np.float64))
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            label = values.index[position]
            row = f"data row {label + 1}" if isinstance(label, int | np.integer) else str(label)
            raise DataError(
                f"{source}: column {column!r} has a non-finite value "
                f"({values[column].iloc[position]}) at {row} ({int(bad.sum())} in all); "
                "remove it or leave the cell empty so prepare.missing fills it"
            )


def refuse_constant_target(table: pd.DataFrame, target: str, source: str) -> None:
    """A target with one value has nothing to forecast: every error and baseline is 0."""
    values = table[target].dropna()
    if values.nunique() <= 1:
        value = values.iloc[0] if len(values) else float("nan")
        raise DataError(
            f"{source}: the target column {target!r} is constant ({value:g} in all "
            f"{len(values)} rows): there is nothing to forecast; check dataset.target"
        )


def refuse_changing_offsets_off_grid(report: dict[str, Any], ds: Any, source: str) -> None:
    """Refuse a series knocked off its grid by daylight saving: local midnights read as
    UTC instants are an hour apart twice a year, so a daily or longer series would lose
    those rows to the grid and have them made up, whatever their share."""
    if report.get("utc_offsets_change") and not ds.timezone and report.get("rows_off_grid"):
        raise DataError(
            f"{source}: {report['rows_off_grid']} rows (e.g. {report['off_grid_example']}) "
            f"fall between the points of a {report.get('freq')} grid of UTC instants because "
            "the file's UTC offsets change (daylight saving); set dataset.timezone to the "
            "file's zone (e.g. America/New_York) so its days stay days"
        )


def imputed_share(
    observed: pd.Series, table: pd.DataFrame, report: dict[str, Any], ds: Any, source: str
) -> dict[str, Any]:
    """Count the target rows prepare made up (inserted or filled) and refuse a series
    where they are more than MAX_IMPUTED_SHARE of it.

    Args:
        observed: per row of the regular grid, whether the target was in the file.
        table: the prepared table (rows possibly dropped).

    Returns:
        Report entries: imputed_target_rows and imputed_target_share.
    """
    kept = observed.reindex(table.index, fill_value=False)
    imputed = int((~kept).sum())
    share = imputed / max(len(table), 1)
    if share > MAX_IMPUTED_SHARE:
        inserted = int(report.get("rows_inserted", 0))
        if inserted > imputed / 2 and report.get("utc_offsets_converted") and not ds.timezone:
            # Local days read as UTC instants are 23 or 25 hours long around a clock change.
            cause = (
                f"{inserted} of them are rows inserted on a {report.get('freq')} grid of UTC "
                "instants, while the file's UTC offsets change; set dataset.timezone to the "
                "file's zone (e.g. Europe/Rome) so its days stay days"
            )
        elif inserted > imputed / 2:
            cause = (
                f"{inserted} of them are rows inserted to put the file on a "
                f"{report.get('freq')} grid{' (dataset.freq)' if ds.freq else ''}; "
                f"set dataset.freq to the file's own step (or null to infer it)"
            )
        else:
            cause = (
                f"the target column {ds.target!r} is empty in {imputed - inserted} rows; "
                "cut the file to the span where it was measured"
            )
        raise DataError(
            f"{source}: {imputed} of {len(table)} target values ({100 * share:.0f}%) would be "
            f"made up by prepare.missing, more than the {100 * MAX_IMPUTED_SHARE:.0f}% "
            f"allowed; {cause}"
        )
    return {"imputed_target_rows": imputed, "imputed_target_share": share}


def refuse_one_class(labels: list[str], key: str) -> None:
    """A classifier needs two classes: with one, every baseline fails after training."""
    if len(set(labels)) < 2:
        raise DataError(
            f"{key}: every sequence has the class {labels[0]!r} (one class): there is "
            "nothing to tell apart; check the file's labels"
        )


def refuse_blocked_outputs(paths: StagePaths) -> None:
    """Refuse to start when an output folder's name is taken by a file: training would
    run to its end and only then fail to write."""
    blocked = paths.blocked()
    if blocked:
        raise DataError(
            f"{blocked[0]}: is a file where lstm-doctor writes its {blocked[0].name}/ "
            "folder; move or delete it, or choose another output folder"
        )
