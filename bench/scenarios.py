"""Scenario benchmark for the doctor: known problems induced on the shipped data, plus
healthy controls. Prints detection recall, false alarms on the controls and repair rate.

    python bench/scenarios.py                 # detection only (4-13 minutes on 2 cores)
    python bench/scenarios.py --repair        # also prove each top fix over 3 seeds (about an hour)
    python bench/scenarios.py --only lr_tiny  # one scenario

Runs go to sqlite:///bench/scenarios.db (MLFLOW_TRACKING_URI overrides).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from joblib import Parallel, delayed

from lstm_doctor.commands.progress import track

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["dataset.max_rows=4000", "training.epochs=20"]


@dataclass
class Scenario:
    name: str
    overrides: list[str]
    expected: list[str]  # codes that must be found; empty = a healthy control


SCENARIOS = [
    Scenario("stocks_unscaled", ["experiment=stocks_unscaled"], ["data.unscaled_features"]),
    Scenario("short_window", [*QUICK, "prepare.calendar_features=false", "window.length=6"],
             ["data.window_shorter_than_season"]),
    Scenario("beijing_gaps_left", ["experiment=beijing_raw", "training.epochs=5"],
             ["data.missing_values", "train.diverged"]),
    Scenario("beijing_spikes", ["dataset=beijing_pm25", *QUICK], ["data.outliers"]),
    Scenario("scaler_leak", [*QUICK, "scaling.fit_on=all"], ["data.scaling_leakage"]),
    Scenario("trending_prices", ["dataset=stocks", "dataset.select.Ticker=AAPL",
                                 "window.length=20", "window.horizon=5"],
             ["data.distribution_shift"]),
    Scenario("too_few_windows", ["dataset.max_rows=500", "window.length=48", "training.epochs=5"],
             ["data.too_few_windows"]),
    Scenario("lr_huge", [*QUICK, "optimizer=sgd", "optimizer.lr=50"], ["train.diverged"]),
    Scenario("lr_tiny", [*QUICK, "optimizer.lr=1e-7", "training.epochs=8"], ["train.not_learning"]),
    Scenario("lr_low", [*QUICK, "optimizer.lr=2e-5", "training.epochs=10",
                        "training.early_stopping.enabled=false"], ["train.slow_convergence"]),
    Scenario("lr_high", [*QUICK, "optimizer=rmsprop", "optimizer.lr=0.3", "training.epochs=12",
                         "training.early_stopping.enabled=false"], ["train.oscillating"]),
    # A 2x128 LSTM on six weeks of hourly data, no dropout, no early stopping, a brisk step.
    Scenario("big_model_small_data", ["dataset.max_rows=1500", "model.units=128", "model.layers=2",
                                      "optimizer.lr=0.005", "training.epochs=60",
                                      "training.early_stopping.enabled=false"],
             ["train.overfitting", "train.wasted_epochs"]),
    # 150 epochs on 67 training days: the classifier peaks early and then memorises.
    Scenario("too_many_epochs", ["dataset=italy_power", "model.units=128", "training.epochs=150",
                                 "training.early_stopping.enabled=false"],
             ["train.wasted_epochs"]),
    # lr=1e-6: the cross-entropy sits at ln(4), chance for four classes, for every epoch.
    Scenario("classifier_stuck", ["dataset=basic_motions", "optimizer.lr=1e-6", "training.epochs=5"],
             ["train.not_learning"]),
    Scenario("tiny_model", [*QUICK, "model.units=1", "prepare.calendar_features=false"],
             ["train.underfitting"]),
    Scenario("recurrent_dropout", [*QUICK, "model.recurrent_dropout=0.2"], ["model.cudnn_ineligible"]),
    Scenario("healthy_electricity", [], []),
    Scenario("healthy_motions", ["dataset=basic_motions", "training.epochs=40", "training.batch_size=8"], []),
    Scenario("healthy_italy", ["dataset=italy_power", "training.epochs=40"], []),
]  # fmt: skip


def run_one(scenario: Scenario, out: Path, uri: str) -> dict:
    """Run a scenario through the pipeline and return its diagnosis (or the error)."""
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.chdir(ROOT)
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.in_process import run_pipeline
    from lstm_doctor.workspace import StagePaths

    overrides = scenario.overrides
    cfg = validate(compose_config(overrides, conf_dir=ROOT / "conf"))
    paths = StagePaths.job(out / scenario.name)
    tags = {"scenario": scenario.name, "overrides": " ".join(overrides)}
    try:
        run_pipeline(cfg, paths, run_name=scenario.name, tags=tags, overrides=overrides)
    except Exception as exc:  # a diverged run still wrote its diagnosis
        if not (paths.reports / "diagnosis.json").exists():
            return {"error": str(exc), "codes": [], "findings": []}
    return json.loads((paths.reports / "diagnosis.json").read_text())


def repaired(diagnosis: dict, out: Path) -> tuple[str, bool] | None:
    """The top prescribed fix, and whether it improved the target metric beyond seed noise
    (3 seeds each)."""
    import subprocess

    from lstm_doctor.doctor.report import prescriptions

    fixes = prescriptions(diagnosis, limit=1)
    if not fixes:
        return None
    report = out / f"fix-{diagnosis['run_id'][:8]}"
    subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", "fix", diagnosis["run_id"], "--top", "1",
         "--seeds", "3", "--out", str(report)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    summary = json.loads((report / "summary.json").read_text())
    verdicts = {c["name"]: c["verdict"] for c in summary["configurations"]}
    # "better beyond seed noise", or "better: finishes where the baseline failed in every seed"
    return fixes[0], verdicts.get(fixes[0], "").startswith("better")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repair", action="store_true", help="also measure the repair rate")
    parser.add_argument("--only", nargs="*", help="scenario names")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    uri = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{ROOT / 'bench' / 'scenarios.db'}")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    out = ROOT / "multirun" / "scenarios"
    from lstm_doctor.config import TrackingConfig
    from lstm_doctor.tracking.store import use_store

    use_store(TrackingConfig(uri=uri))  # create the store once, before the workers race to
    # In order (the table pairs each scenario with its result), with progress as they land.
    outcomes = Parallel(n_jobs=args.jobs, backend="loky", return_as="generator")(
        delayed(run_one)(s, out, uri) for s in chosen
    )
    results = list(track(outcomes, len(chosen), "scenarios"))
    hits = misses = alarms = controls = 0
    repairs: list[bool] = []
    print(f"{'scenario':<22} {'expected':<34} {'found (warning+/info)':<60} result")
    for scenario, diagnosis in zip(chosen, results, strict=True):
        serious = [f["code"] for f in diagnosis["findings"] if f["severity"] != "info"]
        found = [f["code"] for f in diagnosis["findings"]]
        if scenario.expected:
            ok = all(code in found for code in scenario.expected)
            hits += ok
            misses += not ok
            verdict = "detected" if ok else "MISSED"
            if args.repair and ok and diagnosis.get("run_id"):
                proof = repaired(diagnosis, out)
                if proof is not None:
                    fix, fixed = proof
                    repairs.append(fixed)
                    verdict += f", {'repaired' if fixed else 'not repaired'} by `{fix}`"
        else:
            controls += 1
            alarms += bool(serious)
            verdict = "false alarm" if serious else "healthy"
        note = f" ({diagnosis['error']})" if diagnosis.get("error") else ""
        print(
            f"{scenario.name:<22} {','.join(scenario.expected) or '-':<34} {','.join(found) or '-':<60} {verdict}{note}"
        )
    recall = hits / max(hits + misses, 1)
    false_alarms = alarms / max(controls, 1)
    print(f"\ndetection recall {recall:.2f} ({hits}/{hits + misses}); "
          f"false alarms {false_alarms:.2f} ({alarms}/{controls} healthy controls)")  # fmt: skip
    if args.repair:
        rate = sum(repairs) / max(len(repairs), 1)
        print(
            f"repair rate {rate:.2f} ({sum(repairs)}/{len(repairs)}: top fix better beyond seed noise)"
        )


if __name__ == "__main__":
    main()
