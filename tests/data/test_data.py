"""Expectations on the shipped data: it is what PROVENANCE.md says, and has the traits the
presets rely on (a daily cycle, mixed scales, gaps)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from lstm_doctor.config import DatasetConfig, PrepareConfig
from lstm_doctor.stages.prepare import prepare_table
from lstm_doctor.stages.readers import read_table, read_ts

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"


def test_every_shipped_file_matches_its_recorded_hash() -> None:
    provenance = (RAW / "PROVENANCE.md").read_text()
    files = sorted(p for p in RAW.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")
    assert len(files) == 7
    for file in files:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        assert digest in provenance, (
            f"{file.relative_to(ROOT)} is not the file PROVENANCE.md records"
        )
    assert len(re.findall(r"[0-9a-f]{64}", provenance)) == 7


@pytest.fixture(scope="module")
def electricity():
    ds = DatasetConfig(path=str(RAW / "electricity" / "hourly_electricity.csv"))
    return prepare_table(read_table(ds), ds, PrepareConfig(calendar_features=False))


def test_electricity_is_hourly_three_years_with_a_daily_cycle(electricity) -> None:
    table, report = electricity
    assert report["freq"] == "h" and report["period"] == 24
    assert 26_000 < len(table) < 26_400
    y = table["y"].to_numpy()
    y = y - y.mean()
    lag = lambda k: np.corrcoef(y[:-k], y[k:])[0, 1]  # noqa: E731
    assert lag(24) > 0.8 > lag(12)


def test_stocks_mix_prices_and_volumes_on_very_different_scales() -> None:
    ds = DatasetConfig(
        path=str(RAW / "stocks" / "stocks.csv.gz"),
        time_column="Date",
        target="Close",
        features=["Volume"],
        select={"Ticker": "MSFT"},
        freq="B",
    )
    table, _ = prepare_table(read_table(ds), ds, PrepareConfig(calendar_features=False))
    assert table["Volume"].median() / table["Close"].median() > 1e5


def test_beijing_has_missing_target_and_a_categorical_wind() -> None:
    ds = DatasetConfig(
        path=str(RAW / "beijing_pm25" / "hourly_beijing_pm.csv"),
        time_column=["year", "month", "day", "hour"],
        target="pm2.5",
        categorical=["cbwd"],
    )
    table, report = prepare_table(
        read_table(ds), ds, PrepareConfig(missing="none", calendar_features=False)
    )
    missing_share = report["missing"]["pm2.5"] / len(table)
    assert 0.04 < missing_share < 0.05
    assert len(report["encoded_columns"]) == 4


def test_basic_motions_has_four_balanced_classes_of_six_channels() -> None:
    train = read_ts(RAW / "basic_motions" / "BasicMotions_TRAIN.ts", "dataset.path")
    assert train.classes == ["Standing", "Running", "Walking", "Badminton"]
    assert {s.shape for s in train.sequences} == {(100, 6)}
    assert len(train.sequences) == 40
