"""`lstm-doctor fix <run id | last>`: prove (or disprove) a diagnosis's prescriptions.

Reruns the diagnosed configuration, each prescribed fix alone and the top fixes combined,
over several seeds (in parallel), under one MLflow parent run; then writes the comparison
report (fixes/<name>/report.html) and says, per fix: improved beyond seed noise, no clear
change, or worse.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from lstm_doctor.config.overrides import key_of, merge

ORIGINAL = "original"


@dataclass
class Variant:
    """One configuration to run: a label (the fix, or `original`) and its full overrides."""

    label: str
    overrides: list[str]


def plan(base: list[str], fixes: list[str], max_runs: int, seeds: int) -> list[Variant]:
    """Original, each fix alone, then all fixes combined, cut to the run budget."""
    variants = [Variant(ORIGINAL, list(base))]
    variants += [Variant(fix, merge(base, fix)) for fix in fixes]
    keys = [key_of(part) for fix in fixes for part in fix.split()]
    # Fixes that set the same key cannot be combined: the last would silently win.
    if len(fixes) > 1 and len(keys) == len(set(keys)):
        combined = list(base)
        for fix in fixes:
            combined = merge(combined, fix)
        variants.append(Variant(" + ".join(fixes), combined))
    return variants[: max(1, max_runs // seeds)]


def diagnosed_overrides(logged: dict, stated: list[str]) -> list[str]:
    """Overrides that compose to the configuration the run logged: the ones its diagnosis
    states when they still do, else rebuilt from the logged values (a run made by
    `dvc repro` or `dvc exp run -S` states none; conf/ may have changed since)."""
    from lstm_doctor.commands.settings import conf_dir
    from lstm_doctor.config import validate
    from lstm_doctor.config.overrides import composes_to, reproduce

    cfg = validate(logged)
    if composes_to(stated, cfg, conf_dir()):
        return stated
    return reproduce(cfg, conf_dir())


def run_variant(
    variant: Variant,
    seed: int,
    out: Path,
    parent: str,
    sweep: str,
    conf_dir: str,
    uri: str,
    fix_of: str,
) -> str:
    """One seed of one variant, as its own MLflow child run (runs in a worker process).
    Tagged `fix_of` so that `fix last` never picks one of them."""
    os.environ["MLFLOW_TRACKING_URI"] = uri
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.in_process import run_pipeline
    from lstm_doctor.workspace import StagePaths

    cfg = validate(compose_config([*variant.overrides, f"seed={seed}"], conf_dir=conf_dir))
    varied = f"{variant.label} seed={seed}"
    tags = {
        "sweep": sweep,
        "varied": varied,
        "overrides": " ".join(variant.overrides),
        "fix_of": fix_of,
    }
    try:
        run_pipeline(cfg, StagePaths.job(out), run_name=varied, tags=tags, parent_run_id=parent,
                     overrides=variant.overrides, progress=False)  # fmt: skip
    except Exception as exc:  # recorded as a FAILED run; the comparison counts it
        return f"failed: {exc}"
    return "finished"


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor fix <run id | last> [options]."""
    from dataclasses import replace

    from joblib import Parallel, delayed

    from lstm_doctor import comparison, comparison_report
    from lstm_doctor.commands.progress import track
    from lstm_doctor.commands.settings import conf_dir, tracking_settings
    from lstm_doctor.config import validate
    from lstm_doctor.doctor.report import prescriptions
    from lstm_doctor.tracking import queries, store, sweeps

    parser = argparse.ArgumentParser(prog="lstm-doctor fix", description=__doc__)
    parser.add_argument("run", help="an MLflow run id, or `last` for the latest diagnosed run")
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds per configuration (>= 3 to call noise)"
    )
    parser.add_argument("--top", type=int, default=3, help="how many prescribed fixes to try")
    parser.add_argument("--max-runs", type=int, default=15, help="budget: runs in all")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument(
        "--stop-at-first", action="store_true", help="stop at the first fix that improves"
    )
    parser.add_argument("--out", help="report folder (default fixes/<run id>)")
    parser.add_argument(
        "settings", nargs="*", help="tracking.* overrides naming the store, as for the pipeline"
    )
    args = parser.parse_args(argv)

    tracking_cfg = tracking_settings(args.settings)
    uri = store.tracking_uri(tracking_cfg)
    found = queries.diagnosed_run(tracking_cfg, args.run)
    run_id, diagnosis = found.run_id, found.diagnosis
    fixes = prescriptions(diagnosis, limit=args.top)
    if not fixes:
        print(f"run {run_id} is {diagnosis['verdict']}: nothing prescribed, nothing to prove")
        return
    logged = queries.logged_config(tracking_cfg, run_id)
    base = diagnosed_overrides(logged, diagnosis.get("overrides") or [])
    # The proof lives beside the diagnosed run: its children log to the run's experiment.
    tracking_cfg = replace(tracking_cfg, experiment=validate(logged).tracking.experiment)
    variants = plan(base, fixes, args.max_runs, args.seeds)
    name = f"fix-{run_id[:8]}-{time.strftime('%H%M%S')}"
    out = Path(args.out or Path("fixes") / name)
    parent = sweeps.start_sweep_run(
        tracking_cfg, name, [f"fix of {run_id}", *fixes], tags={"fix_of": run_id}
    )
    print(f"diagnosis of {run_id}: {', '.join(diagnosis['codes'])}")
    print(f"proving {len(variants) - 1} prescriptions x {args.seeds} seeds (parent run {parent})")
    seeds = range(args.seeds)
    # The original first, then one fix at a time, so --stop-at-first can stop between them.
    batches = [[variants[0]]] + [[v] for v in variants[1:]] if args.stop_at_first else [variants]
    conf = str(conf_dir())
    for batch in batches:
        first = variants.index(batch[0])
        outcomes = Parallel(n_jobs=args.jobs, backend="loky", return_as="generator_unordered")(
            delayed(run_variant)(
                v, s, out / "runs" / f"{first + i}_{s}", parent, name, conf, uri, run_id
            )
            for i, v in enumerate(batch)
            for s in seeds
        )
        for _ in track(outcomes, len(batch) * args.seeds, "fix"):
            pass
        if args.stop_at_first and batch[0].label != ORIGINAL:
            _, runs = queries.find_runs(tracking_cfg, name)
            summaries, _ = comparison.summarise(runs, baseline=ORIGINAL)
            if any(s.verdict == "better beyond seed noise" for s in summaries):
                print(f"stopping: {batch[0].label} improved beyond seed noise")
                break
    counts = sweeps.finish_sweep_run(tracking_cfg, parent)
    _, runs = queries.find_runs(tracking_cfg, name)
    summaries = comparison_report.write_report(f"Fixes for run {run_id}", runs, out, ORIGINAL)
    print(f"{counts['jobs']} runs ({counts['failed']} failed)")
    for s in summaries:
        verdict = (
            "baseline (the diagnosed configuration)" if s.name == ORIGINAL else _plain(s.verdict)
        )
        spread = f"{s.metric} {s.mean:.4g} ± {s.std:.2g}" if s.values else "no finished run"
        print(f"  {s.name:<50} {spread:<28} {verdict}")
    print(f"report: {out / 'report.html'}")


def _plain(verdict: str) -> str:
    return {
        "better beyond seed noise": "improved beyond seed noise",
        "worse beyond seed noise": "worse",
    }.get(verdict, verdict)
