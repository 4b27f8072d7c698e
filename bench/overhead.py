"""What the pipeline's training costs over a bare `model.fit`: the real train step (lazy
window batches, the per-epoch MLflow curves, the gradient monitor, saving the model and its
history) against `model.fit` on the same windows.

    python bench/overhead.py [--repeats 7] [--epochs 10] [--rows 8760]

Same data, model, epochs (no early stopping, so both run them all) and seed. The
instrumented side is `pipeline.training.train_step` inside an open MLflow run, exactly as
`dvc repro` and `lstm-doctor` run it (the model is not logged: that is a one-off upload).
Runs alternate plain and instrumented; prints each pair's ratio and the median, in wall
time and in this process' CPU time (all its threads: the background MLflow sender counts).
On a machine shared with other work the CPU ratio is the steadier of the two (another
process' load stretches the wall time of both sides, not their CPU seconds), and so is the
ratio of each side's fastest run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=8760)
    args = parser.parse_args()
    store = tempfile.mkdtemp(prefix="overhead-")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}/mlflow.db"
    os.chdir(ROOT)

    from lstm_doctor.stages import keras_env as backend  # noqa: F401  (before anything imports TensorFlow)

    # isort: split

    import keras

    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.training import train_step
    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import WindowBatches, build_model, make_optimizer
    from lstm_doctor.stages.window import load_windows
    from lstm_doctor.tracking import lifecycle
    from lstm_doctor.workspace import StagePaths

    overrides = [
        f"dataset.max_rows={args.rows}",
        f"training.epochs={args.epochs}",
        "training.early_stopping.enabled=false",
        "tracking.log_model=false",
    ]
    cfg = validate(compose_config(overrides, conf_dir=ROOT / "conf"))
    paths = StagePaths.job(Path(store) / "job")
    for stage in (prepare, scale, window):
        stage.run(cfg, paths)
    windows, meta = load_windows(paths)
    t = cfg.training

    def fit(instrumented: bool) -> tuple[float, float]:
        """Wall and CPU seconds of one fit."""
        if instrumented:
            lifecycle.start_run(cfg, {"bench": "overhead"})
            start, cpu = time.perf_counter(), time.process_time()
            train_step(cfg, paths, [])
            elapsed = time.perf_counter() - start, time.process_time() - cpu
            lifecycle.end_run()
            return elapsed
        keras.utils.set_random_seed(cfg.seed)
        model = build_model(cfg.model, windows["train"].input_shape, meta["horizon"], "forecast")
        model.compile(optimizer=make_optimizer(cfg.optimizer), loss="mse", metrics=["mae"])
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(
            WindowBatches(windows["train"], t.batch_size, True, cfg.seed),
            validation_data=WindowBatches(windows["val"], 256),
            epochs=args.epochs, verbose=0,
        )  # fmt: skip
        return time.perf_counter() - start, time.process_time() - cpu

    # Warm-up, in neither measurement: each side's first-touch costs (imports, the store's
    # tables), and the probe's compiled gradient, which a process traces once per
    # architecture; the cold instrumented run is printed, so that one-off is seen.
    fit(False)
    cold, cold_cpu = fit(True)
    print(f"warm-up: instrumented run in a cold process {cold:.2f} s (CPU {cold_cpu:.1f} s)")
    ratios, cpu_ratios, plains, instrumenteds = [], [], [], []
    for i in range(args.repeats):
        plain, plain_cpu = fit(False)
        instrumented, instrumented_cpu = fit(True)
        plains.append(plain)
        instrumenteds.append(instrumented)
        ratios.append(instrumented / plain)
        cpu_ratios.append(instrumented_cpu / plain_cpu)
        print(f"run {i}: plain {plain:.2f} s, instrumented {instrumented:.2f} s, ratio "
              f"{ratios[-1]:.3f} (CPU {plain_cpu:.1f} s, {instrumented_cpu:.1f} s, ratio "
              f"{cpu_ratios[-1]:.3f})", flush=True)  # fmt: skip
    print(f"median ratio instrumented / plain over {args.repeats} runs: "
          f"{statistics.median(ratios):.3f} (CPU {statistics.median(cpu_ratios):.3f})")  # fmt: skip
    # Other work on the machine only ever adds time: each side's fastest run is the one it
    # disturbed least.
    print(f"fastest instrumented / fastest plain: {min(instrumenteds) / min(plains):.3f}")


if __name__ == "__main__":
    main()
