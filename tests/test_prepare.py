"""prepare on tiny frames: parsing, ordering, duplicates, regular frequency, gaps, spikes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.config import DatasetConfig, PrepareConfig
from lstm_doctor.errors import DataError
from lstm_doctor.prepare import period_of, prepare_sequences, prepare_table
from lstm_doctor.raw import LabelledSequences


def frame(times: list[str], values: list[object], **extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"ts": times, "y": values, **extra})


def hours(n: int, start: str = "2024-01-01") -> list[str]:
    return [str(t) for t in pd.date_range(start, periods=n, freq="h")]


DS = DatasetConfig(path="tiny.csv", time_column="ts", target="y", freq=None, period=None)
PREP = PrepareConfig(calendar_features=False)


def test_sorts_and_reports_it() -> None:
    times = hours(4)
    table, report = prepare_table(frame(times[::-1], [3, 2, 1, 0]), DS, PREP)
    assert table["y"].tolist() == [0, 1, 2, 3]
    assert report["sorted"] is True
    assert report["freq"] == "h"
    assert report["period"] == 24


def test_unsorted_rejected_when_sorting_is_off() -> None:
    with pytest.raises(DataError, match=r"tiny.csv: timestamps are not in order; set prepare.sort"):
        prepare_table(frame(hours(3)[::-1], [1, 2, 3]), DS, PrepareConfig(sort=False))


def test_duplicates_rejected_or_dropped_keeping_the_last() -> None:
    times = hours(3)
    raw = frame([times[0], times[1], times[1], times[2]], [1, 2, 5, 3])
    with pytest.raises(DataError, match=r"1 duplicate timestamps.*prepare.duplicates=drop"):
        prepare_table(raw, DS, PREP)
    table, report = prepare_table(
        raw, DS, PrepareConfig(duplicates="drop", calendar_features=False)
    )
    assert table["y"].tolist() == [1, 5, 3]
    assert report["duplicates_dropped"] == 1


def test_missing_rows_are_inserted_then_interpolated() -> None:
    times = hours(5)
    raw = frame([times[0], times[1], times[4]], [0.0, 1.0, 4.0])
    table, report = prepare_table(raw, DS.__class__(**{**DS.__dict__, "freq": "h"}), PREP)
    assert report["rows_inserted"] == 2
    assert report["missing"] == {"y": 2}
    assert table["y"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("method", "expected"), [("ffill", [1, 1, 3]), ("drop", [1, 3])])
def test_other_missing_value_methods(method: str, expected: list[float]) -> None:
    table, _ = prepare_table(
        frame(hours(3), [1, None, 3]), DS, PrepareConfig(missing=method, calendar_features=False)
    )
    assert table["y"].tolist() == expected


def test_outliers_clipped_by_robust_z() -> None:
    values = [10.0, 11, 9, 10, 12, 8, 10, 1000]
    table, report = prepare_table(
        frame(hours(8), values),
        DS,
        PrepareConfig(outliers="clip", outlier_threshold=3, calendar_features=False),
    )
    assert report["outliers"] == {"y": 1}
    assert table["y"].iloc[-1] < 20
    assert table["y"].iloc[:-1].tolist() == values[:-1]


def test_categorical_one_hot_and_multi_column_time() -> None:
    raw = pd.DataFrame(
        {
            "year": [2020] * 3,
            "month": [1] * 3,
            "day": [1] * 3,
            "hour": [0, 1, 2],
            "y": [1, 2, 3],
            "wind": ["N", "S", "N"],
        }
    )
    ds = DatasetConfig(
        path="t.csv",
        time_column=["year", "month", "day", "hour"],
        target="y",
        categorical=["wind"],
        freq=None,
    )
    table, report = prepare_table(raw, ds, PREP)
    assert report["encoded_columns"] == ["wind_N", "wind_S"]
    assert table["wind_N"].tolist() == [1, 0, 1]
    assert table.index[2] == pd.Timestamp("2020-01-01 02:00")


def test_calendar_features_are_cyclic() -> None:
    table, _ = prepare_table(frame(hours(24), list(range(24))), DS, PrepareConfig())
    assert {"hour_sin", "hour_cos", "dow_sin", "dow_cos"} <= set(table.columns)
    assert np.isclose(table["hour_sin"].iloc[6], 1.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (frame(hours(3), [1, 2, 3]).drop(columns="y"), r"tiny.csv: no column 'y'.*dataset.target"),
        (frame(hours(3), ["1", "x", "3"]), r"column 'y' has non-numeric values \(e.g. 'x'\)"),
        (frame(hours(3), [None, None, None]), r"column 'y' is entirely missing"),
        (
            frame(["2024-01-01", "yesterday", "2024-01-03"], [1, 2, 3]),
            r"do not parse as timestamps",
        ),
    ],
)
def test_bad_tables_get_one_clear_line(raw: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        prepare_table(raw, DS, PREP)
    assert "\n" not in str(info.value)


def test_period_of_common_frequencies() -> None:
    assert period_of("h") == 24
    assert period_of("30min") == 48
    assert period_of("D") == 7
    assert period_of("B") == 5


def test_sequences_padded_and_labels_indexed() -> None:
    seqs = [np.ones((3, 2)), np.ones((5, 2))]
    train = LabelledSequences(seqs, ["b", "a"], ["a", "b"])
    arrays, report = prepare_sequences(train, None, PrepareConfig(sequence_length=4))
    assert arrays["x_train"].shape == (2, 4, 2)
    assert arrays["x_train"][0, 3].tolist() == [0, 0]  # post-padded
    assert arrays["y_train"].tolist() == [1, 0]
    assert report["class_counts"] == [1, 1]
