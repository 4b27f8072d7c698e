"""Check the MLflow UI as a person sees it: serve a store on 127.0.0.1, open it in headless
Chromium, assert the runs and their curves are on the page, and save screenshots.

`lstm-doctor ui-check --store sqlite:///mlflow.db [--sweep NAME] --out ui-check/` writes
runs.png, compare.png and curves.png into --out. Needs Debian's `chromium`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from lstm_doctor.base.errors import DoctorError
from lstm_doctor.tracking.server_process import free_port, mlflow_server

# Without the background-networking flags Chromium keeps dialling out, which a closed
# network refuses many times over; nothing here needs more than the loopback address.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=20000",
]


class UICheckFailed(DoctorError):
    """The page did not show what the store holds."""


def chromium() -> str | None:
    """The Chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def render(url: str, screenshot: Path, width: int = 1600, height: int = 1000) -> str:
    """Load the page in headless Chromium; save a screenshot and return the rendered DOM."""
    binary = chromium()
    if binary is None:
        raise UICheckFailed("chromium not found; install it: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        subprocess.run(
            [binary, *flags, f"--screenshot={screenshot}", url],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        dom = subprocess.run(
            [binary, *flags, "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    if not screenshot.exists():
        raise UICheckFailed(f"chromium saved no screenshot of {url}")
    return dom.stdout


def _ids(values: list[str]) -> str:
    return urllib.parse.quote(json.dumps(values, separators=(",", ":")), safe="[],")


def check_ui(
    store_uri: str, out: Path, experiment: str = "lstm-doctor", sweep: str | None = None
) -> dict:
    """Open the runs table, the compare view and the val_loss curves of the runs.

    Returns:
        What was checked: run count, the pages and screenshots.
    """
    from lstm_doctor.tracking.queries import run_page_facts, runs_with_curves

    found = runs_with_curves(store_uri, experiment, sweep)
    if found is None:
        raise UICheckFailed(f"no experiment '{experiment}' in {store_uri}")
    if not found.run_ids:
        raise UICheckFailed(
            f"no runs with curves in '{experiment}'" + (f" sweep {sweep}" if sweep else "")
        )
    out.mkdir(parents=True, exist_ok=True)
    exp_id, ids, names = found.experiment_id, found.run_ids, found.run_names
    # The run page shown: one with a registered model version if any run has one.
    facts_by_run = {run_id: run_page_facts(store_uri, run_id) for run_id in ids}
    shown_run = next((r for r in ids if facts_by_run[r]["registered_models"]), ids[0])
    with mlflow_server(store_uri, free_port()) as base:
        pages = {
            "runs": f"{base}/#/experiments/{exp_id}/runs",
            "compare": f"{base}/#/compare-runs?runs={_ids(ids)}&experiments={_ids([exp_id])}",
            "curves": (
                f"{base}/#/metric?runs={_ids(ids)}&metric=%22val_loss%22&experiments={_ids([exp_id])}"
                "&plot_metric_keys=%5B%22val_loss%22%5D&x_axis=step"
            ),
            "run": f"{base}/#/experiments/{exp_id}/runs/{shown_run}",
        }
        doms = {name: render(url, out / f"{name}.png", height=2000 if name == "compare" else 1400)
                for name, url in pages.items()}  # fmt: skip
    if experiment not in doms["runs"]:
        raise UICheckFailed("the runs table does not show the experiment")
    missing = [n for n in names if n not in doms["compare"]]
    if missing:
        raise UICheckFailed(f"the compare view lacks runs {missing[:3]}")
    if "val_loss" not in doms["compare"] or "loss" not in doms["compare"]:
        raise UICheckFailed("the compare view lists no loss metrics")
    if "js-plotly-plot" not in doms["curves"]:
        raise UICheckFailed("the val_loss page drew no chart")
    # The curves page tabulates each run's latest value with its step: one row a run.
    steps = doms["curves"].count("(step=")
    if steps < len(ids):
        raise UICheckFailed(f"the val_loss chart lists {steps} curve values for {len(ids)} runs")
    # The run's own page: its name, what fed it (datasets), what the doctor said (the
    # description) and the model versions registered from it, as MLflow shows them.
    facts = facts_by_run[shown_run]
    shown = [names[ids.index(shown_run)], *facts["datasets"], *facts["registered_models"]]
    if facts["description"]:
        shown.append(str(facts["description"]))
    absent = [item for item in shown if item not in doms["run"]]
    if absent or not facts["datasets"]:
        raise UICheckFailed(f"the run page lacks {absent or 'any dataset'}")
    return {
        "runs": len(ids),
        "run_page": facts,
        "pages": pages,
        "screenshots": sorted(p.name for p in out.glob("*.png")),
    }


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor ui-check --store URI [--sweep NAME] [--out DIR]."""
    parser = argparse.ArgumentParser(prog="lstm-doctor ui-check", description=__doc__)
    parser.add_argument("--store", help="the MLflow store (default: the pipeline's own)")
    parser.add_argument("--experiment", help="the experiment (default: the pipeline's own)")
    parser.add_argument("--sweep", help="only the runs of this sweep (its folder name)")
    parser.add_argument("--out", default="ui-check", help="where the screenshots go")
    args = parser.parse_args(argv)
    from lstm_doctor.config.settings import tracking_settings
    from lstm_doctor.tracking.store import tracking_uri

    # The defaults are the pipeline's own: tracking.* composed from conf/.
    settings = tracking_settings()
    args.store = args.store or tracking_uri(settings)
    args.experiment = args.experiment or settings.experiment
    result = check_ui(args.store, Path(args.out), args.experiment, args.sweep)
    print(f"MLflow UI shows {result['runs']} runs with their curves; screenshots in {args.out}/: "
          + ", ".join(result["screenshots"]))  # fmt: skip
    for name, url in result["pages"].items():
        print(f"  {name}: {url}")
