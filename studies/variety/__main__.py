"""The default configuration on data of many shapes: does it train, and beat the lookups?

    python -m studies.variety --label after      # run every series: multirun/variety/after.json
    python -m studies.variety --page             # studies/variety/README.md from before.json and after.json

Every shipped dataset (data/raw) and generated series of other shapes (a small UCR-style
classifier of 50 training sequences, daily counts with a yearly season, an hourly
zero-inflated series, weekly, 15-minute) run through the pipeline with conf/'s defaults,
only shrunk to fit about 15 minutes on 2 cores (rows and epochs capped, the same caps for
every series). Per series: the doctor's verdict and primary cause, and the model's skill
(1 - MAE / baseline MAE; for classifiers, accuracy minus the baseline's) against the best
naive lookup and against the linear model on the same inputs. Generated files go to
multirun/variety/data/, runs to sqlite:///studies/variety/variety.db (MLFLOW_TRACKING_URI overrides),
each run's results to multirun/variety/<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "multirun" / "variety"
PAGE = ROOT / "studies" / "variety" / "README.md"
# The same caps on every series, so that the whole table costs about 15 minutes.
CAPS = ["dataset.max_rows=4000", "training.epochs=25"]


def _write_ts(path: Path, sequences: np.ndarray, labels: list[str]) -> None:
    """A univariate, equal-length sktime .ts file."""
    head = [f"@problemName {path.stem}", "@timeStamps false", "@missing false",
            "@univariate true", "@equalLength true", f"@seriesLength {sequences.shape[1]}",
            f"@classLabel true {' '.join(sorted(set(labels)))}", "@data"]  # fmt: skip
    rows = [
        ",".join(f"{v:.5g}" for v in seq) + f":{label}"
        for seq, label in zip(sequences, labels, strict=True)
    ]
    path.write_text("\n".join(head + rows) + "\n")


def small_classifier(folder: Path) -> None:
    """50 training and 100 test sequences of length 150, two classes: a noisy cycle whose
    bump sits early or late (the shape, not the level, tells them apart)."""
    rng = np.random.default_rng(28)
    t = np.linspace(0, 1, 150)
    for name, n in (("TRAIN", 50), ("TEST", 100)):
        labels = rng.integers(0, 2, n)
        centre = np.where(labels == 1, 0.65, 0.35) + rng.normal(0, 0.06, n)
        x = np.sin(2 * np.pi * 3 * t + rng.uniform(0, 2 * np.pi, (n, 1)))
        x = 0.5 * x + 2 * np.exp(-((t - centre[:, None]) ** 2) / 0.004)
        x += rng.normal(0, 0.4, x.shape)
        _write_ts(folder / f"small_classifier_{name}.ts", x, [f"c{v}" for v in labels])


def daily_yearly(folder: Path) -> None:
    """Four years of daily counts (Poisson) with a strong yearly season and a weekly one."""
    rng = np.random.default_rng(29)
    index = pd.date_range("2019-01-01", periods=4 * 365, freq="D")
    year = np.cos(2 * np.pi * (index.day_of_year.to_numpy() - 20) / 365.25)
    week = np.where(index.day_of_week >= 5, -0.25, 0.05)
    y = rng.poisson(np.exp(3.0 + 0.8 * year + week))
    pd.DataFrame({"time": index, "y": y}).to_csv(folder / "daily_yearly.csv", index=False)


def hourly_zero_inflated(folder: Path) -> None:
    """150 days of hourly demand: zero every night (20:00-06:59), a noisy daytime hump."""
    rng = np.random.default_rng(30)
    index = pd.date_range("2023-03-01", periods=150 * 24, freq="h")
    hour = index.hour.to_numpy()
    day = np.clip(np.sin(np.pi * (hour - 7) / 13), 0, None) * (hour >= 7) * (hour < 20)
    level = 1 + 0.3 * np.repeat(rng.normal(0, 1, 150), 24)
    y = np.where(day > 0, 50 * day * level + rng.gamma(2, 5, len(index)) * (day > 0), 0.0)
    pd.DataFrame({"time": index, "y": y.round(2)}).to_csv(folder / "hourly_zero.csv", index=False)


def weekly(folder: Path) -> None:
    """Twelve years of weekly sales (so the default window and horizon fit in each split):
    a yearly season, a slow trend and AR(1) noise."""
    rng = np.random.default_rng(31)
    index = pd.date_range("2016-01-03", periods=12 * 52, freq="W-SUN")
    noise = np.zeros(len(index))
    for i in range(1, len(index)):
        noise[i] = 0.6 * noise[i - 1] + rng.normal(0, 4)
    woy = index.isocalendar().week.to_numpy(dtype=float)
    y = 200 + 0.05 * np.arange(len(index)) + 30 * np.sin(2 * np.pi * woy / 52.18) + noise
    pd.DataFrame({"time": index, "y": y.round(2)}).to_csv(folder / "weekly.csv", index=False)


def quarter_hourly(folder: Path) -> None:
    """60 days of 15-minute load: a daily cycle (96 steps), weekends lower, AR noise."""
    rng = np.random.default_rng(32)
    index = pd.date_range("2024-01-01", periods=60 * 96, freq="15min")
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    noise = np.zeros(len(index))
    for i in range(1, len(index)):
        noise[i] = 0.9 * noise[i - 1] + rng.normal(0, 1.5)
    base = 40 + 25 * np.sin(2 * np.pi * (hour - 9) / 24) * np.where(index.day_of_week >= 5, 0.5, 1)
    y = base + noise
    pd.DataFrame({"time": index, "y": y.round(2)}).to_csv(folder / "load_15min.csv", index=False)


def csv(name: str, file: str) -> list[str]:
    path = (OUT / "data" / file).relative_to(ROOT)
    return ["dataset=csv", f"dataset.name={name}", f"dataset.path={path}",
            "dataset.time_column=[time]", "dataset.target=y"]  # fmt: skip


def series() -> dict[str, list[str]]:
    """Every series of the benchmark: its name and the overrides that select it."""
    classifier = (OUT / "data" / "small_classifier").relative_to(ROOT)
    small = ["dataset=italy_power", "dataset.name=small_classifier",
             f"dataset.path={classifier}_TRAIN.ts", f"dataset.test_path={classifier}_TEST.ts"]  # fmt: skip
    return {
        "electricity (hourly)": ["dataset=electricity"],
        "beijing_pm25 (hourly)": ["dataset=beijing_pm25"],
        "stocks (business days)": ["dataset=stocks"],
        "italy_power (classify)": ["dataset=italy_power"],
        "basic_motions (classify)": ["dataset=basic_motions"],
        "small classifier (50 seqs)": small,
        "daily, yearly season": csv("daily_yearly", "daily_yearly.csv"),
        "hourly zero-inflated": csv("hourly_zero", "hourly_zero.csv"),
        "weekly": csv("weekly", "weekly.csv"),
        "15-minute": csv("load_15min", "load_15min.csv"),
    }


def generate() -> None:
    folder = OUT / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for make in (small_classifier, daily_yearly, hourly_zero_inflated, weekly, quarter_hourly):
        make(folder)


def scores(metrics: dict) -> dict[str, float | None]:
    """Skill against the best naive lookup and against the linear model."""
    model, baselines = metrics["model"], metrics["baselines"]
    if "accuracy" in model:
        return {
            "best_lookup": model["accuracy"] - baselines["majority_class"]["accuracy"],
            "linear": model["accuracy"] - baselines["linear"]["accuracy"]
            if "linear" in baselines
            else None,
            "model": model["accuracy"],
        }
    lookups = {k: v["mae"] for k, v in baselines.items() if k != "linear"}
    best = min(lookups.values())
    linear = baselines.get("linear", {}).get("mae")
    return {
        "best_lookup": 1 - model["mae"] / best,
        "linear": 1 - model["mae"] / linear if linear else None,
        "model": model["mae"],
    }


def run_one(name: str, overrides: list[str], uri: str, conf: Path) -> dict:
    os.environ["MLFLOW_TRACKING_URI"] = uri
    from lstm_doctor.base.workspace import StagePaths, read_json
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.in_process import run_pipeline

    started = time.perf_counter()
    slug = "".join(c if c.isalnum() else "_" for c in name)
    paths = StagePaths.job(OUT / "jobs" / slug)
    overrides = [*overrides, *CAPS]
    try:
        cfg = validate(compose_config(overrides, conf_dir=conf))
        metrics = run_pipeline(cfg, paths, run_name=slug, overrides=overrides, progress=False)
    except Exception as exc:  # a failure is a row of the table, not the end
        return {"name": name, "error": f"{type(exc).__name__}: {exc}"[:200]}
    diagnosis = read_json(paths.reports / "diagnosis.json")
    return {
        "name": name,
        "verdict": diagnosis["verdict"],
        "primary": diagnosis.get("primary") or [],
        "first_fix": diagnosis.get("first_fix"),
        "epochs": metrics.get("epochs"),
        "seconds": round(time.perf_counter() - started, 1),
        **scores(metrics),
    }


def table(rows: list[dict]) -> str:
    lines = ["| series | verdict (primary) | skill vs best lookup | skill vs linear | epochs | s |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | error: {r['error']} | | | | |")
            continue
        linear = "–" if r["linear"] is None else f"{r['linear']:+.3f}"
        cause = f" ({', '.join(r['primary'])})" if r["primary"] else ""
        lines.append(f"| {r['name']} | {r['verdict']}{cause} | {r['best_lookup']:+.3f} | "
                     f"{linear} | {r['epochs']} | {r['seconds']:.0f} |")  # fmt: skip
    return "\n".join(lines)


def write_page() -> None:
    """studies/variety/README.md: the table before and after (the results files of two labels); the
    page's other sections (measured by hand, e.g. the doctor's proofs) are kept after them."""
    runs = {label: json.loads((OUT / f"{label}.json").read_text()) for label in ("before", "after")}
    parts = [PAGE_HEAD]
    for label, rows in runs.items():
        parts += [f"## {label.capitalize()}\n", PAGE_NOTES[label], table(rows), ""]
    PAGE.write_text("\n".join([*parts, *kept_sections()]))


def kept_sections() -> list[str]:
    """The sections of the current page that write_page does not write itself."""
    if not PAGE.exists():
        return []
    sections = PAGE.read_text().split("\n## ")[1:]
    own = {label.capitalize() for label in PAGE_NOTES}
    return [f"## {s.rstrip()}\n" for s in sections if s.splitlines()[0].strip() not in own]


PAGE_HEAD = """# Variety: the default configuration on data it was not chosen on

