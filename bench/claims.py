"""Measure the classic claims on the shipped data: each a sweep of presets over 3 seeds.

    python bench/claims.py            # run every sweep (about 40 minutes on 2 cores), then write docs
    python bench/claims.py --report   # only rewrite docs/claims.md from the runs already stored

Runs go to sqlite:///bench/claims.db (MLFLOW_TRACKING_URI overrides); the page is
docs/claims.md, one row per claim with mean ± std over seeds and the verdict.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from lstm_doctor.comparison import METHOD, summarise
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking.queries import find_runs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = "0,1,2"

# claim, sweep name, presets: the first is the baseline; each other preset says whether the
# claim expects it to do "better" or "worse" than the baseline.
CLAIMS = [
    ("Scaling helps: unscaled prices beside volumes stall an LSTM", "claim_scaling_stocks",
     ["stocks_unscaled", ("stocks_scaled", "better")]),
    ("Scaling helps an activity classifier", "claim_scaling_motions",
     ["motions_unscaled", ("motions_scaled", "better")]),
    ("A 24-hour window beats a short one on hourly data (and a week more so)", "claim_window",
     ["window_short", ("window_day", "better"), ("window_week", "better")]),
    ("Dropout helps a large model; too small a model underfits", "claim_capacity",
     ["capacity_large_no_dropout", ("capacity_large_dropout", "better"),
      ("capacity_medium_dropout", "better"), ("capacity_small", "worse")]),
    ("Too high a learning rate oscillates or diverges, too low crawls", "claim_learning_rate",
     ["lr_good", ("lr_high", "worse"), ("lr_low", "worse")]),
    ("Early stopping saves epochs without losing accuracy", "claim_early_stopping",
     ["epochs_no_early_stop", ("epochs_early_stop", "fewer epochs, no worse")]),
    ("Imputing gaps and clipping spikes help", "claim_missing_outliers",
     ["beijing_raw", ("beijing_clean", "better")]),
]  # fmt: skip


def preset_names(presets: list) -> list[str]:
    return [p if isinstance(p, str) else p[0] for p in presets]


def borne_out(expected: str, verdict: str, epochs: float, base_epochs: float) -> str:
    """Whether the measured verdict is what the claim predicts, said plainly."""
    if expected == "fewer epochs, no worse":
        fewer = epochs < base_epochs
        ok = fewer and not verdict.startswith("worse")
        return "yes" if ok else ("no: early stopping never fired" if not fewer else "no: worse")
    if verdict.startswith(expected):
        return "yes"
    return f"no: {verdict}"


def run_sweeps(store: str, only: list[str] | None = None) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    for _, name, presets in CLAIMS:
        if only and name not in only:
            continue
        # A rerun replaces the sweep's earlier runs rather than pooling with them.
        for experiment in client.search_experiments():
            for run in client.search_runs([experiment.experiment_id], f"tags.sweep = '{name}'"):
                client.delete_run(run.info.run_id)
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "lstm_doctor.commands.app", "-m", "hydra/launcher=joblib",
             f"experiment={','.join(preset_names(presets))}", f"seed={SEEDS}",
             f"hydra.sweep.dir={ROOT / 'multirun' / 'claims' / name}"],
            cwd=ROOT, env={**os.environ, "MLFLOW_TRACKING_URI": store}, check=False,
        )  # fmt: skip
        print(f"{name}: {time.monotonic() - start:.0f} s", flush=True)


def write_page(store: str, page: Path) -> None:
    lines = [
        "# The classic claims, measured",
        "",
        "Each claim is a sweep of presets (`conf/experiment/`) over seeds "
        f"{SEEDS.replace(',', ', ')} on the shipped data, made by `python bench/claims.py`. "
        "Forecasts are compared on test MAE in the target's units (lower is better), "
        "classifiers on test accuracy; the first preset of each row is the baseline.",
        "",
        f"*Method.* {METHOD}",
        "",
        "Skill is 1 − error / the baseline's error on the same test windows, against **the "
        "best** of the run's baselines (persistence, seasonal naive at every season the data "
        "shows, and a ridge regression on the same input window — or, for classifiers, the "
        "majority class and a logistic regression); MASE scales test MAE by the seasonal-naive "
        "MAE on the training span (below 1: better than that in-sample yardstick).",
        "",
        "| claim | preset | seeds ok | test metric (mean ± std) | MASE | epochs run | skill vs best baseline | verdict vs baseline | claim borne out? |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for claim, name, presets in CLAIMS:
        try:
            _, runs = find_runs(TrackingConfig(uri=store), name)
        except Exception as exc:  # a sweep not run yet
            lines.append(f"| {claim} | — | — | not measured ({exc}) | | | | | |")
            continue
        summaries, _ = summarise(runs, baseline=f"experiment={presets[0]}")
        expected = {p[0]: p[1] for p in presets if not isinstance(p, str)}
        epochs: dict[str, list[int]] = {}
        mase: dict[str, list[float]] = {}
        for run in runs:
            if run.status == "FINISHED" and run.curves.get("loss"):
                label = run.overrides.split(" seed=")[0]
                epochs.setdefault(label, []).append(len(run.curves["loss"]))
                if "test_mase" in run.metrics:
                    mase.setdefault(label, []).append(run.metrics["test_mase"])
        base_epochs = _mean(epochs.get(f"experiment={presets[0]}", []))
        for i, s in enumerate(summaries):
            preset = s.name.removeprefix("experiment=")
            skill = f"{_mean(s.skills['best']):+.3f}" if s.skills.get("best") else "—"
            mase_text = f"{_mean(mase[s.name]):.3f}" if mase.get(s.name) else "—"
            metric = f"{s.metric} {s.mean:.4g} ± {s.std:.2g}" if s.values else "—"
            ep = _mean(epochs.get(s.name, []))
            ep_text = f"{ep:.0f}" if ep == ep else "—"
            verdict = s.verdict or "—"
            claim_ok = (
                borne_out(expected[preset], verdict, ep, base_epochs) if preset in expected else ""
            )
            lines.append(
                f"| {claim if i == 0 else ''} | `{preset}` | {len(s.values)}/{s.runs} | {metric} | "
                f"{mase_text} | {ep_text} | {skill} | {verdict} | {claim_ok} |"
            )
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines) + "\n")
    print(f"wrote {page}")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", action="store_true", help="only rewrite the page")
    parser.add_argument("--only", nargs="*", help="sweep names to (re)run, e.g. claim_window")
    args = parser.parse_args()
    store = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{ROOT / 'bench' / 'claims.db'}")
    if not args.report:
        run_sweeps(store, args.only)
    write_page(store, ROOT / "docs" / "claims.md")


if __name__ == "__main__":
    main()
