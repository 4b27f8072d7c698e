"""`lstm-doctor show`: the last `dvc repro` of this checkout — metrics beside the baselines,
the diagnosis, and where to look (the MLflow run's page, DVC's metrics and plots)."""

from __future__ import annotations

from lstm_doctor.base.workspace import DIAGNOSIS_JSON, RUN_FILE


def main(argv: list[str]) -> None:
    """Summarise the DVC workspace's last run: metrics, baselines and where to look.

    `lstm-doctor show [overrides]`: tracking.* overrides name the store, as for the pipeline.
    """
    import argparse

    from lstm_doctor.base.workspace import EVALUATION_FILE, StagePaths, read_json

    parser = argparse.ArgumentParser(prog="lstm-doctor show", description=__doc__)
    parser.add_argument(
        "settings", nargs="*", help="tracking.* overrides naming the store, as for the pipeline"
    )
    args = parser.parse_args(argv)
    # Loaded after the arguments are read and checked: `show --help` and a refused argument
    # answer without MLflow.
    from lstm_doctor.base.errors import DataError
    from lstm_doctor.config.settings import only_tracking

    settings = only_tracking(args.settings, "show")

    from lstm_doctor.pipeline.summary import browse_hint, summary
    from lstm_doctor.tracking import queries, store

    paths = StagePaths.project()
    metrics_file = paths.reports / EVALUATION_FILE
    run_file = paths.models / RUN_FILE
    for needed in (metrics_file, run_file):
        if not needed.exists():
            # A fresh clone has the committed reports/ but never ran: no model, no MLflow run.
            raise DataError(
                f"{needed} not found: this checkout has not run the pipeline yet; "
                "run `dvc repro` (or `make run`) first"
            )
    uri = store.tracking_uri(settings)
    result = read_json(metrics_file)
    result["run_id"] = read_json(run_file)["run_id"]
    print(summary(result, paths.reports, uri))
    diagnosis = paths.reports / DIAGNOSIS_JSON
    if diagnosis.exists():
        from lstm_doctor.doctor.report import console_summary

        print(console_summary(read_json(diagnosis)))
    print("plots: reports/plots/*.png    metrics: dvc metrics show    curves: dvc plots show")
    url = queries.run_url(settings, result["run_id"])
    if url is None:
        print(f"the run {result['run_id']} is not in {uri} (another store or machine made it)")
    else:
        print(f"browse runs: make ui  (or: {browse_hint(uri).removeprefix('browse: ')}), then")
        print(f"  {url}")
