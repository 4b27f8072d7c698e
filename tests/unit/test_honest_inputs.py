"""Data that used to slip through silently, each refused in one line or handled and recorded:
non-finite values, a constant target, a series mostly made up, scaling that gave up on a
column, seasons of frequency multiples, rare classes, repeated column names, an output
folder taken by a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.errors import ConfigError, DataError
from lstm_doctor.base.metrics import mase_lag, season_lengths
from lstm_doctor.base.workspace import TARGET_OBSERVED, StagePaths, read_json
from lstm_doctor.config import Config, DatasetConfig, PrepareConfig, ScalingConfig, SplitConfig
from lstm_doctor.stages import prepare, scale
from lstm_doctor.stages.prepare import period_of, prepare_sequences, prepare_table
from lstm_doctor.stages.readers import LabelledSequences, read_table
from lstm_doctor.stages.scale import fit_scaler, scale_series, split_sequences

DS = DatasetConfig(path="tiny.csv", time_column="ts", target="y")
PREP = PrepareConfig(calendar_features=False)


def hourly(values: list[float] | np.ndarray, **extra: object) -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=len(values), freq="h").astype(str)
    return pd.DataFrame({"ts": times, "y": values, **extra})


def wave(n: int) -> np.ndarray:
    return np.sin(np.arange(n) / 3.0) * 10 + 20


# --- 1. non-finite values --------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.inf, -np.inf, "inf", "1e400"])
def test_non_finite_value_refused_naming_column_and_row(bad: object) -> None:
    values: list[object] = list(wave(50))
    values[7] = bad
    with pytest.raises(DataError, match=r"tiny.csv: column 'y' has a non-finite .*data row 8"):
        prepare_table(hourly(values), DS, PREP)  # type: ignore[arg-type]


def test_non_finite_feature_refused_too() -> None:
    raw = hourly(wave(50), x=[1.0] * 49 + [np.inf])
    ds = DatasetConfig(path="tiny.csv", time_column="ts", target="y", features=["x"])
    with pytest.raises(DataError, match=r"column 'x' has a non-finite value"):
        prepare_table(raw, ds, PREP)


def test_values_near_the_float32_limit_refused_not_scaled_to_inf() -> None:
    table = pd.DataFrame({"y": wave(100), "x": np.linspace(1e38, 3e38, 100) * 10})
    with pytest.raises(DataError, match=r"column 'x' does not fit in float32"):
        scale_series(table, SplitConfig(), ScalingConfig("none"))


def test_statistics_that_overflow_are_refused_not_replaced_by_one() -> None:
    table = pd.DataFrame({"y": wave(100), "x": np.tile([-1.5e308, 1.5e308], 50)})
    with pytest.raises(DataError, match=r"column 'x': its standard statistics overflow"):
        scale_series(table, SplitConfig(), ScalingConfig("standard"))


# --- 2. constant target ----------------------------------------------------------------


def test_constant_target_refused() -> None:
    with pytest.raises(DataError, match=r"target column 'y' is constant \(3 in all 50 rows\)"):
        prepare_table(hourly([3.0] * 50), DS, PREP)


def test_target_constant_over_the_training_span_refused() -> None:
    table = pd.DataFrame({"y": np.r_[np.zeros(70), wave(30)]})
    with pytest.raises(DataError, match=r"constant over the training span \(rows 0-69\)"):
        scale_series(table, SplitConfig(), ScalingConfig())


# --- 3. a series mostly made up --------------------------------------------------------


def test_mostly_missing_target_refused() -> None:
    values = [np.nan] * 301 + list(wave(99))
    with pytest.raises(DataError, match=r"301 of 400 target values \(75%\) would be made up"):
        prepare_table(hourly(values), DS, PREP)


def test_a_frequency_finer_than_the_data_refused() -> None:
    ds = DatasetConfig(path="tiny.csv", time_column="ts", target="y", freq="15min")
    with pytest.raises(DataError, match=r"rows inserted .*15min grid.*set dataset.freq"):
        prepare_table(hourly(wave(400)), ds, PREP)


def test_imputed_rows_counted_and_their_mask_written(tmp_path: Path) -> None:
    values = list(wave(200))
    values[10:30] = [np.nan] * 20
    table, report = prepare_table(hourly(values), DS, PREP)
    assert report["imputed_target_rows"] == 20
    assert report["imputed_target_share"] == pytest.approx(0.1)
    mask = table.attrs["target_observed"]
    assert mask.index.equals(table.index) and (~mask).sum() == 20 and not mask.iloc[10:30].any()
    # The same mask as a file beside the table, where evaluate reads it.
    raw = tmp_path / "raw.csv"
    hourly(values).to_csv(raw, index=False)
    cfg = Config(dataset=DatasetConfig(path=str(raw), time_column="ts", target="y"), prepare=PREP)
    paths = StagePaths.job(tmp_path / "job")
    prepare.run(cfg, paths)
    written = pd.read_parquet(paths.prepared / TARGET_OBSERVED)
    prepared = pd.read_parquet(paths.prepared / "table.parquet")
    assert list(written.columns) == ["observed"] and written["observed"].dtype == bool
    assert written.index.equals(prepared.index)
    assert int((~written["observed"]).sum()) == 20


# --- 4. scaling that gives up on a column ----------------------------------------------


@pytest.mark.parametrize("method", ["standard", "minmax", "robust"])
def test_a_mostly_zero_column_is_scaled_whatever_the_method(method: str) -> None:
    rng = np.random.default_rng(0)
    zeros = np.where(rng.random(1000) < 0.8, 0.0, rng.gamma(2.0, 60.0, 1000))
    scaler = fit_scaler(np.c_[wave(1000), zeros], ScalingConfig(method), ["y", "rain"])
    scaled = scaler.transform(np.c_[wave(1000), zeros])
    assert np.abs(scaled[:, 1]).max() < 20  # not the raw 228-like values
    if method == "robust":
        assert "rain" in scaler.notes and "standard deviation" in scaler.notes["rain"]


def test_constant_feature_is_noted() -> None:
    scaler = fit_scaler(np.c_[wave(10), np.ones(10)], ScalingConfig(), ["y", "flat"])
    assert scaler.scale[1] == 1.0 and "constant" in scaler.notes["flat"]
    assert "y" not in scaler.notes


# --- 5. season length of frequency multiples -------------------------------------------


@pytest.mark.parametrize(
    ("freq", "period"),
    [("h", 24), ("2h", 12), ("D", 7), ("2D", None), ("3D", None), ("W", 52), ("2W", 26),
     ("MS", 12), ("2MS", 6), ("7min", 1440), ("25min", None), ("15min", 96), ("B", 5)],
)  # fmt: skip
def test_period_counts_the_frequency_multiple(freq: str, period: int | None) -> None:
    assert period_of(freq) == period


def test_candidate_seasons_count_calendar_multiples() -> None:
    assert season_lengths("2W") == [26]
    assert season_lengths("3MS") == [4]


def test_mase_lag_falls_back_to_one_and_scale_records_why(tmp_path: Path) -> None:
    assert mase_lag(100, 24) == 24 and mase_lag(20, 24) == 1
    assert scale._mase_lag(24, 20) == {
        "mase_lag": 1,
        "mase_lag_note": "the season (24 steps) does not fit in the training span (20 steps): "
        "MASE is scaled by persistence (lag 1)",
    }


# --- 6. rare and single classes --------------------------------------------------------


def test_class_too_small_for_every_split_refused() -> None:
    labels = np.array([0] * 20 + [1] * 2)
    with pytest.raises(DataError, match=r"class 'rare' has 2 sequence\(s\).*3 splits"):
        split_sequences(labels, False, SplitConfig(0.2, 0.2), 0, ["common", "rare"])
    parts = split_sequences(labels, True, SplitConfig(0.2, 0.2), 0, ["common", "rare"])
    assert set(labels[parts["train"]]) == {0, 1}


def test_one_class_file_refused() -> None:
    train = LabelledSequences([np.ones((3, 1))] * 4, ["a"] * 4, ["a", "b"])
    with pytest.raises(DataError, match=r"one class"):
        prepare_sequences(train, None, PrepareConfig())


# --- 7. repeated column names; files that are not CSV text -----------------------------


def write(tmp_path: Path, content: bytes) -> DatasetConfig:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    return DatasetConfig(path=str(path), time_column="ts", target="y")


def test_repeated_column_name_refused(tmp_path: Path) -> None:
    ds = write(tmp_path, b"ts,y,y\n2024-01-01 00:00,1,2\n2024-01-01 01:00,3,4\n")
    with pytest.raises(DataError, match=r"header names column 'y' 2 times"):
        read_table(ds)


@pytest.mark.parametrize(
    ("head", "what"),
    [(b"PAR1\x15\x04", "a Parquet file"), (b"PK\x03\x04\x14", "a zip archive"),
     (b"\xd0\xcf\x11\xe0\xa1", "an Excel .xls workbook")],
)  # fmt: skip
def test_binary_file_named_csv_is_named_for_what_it_is(
    tmp_path: Path, head: bytes, what: str
) -> None:
    with pytest.raises(DataError, match=rf"is {what}.*not CSV text") as caught:
        read_table(write(tmp_path, head + b"\x00" * 64))
    assert "\x00" not in str(caught.value) and "encoding" not in str(caught.value)


def test_decimal_commas_are_named() -> None:
    raw = hourly(["1,5"] * 50)
    with pytest.raises(DataError, match=r"writes decimals with a comma \(e.g. '1,5'\)"):
        prepare_table(raw, DS, PREP)


# --- 10. crashes, refused before training ----------------------------------------------


def test_empty_time_column_refused() -> None:
    from lstm_doctor.config import validate

    with pytest.raises(ConfigError, match=r"'dataset.time_column' is \[\]"):
        validate({"dataset": {"time_column": []}})


def test_output_folder_taken_by_a_file_refused_before_any_work(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    hourly(wave(200)).to_csv(raw, index=False)
    cfg = Config(dataset=DatasetConfig(path=str(raw), time_column="ts", target="y"))
    paths = StagePaths.job(tmp_path / "job")
    paths.models.parent.mkdir()
    paths.models.write_text("not a folder")
    with pytest.raises(DataError, match=r"models: is a file where lstm-doctor writes"):
        prepare.run(cfg, paths)
    assert sorted(p.name for p in paths.models.parent.iterdir()) == ["models"]


def test_report_records_the_shares(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    hourly(wave(200)).to_csv(raw, index=False)
    cfg = Config(dataset=DatasetConfig(path=str(raw), time_column="ts", target="y"))
    paths = StagePaths.job(tmp_path / "job")
    prepare.run(cfg, paths)
    assert read_json(paths.prepared / "report.json")["imputed_target_share"] == 0.0
    meta = scale.run(cfg, paths)
    assert meta.mase_lag == 24 and meta.scaler["notes"] == {}


# --- 11. RuntimeWarnings kept off the console ------------------------------------------


def test_runtime_warnings_stay_off_the_console(capfd: pytest.CaptureFixture[str]) -> None:
    import warnings

    from lstm_doctor.base.errors import report_errors

    def noisy() -> float:
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
        return float(np.nanmean(np.array([np.nan])))

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        assert np.isnan(report_errors(noisy))
    assert "RuntimeWarning" not in capfd.readouterr().err
