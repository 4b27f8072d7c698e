"""`lstm-doctor compare <sweep | experiment>`: which configuration learned better, beyond noise.

Reads runs from MLflow (through tracking); writes <out>/report.html (self-contained: inline
CSS, the plot embedded), <out>/curves.png and <out>/summary.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lstm_doctor.base import curve_measures
from lstm_doctor.base.errors import DataError
from lstm_doctor.comparison import significance
from lstm_doctor.comparison.run_groups import (
    RunRecord,
    choose_baseline,
    configuration_of,
    group_by_configuration,
    one_dataset,
    one_per_seed,
)
from lstm_doctor.comparison.significance import judge

__all__ = ["RunRecord", "configuration_of", "group_by_configuration", "judge"]

ALPHA = significance.ALPHA
METHOD = (
    "Each configuration's runs differ only in seed (one run per seed). Its metric is "
    "summarised as mean ± standard deviation over seeds and compared with the baseline "
    "configuration's by Welch's t-test (unequal variances, two-sided); the p-values of all "
    "configurations are adjusted together by Holm's method. A difference is called beyond "
    f"seed noise when the adjusted p < {ALPHA}; with fewer than 2 finished seeds on either "
    "side, or no spread over seeds on both, no call is made."
)
CURVE_METHOD = (
    "The learning curves' measures (lower is better for each; the gaps by their size) are "
    "summarised and judged the same way, over the same finished seeds, each as the run "
    "logged it (or computed from its curves by the same definitions where it logged none); "
    "every measure of every configuration is one Holm family."
)


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds (NaN and 0 without values; 0 for one)."""
    mean = float(np.mean(values)) if values else math.nan
    return mean, float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def spread(values: list[float]) -> str:
    """`mean ± sd` over seeds, as the console and the report print it; — without values."""
    mean, sd = mean_sd(values)
    return f"{mean:.4g} ± {sd:.2g}" if values else "—"


class _OverSeeds:
    """Mean and standard deviation of `values` (one per finished seed)."""

    values: list[float]

    @property
    def mean(self) -> float:
        return mean_sd(self.values)[0]

    @property
    def std(self) -> float:
        return mean_sd(self.values)[1]


@dataclass
class MeasureSummary(_OverSeeds):
    """One curve measure of a configuration over its finished seeds, judged like the test
    metric against the baseline configuration's."""

    values: list[float]
    verdict: str = ""
    p_value: float | None = None
    difference: float | None = None
    p_raw: float | None = None


@dataclass
class ConfigSummary(_OverSeeds):
    """One configuration (its overrides, seed aside) over its seeds."""

    name: str
    runs: int
    failed: int
    metric: str
    values: list[float]
    best_val_loss: list[float]
    skills: dict[str, list[float]] = field(default_factory=dict)
    verdict: str = ""
    p_value: float | None = None
    difference: float | None = None
    curve: dict[str, MeasureSummary] = field(default_factory=dict)
    p_raw: float | None = None
    unscored: int = 0


