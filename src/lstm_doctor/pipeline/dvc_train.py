"""DVC's train stage (`python -m lstm_doctor.pipeline.dvc_train`): opens the pipeline's MLflow
run, trains in it and ends it; evaluate resumes it by the id saved in models/run.json."""

from __future__ import annotations

from lstm_doctor.base.errors import report_errors
from lstm_doctor.pipeline.run import from_params, owning_the_run
from lstm_doctor.pipeline.training import train_step
from lstm_doctor.tracking import lifecycle, provenance


def train_in_new_run() -> None:
    """params.yaml's run: train stage."""
    cfg, paths, overrides = from_params()
    # Named after what it is: the overrides that set it apart from conf/'s defaults (a DVC
    # experiment's own name wins, as `dvc exp show` lists it).
    name = " ".join(overrides) or "defaults"
    with owning_the_run(
        lambda: lifecycle.start_run(cfg, provenance.run_tags(cfg), run_name=name), paths
    ):
        train_step(cfg, paths, overrides)


def main() -> None:
    """DVC entry point."""
    report_errors(train_in_new_run)


if __name__ == "__main__":
    main()
