"""Error measures and the naive baselines a model must beat, on the same test windows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score


def forecast_errors(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and sMAPE (percent) over every window and horizon step whose truth was
    observed: a NaN truth (a target prepare made up) is not scored. A NaN forecast is."""
    observed = ~np.isnan(actual)
    actual, predicted = actual[observed], np.broadcast_to(predicted, observed.shape)[observed]
    diff = predicted - actual
    denom = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(diff), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0
    )
    return {
        "mae": float(np.mean(np.abs(diff))),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "smape": float(100 * np.mean(ratio)),
    }


def persistence_forecast(
    series: np.ndarray, starts: np.ndarray, length: int, horizon: int
) -> np.ndarray:
    """Every step ahead equals the last observed value."""
    last = series[starts + length - 1]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive_forecast(
    series: np.ndarray, starts: np.ndarray, length: int, horizon: int, period: int
) -> np.ndarray | None:
    """Each step ahead equals the value one (or more) seasons before it, from observed data.

    Step h (0-based) of a window starting at s targets time t = s + length + h and takes
    t - period * ceil((h + 1) / period), the latest same-phase time that was observed.
    Returns None where the history needed reaches before the series begins.
    """
    steps = np.arange(horizon)
    lags = period * np.ceil((steps + 1) / period).astype(np.int64)
    index = starts[:, None] + length + steps[None, :] - lags[None, :]
    if index.min() < 0:
        return None
    return series[index]


def skill(model_error: float, baseline_error: float) -> float:
    """1 - model error / baseline error: > 0 beats the baseline, 1 is perfect."""
    if baseline_error == 0 or math.isnan(baseline_error):
        return float("nan")
    return 1.0 - model_error / baseline_error


