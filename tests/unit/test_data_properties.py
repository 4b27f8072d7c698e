"""Property-based tests of the data path: generated CSV files through prepare -> scale ->
window. Every outcome is either a one-line refusal (a DoctorError, nothing half-written) or
outputs whose invariants hold: finite, scaled on the training span, the raw file's dates,
the season length the frequency implies, imputed target rows marked as such.

Hypothesis draws the files: row counts, frequencies and their multiples, UTC offsets and
zones, row orders, targets that are smooth, constant, gappy, mostly missing or hold inf,
extra features (mostly zero, repeated names). The suite's Hypothesis profile (conftest) draws a
fixed 40 examples per test; HYPOTHESIS_PROFILE=explore draws 500 new ones.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lstm_doctor.base.errors import DoctorError
from lstm_doctor.base.workspace import TARGET_OBSERVED, StagePaths, read_json
from lstm_doctor.config import (
    Config,
    DatasetConfig,
    PrepareConfig,
    ScalingConfig,
    SplitConfig,
    WindowConfig,
)
from lstm_doctor.stages import prepare, scale, window

# Generated frequency -> the season length prepare must report for it.
PERIODS: dict[str, int | None] = {
    "h": 24, "2h": 12, "15min": 96, "7min": 1440, "25min": None, "D": 7, "2D": None,
    "3D": None, "W": 52, "2W": 26, "MS": 12, "2MS": 6, "B": 5,
}  # fmt: skip
ZONES = (None, "UTC", "Europe/Rome", "America/New_York", "Asia/Kolkata")


@dataclass
class RawFile:
    """A generated CSV and what it was made of."""

    frame: pd.DataFrame  # as written, in file order
    times: pd.DatetimeIndex  # each row's instant (UTC when offsets were written)
    freq: str
    features: list[str]
    method: str
    zone: str | None = None  # dataset.timezone (the zone the file's clock is in)


@st.composite
def raw_files(draw: st.DrawFn) -> RawFile:
    n = draw(st.integers(40, 160))
    freq = draw(st.sampled_from(sorted(PERIODS)))
    zone = draw(st.sampled_from(ZONES))
    times = pd.date_range("2023-03-20", periods=n, freq=freq, tz=zone)
    # Mostly usable files, so the invariants of the prepared outputs are checked often.
    shape = draw(
        st.sampled_from(["wave"] * 3 + ["gappy"] * 2 + ["constant", "mostly_missing", "inf"])
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    y = np.sin(np.arange(n) / draw(st.floats(0.5, 20))) * draw(st.floats(1e-3, 1e6))
    y += rng.normal(0, 0.1, n) * np.abs(y).max()
    if shape == "constant":
        y = np.full(n, draw(st.floats(-1e3, 1e3)))
    elif shape in ("gappy", "mostly_missing"):
        share = 0.2 if shape == "gappy" else 0.7
        y[rng.random(n) < share] = np.nan
    elif shape == "inf":
        y[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.inf, -np.inf]))
    stamps = [t.isoformat() for t in times] if zone else [str(t) for t in times]
    frame = pd.DataFrame({"ts": stamps, "y": y})
    features: list[str] = []
    if draw(st.booleans()):
        rain = np.where(rng.random(n) < 0.8, 0.0, rng.gamma(2.0, 60.0, n))
        frame["rain"] = rain
        features = ["rain"]
    if draw(st.sampled_from([False] * 9 + [True])):
        frame.insert(2, "y_copy", frame["y"])  # renamed to a repeat of "y" when written
    order = draw(st.sampled_from(["sorted", "reversed", "shuffled"]))
    if order == "reversed":
        frame = frame.iloc[::-1]
    elif order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=int(rng.integers(0, 2**16)))
    instants = times.tz_convert("UTC") if zone else times
    method = draw(st.sampled_from(["standard", "minmax", "robust"]))
    # Some files name their zone, some leave the offsets to be read as UTC instants.
    named = zone if zone and draw(st.booleans()) else None
    return RawFile(frame, pd.DatetimeIndex(instants[frame.index]), freq, features, method, named)


def write_csv(raw: RawFile, path: Path) -> None:
    header = ["y" if c == "y_copy" else c for c in raw.frame.columns]
    raw.frame.to_csv(path, index=False, header=header)


def run_stages(raw: RawFile, folder: Path) -> tuple[StagePaths, DoctorError | None]:
    path = folder / "data.csv"
    write_csv(raw, path)
    cfg = Config(
        dataset=DatasetConfig(
            path=str(path), time_column="ts", target="y", features=raw.features, timezone=raw.zone
        ),
        prepare=PrepareConfig(calendar_features=False),
        split=SplitConfig(0.2, 0.2),
        scaling=ScalingConfig(raw.method),
        window=WindowConfig(length=4, horizon=2),
    )
    paths = StagePaths.job(folder / "job")
    try:
        for stage in (prepare, scale, window):
            stage.run(cfg, paths)  # type: ignore[attr-defined]
    except DoctorError as refused:
        return paths, refused
    return paths, None


def assert_refusal_is_clean(error: DoctorError, paths: StagePaths) -> None:
    message = str(error)
    assert message and "\n" not in message and "\x00" not in message
    # All-or-nothing: no temporary folder, and no stage after the refusing one wrote.
    job = paths.prepared.parent
    assert not [p.name for p in job.glob(".*")] if job.exists() else True


def assert_outputs_hold(raw: RawFile, paths: StagePaths) -> None:
    report = read_json(paths.prepared / "report.json")
    table = pd.read_parquet(paths.prepared / "table.parquet")
    observed = pd.read_parquet(paths.prepared / TARGET_OBSERVED)["observed"]
    series = np.load(paths.scaled / "series.npz")
    meta = read_json(paths.scaled / "meta.json")
    values = series["values"]
    # Finite everywhere, in float32 as training reads it.
    assert values.dtype == np.float32 and np.isfinite(values).all()
    # The season length the frequency implies, multiples included.
    assert report["period"] == PERIODS[raw.freq]
    # The raw file's dates: every observed target row is a row of the file, and every
    # file row with a target is kept unless counted as off the grid.
    index = pd.DatetimeIndex(table.index)
    index = index.tz_convert("UTC") if index.tz is not None else index
    assert observed.index.equals(table.index)
    with_target = set(raw.times[raw.frame["y"].notna().to_numpy()])
    kept = set(index[observed.to_numpy()])
    assert kept <= with_target
    assert len(with_target - kept) <= report["rows_off_grid"]
    # Imputed rows are exactly the unobserved ones, and never most of the series.
    assert report["imputed_target_rows"] == int((~observed).sum())
    assert report["imputed_target_share"] <= 0.5
    # Scaled on the training span: each column that varies there is centred and spread
    # near 1 by the method's (or the noted fallback's) statistics.
    lo, hi = meta["bounds"]["train"]
    train = values[lo:hi].astype(np.float64)
    for i, column in enumerate(meta["columns"]):
        if np.ptp(train[:, i]) == 0:
            continue
        assert np.abs(train[:, i]).max() < 50, (column, meta["scaler"])
        if raw.method == "standard":
            assert abs(train[:, i].mean()) < 1e-3 and abs(train[:, i].std() - 1) < 1e-3
        elif raw.method == "minmax":
            assert train[:, i].min() > -1e-6 and train[:, i].max() < 1 + 1e-6
    windows = read_json(paths.windows / "meta.json")
    assert all(count > 0 for count in windows["counts"].values())


@settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=raw_files())
def test_every_file_is_refused_in_one_line_or_prepared_honestly(raw: RawFile) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths, refused = run_stages(raw, Path(folder))
        if refused is not None:
            event(f"refused: {str(refused).split(': ', 2)[-1][:40]}")
            assert_refusal_is_clean(refused, paths)
        else:
            event("prepared")
            assert_outputs_hold(raw, paths)


@given(
    freq=st.sampled_from(sorted(PERIODS)),
    zone=st.sampled_from(ZONES),
    n=st.integers(60, 120),
)
def test_a_clean_series_is_never_refused(freq: str, zone: str | None, n: int) -> None:
    """What the refusals must not catch: a smooth, complete series in any frequency and
    zone prepares, with the period its frequency implies and nothing made up."""
    times = pd.date_range("2023-03-20", periods=n, freq=freq, tz=zone)
    stamps = [t.isoformat() for t in times] if zone else [str(t) for t in times]
    y = np.sin(np.arange(n) / 3.0) + np.arange(n) / n
    frame = pd.DataFrame({"ts": stamps, "y": y})
    instants = pd.DatetimeIndex(times.tz_convert("UTC") if zone else times)
    raw = RawFile(frame, instants, freq, [], "standard", zone)
    with tempfile.TemporaryDirectory() as folder:
        paths, refused = run_stages(raw, Path(folder))
        assert refused is None, str(refused)
        assert_outputs_hold(raw, paths)
