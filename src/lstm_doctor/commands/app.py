"""`lstm-doctor [overrides]`: the Hydra app running the whole pipeline for each job.

`lstm-doctor dataset=basic_motions`, `lstm-doctor -m optimizer.lr=1e-2,1e-3 seed=0,1,2`.
Each job writes into its own Hydra output folder and logs one MLflow run.
`lstm-doctor show` summarises the last `dvc repro` in this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lstm_doctor.base.errors import ConfigError, DoctorError, Interrupted, report_errors


def run_job(raw_cfg: object) -> float | None:
    """One Hydra job: validate, run the stages into the job folder, print where to look.

    In a sweep (-m) a failing job is reported in one line and recorded as a FAILED run, and
    the sweep goes on; a single run exits with status 2 instead.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return report_errors(lambda: _run_one(raw_cfg))
    try:
        return _run_one(raw_cfg)
    except Exception as exc:
        overrides = " ".join(job_overrides()) or "(defaults)"
        print(f"lstm-doctor: job {hc.job.num} [{overrides}] failed: {exc}", file=sys.stderr)
        if isinstance(exc, ConfigError):
            _record_invalid_job(exc)
        return float("nan")


def _record_invalid_job(exc: Exception) -> None:
    """A job whose config is invalid never opened a run: record one, FAILED, so the sweep's
    parent counts it and the MLflow UI shows why."""
    from hydra.core.hydra_config import HydraConfig

    from lstm_doctor.config.overrides import unfixed
    from lstm_doctor.config.settings import tracking_settings
    from lstm_doctor.jobs.sweep_callback import read_sweep
    from lstm_doctor.tracking import sweeps

    hc = HydraConfig.get()
    sweep = read_sweep(Path(hc.sweep.dir)) or {}
    varied = unfixed(job_overrides(), sweep.get("overrides", []))
    tags = {"sweep": Path(hc.sweep.dir).name, "varied": " ".join(varied), "error": str(exc)[:500]}
    sweeps.record_failed_run(
        tracking_settings(), " ".join(varied), tags, sweep.get("parent_run_id")
    )


def job_overrides() -> list[str]:
    """This job's own overrides (what sets it apart in a sweep), without Hydra's."""
    from hydra.core.hydra_config import HydraConfig

    return [o for o in HydraConfig.get().overrides.task if not o.startswith("hydra")]


def _run_one(raw_cfg: object) -> float:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from lstm_doctor.config import validate

    # A bad value is told before the pipeline's libraries load (MLflow, pandas, SciPy: ~2 s).
    cfg = validate(raw_cfg)  # type: ignore[arg-type]

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config.overrides import unfixed
    from lstm_doctor.doctor.report import console_summary
    from lstm_doctor.jobs.sweep_callback import already_finished, read_sweep, stopping
    from lstm_doctor.pipeline.in_process import run_pipeline
    from lstm_doctor.pipeline.summary import summary
    from lstm_doctor.tracking import store

    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)
    overrides = job_overrides()
    tags = {"overrides": " ".join(overrides), "hydra_output_dir": str(output_dir)}
    parent, varied = None, overrides
    if hc.mode == RunMode.MULTIRUN:
        if stopping(Path(hc.sweep.dir)):
            print(f"job {hc.job.num}: not started, the sweep is stopping", file=sys.stderr)
            return float("nan")
        done = already_finished(Path(hc.sweep.dir), overrides, cfg)
        if done:
            print(f"job {hc.job.num} [{' '.join(overrides)}]: finished before (run {done}), "
                  "skipped")  # fmt: skip
            return store.best_val_loss(cfg.tracking, done)
        sweep = read_sweep(Path(hc.sweep.dir)) or {}
        parent = sweep.get("parent_run_id")
        # What sets this job apart: its overrides that the sweep's command line did not fix.
        varied = unfixed(overrides, sweep.get("overrides", []))
        tags |= {"sweep": Path(hc.sweep.dir).name, "sweep_job": str(hc.job.num)}
    tags["varied"] = " ".join(varied)
    result = run_pipeline(
        cfg,
        StagePaths.job(output_dir),
        run_name=" ".join(varied) or "defaults",
        tags=tags,
        parent_run_id=parent,
        overrides=overrides,
        # Parallel jobs' epoch lines would interleave: a sweep shows jobs, not epochs.
        progress=hc.mode != RunMode.MULTIRUN,
    )
    print(summary(result, output_dir, store.tracking_uri(cfg.tracking)))
    print(console_summary(result["diagnosis"]))
    # The sweep objective (Optuna minimises it) is validation loss: tuning on a test metric
    # would leak the test set into the choice of hyperparameters.
    return result["best_val_loss"]


# Each command is a module of this package with a main(argv), imported only when called.
SUBCOMMANDS = {
    "show": "show", "compare": "compare", "ui-check": "ui_check", "fix": "fix", "sync": "sync",
    "server": "server", "diagnose": "diagnose", "prove": "prove",
}  # fmt: skip


def check_overrides(argv: list[str]) -> None:
    """Refuse an unknown key, an unknown group option or an unreadable override in one line,
    before Hydra starts (Hydra would say it in several lines, exit status 1). Values are
    validated once, inside the job."""
    from hydra._internal.utils import get_args_parser

    from lstm_doctor.config.overrides import check
    from lstm_doctor.config.settings import conf_dir
    from lstm_doctor.jobs.study import check_storage

    args, _ = get_args_parser().parse_known_args(argv)
    check(args.overrides, conf_dir())
    check_storage(args.overrides)


def main() -> None:
    """Console entry point."""
    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        import importlib

        command = importlib.import_module(f"lstm_doctor.commands.{SUBCOMMANDS[sys.argv[1]]}")
        report_errors(lambda: command.main(sys.argv[2:]))
        return
    if sys.argv[1:] in (["--help"], ["-h"]):
        from lstm_doctor.commands.help import app_help

        print(app_help())
        return
    report_errors(lambda: check_overrides(sys.argv[1:]))
    import warnings

    import hydra

    from lstm_doctor.config.settings import conf_dir

    # hydra-optuna-sweeper still builds Optuna 2's distributions and sampler options, which
    # Optuna 4 runs but warns about at every trial: nothing a user of this app can change.
    warnings.filterwarnings(
        "ignore", category=FutureWarning, module=r"optuna|hydra_plugins\.hydra_optuna_sweeper"
    )

    from lstm_doctor.jobs.sweep_callback import end_interrupted

    # A single run reports its own errors (run_job); in a sweep an Interrupted job, or the
    # sweep's own signal handler, stops the sweep here.
    app = hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")(run_job)
    try:
        app()
    except DoctorError as exc:  # raised while Hydra composes, before a job starts
        print(f"lstm-doctor: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except Interrupted as exc:
        end_interrupted(exc.signal_name)
        raise SystemExit(128 + exc.signal_number) from None


if __name__ == "__main__":
    main()
