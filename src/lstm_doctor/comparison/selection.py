"""A proof that compares like with like: chosen on validation, confirmed on test.

`lstm-doctor fix` reruns the diagnosed configuration and each prescribed fix over seeds.
Here their runs are judged:
1. every run is scored on the targets all of them share (common_targets), so a fix that
   moves the test span, the window, the horizon or the rows cannot win by scoring easier
   targets;
2. the fixes are compared with the original on the *validation* targets, Welch's test
   Holm-adjusted over the fixes, and the best fix that is better beyond seed noise is chosen;
3. only that fix is then tested on the common *test* targets, once: the confirmation;
4. beside it, where the fixed model stands: its skill against the best baseline and the
   linear model on the same test targets.
Where no target is common to every run, no error metric can prove a fix; the runs are then
judged on their skill against the best baseline on their own spans, and the proof says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstm_doctor.comparison import judging, significance
from lstm_doctor.comparison.common_targets import CommonScores, score_on_common
from lstm_doctor.comparison.judging import ConfigSummary, RunRecord

# Findings about a rare class: a classifier's fixes are then judged on balanced accuracy,
# which plain accuracy would reward ignoring the class.
BALANCE = frozenset({"data.class_imbalance", "train.majority_class"})
OWN_SPAN = "skill_vs_best"


@dataclass
class Proof:
    """What chose the fix, what confirmed it, and how each was measured."""

    metric: str
    confirm_metric: str | None
    basis: str
    summaries: list[ConfigSummary]
    baseline: str
    chosen: str | None = None
    confirmation: tuple[str, float | None, float | None] | None = None
    confirm_values: dict[str, list[float]] = field(default_factory=dict)
    standing: dict[str, list[float]] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """The proof said in sentences, for the console and the report."""
        lines = [self.basis]
        if self.chosen is None:
            lines.append(f"no fix is better than `{self.baseline}` beyond seed noise on "
                         f"{self.metric} (Holm-adjusted over the fixes)")  # fmt: skip
            return lines
        where = "validation" if self.metric.startswith("val_") else "its own test span"
        lines.append(f"chosen on {where}: `{self.chosen}` (best {self.metric} among the "
                     "fixes better beyond seed noise, Holm-adjusted)")  # fmt: skip
        if self.confirmation is not None and self.confirm_metric:
            verdict, p, _ = self.confirmation
            mine = self.confirm_values.get(self.chosen, [])
            theirs = self.confirm_values.get(self.baseline, [])
            p_text = "" if p is None else f", p={p:.3g}"
            lines.append(
                f"confirmed on test ({self.confirm_metric}, one test): "
                f"{judging.spread(mine)} vs {judging.spread(theirs)}: {verdict}{p_text}"
            )
        for name, values in self.standing.items():
            lines.append(f"the fixed model's {name} on the same test targets: "
                         f"{judging.spread(values)} (> 0 beats it)")  # fmt: skip
        return lines


def measure_for(task: str, codes: list[str]) -> str:
    """What a proof measures: the MAE of forecasts; for classifiers, accuracy, or balanced
    accuracy when a fix is for a rare class."""
    if task == "classify":
        return "balanced_accuracy" if BALANCE & set(codes) else "accuracy"
    return "mae"


def add_common_scores(runs: list[RunRecord], tables: dict[str, Any]) -> CommonScores:
    """Score the finished runs that logged their targets on the targets all of them share;
    the scores join each run's metrics (val_common_mae, test_common_skill_vs_best, ...)."""
    finished = {r.run_id for r in runs if r.status == "FINISHED"}
    scores = score_on_common({k: v for k, v in tables.items() if k in finished})
    for run in runs:
        run.metrics.update(scores.by_run.get(run.run_id, {}))
    return scores


def prove(runs: list[RunRecord], tables: dict[str, Any], measure: str, baseline: str) -> Proof:
    """Judge the fixes' runs against the baseline configuration's (see the module's doc)."""
    scores = add_common_scores(runs, tables)
    if scores.shared.get("val", 0):
        metric = f"val_common_{measure}"
        confirm = f"test_common_{measure}" if scores.shared.get("test", 0) else None
        basis = scores.says()
    else:
        # No validation target in common: each run's skill against the best baseline on its
        # own validation span chooses (free of the scale, not of the span: said plainly), and
        # the common test targets, where there are any, confirm.
        own = "val_own_skill_vs_best"
        finished = [r for r in runs if r.status == "FINISHED"]
        metric = own if finished and all(own in r.metrics for r in finished) else OWN_SPAN
        confirm = f"test_common_{measure}" if scores.shared.get("test", 0) else None
        span = "validation" if metric == own else "test"
        basis = (
            "no validation target is common to every run, so no error metric can choose "
            f"among these fixes: chosen on each run's skill against the best baseline on its "
            f"own {span} span ({metric}); {scores.says()}"
        )
    summaries, base = judging.summarise(runs, baseline, metric)
    proof = Proof(metric, confirm, basis, summaries, base)
    better = [s for s in summaries if s.verdict == "better beyond seed noise"]
    if not better:
        return proof
    higher = judging.higher_is_better(metric)
    chosen = max(better, key=lambda s: s.mean if higher else -s.mean)
    proof.chosen = chosen.name
    if confirm:
        confirmed, _ = judging.summarise(runs, baseline, confirm)
        proof.confirm_values = {s.name: s.values for s in confirmed}
        proof.confirmation = significance.judge(
            proof.confirm_values.get(chosen.name, []),
            proof.confirm_values.get(base, []),
            judging.higher_is_better(confirm),
        )
        by_name = {s.name: s for s in confirmed}
        members = judging.group_by_configuration(runs).get(chosen.name, [])
        for name in ("skill_vs_best", "skill_vs_linear"):
            key = f"test_common_{name}"
            values = [r.metrics[key] for r in members if key in r.metrics]
            if values and chosen.name in by_name:
                proof.standing[name.replace("_vs_", " against the ")] = values
    return proof
