"""`lstm-doctor compare <sweep | experiment>`: which configuration learned better, beyond noise.

Reads runs from MLflow (through tracking); writes <out>/report.html (self-contained: inline
CSS, the plot embedded), <out>/curves.png and <out>/summary.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

ALPHA = 0.05
METHOD = (
    "Each configuration's runs differ only in seed. Its test metric is summarised as mean ± "
    "standard deviation over seeds and compared with the baseline configuration's by Welch's "
    f"t-test (unequal variances, two-sided). A difference is called beyond seed noise when "
    f"p < {ALPHA}; with fewer than 2 finished seeds on either side no call is made."
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


@dataclass
class ConfigSummary:
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

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else math.nan

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0


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


def primary_metric(runs: list[RunRecord]) -> tuple[str, bool]:
    """The metric to compare on and whether higher is better."""
    if any("test_accuracy" in r.metrics for r in runs):
        return "test_accuracy", True
    return "test_mae", False


def summarise(
    runs: list[RunRecord], baseline: str | None = None
) -> tuple[list[ConfigSummary], str]:
    """Group runs by configuration and compare each with the baseline configuration.

    Returns:
        The summaries (baseline first) and the baseline's name.
    """
    metric, higher_is_better = primary_metric(runs)
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
        summaries.append(summary)
    if baseline is None:
        # The configuration with the fewest overrides is what the others change.
        baseline = min(groups, key=lambda n: (0 if n == "defaults" else len(n.split()), n))
    if baseline not in groups:
        from lstm_doctor.errors import DataError

        raise DataError(
            f"--baseline '{baseline}' is not among the configurations: {sorted(groups)}"
        )
    base = next(s for s in summaries if s.name == baseline)
    for summary in summaries:
        if summary is base:
            summary.verdict = "baseline"
            continue
        if not summary.values and summary.failed:
            summary.verdict = "failed in every seed"
            continue
        if summary.values and not base.values and base.failed:
            summary.verdict = "better: finishes where the baseline failed in every seed"
            continue
        summary.verdict, summary.p_value, summary.difference = judge(
            summary.values, base.values, higher_is_better
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
        spread = f"{s.metric} {s.mean:.4g} ± {s.std:.2g} (n={len(s.values)}, failed {s.failed})"
        p_value = "" if s.p_value is None else f"  p={s.p_value:.3g}"
        lines.append(f"{s.name:<45} {spread}  {s.verdict}{p_value}")
    return "\n".join(lines)