def curve_of(run: RunRecord) -> dict[str, float]:
    """A run's curve measures as it logged them; where it logged none (a run from before they
    were), computed from its curves by the same definitions."""
    logged = {name: run.metrics[name] for name in curve_measures.NAMES if name in run.metrics}
    if len(logged) == len(curve_measures.NAMES):
        return logged
    return curve_measures.measure(run.curves) | logged


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of a logged metric is better: scores (accuracy, balanced
    accuracy, F1, skill) are; errors (MAE, RMSE, MASE, sMAPE, losses) are not."""
    return any(word in metric for word in ("accuracy", "f1", "skill"))


def primary_metric(runs: list[RunRecord], metric: str | None = None) -> tuple[str, bool]:
    """The metric to compare on (`metric` when given, else the test accuracy of classifiers
    and the test MAE of forecasts, on the targets common to every run where each run was
    scored on them) and whether higher is better."""
    if metric is None:
        classify = any("test_accuracy" in r.metrics for r in runs)
        metric = "test_accuracy" if classify else "test_mae"
        common = metric.replace("test_", "test_common_")
        if runs and all(common in r.metrics for r in runs):
            metric = common
    return metric, higher_is_better(metric)


def summarise(
    runs: list[RunRecord], baseline: str | None = None, metric: str | None = None
) -> tuple[list[ConfigSummary], str]:
    """Group runs by configuration (one run per seed) and compare each with the baseline
    configuration on `metric` (default: `primary_metric`'s), Holm-adjusted over the
    configurations; the curve measures likewise, as one family.

    Returns:
        The summaries (baseline first) and the baseline's name.
    """
    if metric is not None and runs and not any(metric in r.metrics for r in runs):
        logged = sorted({k for r in runs for k in r.metrics if k.startswith(("test_", "val_"))})
        raise DataError(f"--metric '{metric}' was not logged by these runs; they have {logged}")
    one_dataset(runs)
    metric, higher_is_better = primary_metric(runs, metric)
    groups = {name: one_per_seed(m) for name, m in group_by_configuration(runs).items()}
    summaries = [_summary(name, members, metric) for name, members in groups.items()]
    baseline = choose_baseline(list(groups), baseline)
    base = next(s for s in summaries if s.name == baseline)
    base.verdict = "baseline"
    for m in base.curve.values():
        m.verdict = "baseline"
    others = [s for s in summaries if s is not base]
    _judge_family([(s, base.values, higher_is_better) for s in others], base)
    _judge_family(
        [(s.curve[n], base.curve[n].values, False) for s in others if s.values for n in s.curve],
        base,
    )
    for s in summaries:
        for m in s.curve.values():
            if s.values and not m.values:
                m.verdict = "not measurable: too few epochs"
    # Baseline first, then best first; configurations with no finished run last.
    summaries.sort(
        key=lambda s: (
            s is not base,
            math.isnan(s.mean),
            0.0 if math.isnan(s.mean) else (-s.mean if higher_is_better else s.mean),
        )
    )
    return summaries, baseline


def _summary(name: str, members: list[RunRecord], metric: str) -> ConfigSummary:
    finished = [r for r in members if r.status == "FINISHED"]
    done = [r for r in finished if np.isfinite(r.metrics.get(metric, np.nan))]
    summary = ConfigSummary(
        name=name,
        runs=len(members),
        failed=len(members) - len(finished),
        metric=metric,
        values=[r.metrics[metric] for r in done],
        best_val_loss=[min(r.curves["val_loss"]) for r in done if r.curves.get("val_loss")],
    )
    summary.unscored = len(finished) - len(done)
    for run in done:
        for key, value in run.metrics.items():
            if key.startswith("skill_vs_"):
                summary.skills.setdefault(key.removeprefix("skill_vs_"), []).append(value)
            elif key.startswith("test_common_skill_vs_"):
                # Where the fixed model stands on the targets every run shares: "better than
                # the original" must never hide "still loses to a lookup".
                name = f"{key.removeprefix('test_common_skill_vs_')} (same targets)"
                summary.skills.setdefault(name, []).append(value)
    measured = [curve_of(run) for run in done]
    summary.curve = {
        n: MeasureSummary(
            [abs(m[n]) if n in curve_measures.SIGNED else m[n] for m in measured
             if np.isfinite(m[n])]
        )
        for n in curve_measures.NAMES
    }  # fmt: skip
    return summary


def _judge_family(
    family: list[tuple[ConfigSummary | MeasureSummary, list[float], bool]], base: ConfigSummary
) -> None:
    """Judge each member against its baseline values, Holm-adjusted over the family."""
    raw = [significance.welch_p(own.values, theirs) for own, theirs, _ in family]
    for (own, theirs, higher), p_raw, p in zip(family, raw, significance.holm(raw), strict=True):
        own.p_raw, own.p_value = p_raw, p
        if not own.values and isinstance(own, MeasureSummary):
            own.verdict, own.difference = "", None  # said later: not measurable
            continue
        own.verdict, _, own.difference = verdict_against(
            own.values, theirs, bool(own.values), bool(theirs), higher, p
        )


def verdict_against(
    values: list[float],
    baseline: list[float],
    finished: bool,
    baseline_finished: bool,
    higher_is_better: bool,
    p: float | str | None = "welch",
) -> tuple[str, float | None, float | None]:
    """The call on one measure of a configuration against the baseline's: a configuration
    (or a baseline) with no finished seed is said so; otherwise `p` decides (Welch's own
    p by default; a family passes its Holm-adjusted one)."""
    if not finished:
        return "failed in every seed", None, None
    if not baseline_finished:
        return "better: finishes where the baseline failed in every seed", None, None
    difference = float(np.mean(values) - np.mean(baseline)) if values and baseline else None
    if p == "welch":
        p = significance.welch_p(values, baseline)
    reason = significance.no_p_reason(values, baseline)
    return significance.call(p, difference, higher_is_better, reason), p, difference  # type: ignore[arg-type]


def format_table(summaries: list[ConfigSummary]) -> str:
    """The comparison as console lines."""
    lines = []
    for s in summaries:
        metric = f"{s.metric} {spread(s.values)} (n={len(s.values)}, failed {s.failed})"
        lines.append(f"{s.name:<45} {metric}  {s.verdict}{_p(s.p_value)}")
        for name, m in s.curve.items() if s.values else ():
            lines.append(f"    {name:<41} {spread(m.values)}  {m.verdict}{_p(m.p_value)}")
    return "\n".join(lines)


def _p(p_value: float | None) -> str:
    return "" if p_value is None else f"  p={p_value:.3g}"