`python -m studies.variety` (the module docstring says what it runs). Every series runs conf/'s
defaults with the same caps (`dataset.max_rows=4000 training.epochs=25`, so the table costs
a few minutes on 2 cores; the cap on epochs is why `train.slow_convergence` is common here).
Skill vs best lookup is 1 - MAE / the best naive baseline's MAE (classifiers: accuracy minus
the majority class's); skill vs linear the same against the ridge (logistic) regression on
the very same inputs. Above 0 the LSTM wins.
"""
PAGE_NOTES = {
    "before": "The defaults before issue 28: a batch of 64 and a patience of 5 epochs whatever\n"
    "the data's size, hour-of-day and day-of-week inputs only.\n",
    "after": "Sizes that follow the data (config/sizing.py), the year's calendar pair where\n"
    "the training span shows a year (prepare.year_features=auto); a loss to the linear model\n"
    "called only beyond the test set's chance, a classifier's slowness judged on its\n"
    "validation answers, and no prescription that would rerun the same run.\n",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="run", help="names the results file")
    parser.add_argument("--only", nargs="*", help="series names to run (default: all)")
    parser.add_argument("--conf", type=Path, default=ROOT / "conf", help="a conf/ to compose")
    parser.add_argument("--page", action="store_true", help="only write studies/variety/README.md")
    args = parser.parse_args()
    if args.page:
        write_page()
        return
    os.chdir(ROOT)
    generate()
    uri = os.environ.get(
        "MLFLOW_TRACKING_URI", f"sqlite:///{ROOT / 'studies' / 'variety' / 'variety.db'}"
    )
    rows = []
    for name, overrides in series().items():
        if args.only and name not in args.only:
            continue
        rows.append(run_one(name, overrides, uri, args.conf.resolve()))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    (OUT / f"{args.label}.json").write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
