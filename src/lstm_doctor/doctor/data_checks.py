"""The doctor's checks on the data as prepared, before training: scales, gaps, rows off the
time grid, leakage, class balance and how many examples there are (the series' own values
are series_checks').

Pure functions from arrays and plain dicts to `Finding`s. Thresholds are relative (ratios,
shares), never tuned to one dataset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import option, setting, together
from lstm_doctor.doctor.findings import Finding

# ---------------------------------------------------------------- data, before training


def check_scales(values: np.ndarray, columns: list[str], cfg: Config) -> list[Finding]:
    """Features whose spreads differ by orders of magnitude, fed in unscaled."""
    if cfg.scaling.method != "none":
        return []
    flat = values.reshape(-1, values.shape[-1])
    spread = np.nanstd(flat, axis=0)
    size = np.nanmax(np.abs(flat), axis=0)
    spread = np.where(spread > 0, spread, np.nan)
    ratio = float(np.nanmax(spread) / np.nanmin(spread)) if np.isfinite(spread).any() else 1.0
    largest = float(np.nanmax(size)) if size.size else 0.0
    # tanh and sigmoid gates saturate beyond |x| ~ 3; spreads 100x apart starve small features.
    if ratio < 100 and largest < 10:
        return []
    top = int(np.nanargmax(size))
    return [
        Finding(
            "data.unscaled_features",
            "warning",
            {"largest_abs_value": largest, "largest_feature": columns[top], "spread_ratio": ratio},
            f"Inputs are not scaled: '{columns[top]}' reaches {largest:.3g} and feature spreads "
            f"differ {ratio:.3g}x. LSTM gates saturate on large inputs and gradients vanish.",
            [
                option("scaling", "standard"),
                option("scaling", "robust"),
                option("scaling", "minmax"),
            ],
        )
    ]


# A share of made-up target rows from which the doctor warns (prepare refuses above 0.5).
IMPUTED_WARNING_SHARE = 0.1


def check_missing(report: dict[str, Any], rows: int, cfg: Config) -> list[Finding]:
    """Gaps in the data: left as NaN they poison the loss; many imputed values blur it."""
    missing = report.get("missing", {})
    left = report.get("missing_after", 0)
    if not missing and not left:
        return []
    total = sum(missing.values())
    share = total / max(rows * max(len(missing), 1), 1)
    evidence = {"missing_by_column": missing, "left_missing": left, "method": cfg.prepare.missing}
    if left:
        return [
            Finding(
                "data.missing_values",
                "error",
                evidence | {"share": share},
                f"{left} values are still missing after prepare "
                f"({setting('prepare.missing', cfg.prepare.missing)}); one NaN in a batch makes "
                "the loss NaN.",
                # Dropping rows breaks a forecast's time steps: only sequences may drop.
                [setting("prepare.missing", "interpolate"), setting("prepare.missing", "ffill")]
                + ([setting("prepare.missing", "drop")] if cfg.dataset.task == "classify" else []),
            )
        ]
    made_up = float(report.get("imputed_target_share", 0.0))
    if made_up >= IMPUTED_WARNING_SHARE:
        # prepare refuses above half; between, the series is partly invented and the
        # model learns the filling method's shape as much as the data's.
        return [
            Finding(
                "data.missing_values",
                "warning",
                evidence | {"share": share, "imputed_target_share": made_up},
                f"{100 * made_up:.0f}% of the target's rows were made up by "
                f"{setting('prepare.missing', cfg.prepare.missing)} (gaps or rows inserted on "
                "the grid); the model learns "
                "the filling as much as the data. Check dataset.freq, or cut the file to the "
                "span that was measured.",
                [],
            )
        ]
    return [
        Finding(
            "data.missing_values",
            "info",
            evidence | {"share": share},
            f"{total} missing values were filled by "
            f"{setting('prepare.missing', cfg.prepare.missing)}.",
            [],
        )
    ]


# A larger share of rows off the grid means the frequency is wrong, not a stray row.
OFF_GRID_WARNING_SHARE = 0.01


def check_off_grid(report: dict[str, Any]) -> list[Finding]:
    """Rows whose timestamps fall between the steps of the series' frequency were dropped by
    regularising: the model never saw them. A share above 1% means the frequency is likely
    wrong or the file mixes clocks."""
    off = int(report.get("rows_off_grid", 0) or 0)
    if not off:
        return []
    # The rows regularising saw (after any dataset.max_rows cut): those kept on the grid
    # (rows out, less the ones inserted to fill gaps) and those dropped off it.
    on_grid = int(report.get("rows_out", 0)) - int(report.get("rows_inserted", 0))
    share = off / max(on_grid + off, 1)
    return [
        Finding(
            "data.off_grid_rows",
            "warning" if share >= OFF_GRID_WARNING_SHARE else "info",
            {
                "rows_off_grid": off,
                "share": share,
                "example": report.get("off_grid_example"),
                "freq": report.get("freq"),
            },
            f"{off} rows ({100 * share:.2g}%) have timestamps off the {report.get('freq')} grid "
            f"(e.g. {report.get('off_grid_example')}) and were left out. Check dataset.freq, "
            "or resample the file onto one grid before training.",
            [],
        )
    ]


# Robust standard deviations (median / MAD) beyond which a value is an outlier.
def check_leakage(bounds: dict[str, list[int]], cfg: Config) -> list[Finding]:
    """Scaler statistics fitted on all the data carry the future into training."""
    if cfg.scaling.fit_on != "all":
        return []
    return [
        Finding(
            "data.scaling_leakage",
            "warning",
            {"fit_on": "all", "train_rows": bounds["train"][1] - bounds["train"][0]},
            "The scaler was fitted on train, val and test together: test statistics leak into "
            "training and the test score flatters the model.",
            [setting("scaling.fit_on", "train")],
        )
    ]


def check_classes(counts: list[int], classes: list[str]) -> list[Finding]:
    """One class much rarer than another."""
    arr = np.asarray(counts, dtype=float)
    if arr.size < 2 or arr.max() == 0:
        return []
    ratio = float(arr.max() / max(arr.min(), 1))
    if ratio < 3:
        return []
    return [
        Finding(
            "data.class_imbalance",
            "warning",
            {"class_counts": dict(zip(classes, counts, strict=True)), "max_min_ratio": ratio},
            f"Training classes are imbalanced ({ratio:.1f}x between the largest and smallest): "
            "a model can score well by predicting the common class.",
            [setting("training.class_weight", "balanced")],
        )
    ]


# Fewer independent examples than this cannot teach an LSTM anything that generalises.
MIN_INDEPENDENT_WINDOWS = 30


def check_window_count(
    counts: dict[str, int],
    train_steps: int | None,
    span: int | None,
    task: str,
    max_rows: int | None = None,
    window_length: int | None = None,
    period: int | None = None,
    rows_available: int | None = None,
) -> list[Finding]:
    """Too few independent training examples for the model to learn anything general.

    Overlapping windows share most of their steps, so a forecaster's count that matters is
    how many non-overlapping windows (length + horizon) fit in the training span. When the
    run's cap on the rows (`dataset.max_rows`) cut the file, the first fix is enough rows for
    twice the floor (not all the data: the proof reruns it over seeds, and more costs more),
    and never more than the file's `rows_available`: a cap above them keeps the same rows.
    """
    train = counts.get("train", 0)
    independent = train if task == "classify" or not span or not train_steps else train_steps / span
    floor = MIN_INDEPENDENT_WINDOWS
    if independent >= floor:
        return []
    fixes = [together(setting("split.val_fraction", 0.1), setting("split.test_fraction", 0.1))]
    # A shorter window fits more independent examples, but never below one season.
    shorter = max(period or 1, (window_length or 0) // 2)
    if task == "forecast" and window_length and shorter < window_length:
        fixes.append(setting("window.length", shorter))
    cut = max_rows and (rows_available is None or rows_available > max_rows)
    if cut and task == "forecast":
        rows = int(np.ceil(max_rows * 2 * floor / max(independent, 1) / 100) * 100)
        fixes.insert(0, setting("dataset.max_rows", min(rows, rows_available or rows)))
    return [
        Finding(
            "data.too_few_windows",
            "warning",
            {"train_windows": train, "independent_windows": independent, "floor": floor},
            f"The training span holds only {independent:.0f} independent examples (windows that "
            "do not overlap): too few to fit an LSTM that generalises.",
            fixes,
        )
    ]
