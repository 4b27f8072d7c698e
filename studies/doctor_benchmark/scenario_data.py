"""Data files for studies/doctor_benchmark/__main__.py, written at run time under multirun/scenarios/data/.

Each is derived from the shipped data (data/raw, see PROVENANCE.md) by resampling or by one
stated edit, or generated with a known season from a fixed numpy seed; no network. `write_all`
writes every file once (atomically, so parallel workers never read half a file); the
`check_*` helpers measure the property each file is meant to carry.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("multirun/scenarios/data")  # relative to ROOT, as the overrides name it
RAW = ROOT / "data" / "raw"


def electricity() -> pd.Series:
    """The shipped hourly mean load (kW), 2012-2014."""
    frame = pd.read_csv(RAW / "electricity" / "hourly_electricity.csv", parse_dates=["ts"])
    return frame.set_index("ts")["y"].asfreq("h")


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    noise = rng.normal(0, sd, n)
    out = np.empty(n)
    out[0] = noise[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + noise[t]
    return out


def _frame(index: pd.DatetimeIndex, y: np.ndarray, **features: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"time": index, "y": y, **features})


# ------------------------------------------------------------ forecasting tables (CSV)


def elec_daily() -> pd.DataFrame:
    """Electricity resampled to daily means: 1096 days, a weekly season (7)."""
    daily = electricity().resample("D").mean()
    return _frame(daily.index, daily.to_numpy())


def elec_weekly() -> pd.DataFrame:
    """Electricity resampled to weekly means: 158 weeks, three yearly cycles at most."""
    weekly = electricity().resample("W").mean()
    return _frame(weekly.index, weekly.to_numpy())


def elec_counts() -> pd.DataFrame:
    """Hourly electricity as counts (kW x 100, ~1e5) beside small inputs: a temperature-like
    annual cycle (~0-25) and a weekend flag (0/1). Read with scaling=none."""
    y = electricity()
    rng = np.random.default_rng(11)
    day = y.index.day_of_year.to_numpy()
    temp = 12 - 10 * np.cos(2 * np.pi * (day - 15) / 365.25) + rng.normal(0, 1.5, len(y))
    weekend = (y.index.day_of_week >= 5).astype(float)
    return _frame(y.index, np.round(y.to_numpy() * 100), temp=temp.round(1), weekend=weekend)


def elec_zero_nights() -> pd.DataFrame:
    """Hourly electricity with every hour 00:00-05:59 set to zero: a zero-inflated daily
    season (a shop's or a solar site's meter), no spikes at all."""
    y = electricity().copy()
    y[y.index.hour < 6] = 0.0
    return _frame(y.index, y.to_numpy())


def with_gaps(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`frame` with 6% of its target blanked in runs of 1-5 steps (a meter offline)."""
    rng = np.random.default_rng(seed)
    y = frame["y"].to_numpy().copy()
    while np.isnan(y).mean() < 0.06:
        start = int(rng.integers(0, len(y) - 5))
        y[start : start + int(rng.integers(1, 6))] = np.nan
    return frame.assign(y=y)


