"""`lstm-doctor [overrides]`: the Hydra app running the whole pipeline for each job.

`lstm-doctor dataset=basic_motions`, `lstm-doctor -m optimizer.lr=1e-2,1e-3 seed=0,1,2`.
Each job writes into its own Hydra output folder and logs one MLflow run.
`lstm-doctor show` summarises the last `dvc repro` in this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lstm_doctor.errors import ConfigError, DoctorError, report_errors
from lstm_doctor.project import conf_dir


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

    from lstm_doctor import tracking
    from lstm_doctor.project import tracking_settings
    from lstm_doctor.sweep import read_sweep

    hc = HydraConfig.get()
    sweep = read_sweep(Path(hc.sweep.dir)) or {}
    varied = [o for o in job_overrides() if o not in sweep.get("overrides", [])]
    tags = {"sweep": Path(hc.sweep.dir).name, "varied": " ".join(varied), "error": str(exc)[:500]}
    tracking.record_failed_run(
        tracking_settings(), " ".join(varied), tags, sweep.get("parent_run_id")
    )


def job_overrides() -> list[str]:
    """This job's own overrides (what sets it apart in a sweep), without Hydra's."""
    from hydra.core.hydra_config import HydraConfig

    return [o for o in HydraConfig.get().overrides.task if not o.startswith("hydra")]


def _run_one(raw_cfg: object) -> float:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from lstm_doctor import doctor, tracking
    from lstm_doctor.config import validate
    from lstm_doctor.paths import StagePaths
    from lstm_doctor.pipeline import run_pipeline
    from lstm_doctor.sweep import read_sweep

    cfg = validate(raw_cfg)  # type: ignore[arg-type]
    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)
    overrides = job_overrides()
    tags = {"overrides": " ".join(overrides), "hydra_output_dir": str(output_dir)}
    parent, varied = None, overrides
    if hc.mode == RunMode.MULTIRUN:
        sweep = read_sweep(Path(hc.sweep.dir)) or {}
        parent = sweep.get("parent_run_id")
        # What sets this job apart: its overrides that the sweep's command line did not fix.
        varied = [o for o in overrides if o not in sweep.get("overrides", [])]
        tags |= {"sweep": Path(hc.sweep.dir).name, "sweep_job": str(hc.job.num)}
    tags["varied"] = " ".join(varied)
    result = run_pipeline(
        cfg,
        StagePaths.job(output_dir),
        run_name=" ".join(varied) or "defaults",
        tags=tags,
        parent_run_id=parent,
        overrides=overrides,
    )
    print(summary(result, output_dir, tracking.tracking_uri(cfg.tracking)))
    print(doctor.console_summary(result["diagnosis"]))
    # The sweep objective (Optuna minimises it) is validation loss: tuning on a test metric
    # would leak the test set into the choice of hyperparameters.
    return result["best_val_loss"]


def summary(result: dict, output_dir: Path, uri: str) -> str:
    """A few lines a person reads after a run."""
    model = result["model"]
    if "mae" in model:
        lines = [
            f"test MAE {model['mae']:.4g}  RMSE {model['rmse']:.4g}  sMAPE {model['smape']:.2f}%"
        ]
        for name, errors in result["baselines"].items():
            lines.append(
                f"  {name:<15} MAE {errors['mae']:.4g}  (skill {result['skill'][name]:+.3f})"
            )
    else:
        base = result["baselines"]["majority_class"]["accuracy"]
        lines = [
            f"test accuracy {model['accuracy']:.3f}  balanced {model['balanced_accuracy']:.3f}"
            f"  (majority class {base:.3f})"
        ]
    lines.append(f"outputs: {output_dir}")
    lines.append(f"mlflow run: {result['run_id']}  ({browse_hint(uri)})")
    return "\n".join(lines)


def browse_hint(uri: str) -> str:
    """How to look at a store: a server is opened, a local store is served by `mlflow ui`."""
    if uri.startswith(("http://", "https://")):
        return f"browse: {uri}"
    local = Path(uri.removeprefix("sqlite:///"))
    if uri.startswith("sqlite:///") and local.parent == Path.cwd():
        uri = f"sqlite:///{local.name}"  # as `make ui` serves it from the project root
    return f"browse: mlflow ui --backend-store-uri {uri}"


def show(argv: list[str]) -> None:
    """Summarise the DVC workspace's last run: metrics, baselines and where to look.

    `lstm-doctor show [overrides]`: tracking.* overrides name the store, as for the pipeline.
    """
    from lstm_doctor import tracking
    from lstm_doctor.errors import DataError
    from lstm_doctor.paths import StagePaths, read_json
    from lstm_doctor.project import tracking_settings

    paths = StagePaths.project()
    metrics_file = paths.reports / "metrics.json"
    run_file = paths.models / "run.json"
    for needed in (metrics_file, run_file):
        if not needed.exists():
            # A fresh clone has the committed reports/ but never ran: no model, no MLflow run.
            raise DataError(
                f"{needed} not found: this checkout has not run the pipeline yet; "
                "run `dvc repro` (or `make run`) first"
            )
    settings = tracking_settings(argv)
    uri = tracking.tracking_uri(settings)
    result = read_json(metrics_file)
    result["run_id"] = read_json(run_file)["run_id"]
    print(summary(result, paths.reports, uri))
    diagnosis = paths.reports / "diagnosis.json"
    if diagnosis.exists():
        from lstm_doctor.doctor import console_summary

        print(console_summary(read_json(diagnosis)))
    print("plots: reports/plots/*.png    metrics: dvc metrics show    curves: dvc plots show")
    url = tracking.run_url(settings, result["run_id"])
    if url is None:
        print(f"the run {result['run_id']} is not in {uri} (another store or machine made it)")
    else:
        print(f"browse runs: make ui  (or: {browse_hint(uri).removeprefix('browse: ')}), then")
        print(f"  {url}")


def compare(argv: list[str]) -> None:
    """Compare a sweep's (or experiment's) configurations over seeds: see compare.py."""
    from lstm_doctor.compare import main as compare_main

    compare_main(argv)


def ui_check(argv: list[str]) -> None:
    """Check the MLflow UI in headless Chromium: see ui_check.py."""
    from lstm_doctor.ui_check import main as ui_main

    ui_main(argv)


def fix(argv: list[str]) -> None:
    """Prove a diagnosis's prescriptions over seeds: see fix.py."""
    from lstm_doctor.fix import main as fix_main

    fix_main(argv)


SUBCOMMANDS = {"show": show, "compare": compare, "ui-check": ui_check, "fix": fix}


def check_overrides(argv: list[str]) -> None:
    """Refuse an unknown key, an unknown group option or an unreadable override in one line,
    before Hydra starts (Hydra would say it in several lines, exit status 1). Values are
    validated once, inside the job."""
    from hydra._internal.utils import get_args_parser

    from lstm_doctor.overrides import check

    args, _ = get_args_parser().parse_known_args(argv)
    check(args.overrides, conf_dir())


def main() -> None:
    """Console entry point."""
    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        command = SUBCOMMANDS[sys.argv[1]]
        report_errors(lambda: command(sys.argv[2:]))
        return
    report_errors(lambda: check_overrides(sys.argv[1:]))
    import hydra

    app = hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")(
        lambda cfg: report_errors(lambda: run_job(cfg))
    )
    try:
        app()
    except DoctorError as exc:  # raised while Hydra composes, before a job starts
        print(f"lstm-doctor: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
