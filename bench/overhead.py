"""What the pipeline's training costs over a bare `model.fit`: the real train step (lazy
window batches, the per-epoch MLflow curves, the gradient monitor, saving the model and its
history) against `model.fit` on the same windows.

    python bench/overhead.py [--repeats 5] [--epochs 10] [--rows 8760]

Same data, model, epochs (no early stopping, so both run them all) and seed. The
instrumented side is `pipeline.training.train_step` inside an open MLflow run, exactly as
`dvc repro` and `lstm-doctor` run it (the model is not logged: that is a one-off upload).
Runs alternate plain and instrumented; prints each pair's ratio and the median.
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
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=8760)
    args = parser.parse_args()
    store = tempfile.mkdtemp(prefix="overhead-")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}/mlflow.db"
    os.chdir(ROOT)

    from lstm_doctor.stages import keras_env as backend  # noqa: F401  (before anything imports TensorFlow)

    # isort: split

    import keras

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.training import train_step
    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import WindowBatches, build_model, make_optimizer
    from lstm_doctor.stages.window import load_windows
    from lstm_doctor.tracking import lifecycle

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

    def fit(instrumented: bool) -> float:
        if instrumented:
            lifecycle.start_run(cfg, {"bench": "overhead"})
            start = time.perf_counter()
            train_step(cfg, paths, [])
            elapsed = time.perf_counter() - start
            lifecycle.end_run()
            return elapsed
        keras.utils.set_random_seed(cfg.seed)
        model = build_model(cfg.model, windows["train"].input_shape, meta["horizon"], "forecast")
        model.compile(optimizer=make_optimizer(cfg.optimizer), loss="mse", metrics=["mae"])
        start = time.perf_counter()
        model.fit(
            WindowBatches(windows["train"], t.batch_size, True, cfg.seed),
            validation_data=WindowBatches(windows["val"], 256),
            epochs=args.epochs, verbose=0,
        )  # fmt: skip
        return time.perf_counter() - start

    fit(False)  # warm-up: graph tracing and first-touch costs, in neither measurement
    ratios = []
    for i in range(args.repeats):
        plain = fit(False)
        instrumented = fit(True)
        ratios.append(instrumented / plain)
        print(
            f"run {i}: plain {plain:.2f} s, instrumented {instrumented:.2f} s, ratio {ratios[-1]:.3f}"
        )
    print(
        f"median ratio instrumented / plain over {args.repeats} runs: {statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()
