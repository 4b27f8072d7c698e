"""What every run pays besides its training, part by part, each against the way it was paid
before, measured in the same run.

    python bench/run_constants.py [--repeats 5]

- **start-up**: a fresh process importing what a training run needs (Keras on TensorFlow,
  MLflow, the pipeline, the doctor), against a bare `python -c pass`; with TensorFlow left to
  import JAX (its TFLite converter does whenever JAX is installed) and without (what
  `stages/keras_env` does).
- **a new store**: a fresh process opening a new SQLite MLflow store (MLflow creates and
  migrates its tables) against one opening a store that exists.
- **a run's figures**: the three PNGs and five SVGs of one run (curves, predictions, lead
  time; the diagnosis page's loss, monitors, autocorrelation, distribution, test span) with
  matplotlib's `tight_layout` against the fixed margins they use (`base/figure_layout`).

Prints the medians (wall seconds; CPU seconds for the processes) and the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACK = (
    "import lstm_doctor.pipeline.in_process, lstm_doctor.stages.train, "
    "lstm_doctor.doctor.diagnosis, mlflow.keras"
)
STARTS = {
    "bare python": "pass",
    "training stack, TensorFlow imports JAX": f"import tensorflow\n{STACK}",
    "training stack, without JAX (keras_env)": f"from lstm_doctor.stages import keras_env\n{STACK}",
}


def process_seconds(code: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh `python -c code`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, **(env or {})})  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def starts(repeats: int) -> None:
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in STARTS}
    for _ in range(repeats):  # alternating, so a burst of other load lands on all alike
        for label, code in STARTS.items():
            samples[label].append(process_seconds(code))
    bare = medians(samples["bare python"])
    print("start-up (median wall / CPU seconds; over the bare start)")
    for label, runs in samples.items():
        wall, cpu = medians(runs)
        print(f"  {label:<42} {wall:5.2f} s / {cpu:5.2f} s CPU   "
              f"(+{wall - bare[0]:.2f} s / +{cpu - bare[1]:.2f} s CPU)")  # fmt: skip
    with_jax = medians(samples["training stack, TensorFlow imports JAX"])
    without = medians(samples["training stack, without JAX (keras_env)"])
    print(f"  without JAX / with: wall {without[0] / with_jax[0]:.3f}, "
          f"CPU {without[1] / with_jax[1]:.3f}")  # fmt: skip


def stores(repeats: int) -> None:
    code = (
        "import os\nfrom mlflow.tracking import MlflowClient\n"
        "MlflowClient(os.environ['URI']).search_experiments()"
    )
    new, existing = [], []
    with tempfile.TemporaryDirectory() as tmp:
        made = f"sqlite:///{tmp}/made.db"
        process_seconds(code, {"URI": made})
        for i in range(repeats):
            new.append(process_seconds(code, {"URI": f"sqlite:///{tmp}/new{i}.db"}))
            existing.append(process_seconds(code, {"URI": made}))
    (nw, nc), (ew, ec) = medians(new), medians(existing)
    print("a store (median wall / CPU seconds of a process opening it)")
    print(f"  new SQLite store (tables made and migrated)  {nw:5.2f} s / {nc:5.2f} s CPU")
    print(f"  existing store                               {ew:5.2f} s / {ec:5.2f} s CPU")
    print(f"  a new store's own cost: +{nw - ew:.2f} s / +{nc - ec:.2f} s CPU")


def figures(repeats: int) -> None:
    import numpy as np
    import pandas as pd

    from lstm_doctor.doctor import html_plots, html_results
    from lstm_doctor.stages import plots

    epochs = 30
    falling = np.linspace(1.0, 0.1, epochs)
    history = pd.DataFrame({"epoch": range(epochs), "loss": falling, "val_loss": falling + 0.1,
                            "mae": falling, "val_mae": falling + 0.1})  # fmt: skip
    monitors = pd.DataFrame({"grad_norm": falling, "grad_norm/lstm_0": falling,
                             "grad_norm/output": falling, "update_ratio/lstm_0": falling / 100,
                             "update_ratio/output": falling / 100,
                             "step_ratio/lstm_0": falling / 1000})  # fmt: skip
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(3000) / 24 * 2 * np.pi) + rng.normal(size=3000) * 0.1
    frame = pd.DataFrame({"time": pd.date_range("2020", periods=400, freq="h"),
                          **{c: series[:400] for c in ("actual", "model", "seasonal_naive",
                                                       "persistence", "linear")}})  # fmt: skip
    marks = {3: [("train.slow_convergence", "warning")]}
    bounds = {"train": [0, 2000], "val": [2000, 2500], "test": [2500, 3000]}
    leads = {"model": [1.0, 2.0, 3.0, 4.0], "linear": [1.0, 2.0, 3.0, 5.0]}

    def draw(folder: Path) -> None:
        plots.plot_curves(history, folder / "curves.png")
        plots.plot_predictions(frame, folder / "predictions.png")
        plots.plot_lead_time(leads, folder / "lead_time.png")
        html_plots.loss_svg(history, marks)
        html_plots.monitor_svg(monitors, marks)
        html_plots.acf_svg(series, [24, 168], 24)
        html_plots.distribution_svg(series, bounds, "y")
        html_results.test_span_svg(frame, "linear")

    def tight(fig: object, **margins: float) -> None:
        fig.tight_layout()  # type: ignore[attr-defined]

    fixed = plots.fixed_margins
    timed: dict[str, list[float]] = {"tight_layout": [], "fixed margins": []}
    with tempfile.TemporaryDirectory() as tmp:
        draw(Path(tmp))  # first-use costs (fonts, caches) out of the timing
        for _ in range(repeats):
            for label, layout in (("tight_layout", tight), ("fixed margins", fixed)):
                for module in (plots, html_plots, html_results):
                    module.fixed_margins = layout  # type: ignore[attr-defined]
                start = time.perf_counter()
                draw(Path(tmp))
                timed[label].append(time.perf_counter() - start)
    for module in (plots, html_plots, html_results):
        module.fixed_margins = fixed  # type: ignore[attr-defined]
    before, after = (statistics.median(timed[k]) for k in ("tight_layout", "fixed margins"))
    print("a run's 8 figures (median wall seconds, in this process)")
    print(f"  tight_layout {before:.3f} s, fixed margins {after:.3f} s: ratio {after / before:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    starts(args.repeats)
    stores(args.repeats)
    figures(args.repeats)


if __name__ == "__main__":
    main()
