"""Round-trip truth: what the reports say matches the raw file, computed independently here.

For every shipped forecasting dataset the stages run for real (prepare, scale, window) and
the evaluation frame is built exactly as evaluate writes predictions.csv; the dates, the
actual values and the naive baselines in it are then looked up in the raw file by timestamp
with plain pandas, not with the project's own readers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config import Config
from lstm_doctor.stages import prepare, scale, window
from lstm_doctor.stages.scale import Scaler, series_times
from lstm_doctor.stages.window import load_windows

from ..conftest import ROOT, tiny_config

FORECAST_DATASETS = sorted(
    p.stem
    for p in (ROOT / "conf" / "dataset").glob("*.yaml")
    if "task: forecast" in p.read_text() and "path: ???" not in p.read_text()
)


# Clipped outliers must not reach the truth the model is scored against.
CASES = [(name, "none") for name in FORECAST_DATASETS] + [
    (name, "clip") for name in FORECAST_DATASETS
]


def raw_series(cfg: Config) -> pd.Series:
    """The target indexed by timestamp, read straight from the raw file."""
    ds = cfg.dataset
    frame = pd.read_csv(ROOT / ds.path, low_memory=False)
    for column, value in ds.select.items():
        frame = frame[frame[column].astype(str) == str(value)]
    columns = ds.time_columns
    if len(columns) == 1:
        time = pd.to_datetime(frame[columns[0]])
    else:
        time = pd.to_datetime(frame[columns].rename(columns=str.lower))
    return pd.Series(frame[ds.target].to_numpy(dtype=float), index=pd.DatetimeIndex(time))


@pytest.fixture(scope="module")
def stage_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    import os

    out = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for name, outliers in CASES:
            cfg = tiny_config(
                f"dataset={name}", "dataset.max_rows=800", f"prepare.outliers={outliers}"
            )
            paths = StagePaths.job(tmp_path_factory.mktemp(name))
            prepare.run(cfg, paths)
            scale.run(cfg, paths)
            window.run(cfg, paths)
            out[f"{name}-{outliers}"] = (cfg, paths)
    finally:
        os.chdir(cwd)
    return out


def test_every_shipped_forecast_dataset_is_covered() -> None:
    assert {"electricity", "stocks", "beijing_pm25"} <= set(FORECAST_DATASETS)


@pytest.mark.parametrize("case", [f"{n}-{o}" for n, o in CASES])
def test_prediction_dates_and_values_are_the_raw_files(stage_outputs, case: str) -> None:
    from lstm_doctor.stages.evaluate import evaluate_forecast, observed_target

    cfg, paths = stage_outputs[case]
    name = case
    windows, meta = load_windows(paths)
    test = windows["test"]
    zeros = np.zeros((len(test), test.horizon), dtype=np.float32)
    result, frame = evaluate_forecast(
        zeros,
        test,
        Scaler(**meta["scaler"]),
        meta["period"],
        series_times(paths),
        observed_target(paths),
    )
    raw = raw_series(cfg)
    times = pd.DatetimeIndex(frame["time"])
    # The test span is the end of the raw file, in its own dates (not 1970).
    assert times.min() >= raw.index.min()
    assert times.max() <= raw.index.max()
    assert times.max() > raw.index.max() - pd.Timedelta(days=60)
    assert times.is_monotonic_increasing and times.is_unique
    # Where the raw file has a value at that timestamp, "actual" is that value, in its units.
    looked_up = raw.reindex(times)
    known = looked_up.notna().to_numpy()
    assert known.mean() > 0.8, f"{name}: most test dates must be rows of the raw file"
    np.testing.assert_allclose(frame["actual"].to_numpy()[known], looked_up.to_numpy()[known],
                               rtol=1e-5)  # fmt: skip
    # Persistence is the raw value one step before each forecast's first target step.
    step = pd.tseries.frequencies.to_offset(meta["freq"])
    previous = raw.reindex(times - step)
    both = previous.notna().to_numpy()
    np.testing.assert_allclose(frame["persistence"].to_numpy()[both],
                               previous.to_numpy()[both], rtol=1e-5)  # fmt: skip
    # Seasonal naive (step 1) is the raw value one season (period steps) earlier.
    if "seasonal_naive" in frame:
        season = raw.reindex(times - meta["period"] * step)
        ok = season.notna().to_numpy()
        np.testing.assert_allclose(frame["seasonal_naive"].to_numpy()[ok],
                                   season.to_numpy()[ok], rtol=1e-5)  # fmt: skip
    assert result["test_windows"] == len(frame) == len(test)


def test_the_scaled_series_keeps_the_raw_files_dates(tmp_path: Path) -> None:
    """The timestamps scale stores (and evaluate stamps predictions.csv with) are the raw
    file's own: stored as bare integers they came back as nanoseconds in 1970."""
    cfg = tiny_config()
    paths = StagePaths.job(tmp_path)
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        prepare.run(cfg, paths)
        scale.run(cfg, paths)
    finally:
        os.chdir(cwd)
    times = series_times(paths)
    raw = raw_series(cfg)
    assert times[-1] == raw.index[-1]
    assert times[0] == raw.index[-cfg.dataset.max_rows]
