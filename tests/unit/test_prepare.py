"""prepare on tiny frames: parsing (epoch numbers, UTC offsets, zones), ordering, duplicates,
regular frequency (gaps, rows off the grid), spikes (bounds from the training span)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.workspace import StagePaths, read_json
from lstm_doctor.config import Config, DatasetConfig, PrepareConfig, SplitConfig
from lstm_doctor.stages import prepare
from lstm_doctor.stages.prepare import period_of, prepare_sequences, prepare_table
from lstm_doctor.stages.readers import LabelledSequences


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


# --- numeric (Unix epoch) time columns ---------------------------------------------------

EPOCH_2024 = 1_704_067_200  # 2024-01-01 00:00 UTC in seconds


def epoch_ds(**keys: object) -> DatasetConfig:
    return DatasetConfig(path="tiny.csv", time_column="ts", target="y", **keys)  # type: ignore[arg-type]


@pytest.mark.parametrize(("unit", "per_second"), [("s", 1), ("ms", 1_000), ("ns", 10**9)])
def test_epoch_time_column_parses_with_its_unit(unit: str, per_second: int) -> None:
    times = [(EPOCH_2024 + 3600 * i) * per_second for i in range(4)]
    table, report = prepare_table(frame(times, [1, 2, 3, 4]), epoch_ds(time_unit=unit), PREP)
    # Epoch numbers count from 1970-01-01 UTC: the index is that instant, in UTC.
    assert table.index[0] == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert report["freq"] == "h"
    assert report["time_unit"] == unit
    assert report["timezone"] == "UTC"


def test_epoch_time_column_without_a_unit_is_refused_in_one_line() -> None:
    times = [EPOCH_2024 + 3600 * i for i in range(4)]
    with pytest.raises(DataError, match=r"tiny.csv: column 'ts' holds numbers") as info:
        prepare_table(frame(times, [1, 2, 3, 4]), DS, PREP)
    message = str(info.value)
    assert "dataset.time_unit=s|ms|us|ns" in message
    assert "seconds" in message  # the unit these numbers fit
    assert "\n" not in message


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"time_unit": "ms"}, r"column 'ts' read as ms since 1970 spans 1970-01-20.*time_unit=s"),
        ({"time_unit": "sec"}, r"dataset.time_unit is 'sec'; use one of s, ms, us, ns"),
    ],
)
def test_a_wrong_epoch_unit_is_refused(keys: dict[str, object], message: str) -> None:
    times = [EPOCH_2024 + 3600 * i for i in range(4)]
    with pytest.raises(DataError, match=message):
        prepare_table(frame(times, [1, 2, 3, 4]), epoch_ds(**keys), PREP)


def test_date_strings_with_a_time_unit_set_are_refused() -> None:
    with pytest.raises(DataError, match=r"column 'ts' has non-numeric.*dataset.time_unit=null"):
        prepare_table(frame(hours(4), [1, 2, 3, 4]), epoch_ds(time_unit="s"), PREP)


def test_rows_without_a_timestamp_are_refused() -> None:
    times = hours(4)
    times[2] = ""
    with pytest.raises(DataError, match=r"tiny.csv: 1 rows have no timestamp in column 'ts'"):
        prepare_table(frame(times, [1, 2, 3, 4]), DS, PREP)


# --- outlier bounds fitted on the training span only -------------------------------------

# 20 hourly rows: split 0.15/0.15 gives train 14, val 3, test 3.
TRAIN = [10.0, 11, 9, 10, 12, 8, 10, 11, 9, 10, 13, 7, 10, 10]  # median 10, MAD 1
VAL = [14.0, 14, 14]  # inside the training bounds (10 ± 4.45)


@pytest.mark.parametrize("test_span", [[10.0, 10, 10], [1e6, 1e6, 1e6]])
def test_outlier_bounds_come_from_the_training_span_only(test_span: list[float]) -> None:
    prep = PrepareConfig(outliers="clip", outlier_threshold=3, calendar_features=False)
    table, report = prepare_table(
        frame(hours(20), TRAIN + VAL + test_span), DS, prep, SplitConfig(0.15, 0.15)
    )
    lo, hi = 10 - 3 * 1.4826 * 1, 10 + 3 * 1.4826 * 1
    assert report["outlier_bounds"]["y"] == pytest.approx([lo, hi])
    assert report["outlier_fit_span"] == "train"
    # the bounds are applied to every row, the test span's too
    assert table["y"].tolist()[:17] == TRAIN + VAL
    assert table["y"].iloc[17:].tolist() == [min(v, hi) for v in test_span]


def test_outliers_dropped_by_training_bounds_are_filled_like_gaps() -> None:
    prep = PrepareConfig(outliers="drop", outlier_threshold=3, calendar_features=False)
    values = [*TRAIN, *VAL, 10.0, 1e6, 12.0]
    table, report = prepare_table(frame(hours(20), values), DS, prep, SplitConfig(0.15, 0.15))
    assert report["outliers"] == {"y": 1}
    assert table["y"].iloc[18] == 11.0  # interpolated between 10 and 12


# --- rows off the time grid ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "inserted"),
    [
        (["00:00", "01:00", "01:30", "02:00"], 0),
        (["00:00", "01:00", "01:30", "02:00", "04:00"], 1),
    ],
)
def test_rows_off_the_grid_are_counted_not_lost_silently(times: list[str], inserted: int) -> None:
    stamps = [f"2024-01-01 {t}" for t in times]
    ds = epoch_ds(freq="h")
    table, report = prepare_table(frame(stamps, list(range(len(stamps)))), ds, PREP)
    assert report["rows_off_grid"] == 1
    assert report["off_grid_example"] == "2024-01-01T01:30:00"
    assert report["rows_inserted"] == inserted
    assert pd.Timestamp("2024-01-01 01:30") not in table.index


def test_a_regular_series_has_no_rows_off_grid() -> None:
    _, report = prepare_table(frame(hours(5), [1, 2, 3, 4, 5]), DS, PREP)
    assert report["rows_off_grid"] == 0
    assert report["off_grid_example"] is None


# --- UTC offsets and time zones -----------------------------------------------------------

# Rome springs forward on 2022-03-27: 02:00 local does not exist, the offset goes +01 -> +02.
DST = [
    "2022-03-27T00:00:00+01:00",
    "2022-03-27T01:00:00+01:00",
    "2022-03-27T03:00:00+02:00",
    "2022-03-27T04:00:00+02:00",
]


def test_mixed_utc_offsets_are_converted_to_utc() -> None:
    table, report = prepare_table(frame(DST, [1, 2, 3, 4]), DS, PREP)
    assert str(table.index.tz) == "UTC"
    assert table.index[0] == pd.Timestamp("2022-03-26 23:00", tz="UTC")
    assert report["freq"] == "h" and report["rows_inserted"] == 0
    assert report["timezone"] == "UTC"
    assert report["utc_offsets_converted"] is True


def test_one_utc_offset_for_every_row_keeps_the_files_clock() -> None:
    same = [f"2024-01-01T0{h}:00:00+01:00" for h in range(4)]
    table, report = prepare_table(frame(same, [1, 2, 3, 4]), DS, PREP)
    assert str(table.index.tz) == "UTC+01:00" and report["timezone"] == "UTC+01:00"
    assert table.index[0] == pd.Timestamp("2023-12-31 23:00", tz="UTC")  # the same instant
    assert list(table.index.hour) == [0, 1, 2, 3]


def test_business_days_at_a_fixed_offset_stay_business_days() -> None:
    """Indian business days read as UTC fall Sunday to Thursday at 18:30: a gappy daily
    series with two rows in seven made up, and a weekly season that is not the file's."""
    days = pd.bdate_range("2023-03-20", periods=30)
    stamps = [f"{d:%Y-%m-%d}T00:00:00+05:30" for d in days]
    table, report = prepare_table(frame(stamps, list(range(30))), DS, PREP)
    assert report["freq"] == "B" and report["period"] == 5
    assert report["rows_inserted"] == 0 and len(table) == 30


