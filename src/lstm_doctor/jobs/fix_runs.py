"""The runs of a proof: one configuration x seed per worker process (or Ray task), each its
own MLflow child run under the proof's parent run, and the parent opened or reopened."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from lstm_doctor.base.errors import DoctorError
from lstm_doctor.config import TrackingConfig
from lstm_doctor.config.overrides import key_of, merge
from lstm_doctor.config.prescriptions import setting

ORIGINAL = "original"
SCREENED = "screen round "


@dataclass
class Variant:
    """One configuration to run: a label (the fix, or `original`) and its full overrides."""

    label: str
    overrides: list[str]


@dataclass(frozen=True)
class ProofJob:
    """Where a proof's runs go: the command's arguments (seeds, jobs, backend), its output
    folder, its MLflow parent run and sweep name, the diagnosed run, and the store."""

    args: argparse.Namespace
    out: Path
    parent: str
    name: str
    run_id: str
    uri: str
    tracking_cfg: TrackingConfig


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
    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.in_process import run_pipeline

    cfg = validate(compose_config([*variant.overrides, setting("seed", seed)], conf_dir=conf_dir))
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


def parent_run(
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


def run_batches(job: ProofJob, variants: list[Variant], done: dict[str, str], metric: str) -> None:
    """Run every variant x seed not in `done`, in parallel; with --stop-at-first, the
    original first, then one fix at a time until one improves beyond seed noise on
    `metric` (over the common validation targets)."""
    from lstm_doctor.comparison import judging, selection
    from lstm_doctor.config.settings import conf_dir
    from lstm_doctor.tracking import queries

    args, out, parent, name = job.args, job.out, job.parent, job.name
    run_id, uri, tracking_cfg = job.run_id, job.uri, job.tracking_cfg
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
        launch(calls, args, uri, "fix")
        if args.stop_at_first and batch[0].label != ORIGINAL:
            _, runs = queries.find_runs(tracking_cfg, name)
            proof = selection.prove(runs, tables(tracking_cfg, runs), metric, ORIGINAL)
            # Stopping at the first success is sound at alpha / (number of fixes planned):
            # Bonferroni's bound holds whatever order the fixes are tried in.
            bound = judging.ALPHA / max(1, len(variants) - 1)
            summary = next(s for s in proof.summaries if s.name == batch[0].label)
            if summary.verdict.startswith("better") and (summary.p_raw or 1.0) < bound:
                print(f"stopping: {batch[0].label} improved beyond seed noise "
                      f"(p={summary.p_raw:.3g} < {bound:.3g})")  # fmt: skip
                break


def tables(tracking_cfg: TrackingConfig, runs: list) -> dict:
    from lstm_doctor.tracking import queries

    return queries.target_tables(tracking_cfg, [r.run_id for r in runs if r.status == "FINISHED"])


def launch(calls: list[tuple], args: argparse.Namespace, uri: str, what: str) -> None:
    """Run `run_variant` on each call's arguments: worker processes here, or Ray tasks."""
    from joblib import Parallel, delayed

    from lstm_doctor.jobs.cluster import as_ray_tasks
    from lstm_doctor.jobs.run_progress import track

    if args.backend == "ray":
        outcomes = as_ray_tasks(run_variant, calls, args.jobs, args.address, uri)
    else:
        outcomes = Parallel(n_jobs=args.jobs, backend="loky", return_as="generator_unordered")(
            delayed(run_variant)(*call) for call in calls
        )
    for _ in track(outcomes, len(calls), what):
        pass


def screen_round(
    job: ProofJob, changes: list[str], epochs: int, number: int, base: list[str]
) -> dict[str, float]:
    """One round of the screen: the original ('') and each change for `epochs` epochs on
    seed 0, as children of the proof's parent (their own sweep name, so the proof never
    counts them); returns each one's val MAE (or error rate) on the common val targets."""
    from lstm_doctor.comparison.selection import add_common_scores
    from lstm_doctor.config.settings import conf_dir
    from lstm_doctor.tracking import queries

    out, parent, run_id, uri = job.out, job.parent, job.run_id, job.uri
    sweep = f"{job.name}-screen{number + 1}"
    # Labelled apart from the proof's runs, so --resume never takes one for a proof's run.
    variants = [Variant(f"{SCREENED}{number + 1}: {change or ORIGINAL}",
                        merge(merge(base, change), setting("training.epochs", epochs)))
                for change in changes]  # fmt: skip
    calls = [(v, 0, out / "screen" / f"{number}_{k}", parent, sweep, str(conf_dir()), uri, run_id)
             for k, v in enumerate(variants)]  # fmt: skip
    launch(calls, job.args, uri, f"screen round {number + 1} ({epochs} epochs)")
    _, runs = queries.find_runs(job.tracking_cfg, sweep)
    add_common_scores(runs, tables(job.tracking_cfg, runs))
    scores = {}
    for run in runs:
        label = run.overrides.rsplit(" seed=", 1)[0].split(": ", 1)[-1]
        value = run.metrics.get("val_common_mae")
        if value is None and "val_common_accuracy" in run.metrics:
            value = 1 - run.metrics["val_common_accuracy"]
        if value is not None:
            scores["" if label == ORIGINAL else label] = value
    return scores
