"""`lstm-doctor [overrides]`: the Hydra app running the whole pipeline for each job.

`lstm-doctor dataset=basic_motions`, `lstm-doctor -m optimizer.lr=1e-2,1e-3 seed=0,1,2`.
Each job writes into its own Hydra output folder and logs one MLflow run.
`lstm-doctor show` summarises the last `dvc repro` in this folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lstm_doctor.errors import ConfigError, DoctorError, report_errors


def conf_dir() -> Path:
    """conf/ of the project being run: $LSTM_DOCTOR_CONF, ./conf, or the one beside this package."""
    if os.environ.get("LSTM_DOCTOR_CONF"):
        return Path(os.environ["LSTM_DOCTOR_CONF"]).resolve()
    local = Path.cwd() / "conf"
    if (local / "config.yaml").exists():
        return local
    return Path(__file__).resolve().parents[2] / "conf"


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
    from lstm_doctor.config import TrackingConfig
    from lstm_doctor.sweep import read_sweep

    hc = HydraConfig.get()
    sweep = read_sweep(Path(hc.sweep.dir)) or {}
    varied = [o for o in job_overrides() if o not in sweep.get("overrides", [])]
    tags = {"sweep": Path(hc.sweep.dir).name, "varied": " ".join(varied), "error": str(exc)[:500]}
    tracking.record_failed_run(TrackingConfig(), " ".join(varied), tags, sweep.get("parent_run_id"))


def job_overrides() -> list[str]:
    """This job's own overrides (what sets it apart in a sweep), without Hydra's."""
    from hydra.core.hydra_config import HydraConfig

    return [o for o in HydraConfig.get().overrides.task if not o.startswith("hydra")]


def _run_one(raw_cfg: object) -> float:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from lstm_doctor import doctor
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
    print(summary(result, output_dir))
    print(doctor.console_summary(result["diagnosis"]))
    # The sweep objective (Optuna minimises it) is validation loss: tuning on a test metric
    # would leak the test set into the choice of hyperparameters.
    return result["best_val_loss"]


def summary(result: dict, output_dir: Path) -> str:
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
    lines.append(
        f"mlflow run: {result['run_id']}  (browse: mlflow ui --backend-store-uri {_store_hint()})"
    )
    return "\n".join(lines)


def _store_hint() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")


def show(argv: list[str]) -> None:
    """Summarise the DVC workspace's last run: metrics, baselines and where to look."""
    from lstm_doctor import tracking
    from lstm_doctor.config import load_params
    from lstm_doctor.errors import DataError
    from lstm_doctor.paths import StagePaths, read_json

    paths = StagePaths.project()
    metrics_file = paths.reports / "metrics.json"
    if not metrics_file.exists():
        raise DataError(f"{metrics_file} not found; run `dvc repro` (or `make run`) first")
    result = read_json(metrics_file)
    result["run_id"] = read_json(paths.models / "run.json")["run_id"]
    print(summary(result, paths.reports))
    diagnosis = paths.reports / "diagnosis.json"
    if diagnosis.exists():
        from lstm_doctor.doctor import console_summary

        print(console_summary(read_json(diagnosis)))
    print("plots: reports/plots/*.png    metrics: dvc metrics show    curves: dvc plots show")
    print("browse runs: make ui  (or: mlflow ui --backend-store-uri sqlite:///mlflow.db), then")
    print(f"  {tracking.run_url(load_params().tracking, result['run_id'])}")


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


PREFIX = "In 'config': "


def _one_line(message: str) -> str:
    """Hydra's multi-line composition errors, said in one line with what to do."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    first = lines[0]
    if first.startswith("Could not override"):
        key = first.split("'")[1]
        return (
            f"config key '{key}' does not exist; check the spelling "
            "(`lstm-doctor --cfg job` lists every key)"
        )
    headers = [i for i, line in enumerate(lines) if line.startswith("Available options")]
    if headers:
        rest = lines[headers[0] + 1 :]
        end = next((i for i, line in enumerate(rest) if line.endswith(":")), len(rest))
        options = ", ".join(rest[:end])
        return f"{first.removeprefix(PREFIX)}; available: {options}"
    return f"{first} (`lstm-doctor --help` lists the groups)"


def precheck(args: list[str]) -> None:
    """Compose and validate a single run's overrides before Hydra starts a job.

    Hydra reports an unknown override in several lines and exit status 1; this says it in
    one line (status 2). Sweeps and Hydra's own flags are left to Hydra.
    """
    if any(a.startswith("-") or a.startswith("hydra") or "," in a for a in args):
        return
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from lstm_doctor.config import validate
    from lstm_doctor.params import compose_config

    def check() -> None:
        try:
            cfg = compose_config(args, conf_dir=conf_dir())
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(_one_line(str(exc))) from None
        validate(cfg)

    report_errors(check)


def main() -> None:
    """Console entry point."""
    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        command = SUBCOMMANDS[sys.argv[1]]
        report_errors(lambda: command(sys.argv[2:]))
        return
    precheck(sys.argv[1:])
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
