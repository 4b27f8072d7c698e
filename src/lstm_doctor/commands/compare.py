"""`lstm-doctor compare <sweep | parent run | DVC experiment | MLflow experiment>`: which
configuration learned better, beyond seed noise; writes comparisons/<name>/report.html."""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor compare <selector> [--baseline OVERRIDES] [--out DIR]."""
    parser = argparse.ArgumentParser(prog="lstm-doctor compare", description=__doc__)
    parser.add_argument(
        "selector",
        help="a sweep's parent run id or name, a DVC experiment, or an MLflow experiment",
    )
    parser.add_argument(
        "--baseline", help="the configuration to compare against (its overrides, seed aside)"
    )
    parser.add_argument(
        "--metric",
        help="the logged metric to compare on, e.g. test_mase or test_balanced_accuracy "
        "(default: test_accuracy for classifiers, test_mae for forecasts, each on the test "
        "targets every run shares: test_common_accuracy, test_common_mae)",
    )
    parser.add_argument("--out", help="output folder (default: comparisons/<selector>)")
    parser.add_argument("--tracking-uri", help="MLflow store (default: as the pipeline's)")
    parser.add_argument(
        "settings", nargs="*", help="tracking.* overrides naming the store, as for the pipeline"
    )
    args = parser.parse_args(argv)
    from dataclasses import replace

    from lstm_doctor.config.settings import only_tracking

    settings = only_tracking(args.settings, "compare")

    # Loaded once the arguments are checked: a refused one answers without MLflow.
    from lstm_doctor.comparison.judging import format_table
    from lstm_doctor.comparison.page import write_report
    from lstm_doctor.comparison.selection import add_common_scores
    from lstm_doctor.tracking.queries import find_runs, target_tables

    if args.tracking_uri:
        settings = replace(settings, uri=args.tracking_uri)
    title, runs = find_runs(settings, args.selector)
    # Scored on the test targets every run shares, where the runs logged theirs.
    finished = [r.run_id for r in runs if r.status == "FINISHED"]
    common = add_common_scores(runs, target_tables(settings, finished))
    notes = [common.says()] if common.shared.get("test") else []
    out = Path(args.out or Path("comparisons") / args.selector.replace("/", "_"))
    summaries = write_report(title, runs, out, args.baseline, args.metric, notes)
    print(format_table(summaries))
    for note in notes:
        print(note)
    print(f"report: {out / 'report.html'}")
