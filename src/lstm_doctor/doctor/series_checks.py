"""The doctor's checks on the series' own values, training span first: spikes that drive
the loss, the season against the window, and val/test levels the model never saw.

Pure functions from arrays and frames to `Finding`s; thresholds relative to the series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.base.metrics import robust_center_scale, season_span, seasons
from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import option, setting, together
from lstm_doctor.doctor.data_checks import MIN_INDEPENDENT_WINDOWS
from lstm_doctor.doctor.findings import Finding

OUTLIER_Z = 6.0


def seasonal_residuals(values: np.ndarray, season: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Each value's deviation from the median of its position in the season, and the spread
    it is judged against: the robust spread (1.4826 MAD) at that position, never below the
    series' typical spread of deviations that are not exactly zero. Without a season (or
    fewer than two cycles), the deviation from the column's median and its robust spread.

    A zero-inflated or strongly seasonal series (solar power dark every night, quiet nights
    in traffic) has most of its daytime values far from the overall median: judged against
    its own profile, its days are the signal, not outliers.
    """
    y = np.asarray(values, dtype=np.float64)
    if not season or season < 2 or len(y) < 2 * season:
        median, mad = robust_center_scale(y)
        return y - median, np.full(len(y), mad)
    position = np.arange(len(y)) % season
    padded = np.full((-(-len(y) // season)) * season, np.nan)
    padded[: len(y)] = y
    cycles = padded.reshape(-1, season)
    with np.errstate(all="ignore"):
        profile = np.nanmedian(cycles, axis=0)
        resid = y - profile[position]
        spread = 1.4826 * np.nanmedian(np.abs(cycles - profile), axis=0)
    nonzero = np.abs(resid[np.isfinite(resid) & (resid != 0)])
    floor = 1.4826 * float(np.median(nonzero)) if nonzero.size else 0.0
    return resid, np.maximum(np.nan_to_num(spread)[position], floor)


def robust_outliers(
    values: np.ndarray, threshold: float = OUTLIER_Z, season: int | None = None
) -> tuple[int, float, float, np.ndarray]:
    """Spikes: values beyond `threshold` robust spreads from their seasonal profile that
    also lie outside the bulk of all the column's values (Tukey's far-out fences, 3 IQR
    beyond the quartiles), so a quiet holiday or a sunny hour is not one. Returns their
    count, the largest robust z, the share of the squared deviation from the profile they
    carry (what an MSE loss would chase), and their mask."""
    values = np.asarray(values, dtype=np.float64)
    resid, spread = seasonal_residuals(values, season)
    ok = np.isfinite(resid) & (spread > 0)
    flagged = np.zeros(len(values), dtype=bool)
    if not ok.any():
        return 0, 0.0, 0.0, flagged
    z = np.zeros(len(values))
    z[ok] = np.abs(resid[ok]) / spread[ok]
    q1, q3 = np.nanpercentile(values, [25, 75])
    outside = ((values < q1 - 3 * (q3 - q1)) | (values > q3 + 3 * (q3 - q1))) if q3 > q1 else ok
    flagged = (z > threshold) & outside
    squared = np.where(ok, resid, 0.0) ** 2
    share = float(squared[flagged].sum() / max(squared.sum(), 1e-300))
    return int(flagged.sum()), float(z[flagged].max(initial=0.0)), share, flagged


def clip_keeps_the_signal(values: np.ndarray, outliers: np.ndarray, threshold: float) -> bool:
    """Whether `prepare.outliers=clip` (bounds at the training median ± threshold robust
    spreads, with no season) would touch mostly the outliers found, not the signal: on a
    zero-inflated series its bounds sit around zero and would cut every daytime value."""
    median, mad = robust_center_scale(values)
    if not mad:
        return False  # clip leaves such a column alone: prescribing it would do nothing
    clipped = np.isfinite(values) & (np.abs(values - median) > threshold * mad)
    return bool(clipped.any()) and float((clipped & outliers).sum() / clipped.sum()) >= 0.5


# Spikes that carry this much of a column's squared deviation dominate an MSE loss on it.
DOMINANT_SHARE = 0.25


def check_outliers(
    table: pd.DataFrame,
    columns: list[str],
    cfg: Config,
    train: tuple[int, int] | None = None,
    season: int | None = None,
) -> list[Finding]:
    """Spikes far outside a column's own seasonal profile in the training span, left in.

    A warning when the target's spikes carry a dominant share of its squared deviation: the
    MSE gradients are then mostly about them. Spikes in inputs only, or a handful that
    carry little, are a note: the loss is not computed on them. Clipping is prescribed only
    where prepare's clip would cut the spikes and not the signal.
    """
    if cfg.prepare.outliers != "none":
        return []
    lo, hi = train or (0, len(table))
    found, shares, clip_ok = {}, {}, True
    worst = 0.0
    for column in columns:
        values = table[column].to_numpy(dtype=float)[lo:hi]
        count, z, share, mask = robust_outliers(values, season=season)
        if count >= max(3, 0.001 * (hi - lo)):
            found[column], shares[column] = count, share
            worst = max(worst, z)
            clip_ok &= clip_keeps_the_signal(values, mask, cfg.prepare.outlier_threshold)
    if not found:
        return []
    target = cfg.dataset.target
    dominant = target in found and shares[target] >= DOMINANT_SHARE
    where = (
        f"in the target '{target}' they carry {100 * shares[target]:.0f}% of its squared "
        "deviation: under MSE they dominate the gradients."
        if dominant
        else "they carry little of the target's loss (inputs only, or a small share), so "
        "they are a note: clip them if the model chases them."
    )
    fixes = [option("scaling", "robust"), setting("prepare.outliers", "drop")]
    if clip_ok:
        fixes.insert(0, setting("prepare.outliers", "clip"))
    return [
        Finding(
            "data.outliers",
            "warning" if dominant else "info",
            {
                "outliers_by_column": found,
                "share_of_squared_deviation": shares,
                "max_robust_z": worst,
                "threshold": OUTLIER_Z,
                "season": season,
                "span": "train",
            },
            f"{sum(found.values())} training values lie beyond {OUTLIER_Z:g} robust standard "
            f"deviations of their {'seasonal profile' if season else 'median'} (worst "
            f"{worst:.0f}); {where}",
            fixes,
        )
    ]


def dominant_season(
    target: np.ndarray, period: int | None, freq: str | None = None
) -> tuple[int | None, float]:
    """The season a window should cover: the data's own period when its autocorrelation
    shows it as a peak, else the strongest peak among the seasons the data's frequency and
    autocorrelation bear out (metrics.seasons), else the strongest autocorrelation peak of
    any lag up to a third of the span. Any frequency; three cycles at least."""
    y = np.asarray(target, dtype=np.float64)
    y = y[np.isfinite(y)]
    if len(y) < 6 or not np.std(y):
        return None, 0.0
    # Up to half the span: a calendar season needs two cycles (metrics.seasons), while a
    # peak found with no calendar to go by needs three.
    r = acf(y, len(y) // 2)
    own_peaks = len(y) // 3

    # A season is a peak: its autocorrelation must beat the half-season trough clearly.
    def is_peak(lag: int) -> bool:
        return 1 < lag < len(r) and r[lag] >= 0.3 and r[lag] > r[max(lag // 2, 1)] + 0.2

    # The data's own period is the season to check when it shows one. Longer cycles (a week
    # in hourly data) are a bonus a longer window may catch, not a defect of one that
    # covers the period.
    if period and is_peak(period):
        return period, float(r[period])
    candidates = [m for m in seasons(y, freq, period) if is_peak(m)]
    if not candidates:  # no calendar to go by: the autocorrelation's own peaks
        candidates = [m for m in range(2, own_peaks) if is_peak(m)]
    if not candidates:
        return None, 0.0

    # A true period peaks again at its multiples; a neighbour of it drifts off them.
    def score(m: int) -> float:
        return float(np.mean([r[k * m] for k in range(1, 4) if k * m < len(r)]))

    lag = max(candidates, key=lambda m: (score(m), -m))
    return lag, float(r[lag])


def acf(y: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation at lags 0..max_lag of the finite values, by FFT (a year of hourly data
    in milliseconds; the same estimate as metrics.autocorrelation at each lag)."""
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    y = y - y.mean()
    n = len(y)
    spectrum = np.fft.rfft(y, 2 ** int(np.ceil(np.log2(2 * n))))
    acov = np.fft.irfft(spectrum * np.conj(spectrum))[: max_lag + 1]
    return acov / acov[0]


def check_window(
    target: np.ndarray,
    period: int | None,
    cfg: Config,
    calendar: bool | frozenset[str],
    freq: str | None = None,
) -> list[Finding]:
    """A window shorter than the season cannot see the same phase of the last cycle, unless
    a calendar input tells the model where in the season it is.

    `target` is the training span; `calendar` the spans ('1D', '7D', '365D') the calendar
    columns give the phase of (True: the day and the week). A season whose window the data
    can afford (MIN_INDEPENDENT_WINDOWS of them in the training span) is prescribed as that
    window; a longer one as its calendar input, never as a window the data cannot fill.
    """
    if cfg.dataset.task != "forecast":
        return []
    lag, strength = dominant_season(target, period, freq)
    if lag is None or strength < 0.3 or cfg.window.length >= lag:
        return []
    spans = frozenset({"1D", "7D"}) if calendar is True else frozenset(calendar or ())
    span = season_span(lag, freq)
    told = span in spans
    affordable = lag * MIN_INDEPENDENT_WINDOWS <= len(target)
    evidence = {
        "window_length": cfg.window.length,
        "season": lag,
        "autocorrelation_at_season": strength,
        "calendar_span": span,
        "told_by_calendar": told,
        "longest_affordable_window": len(target) // MIN_INDEPENDENT_WINDOWS,
    }
    said = (
        f"The target repeats every {lag} steps (autocorrelation {strength:.2f}) but each "
        f"window sees only {cfg.window.length}"
    )
    if not affordable:
        if told:  # the calendar input carries the season's phase: nothing is unseen
            return []
        fixes = _calendar_fix(span, cfg)
        longest = len(target) // MIN_INDEPENDENT_WINDOWS
        if not fixes and longest > cfg.window.length:
            fixes = [setting("window.length", longest)]
        how = (
            "give the model the season's phase as a calendar input instead"
            if span
            else "no calendar input describes it"
        )
        said += (
            f", and a window of {lag} would leave fewer than {MIN_INDEPENDENT_WINDOWS} "
            f"independent training windows: {how}."
        )
        # With nothing to prescribe it is a note, not a defect the run could fix.
        severity = "warning" if fixes else "info"
        return [Finding("data.window_shorter_than_season", severity, evidence, said, fixes)]
    # Hour-of-day and day-of-week inputs tell the model where in a daily or weekly season
    # it is: a window half the season long then suffices.
    severity = "info" if told and cfg.window.length >= lag // 2 else "warning"
    said += ": the model cannot look one season back."
    fixes = [setting("window.length", lag)]
    if 2 * lag * MIN_INDEPENDENT_WINDOWS <= len(target):
        fixes.append(setting("window.length", 2 * lag))
    return [Finding("data.window_shorter_than_season", severity, evidence, said, fixes)]


def _calendar_fix(span: str | None, cfg: Config) -> list[str]:
    """The override that gives the model a season's phase: the calendar pair for `span`."""
    if span is None:
        return []
    turn_on = [] if cfg.prepare.calendar_features else [setting("prepare.calendar_features", True)]
    if span == "365D" and cfg.prepare.year_features != "always":
        return [together(*turn_on, setting("prepare.year_features", "always"))]
    return [together(*turn_on)] if turn_on else []


def check_shift(
    target_scaled: np.ndarray, bounds: dict[str, list[int]], cfg: Config
) -> list[Finding]:
    """Val/test levels far from the training span's (the series drifted)."""
    if cfg.dataset.task != "forecast":
        return []
    lo, hi = bounds["train"]
    train = target_scaled[lo:hi]
    std = float(np.nanstd(train)) or 1.0
    shifts = {}
    for name in ("val", "test"):
        a, b = bounds[name]
        shifts[name] = float((np.nanmean(target_scaled[a:b]) - np.nanmean(train)) / std)
    worst, robust = max(shifts, key=lambda k: abs(shifts[k])), option("scaling", "robust")
    if abs(shifts[worst]) < 1.0 or cfg.window.normalize != "none":
        return []
    return [
        Finding(
            "data.distribution_shift",
            "warning",
            {"mean_shift_in_train_std": shifts},
            f"The {worst} span's mean sits {shifts[worst]:+.2f} training standard deviations "
            "from the training mean: the model is asked about levels it never saw.",
            [*(setting("window.normalize", way) for way in ("last", "standard")), robust],
        )
    ]
