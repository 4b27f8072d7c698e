"""DVC's evaluate stage (`python -m lstm_doctor.pipeline.dvc_evaluate`): resumes the run the
train stage opened (models/run.json), evaluates and diagnoses in it."""

from __future__ import annotations

from typing import Any

from lstm_doctor.base.errors import report_errors
from lstm_doctor.base.workspace import RUN_FILE, read_json
from lstm_doctor.doctor.report import console_summary
from lstm_doctor.pipeline.evaluation import evaluate_step
from lstm_doctor.pipeline.run import from_params, owning_the_run
from lstm_doctor.tracking import lifecycle


def evaluate_in_train_run() -> dict[str, Any]:
    """params.yaml's run: evaluate stage, in the run train opened."""
    cfg, paths, overrides = from_params()
    run_id = read_json(paths.models / RUN_FILE)["run_id"]
    with owning_the_run(lambda: lifecycle.resume(cfg.tracking, run_id), paths):
        result = evaluate_step(cfg, paths, overrides)
    return result


def main() -> None:
    """DVC entry point."""
    result = report_errors(evaluate_in_train_run)
    print(console_summary(result["diagnosis"]))


if __name__ == "__main__":
    main()