def with_spikes(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`frame` with 2% of its steps' target multiplied by 6-10 (meter glitches)."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    hit = rng.choice(len(frame), size=int(0.02 * len(frame)), replace=False)
    frame.loc[hit, "y"] *= rng.uniform(6, 10, len(hit))
    return frame


def demand_daily_gaps() -> pd.DataFrame:
    """demand_daily with gaps (seed 12)."""
    return with_gaps(demand_daily(), 12)


def demand_daily_spikes() -> pd.DataFrame:
    """demand_daily with spikes (seed 13)."""
    return with_spikes(demand_daily(), 13)


def office_load(per_day: int = 24, days: int = 168, seed: int = 24) -> pd.DataFrame:
    """Synthetic power demand of an office park with its temperature as an input: occupied
    08-20 h (a daily season, the only one), air conditioning in occupied hours above 20 C
    (the response to temperature depends on the hour: no linear map of the window has it),
    a little heating below 10 C, plus noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-04-01", periods=per_day * days, freq=f"{1440 // per_day}min")
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    days_in = np.arange(len(index)) / len(index) * days
    temp = (16 + 6 * np.sin(2 * np.pi * (hour - 9) / 24) + 4 * np.sin(2 * np.pi * days_in / 84)
            + _ar1(rng, len(index), 0.98, 0.4))  # fmt: skip
    occupied = 1 / (1 + np.exp(-2 * (hour - 7.5))) - 1 / (1 + np.exp(-2 * (hour - 19.5)))
    load = 50 + 30 * occupied * (1 + 0.1 * np.maximum(0, temp - 20)) + 2 * np.maximum(0, 10 - temp)
    return _frame(index, (load + rng.normal(0, 1.5, len(index))).round(3), temp=temp.round(2))


def office_15min() -> pd.DataFrame:
    """office_load every 15 minutes (season 96 steps), 52 days."""
    return office_load(per_day=96, days=52, seed=14)


def office_15min_off_grid() -> pd.DataFrame:
    """office_15min plus 3% extra readings at hh:07 (a second meter's clock)."""
    frame = office_15min()
    rng = np.random.default_rng(15)
    extra = frame.sample(frac=0.03, random_state=rng).copy()
    extra["time"] += pd.Timedelta(minutes=7)
    return pd.concat([frame, extra]).sort_values("time", kind="stable").reset_index(drop=True)


def noise_15min() -> pd.DataFrame:
    """White noise every 15 minutes: nothing to learn."""
    rng = np.random.default_rng(16)
    index = pd.date_range("2023-04-01", periods=96 * 52, freq="15min")
    return _frame(index, rng.normal(10, 1, len(index)).round(4))


def gas_weekly(seed: int = 17) -> pd.DataFrame:
    """Synthetic weekly gas demand, 50 years: heating degrees below 16 C of a yearly
    temperature cycle (season 52), a nonlinear response whose strength drifts (insulation,
    prices: an AR(1) in logs), plus noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("1975-01-05", periods=52 * 50, freq="W")
    t = np.arange(len(index))
    temp = 10 - 12 * np.cos(2 * np.pi * t / 52) + _ar1(rng, len(t), 0.6, 2.0)
    strength = 3 * np.exp(_ar1(rng, len(t), 0.97, 0.08))
    y = 20 + strength * np.maximum(0, 16 - temp) + rng.normal(0, 1, len(t))
    return _frame(index, y.round(3))


def demand_daily(seed: int = 23, trend: float = 0.0, gain: float = 1.0) -> pd.DataFrame:
    """Synthetic daily power demand, 8 years, with its temperature as an input: heating below
    15 C and cooling above 22 C (a U-shaped response to a yearly cycle), 30% lower at
    weekends (season 7), plus noise; `trend` units a day, in units of `gain`."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2016-01-01", periods=8 * 365, freq="D")
    day = index.day_of_year.to_numpy()
    temp = 14 - 11 * np.cos(2 * np.pi * (day - 15) / 365.25) + _ar1(rng, len(day), 0.7, 1.0)
    load = 100 + 4 * np.maximum(0, 15 - temp) + 6 * np.maximum(0, temp - 22)
    y = load * np.where(index.day_of_week >= 5, 0.7, 1.0) + rng.normal(0, 1, len(day))
    y = gain * (y + trend * np.arange(len(day)))
    return _frame(index, y.round(3), temp=temp.round(2))


def sales_monthly(trend: float = 0.0, seed: int = 18) -> pd.DataFrame:
    """Synthetic monthly sales, 1300 months: a yearly season (12) with a December peak, AR(1)
    noise, and `trend` units a month."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("1915-01-01", periods=1300, freq="MS")
    month = index.month.to_numpy()
    season = 15 * np.sin(2 * np.pi * month / 12) + 25 * (month == 12)
    y = 100 + season + _ar1(rng, len(index), 0.7, 4.0) + trend * np.arange(len(index))
    return _frame(index, y.round(3))


def walk_business() -> pd.DataFrame:
    """A synthetic random walk on business days (3000 steps): persistence is optimal."""
    rng = np.random.default_rng(19)
    index = pd.bdate_range("2010-01-04", periods=3000)
    return _frame(index, (100 + np.cumsum(rng.normal(0, 1, len(index)))).round(4))


def ar2_daily() -> pd.DataFrame:
    """A synthetic linear AR(2) process, daily (3000 days): a linear model is optimal."""
    rng = np.random.default_rng(20)
    e = rng.normal(0, 1, 3200)
    x = np.zeros(3200)
    for t in range(2, 3200):
        x[t] = 1.5 * x[t - 1] - 0.75 * x[t - 2] + e[t]
    index = pd.date_range("2015-01-01", periods=3000, freq="D")
    return _frame(index, (50 + x[200:]).round(4))


# ------------------------------------------------------------ classification sequences (.ts)


def _write_ts(path: Path, sequences: list[np.ndarray], labels: list[str]) -> None:
    classes = sorted(set(labels))
    lines = [
        f"@problemName {path.stem}",
        "@timeStamps false",
        "@missing false",
        f"@univariate {'true' if sequences[0].ndim == 1 else 'false'}",
        "@equalLength true",
        f"@seriesLength {len(sequences[0])}",
        f"@classLabel true {' '.join(classes)}",
        "@data",
    ]
    for seq, label in zip(sequences, labels, strict=True):
        channels = seq[:, None] if seq.ndim == 1 else seq
        text = ":".join(",".join(f"{v:.6g}" for v in ch) for ch in channels.T)
        lines.append(f"{text}:{label}")
    path.write_text("\n".join(lines) + "\n")


def day_profiles() -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Electricity's 1096 days as 24-hour profiles."""
    y = electricity()
    days = y.index.normalize().unique()
    return y.to_numpy().reshape(len(days), 24), days


def days_imbalanced(path: Path) -> None:
    """Day profiles labelled weekday/weekend, only every third weekend kept (~7.5:1)."""
    profiles, days = day_profiles()
    weekend = days.day_of_week >= 5
    keep = ~weekend | (np.cumsum(weekend) % 3 == 0)
    labels = np.where(weekend, "weekend", "weekday")[keep]
    _write_ts(path, list(profiles[keep]), list(labels))


def days_random_labels(path: Path) -> None:
    """Day profiles with labels drawn at random (seed 21), half of each month's Mondays,
    half its Tuesdays, ... each: no signal to learn, not even by chance through the
    calendar or the level."""
    profiles, days = day_profiles()
    rng = np.random.default_rng(21)
    groups = days.strftime("%Y-%m").to_numpy() + days.day_of_week.astype(str).to_numpy()
    labels = np.empty(len(days), dtype=object)
    for group in np.unique(groups):
        members = rng.permutation(np.flatnonzero(groups == group))
        labels[members] = np.where(np.arange(len(members)) < len(members) // 2, "a", "b")
    _write_ts(path, list(profiles), list(labels))


def months_of_days(path: Path) -> None:
    """Electricity's daily means cut into 28-day sequences, labelled winter (Oct-Mar) or
    summer by their middle day: 39 sequences in all."""
    daily = electricity().resample("D").mean()
    n = len(daily) // 28
    sequences = [daily.to_numpy()[i * 28 : (i + 1) * 28] for i in range(n)]
    middle = [daily.index[i * 28 + 14].month for i in range(n)]
    labels = ["winter" if m in (10, 11, 12, 1, 2, 3) else "summer" for m in middle]
    _write_ts(path, sequences, labels)


def italy_imbalanced(path: Path) -> None:
    """ItalyPowerDemand's (larger) test archive with four in five summer days dropped
    (~5:1)."""
    from lstm_doctor.stages.readers import read_ts

    cases = read_ts(RAW / "italy_power" / "ItalyPowerDemand_TEST.ts", "path")
    keep = [i for i, lab in enumerate(cases.labels) if lab == "1" or i % 5 == 0]
    _write_ts(path, [cases.sequences[i][:, 0] for i in keep], [cases.labels[i] for i in keep])


def profiles_15min(path: Path, seed: int = 22, rare: float = 1.0) -> None:
    """Synthetic 15-minute day profiles (96 steps) of three kinds of site (office: a day
    plateau; home: morning and evening peaks; night shift: a night plateau), random level
    and heavy noise, 200 each; `rare` < 1 keeps only that share of the night-shift sites."""
    rng = np.random.default_rng(seed)
    hour = np.arange(96) / 4
    shapes = {
        "office": 1 / (1 + np.exp(-(hour - 8))) - 1 / (1 + np.exp(-(hour - 18))),
        "home": np.exp(-(((hour - 7.5) / 1.5) ** 2)) + 1.3 * np.exp(-(((hour - 19.5) / 2) ** 2)),
        "night": 1 - (1 / (1 + np.exp(-(hour - 6))) - 1 / (1 + np.exp(-(hour - 21)))),
    }
    sequences, labels = [], []
    for i in range(600):
        label = list(shapes)[i % 3]
        shift = int(rng.integers(-8, 9))  # +-2 hours
        level = rng.uniform(5, 20)
        seq = level * (0.3 + np.roll(shapes[label], shift)) + rng.normal(0, 0.5 * level, 96)
        if rare < 1 and label == "night" and rng.uniform() > rare:
            continue
        sequences.append(seq)
        labels.append(label)
    _write_ts(path, sequences, labels)


# File name -> (writer, the pandas frequency it is sampled at). Tables are written as CSV
# with a `time` column and the target `y`.
TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "elec_daily.csv": (elec_daily, "D"),
    "elec_weekly.csv": (elec_weekly, "W"),
    "elec_counts.csv": (elec_counts, "h"),
    "elec_zero_nights.csv": (elec_zero_nights, "h"),
    "office_hourly.csv": (office_load, "h"),
    "office_15min.csv": (office_15min, "15min"),
    "office_15min_off_grid.csv": (office_15min_off_grid, "15min"),
    "noise_15min.csv": (noise_15min, "15min"),
    "demand_daily.csv": (demand_daily, "D"),
    "demand_daily_gaps.csv": (demand_daily_gaps, "D"),
    "demand_daily_spikes.csv": (demand_daily_spikes, "D"),
    "ar2_daily.csv": (ar2_daily, "D"),
    "walk_business.csv": (walk_business, "B"),
    "gas_weekly.csv": (gas_weekly, "W"),
    "sales_monthly.csv": (sales_monthly, "MS"),
    "sales_monthly_trend.csv": (lambda: sales_monthly(trend=0.15), "MS"),
    # The fresh held-out set's files: the same generators at seeds never used in development.
    "office_hourly_b.csv": (lambda: office_load(seed=31), "h"),
    "office_hourly_b_gaps.csv": (lambda: with_gaps(office_load(seed=31), 32), "h"),
    "office_hourly_b_spikes.csv": (lambda: with_spikes(office_load(seed=31), 33), "h"),
    "office_15min_b.csv": (lambda: office_load(per_day=96, days=52, seed=34), "15min"),
    "demand_daily_b.csv": (lambda: demand_daily(seed=35), "D"),
    "demand_daily_b_counts.csv": (lambda: demand_daily(seed=35, gain=1000.0), "D"),
    "gas_weekly_b.csv": (lambda: gas_weekly(seed=37), "W"),
    "sales_monthly_b.csv": (lambda: sales_monthly(seed=38), "MS"),
}
SEQUENCES: dict[str, Callable[[Path], None]] = {
    "days_imbalanced.ts": days_imbalanced,
    "days_random_labels.ts": days_random_labels,
    "months_of_days.ts": months_of_days,
    "italy_imbalanced.ts": italy_imbalanced,
    "profiles_15min.ts": profiles_15min,
    "profiles_15min_b.ts": lambda path: profiles_15min(path, seed=42),
    "profiles_15min_b_rare.ts": lambda path: profiles_15min(path, seed=43, rare=0.1),
}


def write_all(force: bool = False) -> Path:
    """Write every file that is not there yet (all with `force`); returns the folder."""
    folder = ROOT / DATA
    folder.mkdir(parents=True, exist_ok=True)
    writers = {name: make for name, (make, _) in TABLES.items()} | SEQUENCES
    for name, make in writers.items():
        target = folder / name
        if target.exists() and not force:
            continue
        partial = target.with_name(f".{name}.{os.getpid()}")
        if name.endswith(".csv"):
            make().to_csv(partial, index=False)  # type: ignore[call-arg]
        else:
            make(partial)  # type: ignore[call-arg]
        partial.replace(target)
    return folder


def describe(folder: Path) -> list[str]:
    """One line per file measuring what it is meant to carry: rows, missing share, robust
    zeros, outliers (|z| > 6 from median / MAD), rows off the stated grid, the target's spread
    against the smallest input's, autocorrelation at the seasons; class counts of archives."""
    from lstm_doctor.base.metrics import autocorrelation, robust_center_scale

    lines = []
    for name, (_, freq) in TABLES.items():
        frame = pd.read_csv(folder / name, parse_dates=["time"])
        y = frame["y"].to_numpy(dtype=float)
        median, mad = robust_center_scale(y)
        spikes = int((np.abs(y - median) / mad > 6).sum()) if mad else 0
        stamps = pd.DatetimeIndex(frame["time"])
        off_grid = float((~stamps.isin(pd.date_range(stamps[0], stamps[-1], freq=freq))).mean())
        inputs = [c for c in frame if c not in ("time", "y")]
        ratio = np.nanstd(y) / min((frame[c].std() for c in inputs), default=np.nanstd(y))
        acf = {lag: round(autocorrelation(y, lag), 2) for lag in (7, 12, 24, 52, 96)}
        lines.append(f"{name:<26} {freq:<5} rows {len(frame):>5}  missing {np.isnan(y).mean():.3f}  "
                     f"zeros {(y == 0).mean():.2f}  |z|>6 {spikes:>3}  off-grid {off_grid:.3f}  "
                     f"spread ratio {ratio:>7.2g}  acf {acf}")  # fmt: skip
    for name in SEQUENCES:
        cases = (folder / name).read_text().split("@data\n")[1].splitlines()
        counts = pd.Series([line.rsplit(":", 1)[1] for line in cases]).value_counts()
        lines.append(f"{name:<26} cases {len(cases):>5}  steps {cases[0].count(',') + 1:>3}  "
                     f"classes {counts.to_dict()}")  # fmt: skip
    return lines


if (
    __name__ == "__main__"
):  # python studies/doctor_benchmark/scenario_data.py: rewrite and describe the files
    print("\n".join(describe(write_all(force=True))))
