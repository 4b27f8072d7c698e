"""Measure the classic claims on the shipped data, each on the quantity it is about.

    python -m studies.claims --jobs 2          # every claim, seeds 0-4 (about 30 min on 2 cores)
    python -m studies.claims --only lr batch_size --seeds 0,1
    python -m studies.claims --report          # only rewrite the page from the runs stored
    python -m studies.claims --only lr --seeds 0,1 --jobs 1 --smoke   # 3 epochs a run, scratch

Runs go to sqlite:///studies/claims/claims.db (MLFLOW_TRACKING_URI overrides), MLflow experiment
lstm-doctor-claims; the page is studies/claims/README.md (--out), its figures <page without .md>/<claim>.png.
--smoke keeps off both: its store is studies/claims/claims_smoke.db, its page multirun/claims/smoke.md.
A preset several claims share (claims_base) runs once; rerunning a claim replaces the
earlier runs of its presets.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from lstm_doctor.base.curve_measures import DEFINITIONS
from lstm_doctor.base.errors import DataError
from lstm_doctor.comparison.judging import METHOD, RunRecord, spread, summarise
from lstm_doctor.config import TrackingConfig
from lstm_doctor.tracking.queries import find_runs
from studies.claims.figures import cell, plain, plot_claim, setup, welch

ROOT = Path(__file__).resolve().parents[2]
SEEDS = "0,1,2,3,4"
EXPERIMENT = "lstm-doctor-claims"
SMOKE_EPOCHS = 3

# What a claim is about decides what it is judged on: the decisive quantities (the plain
# verdict reads them), then quantities shown beside them. "test" is the test metric.
KINDS = {
    "accuracy": (("test",), ("test_mase", "skill_vs_best")),
    "fluctuation": (("curve_fluctuation",), ("curve_rise_share", "test")),
    "speed": (("epochs_to_best_5pct", "best_val_loss"), ("seconds_to_best_5pct", "test")),
    "generalisation": (("gap_at_best_relative", "test"), ("curve_fluctuation",)),
    "epochs": (("epochs_run", "test"), ("curve_fluctuation",)),
}
WHY = {
    "accuracy": "the claim is about how good the forecast is: the test metric decides (MAE in "
    "the target's units, accuracy for a classifier), with MASE and skill against the best "
    "baseline beside it.",
    "fluctuation": "the claim is about a rough, jumping curve, which a final test number "
    "averages away: `curve_fluctuation` decides, `curve_rise_share` is shown beside it.",
    "speed": "the claim is about converging faster: reaching the same loss sooner, or a lower "
    "loss in the same epochs. `epochs_to_best_5pct` alone would call a curve that never moves "
    "fast (its best is near its start), so it and the best val loss reached both decide: borne "
    "out when either points the expected way beyond seed noise and the other does not point "
    "against it; `seconds_to_best_5pct` is shown.",
    "generalisation": "dropout is advice against overfitting: `gap_at_best_relative` (how far val "
    "loss sits above train loss at the best epoch) says whether it overfits less, the test "
    "metric whether that paid. Keras measures train loss with dropout on, which narrows the gap "
    "by itself, so the gap alone cannot bear the claim out: borne out when the test metric is "
    "better beyond seed noise and the gap not wider; the opposite when the test metric is worse.",
    "epochs": "the claim is 'fewer epochs, no worse': borne out when the epochs run are fewer "
    "beyond seed noise and the test metric is not worse beyond it.",
}
QUANTITY = {
    "test": "test metric",
    "test_mase": "test MASE",
    "skill_vs_best": "skill vs best baseline",
    "best_val_loss": "best val loss",
    "epochs_run": "epochs run",
} | {name: f"`{name}`" for name in DEFINITIONS}
EXPECT = {
    ("accuracy", "better"): "more accurate",
    ("accuracy", "worse"): "less accurate",
    ("fluctuation", "worse"): "noisier curve",
    ("fluctuation", "better"): "calmer curve",
    ("speed", "better"): "faster",
    ("speed", "worse"): "slower",
    ("generalisation", "better"): "smaller gap, better test",
    ("epochs", "better"): "fewer epochs, no worse",
}


@dataclass(frozen=True)
class Variant:
    preset: str
    kind: str  # a key of KINDS
    expected: str  # "better" or "worse" than the baseline on the kind's quantities
    note: str = ""  # what the preset is, in a few words


@dataclass(frozen=True)
class Claim:
    key: str  # --only name and figure file
    text: str
    baseline: str
    baseline_note: str
    variants: tuple[Variant, ...]
    note: str = ""


V = Variant
CLAIMS = (
    Claim("scaling_stocks", "Scaling helps: unscaled prices beside volumes stall an LSTM",
          "stocks_unscaled", "raw features", (V("stocks_scaled", "accuracy", "better", "standardised"),)),
    Claim("scaling_motions", "Scaling helps an activity classifier", "motions_unscaled",
          "raw channels", (V("motions_scaled", "accuracy", "better", "standardised"),)),
    Claim("window", "A 24-hour window beats a short one on hourly data (and a week more so)",
          "window_short", "6 steps", (V("window_day", "accuracy", "better", "24 steps"),
                                      V("window_week", "accuracy", "better", "168 steps"))),
    Claim("capacity", "Dropout helps a large model; too small a model underfits",
          "capacity_large_no_dropout", "2x64, no dropout",
          (V("capacity_large_dropout", "generalisation", "better", "2x64, dropout 0.2"),
           V("capacity_medium_dropout", "generalisation", "better", "1x32, dropout 0.2"),
           V("capacity_small", "accuracy", "worse", "1x2"))),
    Claim("lr", "Too high a learning rate oscillates; too low a one crawls", "claims_base",
          "Adam 1e-3, the run lr_good is", (V("lr_high", "fluctuation", "worse", "Adam 0.1"),
                                    V("lr_low", "speed", "worse", "Adam 1e-5")),
          "The step is held fixed (no ReduceLROnPlateau), so nothing rescues a bad one."),
    Claim("early_stopping", "Early stopping saves epochs without losing accuracy",
          "epochs_no_early_stop", "40 epochs", (V("epochs_early_stop", "epochs", "better", "patience 5"),),
          "Both keep the default ReduceLROnPlateau, whose halvings keep val loss creeping down "
          "and so delay early stopping."),
    Claim("missing_outliers", "Imputing gaps and clipping spikes help", "beijing_raw", "gaps and spikes left",
          (V("beijing_clean", "accuracy", "better", "interpolated, clipped"),)),
    Claim("batch_size", "Small batches give noisy, unstable training; very large ones converge slowly",
          "claims_base", "batch 64", (V("batch_small", "fluctuation", "worse", "batch 16"),
                                      V("batch_large", "speed", "worse", "batch 1024"))),
    Claim("initialisation", "Glorot/He initialisation converges faster than plain random normal",
          "init_random_normal", "random_normal kernel",
          (V("claims_base", "speed", "better", "glorot_uniform kernel"),
           V("init_he_normal", "speed", "better", "he_normal kernel")),
          "The recurrent kernel stays orthogonal in all three."),
    Claim("activation", "Saturating activations slow learning in a deep (3-layer) stack", "depth_3",
          "tanh", (V("depth_3_relu", "speed", "better", "relu"), V("depth_3_elu", "speed", "better", "elu"),
                   V("depth_3_sigmoid", "speed", "worse", "sigmoid")),
          "The cell activation of all three LSTM layers; the gates stay sigmoid."),
    Claim("optimizer", "Adam or RMSprop converge faster than plain SGD", "optimizer_sgd",
          "SGD 0.01", (V("claims_base", "speed", "better", "Adam 1e-3"),
                       V("optimizer_rmsprop", "speed", "better", "RMSprop 1e-3"),
                       V("optimizer_sgd_momentum", "speed", "better", "SGD 0.01, momentum 0.9")),
          "Each at its usual (Keras default) step."),
    Claim("depth", "A deeper stack, without care, trains worse than a shallow one", "claims_base",
          "1 layer", (V("depth_3", "speed", "worse", "3 layers"), V("depth_5", "speed", "worse", "5 layers")),
          "No dropout, normalisation or residual connections: plain stacked LSTMs of 32 units."),
    Claim("window_normalisation", "Scaling each window by itself (per sequence) helps beyond global scaling",
          "claims_base", "global standardisation only",
          (V("window_norm_last", "accuracy", "better", "minus its last value"),
           V("window_norm_standard", "accuracy", "better", "its own mean and sd")),
          "`window.normalize` takes each input window's level (and, for `standard`, its spread) "
          "out and puts it back on the forecast. That helps where the level drifts beyond what "
          "the training span saw; it hurts where the level itself carries information the "
          "model needs (the load at this hour of the day), and `standard` also divides by a "
          "window's own spread, noisy on a 2-day window. Their val losses are in per-window "
          "units, so their curves are not comparable with the baseline's: the test metric decides."),
)  # fmt: skip


FIGURE_NOTES = {
    "window_normalisation": "window_norm_* val losses are in per-window units: compare test metrics, not these curves",
}


def presets_of(claims: list[Claim]) -> list[str]:
    """Every preset the claims need, each once, in order."""
    names = [p for c in claims for p in (c.baseline, *(v.preset for v in c.variants))]
    return list(dict.fromkeys(names))


def preset_of(tags: dict[str, str]) -> str | None:
    """The experiment preset a run was made with, from its tags (its job's overrides)."""
    found = re.search(r"(?:^|\s)experiment=(\S+)", tags.get("overrides", ""))
    return found.group(1) if found else None


def run_presets(store: str, presets: list[str], seeds: str, jobs: int, extra: list[str]) -> None:
    """One Hydra sweep of presets x seeds, after deleting the presets' earlier runs."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        for run in client.search_runs([experiment.experiment_id], max_results=5000):
            tags = run.data.tags
            if tags.get("kind") != "sweep" and preset_of(tags) in presets:
                client.delete_run(run.info.run_id)
    start = time.monotonic()
    sweep_dir = ROOT / "multirun" / "claims" / time.strftime("claims-%Y%m%d-%H%M%S")
    subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", "-m", "hydra/launcher=joblib",
         f"hydra.launcher.n_jobs={jobs}", f"experiment={','.join(presets)}", f"seed={seeds}",
         f"tracking.experiment={EXPERIMENT}", "tracking.log_model=false", *extra,
         f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT, env={**os.environ, "MLFLOW_TRACKING_URI": store}, check=False,
    )  # fmt: skip
    wall = time.monotonic() - start
    runs = len(presets) * len(seeds.split(","))
    print(f"{runs} runs in {wall:.0f} s with {jobs} jobs: {wall * jobs / runs:.1f} s a run")


def stored_runs(store: str) -> dict[str, list[RunRecord]]:
    """The stored claims runs by preset (each labelled by it and its seed)."""
    try:
        _, runs = find_runs(TrackingConfig(uri=store), EXPERIMENT)
    except DataError:
        return {}
    by_preset: dict[str, list[RunRecord]] = {}
    for run in runs:
        preset = preset_of(run.tags)
        if preset:
            label = f"experiment={preset} seed={run.params.get('seed', '?')}"
            by_preset.setdefault(preset, []).append(replace(run, overrides=label))
    return by_preset


def name(q: str, metric: str) -> str:
    """A quantity's name on the page (the test metric by its own name)."""
    return metric if q == "test" else QUANTITY[q]


def claim_section(
    claim: Claim, by_preset: dict[str, list[RunRecord]], figures: Path, page: Path
) -> tuple[list[str], list[str]]:
    """The claim's summary rows and its own section (setup, figure, every quantity)."""
    needed = [claim.baseline, *(v.preset for v in claim.variants)]
    # Grouped by preset alone: what else a run logged is its preset's doing.
    runs = [
        replace(r, params={"experiment": p, "seed": r.params.get("seed", "")})
        for p in needed
        for r in by_preset.get(p, [])
    ]
    missing = [p for p in needed if p not in by_preset]
    head = [
        f"## {claim.text}",
        "",
        f"`--only {claim.key}`. Baseline: `{claim.baseline}` ({claim.baseline_note}).",
    ]
    if missing:
        text = f"not measured yet (no runs of {', '.join(missing)})"
        return [f"| {claim.text} | — | — | — | {text} | | | |"], [
            *head,
            "",
            text.capitalize() + ".",
            "",
        ]
    summaries, _ = summarise(runs, baseline=f"experiment={claim.baseline}")
    by_name = {s.name.removeprefix("experiment="): s for s in summaries}
    base, base_runs = by_name[claim.baseline], by_preset[claim.baseline]
    png = figures / f"{claim.key}.png"
    notes = {claim.baseline: claim.baseline_note} | {v.preset: v.note for v in claim.variants}
    curves = {
        f"{p} ({notes[p]})": [r.curves.get("val_loss", []) for r in by_preset[p]] for p in needed
    }
    plot_claim(claim.text, curves, png, FIGURE_NOTES.get(claim.key, ""))
    rows, detail = [], ["| preset | expected | quantity | preset: mean ± sd | baseline: mean ± sd | Welch vs baseline | verdict |",
                        "|---|---|---|---|---|---|---|"]  # fmt: skip
    for i, v in enumerate(claim.variants):
        s = by_name[v.preset]
        decisive, shown = KINDS[v.kind]
        cells = {q: cell(q, s, base, by_preset[v.preset], base_runs) for q in decisive + shown}
        verdict = plain(v.kind, v.expected, [cells[q] for q in decisive])
        expect = EXPECT[(v.kind, v.expected)]
        judged = [(name(q, s.metric), cells[q]) for q in decisive]
        rows.append(
            f"| {claim.text if i == 0 else ''} | `{v.preset}` ({v.note}) | {expect} | "
            + "<br>".join(n for n, _ in judged)
            + " | "
            + "<br>".join(f"{spread(c.values)} vs {spread(c.base)}" for _, c in judged)
            + " | "
            + "<br>".join(welch(c) for _, c in judged)
            + f" | **{verdict}** | {len(s.values)}/{s.runs} · {len(base.values)}/{base.runs} |"
        )
        for j, q in enumerate(decisive + shown):
            c = cells[q]
            label = f"**{name(q, s.metric)}**" if q in decisive else name(q, s.metric)
            detail.append(
                f"| {f'`{v.preset}` ({v.note})' if j == 0 else ''} | {expect if j == 0 else ''} | {label} | "
                f"{spread(c.values)} | {spread(c.base)} | {welch(c)} | {verdict if j == 0 else ''} |"
            )
    setups = {p: setup(by_preset[p][0]) for p in needed}
    lines = [*head, ""]
    if len(set(setups.values())) == 1:
        lines += [f"Each run: {next(iter(setups.values()))}.", ""]
    else:
        lines += [f"- `{p}`: {text}" for p, text in setups.items()] + [""]
    lines += ([claim.note, ""] if claim.note else []) + [
        f"![{claim.key}: val loss per epoch]({os.path.relpath(png, page.parent)})", "",
        "Decisive quantities in bold (see *Judged on* above).", "", *detail, "",
    ]  # fmt: skip
    return rows, lines


def write_page(store: str, page: Path) -> None:
    by_preset = stored_runs(store)
    figures = page.parent / "figures"
    every = [r for runs in by_preset.values() for r in runs]
    seeds = ", ".join(sorted({r.params.get("seed", "?") for r in every}, key=lambda s: (len(s), s)))
    smoke = any(
        f"training.epochs={SMOKE_EPOCHS}" in r.tags.get("overrides", "").split() for r in every
    )
    trained = sum(sum(r.curves.get("epoch_seconds", [])) for r in every)
    kinds = {k: [c.key for c in CLAIMS if any(v.kind == k for v in c.variants)] for k in KINDS}
    lines = [
        "# The classic claims, measured",
        "",
        "Each claim is a baseline preset and variants (`conf/experiment/`), every one run over "
        f"seeds {seeds or '—'} and judged on the quantity the claim is about, made by "
        "`python -m studies.claims --jobs 2`. Each claim's section names its budget: the slice of "
        "the shipped data, the model and the epochs; these are small on purpose, so that the "
        "whole page is remade in about half an hour on 2 CPU cores, and a claim may hold or fail "
        f"differently at full size. Stored: {len(every)} runs of {len(by_preset)} presets, "
        f"{trained / 60:.0f} min of training epochs in all.",
        "",
        *([f"**A smoke run: {SMOKE_EPOCHS} epochs a run, too few to measure anything; it checks "
           "the plumbing only.**", ""] if smoke else []),
        f"*Method.* {METHOD} The learning curves' measures, the best val loss, the epochs run, "
        "MASE and skill are judged by the same test over the same finished seeds (lower is "
        "better for each but skill and accuracy). A variant's plain verdict reads its decisive "
        "quantities: *borne out* when they move the way the claim expects beyond seed noise, "
        "*the opposite here* when they move the other way, *not borne out here* otherwise.",
        "",
        "*Judged on.* Each variant by what its claim is about:",
        "",
        *[f"- **{k}** ({', '.join(keys) or '—'}): {WHY[k]}" for k, keys in kinds.items()],
        "",
        "Curve measures, as `lstm_doctor.base.curve_measures` defines them (lower is better):",
        "",
        *[f"- `{n}`: {text}" for n, text in DEFINITIONS.items()],
        "",
        "Skill is 1 − error / the error of **the best** of the run's baselines on the same test "
        "windows (persistence, seasonal naive at every season the data shows, a ridge "
        "regression on the same input window; for classifiers the majority class and a "
        "logistic regression); MASE scales test MAE by the seasonal-naive MAE on the training "
        "span.",
        "",
        "| claim | variant | expected | judged on | mean ± sd (variant vs baseline) | Welch vs baseline | verdict | seeds ok (variant · baseline) |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    sections: list[str] = []
    for claim in CLAIMS:
        rows, section = claim_section(claim, by_preset, figures, page)
        lines += rows
        sections += section
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join([*lines, "", *sections]).rstrip() + "\n")
    print(f"wrote {page} and its figures in {figures}")


def main() -> None:
    # Welch on near-identical seeds (a curve measure that is the same integer in each) warns.
    warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
    keys = [c.key for c in CLAIMS]
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--report", action="store_true", help="only rewrite the page from stored runs"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=keys,
        metavar="CLAIM",
        help=f"claims to (re)run: {', '.join(keys)}",
    )
    parser.add_argument("--seeds", default=SEEDS, help=f"comma-separated seeds (default {SEEDS})")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_EPOCHS} epochs a run (the page says so): checks the plumbing, measures nothing",
    )
    parser.add_argument("--out", type=Path, help="the page (default studies/claims/README.md)")
    args = parser.parse_args()
    # A smoke run must not replace the real runs, nor the page made from them.
    db, page = ("claims_smoke.db", ROOT / "multirun" / "claims" / "smoke.md") if args.smoke else (
        "claims.db", ROOT / "studies" / "claims" / "README.md")  # fmt: skip
    store = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{ROOT / 'studies' / 'claims' / db}")
    if not args.report:
        claims = [c for c in CLAIMS if not args.only or c.key in args.only]
        extra = [f"training.epochs={SMOKE_EPOCHS}"] if args.smoke else []
        run_presets(store, presets_of(claims), args.seeds, args.jobs, extra)
    write_page(store, (args.out or page).resolve())


if __name__ == "__main__":
    main()