def test_offsets_are_shown_in_the_chosen_zone_and_calendar_uses_its_clock() -> None:
    ds = epoch_ds(timezone="Europe/Rome")
    table, report = prepare_table(frame(DST, [1, 2, 3, 4]), ds, PrepareConfig())
    assert str(table.index.tz) == "Europe/Rome"
    assert list(table.index.hour) == [0, 1, 3, 4]
    assert report["timezone"] == "Europe/Rome"
    assert report["rows_inserted"] == 0
    assert np.allclose(table["hour_sin"], np.sin(2 * np.pi * np.array([0, 1, 3, 4]) / 24))


def test_a_bad_zone_name_is_one_line_naming_the_key() -> None:
    with pytest.raises(DataError, match=r"dataset.timezone 'Europe/Atlantis'") as info:
        prepare_table(frame(DST, [1, 2, 3, 4]), epoch_ds(timezone="Europe/Atlantis"), PREP)
    assert "\n" not in str(info.value)


def test_a_zone_for_timestamps_without_offsets_is_refused() -> None:
    with pytest.raises(DataError, match=r"column 'ts' has no UTC offsets.*dataset.timezone"):
        prepare_table(frame(hours(4), [1, 2, 3, 4]), epoch_ds(timezone="Europe/Rome"), PREP)


