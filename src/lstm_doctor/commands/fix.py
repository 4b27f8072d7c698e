"""`lstm-doctor fix <run id | last>`: prove (or disprove) a diagnosis's prescriptions.

Reruns the diagnosed configuration, each prescribed fix alone and the top fixes combined,
over several seeds (in parallel here, or as tasks on a Ray cluster with --backend ray),
under one MLflow parent run; then writes the comparison report (fixes/<name>/report.html)
and says, per fix: improved beyond seed noise, no clear change, or worse.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_doctor.base.errors import ConfigError, Interrupted

if TYPE_CHECKING:
    from lstm_doctor.config import Config
    from lstm_doctor.jobs.fix_runs import ProofJob


def diagnosed_overrides(logged: dict, stated: list[str]) -> list[str]:
    """Overrides that compose to the configuration the run logged: the ones its diagnosis
    states when they still do, else rebuilt from the logged values (a run made by
    `dvc repro` or `dvc exp run -S` states none; conf/ may have changed since)."""
    from lstm_doctor.config import validate
    from lstm_doctor.config.overrides import composes_to, reproduce
    from lstm_doctor.config.settings import conf_dir

    cfg = validate(logged)
    if composes_to(stated, cfg, conf_dir()):
        return stated
    return reproduce(cfg, conf_dir())


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor fix <run id | last> [options]."""
    parser = argparse.ArgumentParser(prog="lstm-doctor fix", description=__doc__)
    parser.add_argument("run", help="an MLflow run id, or `last` for the latest diagnosed run")
    parser.add_argument(
        "--seeds", type=int, default=3,
        help="seeds per configuration (2 or more to tell a fix from seed noise; 3 recommended)",
    )  # fmt: skip
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
        choices=["mae", "accuracy", "balanced_accuracy"],
        help="what to judge the fixes on, over the targets every run shares (default: mae "
        "for forecasts; accuracy for classifiers, balanced_accuracy for a rare class)",
    )
    parser.add_argument("--out", help="report folder (default fixes/<run id>)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the last fix of this run: configuration x seed pairs that finished "
        "under it are kept, only the rest run",
    )
    parser.add_argument(
        "--screen", choices=["auto", "on", "off"], default="auto",
        help="screen candidate changes by successive halving before the proof (auto: when "
        "the model loses to a baseline and no specific cause explains it)",
    )  # fmt: skip
    parser.add_argument(
        "settings", nargs="*", help="tracking.* overrides naming the store, as for the pipeline"
    )
    args = parser.parse_args(argv)
    check_arguments(args)
    # Loaded after the arguments are read, so `fix --help` and a bad count answer at once.
    from dataclasses import replace

    from lstm_doctor.comparison import page, selection
    from lstm_doctor.comparison.selection import measure_for
    from lstm_doctor.config import validate
    from lstm_doctor.config.settings import tracking_settings
    from lstm_doctor.doctor.proof import HONESTY, judged_on, why_metric
    from lstm_doctor.doctor.report import prescriptions
    from lstm_doctor.jobs import fix_runs, fix_screen
    from lstm_doctor.jobs.cluster import connect
    from lstm_doctor.jobs.fix_runs import ORIGINAL, plan
    from lstm_doctor.pipeline.run import signals_stop_the_workers
    from lstm_doctor.tracking import queries, store, sweeps

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
    codes = [c for fix in fixes if (c := judged_on(diagnosis, fix, logged_cfg.dataset.task)[0])]
    measure = args.metric or measure_for(logged_cfg.dataset.task, codes)
    if args.backend == "ray":  # before the parent run: a cluster that does not answer stops here
        connect({"address": args.address}, uri)
    parent, name, done = fix_runs.parent_run(tracking_cfg, run_id, fixes, args.resume)
    out = Path(args.out or Path("fixes") / name)
    job = fix_runs.ProofJob(args, out, parent, name, run_id, uri, tracking_cfg)
    print(f"diagnosis of {run_id}: {', '.join(diagnosis['codes'])}")
    if (args.screen == "auto" and fix_screen.unexplained(diagnosis)) or args.screen == "on":
        try:
            fixes = _screened(job, fixes, logged_cfg, base, diagnosis.get("ran"))
        except BaseException as exc:
            sweeps.end_failed(tracking_cfg, parent, f"{type(exc).__name__}: {exc}")
            raise
        if not fixes:
            sweeps.finish_sweep_run(tracking_cfg, parent)
            print("no cause found: no candidate change beat the original on the validation "
                  "targets at any budget of the screen")  # fmt: skip
            return
    variants = plan(base, fixes, args.max_runs, args.seeds)
    print(f"proving {len(variants) - 1} prescriptions x {args.seeds} seeds (parent run {parent})")
    if done:
        print(f"resuming: {len(done)} runs finished before are kept, not rerun")
    print(
        f"judged on {measure} over the targets every run shares: chosen on validation, "
        "confirmed on test"
    )
    for code in sorted(set(codes) & HONESTY):
        print(f"  note: {why_metric(code, None)}")

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
        fix_runs.run_batches(job, variants, done, measure)
    except Interrupted as exc:  # with --jobs 1 a run in this process took the signal itself
        settle(exc.signal_name)
        raise
    except BaseException as exc:  # any other end: the parent is never left RUNNING
        if not settled:
            sweeps.end_failed(tracking_cfg, parent, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        restore()
    counts = sweeps.finish_sweep_run(tracking_cfg, parent)
    _, runs = queries.find_runs(tracking_cfg, name)
    proof = selection.prove(runs, fix_runs.tables(tracking_cfg, runs), measure, ORIGINAL)
    page.write_report(
        f"Fixes for run {run_id}", runs, out, ORIGINAL, proof.metric, notes=proof.notes()
    )
    print(
        f"{counts['jobs']} runs ({counts['finished']} finished, {counts['failed']} failed, "
        f"{counts['killed']} killed)"
    )
    for s in proof.summaries:
        verdict = (
            "baseline (the diagnosed configuration)" if s.name == ORIGINAL else _plain(s.verdict)
        )
        spread = f"{s.metric} {s.mean:.4g} ± {s.std:.2g}" if s.values else "no finished run"
        p_value = "" if s.p_value is None else f" (Holm p={s.p_value:.3g})"
        print(f"  {s.name:<50} {spread:<34} {verdict}{p_value}")
    for line in proof.notes():
        print(f"  {line}")
    print(f"report: {(out / 'report.html').resolve()}")


def _screened(
    job: ProofJob, fixes: list[str], cfg: Config, base: list[str], ran: dict | None = None
) -> list[str]:
    """The screen's survivors (kept on the parent run, so --resume proves the same ones)."""
    from lstm_doctor.jobs import fix_runs, fix_screen
    from lstm_doctor.tracking import sweeps

    if job.args.resume:
        kept = sweeps.tag_of(job.tracking_cfg, job.parent, "screen_survivors")
        if kept is not None:
            return [f for f in kept.split(" | ") if f]
    options = fix_screen.candidates(cfg, fixes, ran)

    def train(changes: list[str], epochs: int, number: int) -> dict[str, float]:
        return fix_runs.screen_round(job, changes, epochs, number, base)

    found = fix_screen.screen(options, cfg.training.epochs, train)
    print(found.says())
    sweeps.set_tag(job.tracking_cfg, job.parent, "screen_survivors", " | ".join(found.survivors))
    sweeps.set_tag(job.tracking_cfg, job.parent, "screen", found.says())
    return found.survivors


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse, before any run opens, counts that cannot make a proof and settings fix would
    not use.

    Raises:
        ConfigError: naming the argument and what to give instead.
    """
    # One seed runs (a quick look), but no verdict on noise can come of it: said in the report.
    for flag, value in (("--seeds", args.seeds), ("--top", args.top), ("--jobs", args.jobs)):
        if value < 1:
            raise ConfigError(f"{flag} {value}: give a whole number of at least 1")
    if args.max_runs < 2 * args.seeds:
        raise ConfigError(
            f"--max-runs {args.max_runs} cannot hold the original and one fix at "
            f"--seeds {args.seeds}: give --max-runs {2 * args.seeds} or more"
        )
    unused = [s for s in args.settings if not s.lstrip("+~").startswith("tracking.")]
    if unused:
        raise ConfigError(
            f"'{unused[0]}': fix reruns the diagnosed run's own configuration with each "
            "prescribed fix and takes only tracking.* settings; to try another change, run "
            f"`lstm-doctor {unused[0]} seed=0,1,2 -m` and compare"
        )


def _plain(verdict: str) -> str:
    return {
        "better beyond seed noise": "improved beyond seed noise",
        "worse beyond seed noise": "worse",
    }.get(verdict, verdict)
