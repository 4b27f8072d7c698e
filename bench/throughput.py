"""Training throughput of the lazy window path against a bare `model.fit` on materialised
arrays of the same windows.

    python bench/throughput.py [--repeats 3] [--epochs 2] [--length 48]

Same model (the default configuration's), data (the shipped electricity series), batch
size, shuffling and epochs. The lazy side is what the pipeline trains on: `WindowBatches`,
a Keras PyDataset gathering each batch of windows from the series on demand. The bare side
gathers every training window once into one array (x: windows x length x features) and
calls `model.fit(x, y)`. Each side is warmed up (graph tracing) before it is timed; runs
alternate; prints seconds per epoch, each pair's ratio (lazy / materialised) and the median,
and the memory each side holds for its inputs (the series vs the materialised windows), at
this window length and at a week's.
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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--length", type=int, default=48)
    args = parser.parse_args()
    os.chdir(ROOT)

    from lstm_doctor.stages import keras_env as backend  # noqa: F401  (before TensorFlow loads)

    # isort: split

    import keras
    import numpy as np

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import WindowBatches, build_model, make_optimizer
    from lstm_doctor.stages.window import load_windows

    cfg = validate(compose_config([f"window.length={args.length}"], conf_dir=ROOT / "conf"))
    paths = StagePaths.job(Path(tempfile.mkdtemp(prefix="throughput-")))
    for stage in (prepare, scale, window):
        stage.run(cfg, paths)
    windows, meta = load_windows(paths)
    train = windows["train"]
    x, y = train.batch(np.arange(len(train)))
    batch = cfg.training.batch_size

    def model() -> keras.Model:
        keras.utils.set_random_seed(cfg.seed)
        m = build_model(cfg.model, train.input_shape, meta["horizon"], "forecast")
        m.compile(optimizer=make_optimizer(cfg.optimizer), loss="mse", metrics=["mae"])
        return m

    def per_epoch(lazy: bool) -> float:
        m = model()
        data = (WindowBatches(train, batch, True, cfg.seed),) if lazy else (x, y)
        kwargs = {} if lazy else {"batch_size": batch, "shuffle": True}
        m.fit(*data, epochs=1, verbose=0, **kwargs)  # warm-up: tracing, first touch
        start = time.perf_counter()
        m.fit(*data, epochs=args.epochs, verbose=0, **kwargs)
        return (time.perf_counter() - start) / args.epochs

    print(f"{len(train)} training windows of {args.length} steps x {x.shape[-1]} features, "
          f"batch {batch}, {args.epochs} timed epochs a run")  # fmt: skip
    ratios = []
    for i in range(args.repeats):
        bare = per_epoch(lazy=False)
        lazy = per_epoch(lazy=True)
        ratios.append(lazy / bare)
        print(f"run {i}: materialised {bare:.2f} s/epoch, lazy {lazy:.2f} s/epoch, "
              f"ratio {ratios[-1]:.3f}", flush=True)  # fmt: skip
    print(f"median ratio lazy / materialised over {args.repeats} runs: "
          f"{statistics.median(ratios):.3f}")  # fmt: skip
    series = train.data.nbytes
    for length in (args.length, 168):
        materialised = len(train) * length * x.shape[-1] * 4
        print(f"inputs held at window {length}: lazy {series / 2**20:.1f} MiB (the series), "
              f"materialised {materialised / 2**20:.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