def test_naive_timestamps_stay_naive() -> None:
    table, report = prepare_table(frame(hours(4), [1, 2, 3, 4]), DS, PREP)
    assert table.index.tz is None
    assert report["timezone"] is None
    assert report["utc_offsets_converted"] is False


def test_the_prepared_parquet_keeps_the_zone(tmp_path: Path) -> None:
    csv = tmp_path / "dst.csv"
    frame(DST, [1, 2, 3, 4]).rename(columns={"ts": "time"}).to_csv(csv, index=False)
    cfg = Config(
        dataset=DatasetConfig(
            path=str(csv), time_column="time", target="y", timezone="Europe/Rome"
        ),
        prepare=PrepareConfig(calendar_features=False),
    )
    paths = StagePaths.job(tmp_path / "job")
    prepare.run(cfg, paths)
    stored = pd.read_parquet(paths.prepared / "table.parquet")
    assert str(stored.index.tz) == "Europe/Rome"
    assert list(stored.index.hour) == [0, 1, 3, 4]
    assert read_json(paths.prepared / "report.json")["timezone"] == "Europe/Rome"


@pytest.mark.parametrize(
    ("freq", "periods", "year_features", "pairs"),
    [("h", 3 * 8760, "auto", {"hour", "dow"}), ("h", 3 * 8760, "always", {"hour", "dow", "doy"}),
     ("D", 3 * 365, "auto", {"dow", "doy"}), ("D", 365, "auto", {"dow"}),
     ("D", 3 * 365, "never", {"dow"}), ("W-SUN", 3 * 52, "auto", {"woy"}),
     ("MS", 36, "auto", {"month"})],
)  # fmt: skip
def test_the_calendar_pairs_follow_the_steps_and_the_span(
    freq: str, periods: int, year_features: str, pairs: set[str]
) -> None:
    from lstm_doctor.stages.calendar import add_calendar_features

    index = pd.date_range("2021-01-01", periods=periods, freq=freq)
    yearly = np.cos(2 * np.pi * index.day_of_year.to_numpy() / 365.25)
    table = add_calendar_features(pd.DataFrame({"y": 0.0}, index=index), year_features, yearly)
    assert {c.rsplit("_", 1)[0] for c in table.columns if c != "y"} == pairs
    year = next((c for c in table.columns if c.split("_")[0] in ("doy", "woy", "month")), None)
    if year:  # one turn a year: the same phase a year apart, to within a day's drift
        first = table[year].iloc[0]
        again = table[year][table.index >= index[0] + pd.DateOffset(years=1)].iloc[0]
        assert abs(again - first) < 0.03


def test_auto_adds_the_year_only_where_the_training_span_shows_one() -> None:
    """A drifting series (a random walk: its autocorrelation decays, it never peaks a year
    on) is given no year input; the same dates with a yearly cycle are."""
    from lstm_doctor.stages.calendar import year_pair

    index = pd.date_range("2015-01-01", periods=4 * 365, freq="D")
    walk = np.cumsum(np.random.default_rng(3).standard_normal(len(index)))
    assert year_pair(index, "auto", walk) is None
    yearly = np.sin(2 * np.pi * np.arange(len(index)) / 365.25)
    assert year_pair(index, "auto", yearly) == "doy"
    assert year_pair(index, "auto", None) is None and year_pair(index, "always") == "doy"


@pytest.mark.parametrize("freq", ["D", "2W", "MS"])
def test_local_days_knocked_off_a_utc_grid_by_daylight_saving_are_refused(freq: str) -> None:
    """Local midnights across a clock change read as UTC are an hour off the grid: those
    rows would be dropped and made up, so the file is refused with the key that fixes it."""
    times = pd.date_range("2023-10-01", periods=60, freq=freq, tz="America/New_York")
    stamps = [t.isoformat() for t in times]
    with pytest.raises(DataError, match=r"UTC offsets change .* set dataset.timezone") as info:
        prepare_table(frame(stamps, list(range(60))), DS, PREP)
    assert "\n" not in str(info.value)
    table, report = prepare_table(
        frame(stamps, list(range(60))), epoch_ds(timezone="America/New_York"), PREP
    )
    assert report["rows_off_grid"] == 0 and report["rows_inserted"] == 0 and len(table) == 60
