"""`lstm-doctor compare <sweep | experiment>`: which configuration learned better, beyond noise.

Reads runs from MLflow (through tracking); writes <out>/report.html (self-contained: inline
CSS, the plot embedded), <out>/curves.png and <out>/summary.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from lstm_doctor import curve_measures
from lstm_doctor.errors import DataError

ALPHA = 0.05
METHOD = (
    "Each configuration's runs differ only in seed. Its test metric is summarised as mean ± "
    "standard deviation over seeds and compared with the baseline configuration's by Welch's "
    f"t-test (unequal variances, two-sided). A difference is called beyond seed noise when "
    f"p < {ALPHA}; with fewer than 2 finished seeds on either side no call is made."
)
CURVE_METHOD = (
    "The learning curves' measures (lower is better for each) are summarised and judged the "
    "same way, over the same finished seeds, each as the run logged it (or computed from its "
    "curves by the same definitions where it logged none)."
)


@dataclass
class RunRecord:
    """What a comparison needs from one MLflow run, as plain data."""

    run_id: str
    name: str
    status: str
    overrides: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    curves: dict[str, list[float]] = field(default_factory=dict)


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


def configuration_of(overrides: str) -> str:
    """A run's configuration: its overrides without the seed."""
    kept = [o for o in overrides.split() if not o.startswith("seed=")]
    return " ".join(kept) or "defaults"


def configuration_key(run: RunRecord) -> tuple[tuple[str, str], ...]:
    """What makes runs one configuration: every param they ran with but the seed and where
    they were logged (a label can hide what a sweep held fixed, or be absent under DVC)."""
    kept = {
        k: v
        for k, v in run.params.items()
        if k != "seed" and not k.startswith("tracking.") and k != "overrides"
    }
    return tuple(sorted(kept.items())) or (("label", configuration_of(run.overrides)),)


def group_by_configuration(runs: list[RunRecord]) -> dict[str, list[RunRecord]]:
    """Runs grouped by configuration, each named by its overrides; where two configurations
    share a name, the params that tell them apart are added to it."""
    by_key: dict[tuple[tuple[str, str], ...], list[RunRecord]] = {}
    for run in runs:
        by_key.setdefault(configuration_key(run), []).append(run)
    labels = {key: configuration_of(members[0].overrides) for key, members in by_key.items()}
    groups: dict[str, list[RunRecord]] = {}
    for key, members in by_key.items():
        label = labels[key]
        twins = [k for k, name in labels.items() if name == label and k != key]
        if twins:
            own, other = dict(key), dict(twins[0])
            apart = [f"{k}={v}" for k, v in sorted(own.items()) if other.get(k) != v]
            label = f"{label} [{' '.join(apart)}]" if apart else label
        groups.setdefault(label, []).extend(members)
    return groups


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
    and the test MAE of forecasts) and whether higher is better."""
    if metric is None:
        metric = "test_accuracy" if any("test_accuracy" in r.metrics for r in runs) else "test_mae"
    return metric, higher_is_better(metric)


def summarise(
    runs: list[RunRecord], baseline: str | None = None, metric: str | None = None
) -> tuple[list[ConfigSummary], str]:
    """Group runs by configuration and compare each with the baseline configuration on
    `metric` (default: `primary_metric`'s).

    Returns:
        The summaries (baseline first) and the baseline's name.
    """
    if metric is not None and runs and not any(metric in r.metrics for r in runs):
        logged = sorted({k for r in runs for k in r.metrics if k.startswith("test_")})
        raise DataError(f"--metric '{metric}' was not logged by these runs; they have {logged}")
    metric, higher_is_better = primary_metric(runs, metric)
    groups = group_by_configuration(runs)
    summaries = []
    for name, members in groups.items():
        done = [
            r
            for r in members
            if r.status == "FINISHED" and np.isfinite(r.metrics.get(metric, np.nan))
        ]
        summary = ConfigSummary(
            name=name,
            runs=len(members),
            failed=len(members) - len(done),
            metric=metric,
            values=[r.metrics[metric] for r in done],
            best_val_loss=[min(r.curves["val_loss"]) for r in done if r.curves.get("val_loss")],
        )
        for run in done:
            for key, value in run.metrics.items():
                if key.startswith("skill_vs_"):
                    summary.skills.setdefault(key.removeprefix("skill_vs_"), []).append(value)
        measured = [curve_of(run) for run in done]
        summary.curve = {
            name: MeasureSummary([m[name] for m in measured if np.isfinite(m[name])])
            for name in curve_measures.NAMES
        }
        summaries.append(summary)
    if baseline is None:
        # The configuration with the fewest overrides is what the others change.
        baseline = min(groups, key=lambda n: (0 if n == "defaults" else len(n.split()), n))
    if baseline not in groups:
        raise DataError(
            f"--baseline '{baseline}' is not among the configurations: {sorted(groups)}"
        )
    base = next(s for s in summaries if s.name == baseline)
    for summary in summaries:
        # The test metric, then each curve measure, by one rule: lower is better for a curve.
        judged: list[tuple[ConfigSummary | MeasureSummary, list[float], bool]] = [
            (summary, base.values, higher_is_better)
        ] + [(m, base.curve[name].values, False) for name, m in summary.curve.items()]
        for own, theirs, higher in judged:
            if summary is base:
                own.verdict = "baseline"
                continue
            own.verdict, own.p_value, own.difference = verdict_against(
                own.values, theirs, bool(summary.values), bool(base.values), higher
            )
    # Baseline first, then best first; configurations with no finished run last.
    summaries.sort(
        key=lambda s: (
            s is not base,
            math.isnan(s.mean),
            0.0 if math.isnan(s.mean) else (-s.mean if higher_is_better else s.mean),
        )
    )
    return summaries, baseline


def verdict_against(
    values: list[float],
    baseline: list[float],
    finished: bool,
    baseline_finished: bool,
    higher_is_better: bool,
) -> tuple[str, float | None, float | None]:
    """The call on one measure of a configuration against the baseline's: a configuration
    (or a baseline) with no finished seed is said so; otherwise Welch's test decides."""
    if not finished:
        return "failed in every seed", None, None
    if not baseline_finished:
        return "better: finishes where the baseline failed in every seed", None, None
    return judge(values, baseline, higher_is_better)


def judge(
    values: list[float], baseline: list[float], higher_is_better: bool
) -> tuple[str, float | None, float | None]:
    """Welch's t-test of a configuration against the baseline: better / worse / no clear change."""
    if len(values) < 2 or len(baseline) < 2:
        return (
            "too few seeds to tell",
            None,
            (np.mean(values) - np.mean(baseline)) if values and baseline else None,
        )
    difference = float(np.mean(values) - np.mean(baseline))
    if np.std(values) == 0 and np.std(baseline) == 0:
        p = 0.0 if difference != 0 else 1.0
    else:
        p = float(stats.ttest_ind(values, baseline, equal_var=False).pvalue)
    if p >= ALPHA:
        return "no clear change", p, difference
    improved = difference > 0 if higher_is_better else difference < 0
    return ("better beyond seed noise" if improved else "worse beyond seed noise"), p, difference


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
