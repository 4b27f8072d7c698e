"""`lstm-doctor fix <run id | last>`: prove (or disprove) a diagnosis's prescriptions.

Reruns the diagnosed configuration, each prescribed fix alone and the top fixes combined,
over several seeds (in parallel here, or as tasks on a Ray cluster with --backend ray),
under one MLflow parent run; then writes the comparison report (fixes/<name>/report.html)
and says, per fix: improved beyond seed noise, no clear change, or worse.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lstm_doctor.config import TrackingConfig
from lstm_doctor.config.overrides import key_of, merge
from lstm_doctor.errors import DoctorError, Interrupted

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

    from lstm_doctor import comparison_report
    from lstm_doctor.commands.cluster import connect
    from lstm_doctor.commands.settings import tracking_settings
    from lstm_doctor.config import validate
    from lstm_doctor.doctor.proof import judged_on, why_metric
    from lstm_doctor.doctor.report import prescriptions
    from lstm_doctor.pipeline.run import signals_stop_the_workers
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
        "--backend", choices=["loky", "ray"], default="loky",
        help="where the runs go: worker processes here (loky), or Ray tasks on a cluster",
    )  # fmt: skip
    parser.add_argument(
        "--address", help="the Ray cluster (default: RAY_ADDRESS, else one `ray start` "
        "started on this machine, else a new local one)",
    )  # fmt: skip
    parser.add_argument(
        "--stop-at-first", action="store_true", help="stop at the first fix that improves"
    )
    parser.add_argument(
        "--metric",
        help="the logged metric to judge the fixes on (default: the one the first fix is "
        "meant to move; see doctor/proof.py)",
    )
    parser.add_argument("--out", help="report folder (default fixes/<run id>)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the last fix of this run: configuration x seed pairs that finished "
        "under it are kept, only the rest run",
    )
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
    logged_cfg = validate(logged)
    tracking_cfg = replace(tracking_cfg, experiment=logged_cfg.tracking.experiment)
    code, proving = judged_on(diagnosis, fixes[0], logged_cfg.dataset.task)
    metric = args.metric or proving
    variants = plan(base, fixes, args.max_runs, args.seeds)
    if args.backend == "ray":  # before the parent run: a cluster that does not answer stops here
        connect({"address": args.address}, uri)
    parent, name, done = _parent_run(tracking_cfg, run_id, fixes, args.resume)
    out = Path(args.out or Path("fixes") / name)
    print(f"diagnosis of {run_id}: {', '.join(diagnosis['codes'])}")
    print(f"proving {len(variants) - 1} prescriptions x {args.seeds} seeds (parent run {parent})")
    if done:
        print(f"resuming: {len(done)} runs finished before are kept, not rerun")
    print(f"judged on {metric or 'the test metric'}: {why_metric(code, metric)}")

    settled: list[str] = []

    def settle(signal_name: str) -> None:
        if settled:
            return
        settled.append(signal_name)
        counts = sweeps.end_interrupted(tracking_cfg, parent, signal_name)
        print(
            f"fix stopped by {signal_name}: {counts['finished']} runs finished, "
            f"{counts['killed']} killed, {counts['failed']} failed; parent run {parent} is "
            f"KILLED. Resume with: lstm-doctor fix {run_id} --resume",
            file=sys.stderr,
            flush=True,
        )

    restore = signals_stop_the_workers(settle)
    try:
        _run_batches(variants, args, out, parent, name, run_id, uri, tracking_cfg, done, metric)
    except Interrupted as exc:  # with --jobs 1 a run in this process took the signal itself
        settle(exc.signal_name)
        raise
    finally:
        restore()
    counts = sweeps.finish_sweep_run(tracking_cfg, parent)
    _, runs = queries.find_runs(tracking_cfg, name)
    summaries = comparison_report.write_report(
        f"Fixes for run {run_id}", runs, out, ORIGINAL, metric
    )
    print(
        f"{counts['jobs']} runs ({counts['finished']} finished, {counts['failed']} failed, "
        f"{counts['killed']} killed)"
    )
    for s in summaries:
        verdict = (
            "baseline (the diagnosed configuration)" if s.name == ORIGINAL else _plain(s.verdict)
        )
        spread = f"{s.metric} {s.mean:.4g} ± {s.std:.2g}" if s.values else "no finished run"
        print(f"  {s.name:<50} {spread:<28} {verdict}")
    print(f"report: {out / 'report.html'}")


def _parent_run(
    tracking_cfg: TrackingConfig, run_id: str, fixes: list[str], resume: bool
) -> tuple[str, str, dict[str, str]]:
    """The proof's parent run, its name and the runs already finished under it: the last
    fix of this run reopened (--resume), else a new one."""
    from lstm_doctor.tracking import sweeps

    if resume:
        parent = sweeps.latest_parent(tracking_cfg, "fix_of", run_id)
        if parent is None or not sweeps.reopen(tracking_cfg, parent):
            raise DoctorError(
                f"run {run_id} has no earlier fix to resume; run `lstm-doctor fix {run_id}` "
                "without --resume"
            )
        name = sweeps.sweep_name(tracking_cfg, parent)
        return parent, name, sweeps.finished_children(tracking_cfg, parent, key="varied")
    name = f"fix-{run_id[:8]}-{time.strftime('%H%M%S')}"
    parent = sweeps.start_sweep_run(
        tracking_cfg, name, [f"fix of {run_id}", *fixes], tags={"fix_of": run_id}
    )
    return parent, name, {}


def _run_batches(
    variants: list[Variant],
    args: argparse.Namespace,
    out: Path,
    parent: str,
    name: str,
    run_id: str,
    uri: str,
    tracking_cfg: TrackingConfig,
    done: dict[str, str],
    metric: str | None,
) -> None:
    """Run every variant x seed not in `done`, in parallel; with --stop-at-first, the
    original first, then one fix at a time until one improves beyond seed noise on
    `metric`."""
    from joblib import Parallel, delayed

    from lstm_doctor import comparison
    from lstm_doctor.commands.cluster import as_ray_tasks
    from lstm_doctor.commands.progress import track
    from lstm_doctor.commands.settings import conf_dir
    from lstm_doctor.tracking import queries

    seeds = range(args.seeds)
    batches = [[variants[0]]] + [[v] for v in variants[1:]] if args.stop_at_first else [variants]
    conf = str(conf_dir())
    for batch in batches:
        first = variants.index(batch[0])
        todo = [
            (first + i, v, s)
            for i, v in enumerate(batch)
            for s in seeds
            if f"{v.label} seed={s}" not in done
        ]
        calls = [(v, s, out / "runs" / f"{k}_{s}", parent, name, conf, uri, run_id)
                 for k, v, s in todo]  # fmt: skip
        if args.backend == "ray":
            outcomes = as_ray_tasks(run_variant, calls, args.jobs, args.address, uri)
        else:
            outcomes = Parallel(n_jobs=args.jobs, backend="loky", return_as="generator_unordered")(
                delayed(run_variant)(*call) for call in calls
            )
        for _ in track(outcomes, len(todo), "fix"):
            pass
        if args.stop_at_first and batch[0].label != ORIGINAL:
            _, runs = queries.find_runs(tracking_cfg, name)
            summaries, _ = comparison.summarise(runs, baseline=ORIGINAL, metric=metric)
            if any(s.verdict == "better beyond seed noise" for s in summaries):
                print(f"stopping: {batch[0].label} improved beyond seed noise")
                break


def _plain(verdict: str) -> str:
    return {
        "better beyond seed noise": "improved beyond seed noise",
        "worse beyond seed noise": "worse",
    }.get(verdict, verdict)