def classification_scores(
    actual: np.ndarray, predicted: np.ndarray, classes: list[str]
) -> dict[str, object]:
    """Accuracy, balanced accuracy, per-class F1 and the confusion matrix."""
    labels = list(range(len(classes)))
    f1 = f1_score(actual, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(np.mean(actual == predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(actual, predicted)),
        "f1": {name: float(v) for name, v in zip(classes, f1, strict=True)},
        "confusion_matrix": confusion_matrix(actual, predicted, labels=labels).tolist(),
    }


def majority_class(train_labels: np.ndarray) -> int:
    """The most frequent training label (ties go to the lowest class index)."""
    return int(np.bincount(train_labels).argmax())


def robust_center_scale(values: np.ndarray) -> tuple[float, float]:
    """The median and the robust standard deviation (1.4826 x the median absolute deviation,
    which equals the standard deviation for normal data) of the finite values; (nan, 0.0)
    when there are none."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return float("nan"), 0.0
    median = float(np.median(finite))
    return median, float(np.median(np.abs(finite - median)) * 1.4826)


def batches(n_examples: int, batch_size: int, cap: int | None = None) -> int:
    """Batches an epoch makes of `n_examples` (the last one partial), at most `cap`."""
    n = max(1, -(-n_examples // batch_size))
    return min(n, cap) if cap else n


def autocorrelation(values: np.ndarray, lag: int) -> float:
    """The series' autocorrelation at `lag` (finite values; 0 when it cannot be told)."""
    y = np.asarray(values, dtype=np.float64)
    y = y[np.isfinite(y)]
    if lag <= 0 or lag >= len(y):
        return 0.0
    y = y - y.mean()
    denom = float(np.dot(y, y))
    return float(np.dot(y[:-lag], y[lag:]) / denom) if denom else 0.0


# A season must show this much autocorrelation on the training span to be a baseline's.
SEASON_ACF = 0.3
# Calendar spans a season may take, and how many steps of a calendar frequency make one.
SPANS = ("1D", "7D", "365D")
CALENDAR_SEASONS = {"B": (5,), "W": (52,), "MS": (12,), "ME": (12,), "M": (12,), "QS": (4,)}


def season_lengths(freq: str, spans: tuple[str, ...] = SPANS) -> list[int]:
    """The seasons (day, week, year) a frequency counts in a whole number of steps,
    shortest first, multiples included: 'h' -> [24, 168, 8760], '7min' -> [1440] (a week;
    a day is 205.7 steps), '2W' -> [26], '2MS' -> [6], '25min' -> []."""
    import pandas as pd

    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset)
    except ValueError:  # calendar offsets (business day, month) have no fixed length
        step = None
    if step is not None and step > pd.Timedelta(0):
        found = [pd.Timedelta(span) / step for span in spans]
        return [int(s) for s in found if s > 1 and float(s).is_integer()]
    n = max(abs(offset.n), 1)
    base = CALENDAR_SEASONS.get(offset.name.split("-")[0], ())
    return [s // n for s in base if s % n == 0 and s // n > 1]


# Calendar spans a season may be: within this share of one, a season of that many steps is
# that span (52 weeks are a year, 5 business days a week).
SPAN_TOLERANCE = 0.02
SPAN_DAYS = {"1D": 1.0, "7D": 7.0, "365D": 365.25}
CALENDAR_SPAN_OF = {"B": ("7D", 5), "W": ("365D", 52), "MS": ("365D", 12), "ME": ("365D", 12),
                    "M": ("365D", 12), "QS": ("365D", 4), "QE": ("365D", 4)}  # fmt: skip


def season_span(lag: int, freq: str | None) -> str | None:
    """The calendar span ('1D', '7D' or '365D') that `lag` steps at `freq` last, within
    SPAN_TOLERANCE, or None: 24 hourly steps are '1D', 52 weekly ones '365D', 12 monthly
    ones '365D', 5 business days '7D', 10 hourly steps none."""
    import pandas as pd

    if not freq or lag < 2:
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        days = pd.Timedelta(offset) * lag / pd.Timedelta("1D")
    except ValueError:  # business days, months: counted in the calendar's own units
        span, per = CALENDAR_SPAN_OF.get(offset.name.split("-")[0], (None, 0))
        return span if per and lag * max(abs(offset.n), 1) == per else None
    for span, length in SPAN_DAYS.items():
        if abs(days / length - 1) <= SPAN_TOLERANCE:
            return span
    return None


# Each calendar pair (stages/calendar.py: `<name>_sin`, `<name>_cos`) and the span whose
# phase it tells the model.
CALENDAR_PAIRS = {"hour": "1D", "dow": "7D", "doy": "365D", "woy": "365D", "month": "365D"}
CALENDAR_COLUMNS = frozenset(f"{name}_{f}" for name in CALENDAR_PAIRS for f in ("sin", "cos"))


def calendar_spans(columns: Any) -> frozenset[str]:
    """The spans ('1D', '7D', '365D') whose phase a table's calendar columns give."""
    return frozenset(span for name, span in CALENDAR_PAIRS.items() if f"{name}_sin" in columns)


def seasons(train_target: np.ndarray, freq: str | None, period: int | None) -> list[int]:
    """The season lengths the data show, in steps: the configured period, plus each day,
    week or year (as the frequency counts them) the training span's autocorrelation bears
    out. Never hard-coded to one frequency; a season needs two cycles in the span."""
    candidates = {period} if period and period > 1 else set()
    if freq:
        candidates |= set(season_lengths(freq))
    n = int(np.isfinite(np.asarray(train_target, dtype=float)).sum())
    return sorted(
        m
        for m in candidates
        if 1 < m <= n // 2 and (m == period or autocorrelation(train_target, m) >= SEASON_ACF)
    )


def mase_lag(train_steps: int, season: int | None) -> int:
    """The lag of MASE's in-sample naive forecast: the season, or 1 (persistence) when
    there is none or the training span does not hold one full season after it."""
    return season if season and 1 < season < train_steps else 1


def mase_scale(train_target: np.ndarray, season: int | None) -> float:
    """MASE's denominator (as in the M4 competition): the in-sample MAE of the seasonal naive
    forecast (lag 1 without a season) over the training span."""
    y = np.asarray(train_target, dtype=np.float64)
    lag = mase_lag(len(y), season)
    diffs = np.abs(y[lag:] - y[:-lag])
    diffs = diffs[np.isfinite(diffs)]
    return float(diffs.mean()) if diffs.size else float("nan")


def mae_by_lead_time(actual: np.ndarray, predicted: np.ndarray) -> list[float]:
    """MAE at each step ahead (1..H), over every window whose truth was observed (NaN truths
    are not scored): error growing with the lead time."""
    errors = np.abs(predicted - actual)
    observed = ~np.isnan(actual)
    counts = observed.sum(axis=0)
    totals = np.where(observed, errors, 0.0).sum(axis=0)
    return [float(t / c) if c else float("nan") for t, c in zip(totals, counts, strict=True)]


def changes_predictability(train_target: np.ndarray, seasons: list[int]) -> dict[str, float]:
    """How much of the training span's step-to-step changes their own past forecasts, out
    of sample: a least-squares autoregression on the changes (lags 1..h, h = 10 or two of
    the longest season, at most a twentieth of the span) fitted on its first 70% and scored
    on the rest against forecasting no change (persistence). Returns the share of the
    changes' squared error it removes (`gain`) and the paired t statistic of that gain
    (`t`, a Diebold-Mariano test): near-zero t, and the changes are as unpredictable as a
    random walk's. Empty when the span is too short to tell."""
    y = np.asarray(train_target, dtype=np.float64)
    changes = np.diff(y[np.isfinite(y)])
    lags = min(max(10, 2 * max(seasons, default=0)), len(changes) // 20)
    if lags < 1 or not np.ptp(changes):
        return {}
    rows = np.lib.stride_tricks.sliding_window_view(changes, lags + 1)
    past, now = np.c_[np.ones(len(rows)), rows[:, :-1]], rows[:, -1]
    cut = int(0.7 * len(rows))
    coef, *_ = np.linalg.lstsq(past[:cut], now[:cut], rcond=None)
    none, fitted = now[cut:] ** 2, (now[cut:] - past[cut:] @ coef) ** 2
    diff = none - fitted
    spread = float(np.std(diff, ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else 0.0
    return {
        "gain": float(diff.mean() / none.mean()) if none.mean() else 0.0,
        "t": float(diff.mean() / spread) if spread else 0.0,
        "lags": float(lags),
    }


def window_mae(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Each window's MAE over its observed targets (NaN where it has none)."""
    errors = np.abs(forecast - actual)
    counts = np.sum(~np.isnan(errors), axis=1)
    sums = np.nansum(errors, axis=1)
    return np.divide(sums, counts, out=np.full(len(sums), np.nan), where=counts > 0)


def paired_gap(model_loss: np.ndarray, other_loss: np.ndarray, block: int = 1) -> dict[str, float]:
    """How much larger the model's loss is than another answer's on the same examples, and
    whether chance explains it: the mean paired difference (`gap`, > 0 the model is worse),
    its standard error from the means of consecutive blocks of `block` examples (examples
    closer than a block share targets or errors, so they are not independent), `t`, the
    gap in standard errors, and `p_worse`, the one-sided p of a gap this large by chance.
    Both answers are judged on one test set: their errors move together, so the paired
    difference is far more precise than two separate scores. Without two blocks, or with
    no spread around a non-zero gap, there is no `t` (nor `p_worse`)."""
    d = np.asarray(model_loss, dtype=np.float64) - np.asarray(other_loss, dtype=np.float64)
    d = d[np.isfinite(d)]
    block = max(int(block), 1)
    k = len(d) // block
    out = {"gap": float(d.mean()) if len(d) else float("nan"), "blocks": float(k),
           "block": float(block)}  # fmt: skip
    if k < 2:
        return out
    means = d[: k * block].reshape(k, block).mean(axis=1)
    se = float(np.std(means, ddof=1)) / math.sqrt(k)
    if se > 0:
        out |= {"standard_error": se, "t": out["gap"] / se}
    elif out["gap"] == 0:  # the same loss on every example: a tie, not a gap
        out |= {"standard_error": 0.0, "t": 0.0}
    if "t" in out:
        # One-sided: the question is whether the model is worse, not whether they differ.
        # The block means are k independent draws: Student's t with k - 1 degrees of freedom.
        out["p_worse"] = float(stats.t.sf(out["t"], k - 1))
    return out


def forecast_gap(
    actual: np.ndarray, model: np.ndarray, other: np.ndarray, starts: np.ndarray
) -> dict[str, float]:
    """`paired_gap` of two forecasts' per-window MAE on the windows starting at `starts`."""
    stride = int(np.min(np.diff(starts))) if len(starts) > 1 else 1
    block = forecast_block(len(starts), actual.shape[1], stride)
    return paired_gap(window_mae(actual, model), window_mae(actual, other), block)


def forecast_block(windows: int, horizon: int, stride: int = 1) -> int:
    """Consecutive forecast windows that a block of `paired_gap` holds: at least the windows
    whose targets overlap (horizon / stride), and the square root of their number, so errors
    that drift together over a stretch of the series fall in one block while the blocks
    still grow in number with the test span."""
    overlap = math.ceil(horizon / max(stride, 1))
    return max(overlap, math.ceil(math.sqrt(max(windows, 1))))
